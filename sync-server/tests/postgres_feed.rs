//! The feed of changes on PostgreSQL with several server processes: a change written by a transaction that has
//! not committed yet keeps every later change from readers, so a device never moves its cursor past a change
//! that becomes visible afterwards.
//!
//! Another process's write is played here by a transaction of the test's own, holding the store's write lock
//! (`WRITE_LOCK`) as every write of a server does. The store's next write waits for it. Without the lock, that
//! write would commit a later change at once, the device would read it, move its cursor past the first change's
//! id and never see the first change.

use std::sync::Arc;

use chrono::Utc;
use protocol::{ChangeBody, FindingState, FindingUpdated, Role};
use sqlx::Connection;
use sync_server::db::{AccountStore, NewUser, PgStore, Store, WRITE_LOCK};
use uuid::Uuid;

mod support;

fn settings() -> sync_server::domain::EngineSettings {
    sync_server::domain::EngineSettings {
        zone: sync_server::Zone::parse("+08:00").unwrap(),
        calendar: Default::default(),
        verify_hours: 24.0,
        duplicate_radius_m: 30.0,
        duplicate_window_hours: 72.0,
    }
}

#[test]
fn a_change_committed_late_is_not_passed_by_a_reader() {
    let Some(db) = support::postgres_database() else { return };
    let store = Arc::new(PgStore::connect(&db.url, settings(), std::time::Duration::from_secs(10)).unwrap());
    sync_server::seed::ensure_dictionary(store.as_ref()).unwrap();
    let new_user = NewUser {
        username: "wang".into(),
        password_hash: "x".into(),
        display_name: "王".into(),
        role: Role::Inspector,
        team: Some("一中队".into()),
        department: None,
    };
    let wang = store.add_user(new_user, Utc::now()).unwrap();
    let start = store.changes(&wang, None, 100).unwrap();
    assert!(!start.more);

    // Another server's write is under way: it holds the write lock and has written a change for wang.
    let first = ChangeBody::FindingUpdated(FindingUpdated {
        finding_id: Uuid::new_v4(),
        state: FindingState::Filed,
        reason: None,
        case: None,
        grid: None,
    });
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut other = runtime.block_on(sqlx::PgConnection::connect(&db.url)).unwrap();
    runtime
        .block_on(async {
            sqlx::query("BEGIN").execute(&mut other).await?;
            sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(WRITE_LOCK).execute(&mut other).await?;
            sqlx::query("INSERT INTO changes (user_id, team, kind, body, at) VALUES ($1, NULL, $2, $3, $4)")
                .bind(wang.id.to_string())
                .bind(first.kind())
                .bind(serde_json::to_string(&first).unwrap())
                .bind("2026-12-05T08:00:00.000Z")
                .execute(&mut other)
                .await
        })
        .unwrap();

    // This server imports a dictionary: a change for every device, written after the first.
    let next = store.dictionary().unwrap().unwrap();
    let importer = {
        let store = store.clone();
        std::thread::spawn(move || store.import_dictionary(next, Utc::now()).unwrap())
    };
    // Until the import has finished or waits for the lock.
    loop {
        let waiting: i64 = runtime
            .block_on(
                sqlx::query_scalar("SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
                    .fetch_one(&mut other),
            )
            .unwrap();
        if waiting > 0 || importer.is_finished() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }

    // The device reads meanwhile: nothing new.
    let during = store.changes(&wang, Some(start.cursor), 100).unwrap();
    let kinds: Vec<&str> = during.changes.iter().map(|c| c.body.kind()).collect();
    assert!(kinds.is_empty(), "read before the change still being written: {kinds:?}");

    // The first commits, the import follows; the device gets both, in that order, from where it was.
    runtime.block_on(sqlx::query("COMMIT").execute(&mut other)).unwrap();
    let version = importer.join().unwrap();
    let after = store.changes(&wang, Some(during.cursor), 100).unwrap();
    let bodies: Vec<&ChangeBody> = after.changes.iter().map(|c| &c.body).collect();
    assert_eq!(bodies.len(), 2, "{bodies:?}");
    assert_eq!(bodies[0], &first);
    assert!(matches!(bodies[1], ChangeBody::Dictionary(d) if d.version == version));
    runtime.block_on(other.close()).unwrap();
}
