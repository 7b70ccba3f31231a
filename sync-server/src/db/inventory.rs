//! What a store holds, counted kind by kind: what a copy of it (a backup, a restore) must hold as many of.

use super::conn::Db;

use super::error::StoreResult;

/// The tables whose rows `inventory` counts: what a copy of the store must hold as many of.
const COUNTED: [&str; 25] = [
    "users",
    "teams",
    "devices",
    "device_keys",
    "ops",
    "signed_ops",
    "findings",
    "cases",
    "case_history",
    "tasks",
    "reports",
    "patrols",
    "changes",
    "dictionary_versions",
    "campaigns",
    "audit_log",
    "webhooks",
    "outbox_events",
    "integration_tokens",
    "track_points",
    "finding_history",
    "case_requests",
    "attachments",
    "rejected_ops",
    "webhook_deliveries",
];

/// How many rows each counted table holds, and the photos held.
pub(super) fn inventory(conn: &impl Db) -> StoreResult<std::collections::BTreeMap<String, i64>> {
    let mut out = std::collections::BTreeMap::new();
    for table in COUNTED {
        let n: i64 = conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), (), |r| r.get(0))?;
        out.insert(table.to_owned(), n);
    }
    let held: i64 = conn.query_row("SELECT COUNT(*) FROM blobs WHERE purged_at IS NULL", (), |r| r.get(0))?;
    out.insert("photos held".to_owned(), held);
    Ok(out)
}
