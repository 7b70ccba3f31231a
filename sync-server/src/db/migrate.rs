//! Copying the embedded store's rows into PostgreSQL (`sync-server migrate`): every table, row for row, into
//! the tables that mirror it. A row the target holds already (by its key) is left as it is, so a copy cut off
//! anywhere is run again from the start and adds only what is missing. Ids a table gives itself carry on after
//! the highest copied.

use std::path::Path;

use rusqlite::OpenFlags;

use super::backend::Backend;
use super::conn::{Db, Kind, OptionalExtension, Param, Stmt, Value, params};
use super::error::{StoreError, StoreResult};
use super::postgres::PgStore;

/// Every table of the store, each after the tables it refers to.
pub const TABLES: [&str; 36] = [
    "meta",
    "teams",
    "users",
    "devices",
    "device_keys",
    "sessions",
    "integration_tokens",
    "dictionary_versions",
    "blobs",
    "uploads",
    "ops",
    "rejected_ops",
    "signed_ops",
    "case_numbers",
    "cases",
    "case_history",
    "case_photos",
    "case_requests",
    "patrols",
    "track_points",
    "patrol_coverage",
    "findings",
    "finding_photos",
    "finding_history",
    "changes",
    "basemaps",
    "campaigns",
    "reports",
    "tasks",
    "attachments",
    "audit_log",
    "webhooks",
    "outbox_events",
    "webhook_deliveries",
    "webhook_attempts",
    "exports",
];

/// Tables whose ids the database gives (identity columns on PostgreSQL), and that column.
const IDENTITIES: [(&str, &str); 9] = [
    ("rejected_ops", "id"),
    ("case_history", "id"),
    ("case_requests", "id"),
    ("findings", "seq"),
    ("finding_history", "id"),
    ("changes", "id"),
    ("audit_log", "id"),
    ("webhook_deliveries", "id"),
    ("webhook_attempts", "id"),
];

/// Rows written to PostgreSQL in one statement (and one transaction).
const BATCH: usize = 200;

/// What was copied of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCopy {
    pub table: &'static str,
    /// Rows of the source.
    pub rows: u64,
    /// Of them, rows the target did not hold yet.
    pub added: u64,
}

/// Copies every row of the SQLite file `source` into `target`, table by table, telling `progress` as it goes.
/// `stop_after`: end with an error once that many rows were added (an interrupted copy, for the tests).
pub fn copy_rows(
    source: &Path,
    target: &PgStore,
    stop_after: Option<u64>,
    progress: &mut dyn FnMut(String),
) -> StoreResult<Vec<TableCopy>> {
    let conn = rusqlite::Connection::open_with_flags(source, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    // One read transaction: the copy is of one moment of the source, even if a server still writes to it.
    conn.execute_batch("BEGIN")?;
    let mut known: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    known.retain(|t| !TABLES.contains(&t.as_str()));
    if !known.is_empty() {
        return Err(StoreError::internal(format!("tables the copy does not know: {}", known.join(", "))));
    }
    let mut copied = Vec::new();
    let mut added_in_all = 0;
    for table in TABLES {
        let rows: u64 = conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))?;
        let mut stmt = conn.prepare(&format!("SELECT * FROM {table}"))?;
        let columns: Vec<String> = stmt.column_names().into_iter().map(str::to_owned).collect();
        let kinds = column_kinds(target, table, &columns)?;
        let mut cursor = stmt.query([])?;
        let (mut batch, mut done, mut added) = (Vec::with_capacity(BATCH), 0u64, 0u64);
        loop {
            let row = cursor.next()?;
            if let Some(r) = row {
                let mut values = Vec::with_capacity(columns.len());
                for (i, kind) in kinds.iter().enumerate() {
                    values.push(
                        coerce(r.get::<_, Value>(i)?, *kind)
                            .map_err(|e| StoreError::corrupt(format!("{table}.{}: {e}", columns[i])))?,
                    );
                }
                batch.push(values);
            }
            if batch.len() == BATCH || (row.is_none() && !batch.is_empty()) {
                let n = insert(target, table, &columns, &batch)?;
                added += n;
                added_in_all += n;
                done += batch.len() as u64;
                batch.clear();
                if done % 10_000 < BATCH as u64 || done == rows {
                    progress(format!("{table}: {done} of {rows} rows"));
                }
                if stop_after.is_some_and(|limit| added_in_all >= limit) {
                    return Err(StoreError::Backend(format!("stopped after {added_in_all} rows, as asked")));
                }
            }
            if row.is_none() {
                break;
            }
        }
        copied.push(TableCopy { table, rows, added });
    }
    conn.execute_batch("COMMIT")?;
    target.write(|tx| {
        for (table, column) in IDENTITIES {
            tx.execute(
                &format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', '{column}'),
                                   GREATEST((SELECT MAX({column}) FROM {table}), 1))"
                ),
                (),
            )?;
        }
        Ok(())
    })?;
    Ok(copied)
}

/// The kinds of values the target's columns take.
fn column_kinds(target: &PgStore, table: &str, columns: &[String]) -> StoreResult<Vec<Kind>> {
    target.read(|c| {
        let mut stmt = c.prepare_cached(
            "SELECT data_type FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = ?1 AND column_name = ?2",
        )?;
        columns
            .iter()
            .map(|column| {
                let kind = match stmt.query_row(params![table, column], |r| r.get::<_, String>(0)).optional()? {
                    Some(t) if t == "bigint" || t == "integer" => Kind::Int,
                    Some(t) if t == "double precision" || t == "real" => Kind::Real,
                    Some(t) if t == "bytea" => Kind::Blob,
                    Some(_) => Kind::Text,
                    None => return Err(StoreError::internal(format!("PostgreSQL has no column {table}.{column}"))),
                };
                Ok(kind)
            })
            .collect()
    })
}

/// A value of the source as the target's column takes it (SQLite keeps any value in any column).
fn coerce(value: Value, kind: Kind) -> Result<Value, String> {
    Ok(match (value, kind) {
        (Value::Null(_), kind) => Value::Null(kind),
        (Value::Int(i), Kind::Real) => Value::Real(i as f64),
        (Value::Real(f), Kind::Int) if f.fract() == 0.0 => Value::Int(f as i64),
        (Value::Int(i), Kind::Text) => Value::Text(i.to_string()),
        (Value::Real(f), Kind::Text) => Value::Text(f.to_string()),
        (Value::Text(t), Kind::Int) => Value::Int(t.parse().map_err(|_| format!("`{t}` is not an integer"))?),
        (Value::Text(t), Kind::Real) => Value::Real(t.parse().map_err(|_| format!("`{t}` is not a number"))?),
        (v @ Value::Int(_), Kind::Int) | (v @ Value::Real(_), Kind::Real) | (v @ Value::Text(_), Kind::Text) => v,
        (v @ Value::Blob(_), Kind::Blob) => v,
        (v, kind) => return Err(format!("{v:?} does not fit a {kind:?} column")),
    })
}

/// Writes rows the target does not hold yet; how many it did not.
fn insert(target: &PgStore, table: &str, columns: &[String], rows: &[Vec<Value>]) -> StoreResult<u64> {
    let width = columns.len();
    let tuples: Vec<String> = (0..rows.len())
        .map(|r| format!("({})", (1..=width).map(|c| format!("?{}", r * width + c)).collect::<Vec<_>>().join(", ")))
        .collect();
    let sql = format!(
        "INSERT INTO {table} ({}) VALUES {} ON CONFLICT DO NOTHING",
        columns.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", "),
        tuples.join(", ")
    );
    let params: Vec<&dyn Param> = rows.iter().flatten().map(|v| v as &dyn Param).collect();
    Ok(target.write(|tx| Ok(tx.prepare(&sql)?.execute(params)?))? as u64)
}
