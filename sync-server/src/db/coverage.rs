//! Coverage as stored: what each patrol's track walked (by road and by grid), computed from its track points
//! when first asked for and kept in `patrol_coverage`, and the sums over a period.

use std::collections::HashMap;

use super::conn::{Db, Param, Stmt, params};
use chrono::{DateTime, Utc};
use places::{TrackPoint, walk};

use super::dict::DictIndex;
use super::error::StoreResult;
use super::sql::Sql;
use crate::domain::coverage::{CoverageBy, Tally};
use crate::policy::Scope;

/// A patrol whose kept coverage is missing or stale, with the track revision it is computed from.
pub(super) struct Stale {
    id: String,
    track_rev: i64,
}

/// What one patrol walked, ready to be kept.
pub(super) struct Computed {
    id: String,
    track_rev: i64,
    rows: Vec<(&'static str, String, f64, i64)>,
}

/// Patrols started in `[from, to)` whose coverage is not kept for their whole track and this dictionary.
pub(super) fn stale(
    conn: &impl Db,
    dict: &DictIndex,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> StoreResult<Vec<Stale>> {
    let version = dict.current.as_ref().map_or(0, |d| d.version);
    let mut stmt = conn.prepare_cached(
        "SELECT id, track_rev FROM patrols
         WHERE started_ts >= ?1 AND started_ts < ?2
           AND (coverage_rev IS NULL OR coverage_rev != track_rev OR coverage_dict IS DISTINCT FROM ?3)",
    )?;
    let rows = stmt.query_map(params![from.timestamp(), to.timestamp(), version], |r| {
        Ok(Stale { id: r.get(0)?, track_rev: r.get(1)? })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Walks the tracks of stale patrols (reading only: no lock is held while this runs).
pub(super) fn compute(conn: &impl Db, dict: &DictIndex, stale: Vec<Stale>) -> StoreResult<Vec<Computed>> {
    let mut points = conn.prepare_cached("SELECT lat, lon, t FROM track_points WHERE patrol_id = ?1 ORDER BY t")?;
    let mut out = Vec::with_capacity(stale.len());
    for s in stale {
        let track = points
            .query_map([&s.id], |r| {
                Ok(TrackPoint { lat: r.get(0)?, lon: r.get(1)?, t: r.get::<_, Sql<DateTime<Utc>>>(2)?.0.timestamp() })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let walks = walk(&track, &dict.roads, &dict.grids, protocol::ROAD_MATCH_M);
        let rows = walks
            .roads
            .into_iter()
            .map(|w| ("road", w.key, w.metres, w.last_t))
            .chain(walks.grids.into_iter().map(|w| ("grid", w.key, w.metres, w.last_t)))
            .collect();
        out.push(Computed { id: s.id, track_rev: s.track_rev, rows });
    }
    Ok(out)
}

/// Keeps what was computed, for each patrol whose track did not grow meanwhile (the next ask computes it
/// again).
pub(super) fn keep(tx: &impl Db, dict: &DictIndex, computed: Vec<Computed>) -> StoreResult<()> {
    let version = dict.current.as_ref().map_or(0, |d| d.version);
    let mut current = tx.prepare_cached("SELECT track_rev FROM patrols WHERE id = ?1")?;
    let mut clear = tx.prepare_cached("DELETE FROM patrol_coverage WHERE patrol_id = ?1")?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO patrol_coverage (patrol_id, kind, key, walked_m, last_ts) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    let mut mark = tx.prepare_cached("UPDATE patrols SET coverage_rev = ?2, coverage_dict = ?3 WHERE id = ?1")?;
    for c in computed {
        if current.query_row([&c.id], |r| r.get::<_, i64>(0))? != c.track_rev {
            continue;
        }
        clear.execute([&c.id])?;
        for (kind, key, metres, last) in &c.rows {
            insert.execute(params![c.id, kind, key, metres, last])?;
        }
        mark.execute(params![c.id, c.track_rev, version])?;
    }
    Ok(())
}

/// Walks one patrol's track now and keeps its coverage (inside the caller's transaction).
pub(super) fn refresh(tx: &impl Db, dict: &DictIndex, patrol_id: &str) -> StoreResult<()> {
    let track_rev: i64 = tx.query_row("SELECT track_rev FROM patrols WHERE id = ?1", [patrol_id], |r| r.get(0))?;
    let computed = compute(tx, dict, vec![Stale { id: patrol_id.to_owned(), track_rev }])?;
    keep(tx, dict, computed)
}

/// The scope's condition on a team column, as SQL (its argument, when it has one, comes last).
fn scope_filter(scope: &Scope, column: &str, at: usize) -> (String, Option<String>) {
    match scope {
        Scope::All => ("1 = 1".into(), None),
        Scope::Team(Some(team)) => (format!("{column} = ?{at}"), Some(team.clone())),
        // A chief without a team, and any other scope: nothing.
        _ => ("1 = 0".into(), None),
    }
}

/// Sums over the patrols started in `[from, to)` that the scope sees: by road name or grid code.
pub(super) fn tallies(
    conn: &impl Db,
    scope: &Scope,
    by: CoverageBy,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> StoreResult<HashMap<String, Tally>> {
    let (filter, team) = scope_filter(scope, "u.team", 4);
    let sql = format!(
        "SELECT pc.key, SUM(pc.walked_m), COUNT(DISTINCT pc.patrol_id), MAX(pc.last_ts)
         FROM patrol_coverage pc JOIN patrols p ON p.id = pc.patrol_id JOIN users u ON u.id = p.user_id
         WHERE pc.kind = ?1 AND p.started_ts >= ?2 AND p.started_ts < ?3 AND {filter}
         GROUP BY pc.key"
    );
    let (kind, start, end) = (by.as_str(), from.timestamp(), to.timestamp());
    let mut args: Vec<&dyn Param> = vec![&kind, &start, &end];
    if let Some(team) = &team {
        args.push(team);
    }
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(args.as_slice(), |r| {
        let last: i64 = r.get(3)?;
        Ok((
            r.get::<_, String>(0)?,
            Tally { walked_m: r.get(1)?, visits: r.get(2)?, last_at: DateTime::from_timestamp(last, 0) },
        ))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Findings observed in `[from, to)` that the scope sees, by the road they name or the grid they carry.
pub(super) fn findings(
    conn: &impl Db,
    scope: &Scope,
    by: CoverageBy,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> StoreResult<HashMap<String, i64>> {
    let (filter, team) = scope_filter(scope, "f.team", 3);
    let key = match by {
        CoverageBy::Road => conn.json_field("f.body", "road"),
        CoverageBy::Grid => "f.grid".to_owned(),
    };
    let sql = format!(
        "SELECT {key} AS k, COUNT(*) FROM findings f
         WHERE f.observed_ts >= ?1 AND f.observed_ts < ?2 AND {filter} AND {key} IS NOT NULL
         GROUP BY k"
    );
    let (start, end) = (from.timestamp(), to.timestamp());
    let mut args: Vec<&dyn Param> = vec![&start, &end];
    if let Some(team) = &team {
        args.push(team);
    }
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(args.as_slice(), |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}
