//! Exports in storage: the findings an export takes (page by page, after the last one written, so that a
//! large export never holds more than a page), and the export jobs the console follows.

use super::conn::{Db, OptionalExtension, Stmt, params};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::error::StoreResult;
use super::findings::{ReviewItem, review_items};
use super::sql::{bad_data, json, ts};
use crate::domain::EngineSettings;
use crate::domain::exports::{ExportFilter, ExportJob};
use crate::policy::Scope;

/// Where a scope's findings are, as SQL on `findings f` with its value as `?1`.
fn scope_sql(scope: &Scope) -> (&'static str, Option<String>) {
    match scope {
        Scope::All => ("1 = 1", None),
        Scope::Team(team) => ("f.team = ?1", team.clone()),
        Scope::Reporter(id) => ("f.reporter_id = ?1", Some(id.to_string())),
        Scope::Department(_) => ("0 = 1", None),
    }
}

/// `?2`..`?6`: from, to (seconds), state, category, grid.
const WHERE: &str = "AND (?2 IS NULL OR f.observed_ts >= ?2) AND (?3 IS NULL OR f.observed_ts < ?3)
    AND (?4 IS NULL OR f.state = ?4) AND (?5 IS NULL OR f.category = ?5) AND (?6 IS NULL OR f.grid = ?6)";

/// The findings an export takes, observed in the period, the oldest first, after `after` (observed second and
/// id of the last one written), at most `limit`.
pub(super) fn findings_page(
    conn: &impl Db,
    settings: &EngineSettings,
    scope: &Scope,
    filter: &ExportFilter,
    after: Option<(i64, String)>,
    limit: u32,
) -> StoreResult<Vec<ReviewItem>> {
    let (who, owner) = scope_sql(scope);
    // Two statements rather than `?7 IS NULL OR …`, which would keep SQLite from starting the index range at
    // the last row written.
    let after_sql =
        if after.is_some() { "AND (f.observed_ts, f.id) > (?7, ?8)" } else { "AND ?7 IS NULL AND ?8 IS NULL" };
    let where_sql = format!("{who} {WHERE} {after_sql}");
    let (after_ts, after_id) = after.unzip();
    let (from, to) = (filter.from.map(|t| t.timestamp()), filter.to.map(|t| t.timestamp()));
    review_items(
        conn,
        settings,
        &where_sql,
        params![owner, from, to, filter.state, filter.category, filter.grid, after_ts, after_id],
        i64::from(limit),
        0,
    )
}

pub(super) fn findings_count(conn: &impl Db, scope: &Scope, filter: &ExportFilter) -> StoreResult<u64> {
    let (who, owner) = scope_sql(scope);
    let sql = format!("SELECT COUNT(*) FROM findings f WHERE {who} {WHERE}");
    let (from, to) = (filter.from.map(|t| t.timestamp()), filter.to.map(|t| t.timestamp()));
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(params![owner, from, to, filter.state, filter.category, filter.grid], |r| r.get::<_, i64>(0))?
        as u64)
}

/// Keeps a job as it is now (its row is made at the first save); `now` is when its server last worked on it (a job left running and not worked on
/// for long is one whose server stopped).
pub(super) fn save_job(tx: &impl Db, user: Uuid, job: &ExportJob, now: DateTime<Utc>) -> StoreResult<()> {
    tx.prepare_cached(
        "INSERT INTO exports (id, user_id, state, job, created_at, heartbeat_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (id) DO UPDATE SET state = excluded.state, job = excluded.job, heartbeat_at = excluded.heartbeat_at",
    )?
    .execute(params![
        job.id.to_string(),
        user.to_string(),
        job.state,
        json(job)?,
        ts(job.created_at.to_utc()),
        ts(now)
    ])?;
    Ok(())
}

/// A job and who asked for it.
pub(super) fn job(conn: &impl Db, id: Uuid) -> StoreResult<Option<(Uuid, ExportJob)>> {
    let row: Option<(String, String)> = conn
        .query_row("SELECT user_id, job FROM exports WHERE id = ?1", [id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    row.map(|(user, job)| {
        Ok((Uuid::parse_str(&user).map_err(bad_data)?, serde_json::from_str(&job).map_err(bad_data)?))
    })
    .transpose()
}

/// A user's jobs (or everyone's), the newest first.
pub(super) fn jobs(conn: &impl Db, user: Option<Uuid>, limit: u32) -> StoreResult<Vec<ExportJob>> {
    let rows = conn
        .prepare_cached("SELECT job FROM exports WHERE (?1 IS NULL OR user_id = ?1) ORDER BY created_at DESC LIMIT ?2")?
        .query_map(params![user.map(|u| u.to_string()), limit], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    rows.iter().map(|j| serde_json::from_str(j).map_err(bad_data)).collect()
}

/// Jobs that were running when the server stopped end as failed; their ids.
pub(super) fn interrupt(tx: &impl Db, stale_before: DateTime<Utc>, now: DateTime<Utc>) -> StoreResult<Vec<Uuid>> {
    let running: Vec<String> = tx
        .prepare_cached(
            "SELECT job FROM exports WHERE state = 'running' AND (heartbeat_at IS NULL OR heartbeat_at < ?1)",
        )?
        .query_map([ts(stale_before)], |r| r.get(0))?
        .collect::<Result<Vec<_>, _>>()?;
    let mut ids = Vec::with_capacity(running.len());
    for text in &running {
        let mut job: ExportJob = serde_json::from_str(text).map_err(bad_data)?;
        ids.push(job.id);
        job.state = "failed".into();
        job.error = Some("the server stopped during the export: ask for it again".into());
        job.finished_at = Some(now.with_timezone(&job.created_at.timezone()));
        let user: String =
            tx.query_row("SELECT user_id FROM exports WHERE id = ?1", [job.id.to_string()], |r| r.get(0))?;
        save_job(tx, Uuid::parse_str(&user).map_err(bad_data)?, &job, now)?;
    }
    Ok(ids)
}

/// Jobs made before `before`, for their files to be removed; their rows are forgotten.
pub(super) fn expire(tx: &impl Db, before: DateTime<Utc>) -> StoreResult<Vec<Uuid>> {
    let ids: Vec<String> = tx
        .prepare("SELECT id FROM exports WHERE created_at < ?1 AND state <> 'running'")?
        .query_map([ts(before)], |r| r.get(0))?
        .collect::<Result<Vec<_>, _>>()?;
    tx.execute("DELETE FROM exports WHERE created_at < ?1 AND state <> 'running'", [ts(before)])?;
    ids.iter().map(|i| Uuid::parse_str(i).map_err(bad_data)).collect()
}
