//! A database of its own on the PostgreSQL server the test script starts (scripts/postgres.sh), for the store tests
//! (sync-server/tests) and the black-box ones alike.

/// A new, empty database on the server `TJB_TEST_DATABASE_URL` names; dropped when this is.
pub struct PgDatabase {
    /// Where the database is (`postgres://…/tjb_…`).
    pub url: String,
    server: String,
    name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        psql(&self.server, &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
    }
}

/// A new database, or `None` (the case skips) when no server is named, unless `TJB_REQUIRE_PG=1` (as in the
/// test script) makes that a failure.
pub fn postgres_database() -> Option<PgDatabase> {
    let Ok(server) = std::env::var("TJB_TEST_DATABASE_URL") else {
        assert!(std::env::var("TJB_REQUIRE_PG").is_err(), "TJB_REQUIRE_PG is set but TJB_TEST_DATABASE_URL is not");
        eprintln!("skipped: no TJB_TEST_DATABASE_URL (scripts/postgres.sh start)");
        return None;
    };
    let name = format!("tjb_{}", uuid::Uuid::new_v4().simple());
    psql(&server, &format!("CREATE DATABASE {name}"));
    let url = format!("{}/{name}", server.rsplit_once('/').expect("a database URL").0);
    Some(PgDatabase { url, server, name })
}

impl PgDatabase {
    /// The first column of the first row of a query, as text (`None`: no row, or NULL).
    pub fn query_text(&self, sql: &str) -> Option<String> {
        let out = std::process::Command::new("psql")
            .args([self.url.as_str(), "-v", "ON_ERROR_STOP=1", "-tAqc", sql])
            .output()
            .expect("psql");
        assert!(out.status.success(), "psql {sql}: {}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).expect("UTF-8");
        text.lines().next().filter(|l| !l.is_empty()).map(str::to_owned)
    }
}

/// Runs one statement with Debian's `psql` (installed with the server).
fn psql(url: &str, sql: &str) {
    let out =
        std::process::Command::new("psql").args([url, "-v", "ON_ERROR_STOP=1", "-qc", sql]).output().expect("psql");
    assert!(out.status.success(), "psql {sql}: {}", String::from_utf8_lossy(&out.stderr));
}
