//! The change feed that flows back to devices: what is written into it (a finding's new state, a case
//! announced to its team, tasks, dictionaries), and the pages a device reads after its cursor.

use super::conn::{Db, OptionalExtension, Stmt, params};
use chrono::{DateTime, Utc};
use protocol::{CaseState, CaseSummary, Change, ChangeBody, FindingState, FindingUpdated};
use uuid::Uuid;

use super::dict::DictIndex;
use super::error::{StoreError, StoreResult};
use super::sql::{Sql, json, stored, ts};
use crate::config::Zone;
use crate::domain::EngineSettings;
use crate::domain::cursor::Cursor;
use crate::principal::User;

pub struct ChangePage {
    pub changes: Vec<Change>,
    pub cursor: Cursor,
    pub more: bool,
}

pub(super) fn insert_change(
    tx: &impl Db,
    user: Option<Uuid>,
    team: Option<&str>,
    body: &ChangeBody,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    tx.prepare_cached("INSERT INTO changes (user_id, team, kind, body, at) VALUES (?1, ?2, ?3, ?4, ?5)")?
        .execute(params![user.map(|u| u.to_string()), team, body.kind(), json(body)?, ts(now)])?;
    Ok(())
}

/// Tells a finding's reporter that its state or case changed.
#[allow(clippy::too_many_arguments)]
pub(super) fn notify_finding(
    tx: &impl Db,
    zone: &Zone,
    reporter: Uuid,
    finding_id: Uuid,
    state: FindingState,
    reason: Option<String>,
    case_no: Option<&str>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let case = match case_no {
        None => None,
        Some(no) => tx
            .prepare_cached("SELECT state, department, due_at FROM cases WHERE case_no = ?1")?
            .query_row([no], |r| {
                Ok(CaseSummary {
                    case_no: no.to_owned(),
                    state: r.get::<_, Sql<CaseState>>(0)?.0,
                    department: r.get(1)?,
                    due_at: r.get::<_, Option<Sql<DateTime<Utc>>>>(2)?.map(|t| zone.at(t.0)),
                })
            })
            .optional()?,
    };
    let grid: Option<String> = tx
        .prepare_cached("SELECT grid FROM findings WHERE id = ?1")?
        .query_row([finding_id.to_string()], |r| r.get(0))
        .optional()?
        .flatten();
    let body = ChangeBody::FindingUpdated(FindingUpdated { finding_id, state, reason, case, grid });
    insert_change(tx, Some(reporter), None, &body, now)
}

/// Tells every reporter of a case's findings the case's new state, and the team's devices the area case.
pub(super) fn announce_case(
    tx: &impl Db,
    settings: &EngineSettings,
    case_no: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let rows = tx
        .prepare_cached("SELECT id, reporter_id, state FROM findings WHERE case_no = ?1")?
        .query_map([case_no], |r| {
            Ok((r.get::<_, Sql<Uuid>>(0)?.0, r.get::<_, Sql<Uuid>>(1)?.0, r.get::<_, Sql<FindingState>>(2)?.0))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    for (id, reporter, state) in rows {
        notify_finding(tx, &settings.zone, reporter, id, state, None, Some(case_no), now)?;
    }
    let zone = &settings.zone;
    let area = tx
        .query_row(
            "SELECT c.case_no, c.category, c.state, c.lat, c.lon, c.first_observed_ts, c.team FROM cases c WHERE c.case_no = ?1",
            [case_no],
            |r| {
                let observed = r.get::<_, i64>(5)?;
                let observed_at = zone.at(DateTime::from_timestamp(observed, 0).ok_or_else(|| {
                    rusqlite::Error::FromSqlConversionFailure(5, rusqlite::types::Type::Integer, "time out of range".into())
                })?);
                let area = protocol::AreaCase {
                    case_no: r.get(0)?,
                    category: r.get(1)?,
                    state: r.get::<_, Sql<CaseState>>(2)?.0,
                    location: protocol::Location {
                        lat: r.get(3)?,
                        lon: r.get(4)?,
                        accuracy_m: 0.0,
                        source: protocol::LocationSource::Gps,
                        fixed_at: observed_at,
                    },
                    observed_at,
                };
                Ok((area, r.get::<_, Option<String>>(6)?))
            },
        )
        .optional()?;
    if let Some((area, Some(team))) = area {
        insert_change(tx, None, Some(&team), &ChangeBody::AreaCase(area), now)?;
    }
    Ok(())
}

/// The page of changes after `cursor` meant for `user`: their own, everyone's, and their team's.
pub(super) fn changes_page(
    conn: &impl Db,
    dict: &DictIndex,
    zone: &Zone,
    user: &User,
    cursor: Option<Cursor>,
    limit: usize,
) -> StoreResult<ChangePage> {
    let mut changes = Vec::new();
    let (mut last_id, mut dict_version) = match cursor {
        Some(c) => (c.change_id, c.dict_version),
        None => match &dict.current {
            Some(d) => {
                let at = dict.current_at.map(|t| zone.at(t)).unwrap_or_else(|| zone.now());
                changes.push(Change { at, body: ChangeBody::Dictionary(d.clone()) });
                (0, d.version)
            }
            None => (0, 0),
        },
    };
    let mut stmt = conn.prepare_cached(
        "SELECT id, body, at FROM changes
         WHERE id > ?1 AND (user_id = ?2 OR (user_id IS NULL AND (team IS NULL OR team = ?3)))
         ORDER BY id LIMIT ?4",
    )?;
    let rows = stmt.query_map(params![last_id, user.id.to_string(), user.team, (limit + 1) as i64], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
    })?;
    let mut more = false;
    for (i, row) in rows.enumerate() {
        let (id, body, at) = row?;
        if i == limit {
            more = true;
            break;
        }
        last_id = id;
        let body: ChangeBody = serde_json::from_str(&body).map_err(StoreError::from)?;
        if let ChangeBody::Dictionary(d) = &body {
            // The device already holds this version or a newer one.
            if d.version <= dict_version {
                continue;
            }
            dict_version = d.version;
        }
        let at = zone.at(stored(&at)?);
        changes.push(Change { at, body });
    }
    Ok(ChangePage { changes, cursor: Cursor { change_id: last_id, dict_version }, more })
}
