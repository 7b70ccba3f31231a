//! What the admin and the section chief look at besides cases: users, patrols, sync health.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use super::sqlite::{parse_ts, ts};
use super::{
    DepartmentView, DeviceUser, PatrolView, RejectedOp, RoadWalked, Scope, SyncHealth, TeamView, UserUpdate, UserView,
};
use crate::config::Zone;
use crate::error::{AppError, AppResult};

const USER_VIEW_COLUMNS: &str = "id, username, display_name, role, team, department, active";

fn user_view(r: &rusqlite::Row<'_>) -> rusqlite::Result<UserView> {
    Ok(UserView {
        id: Uuid::parse_str(&r.get::<_, String>(0)?).unwrap_or_default(),
        username: r.get(1)?,
        display_name: r.get(2)?,
        role: r.get(3)?,
        team: r.get(4)?,
        department: r.get(5)?,
        active: r.get(6)?,
    })
}

pub(super) fn users(conn: &Connection) -> AppResult<Vec<UserView>> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {USER_VIEW_COLUMNS} FROM users ORDER BY role, team, username"))?;
    let rows = stmt.query_map([], user_view)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Changes what is given of a user; `None` when there is no such user. A new team is created. A user made
/// inactive can no longer sign in, and their sessions and devices stop working at once.
pub(super) fn update_user(
    tx: &Connection,
    username: &str,
    update: &UserUpdate,
    now: DateTime<Utc>,
) -> AppResult<Option<UserView>> {
    let Some(current) = tx
        .query_row(&format!("SELECT {USER_VIEW_COLUMNS} FROM users WHERE username = ?1"), [username], user_view)
        .optional()?
    else {
        return Ok(None);
    };
    let team = update.team.clone().unwrap_or(current.team);
    let department = update.department.clone().unwrap_or(current.department);
    let role = update.role.map(|r| r.as_str().to_owned()).unwrap_or(current.role);
    if role == protocol::Role::Department.as_str() && department.is_none() {
        return Err(AppError::invalid("department", "a department user needs a department"));
    }
    if let Some(team) = &team {
        tx.execute("INSERT OR IGNORE INTO teams (name, created_at) VALUES (?1, ?2)", params![team, ts(now)])?;
    }
    tx.execute(
        "UPDATE users SET display_name = ?2, role = ?3, team = ?4, department = ?5, active = ?6,
                password_hash = COALESCE(?7, password_hash) WHERE username = ?1",
        params![
            username,
            update.display_name.as_deref().unwrap_or(&current.display_name),
            role,
            team,
            department,
            update.active.unwrap_or(current.active),
            update.password_hash
        ],
    )?;
    if update.active == Some(false) || update.password_hash.is_some() {
        tx.execute("DELETE FROM sessions WHERE user_id = ?1", [current.id.to_string()])?;
    }
    Ok(Some(tx.query_row(
        &format!("SELECT {USER_VIEW_COLUMNS} FROM users WHERE username = ?1"),
        [username],
        user_view,
    )?))
}

pub(super) fn teams(conn: &Connection, zone: &Zone) -> AppResult<Vec<TeamView>> {
    let mut stmt = conn.prepare_cached(
        "SELECT t.name, t.created_at, (SELECT COUNT(*) FROM users u WHERE u.team = t.name AND u.active = 1)
         FROM teams t ORDER BY t.name",
    )?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows
        .into_iter()
        .map(|(name, created, members)| TeamView { name, members, created_at: parse_ts(&created).map(|t| zone.at(t)) })
        .collect())
}

/// Creates a team (中队); `false` when one of that name exists.
pub(super) fn add_team(conn: &Connection, name: &str, now: DateTime<Utc>) -> AppResult<bool> {
    Ok(conn.execute("INSERT OR IGNORE INTO teams (name, created_at) VALUES (?1, ?2)", params![name, ts(now)])? == 1)
}

/// The departments of the current dictionary with their users and open cases.
pub(super) fn departments(
    conn: &Connection,
    dictionary: Option<&protocol::Dictionary>,
) -> AppResult<Vec<DepartmentView>> {
    let mut users = conn.prepare_cached("SELECT COUNT(*) FROM users WHERE department = ?1 AND active = 1")?;
    let mut open =
        conn.prepare_cached("SELECT COUNT(*) FROM cases WHERE department = ?1 AND state NOT IN ('closed', 'voided')")?;
    let mut out = Vec::new();
    for d in dictionary.map(|d| d.departments.as_slice()).unwrap_or_default() {
        out.push(DepartmentView {
            code: d.code.clone(),
            name: d.name.clone(),
            users: users.query_row([&d.code], |r| r.get(0))?,
            open_cases: open.query_row([&d.code], |r| r.get(0))?,
        });
    }
    Ok(out)
}

pub(super) fn patrols(
    conn: &Connection,
    zone: &Zone,
    dictionary: Option<&protocol::Dictionary>,
    scope: &Scope,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<Vec<PatrolView>> {
    let team = match scope {
        Scope::All => None,
        Scope::Team(t) => Some(t.clone()),
    };
    let mut stmt = conn.prepare_cached(
        "SELECT p.id, u.username, u.display_name, u.team, p.started_at, p.ended_at, p.distance_m,
                (SELECT COUNT(*) FROM findings f WHERE json_extract(f.body, '$.patrol_id') = p.id)
         FROM patrols p JOIN users u ON u.id = p.user_id ORDER BY p.started_at",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<f64>>(6)?,
                r.get::<_, i64>(7)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = Vec::new();
    let mut points = conn.prepare_cached("SELECT lat, lon, t FROM track_points WHERE patrol_id = ?1 ORDER BY t")?;
    for (id, username, display_name, user_team, started, ended, distance, findings) in rows {
        let Some(start) = parse_ts(&started) else { continue };
        if start < from || start >= to {
            continue;
        }
        if let Some(t) = &team
            && (t.is_none() || *t != user_team)
        {
            continue;
        }
        let track = points
            .query_map([&id], |r| Ok((r.get::<_, f64>(0)?, r.get::<_, f64>(1)?, r.get::<_, String>(2)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        let roads = dictionary
            .map(|d| {
                let line: Vec<[f64; 2]> = track.iter().map(|(lat, lon, _)| [*lat, *lon]).collect();
                d.roads_walked(&line, protocol::ROAD_MATCH_M)
                    .into_iter()
                    .map(|(name, distance_m)| RoadWalked { name, distance_m: (distance_m * 10.0).round() / 10.0 })
                    .collect()
            })
            .unwrap_or_default();
        out.push(PatrolView {
            id: Uuid::parse_str(&id).unwrap_or_default(),
            user: DeviceUser { username, display_name },
            team: user_team,
            started_at: zone.at(start),
            ended_at: ended.as_deref().and_then(parse_ts).map(|t| zone.at(t)),
            distance_m: distance.unwrap_or(0.0),
            findings,
            points: track,
            roads,
        });
    }
    Ok(out)
}

pub(super) fn sync_health(conn: &Connection, zone: &Zone, now: DateTime<Utc>) -> AppResult<SyncHealth> {
    let count = |sql: &str| -> AppResult<i64> { Ok(conn.query_row(sql, [], |r| r.get(0))?) };
    let mut stmt = conn.prepare_cached(
        "SELECT device_id, seq, kind, code, message, field, at FROM rejected_ops ORDER BY id DESC LIMIT 200",
    )?;
    let rejected = stmt
        .query_map([], |r| {
            Ok(RejectedOp {
                device_id: r.get(0)?,
                seq: r.get(1)?,
                kind: r.get(2)?,
                code: r.get(3)?,
                message: r.get(4)?,
                field: r.get(5)?,
                at: r.get::<_, String>(6).map(|s| parse_ts(&s).map(|t| zone.at(t)))?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let since = ts(now - chrono::Duration::days(14));
    let mut per_day: std::collections::BTreeMap<String, (i64, i64)> = std::collections::BTreeMap::new();
    let mut stmt = conn.prepare_cached("SELECT applied_at FROM ops WHERE applied_at >= ?1")?;
    for at in stmt.query_map(params![since], |r| r.get::<_, String>(0))? {
        if let Some(t) = parse_ts(&at?) {
            per_day.entry(zone.at(t).format("%Y-%m-%d").to_string()).or_default().0 += 1;
        }
    }
    let mut stmt = conn.prepare_cached("SELECT at FROM rejected_ops WHERE at >= ?1")?;
    for at in stmt.query_map(params![since], |r| r.get::<_, String>(0))? {
        if let Some(t) = parse_ts(&at?) {
            per_day.entry(zone.at(t).format("%Y-%m-%d").to_string()).or_default().1 += 1;
        }
    }
    Ok(SyncHealth {
        rejected_ops: rejected,
        ops_per_day: per_day
            .into_iter()
            .map(|(day, (applied, rejected))| super::DayCount { day, applied, rejected })
            .collect(),
        findings: count("SELECT COUNT(*) FROM findings")?,
        cases: count("SELECT COUNT(*) FROM cases")?,
        blobs: count("SELECT COUNT(*) FROM blobs")?,
        storage_bytes: count("SELECT COALESCE(SUM(bytes), 0) FROM blobs")?
            + count("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()")?,
        devices: count("SELECT COUNT(*) FROM devices WHERE revoked_at IS NULL")?,
    })
}
