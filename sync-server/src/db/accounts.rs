//! Users, console sessions and tokens, teams (中队) and the departments' users.

use super::conn::{Db, DbResult, OptionalExtension, Row, Stmt, params};
use chrono::{DateTime, Utc};
use protocol::{Role, Timestamp};
use serde::Serialize;
use uuid::Uuid;

use super::error::{StoreError, StoreResult};
use super::sql::{Sql, USER_COLUMNS, row_user, ts};
use crate::config::Zone;
use crate::principal::{Principal, User};

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub password_hash: String,
    pub display_name: String,
    pub role: Role,
    pub team: Option<String>,
    pub department: Option<String>,
}

/// A user as the admin sees it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct UserView {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub team: Option<String>,
    pub department: Option<String>,
    pub active: bool,
    /// Signs in with a second factor (TOTP).
    pub totp_enabled: bool,
}

/// A console session to open.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub user_id: Uuid,
    pub token_hash: String,
    pub expires_at: DateTime<Utc>,
    /// The session may only set up a second factor (an admin who must have one and has none yet).
    pub enrol_only: bool,
}

/// A user's second factor (TOTP): the shared secret in base32, and whether it is in force (a secret not in
/// force is an enrolment waiting for its first code).
#[derive(Debug, Clone, PartialEq)]
pub struct SecondFactor {
    pub secret: Option<String>,
    pub enabled: bool,
}

/// What an admin changes of a user; `None` leaves a field as it is (`Some(None)` clears team/department).
#[derive(Debug, Clone, Default)]
pub struct UserUpdate {
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub team: Option<Option<String>>,
    pub department: Option<Option<String>>,
    pub active: Option<bool>,
    pub password_hash: Option<String>,
}

/// A team (中队) with its active members.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct TeamView {
    pub name: String,
    pub members: i64,
    pub created_at: Option<Timestamp>,
}

/// A department of the dictionary with its active users and open cases.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct DepartmentView {
    pub code: String,
    pub name: String,
    pub users: i64,
    pub open_cases: i64,
}

const USER_VIEW_COLUMNS: &str = "id, username, display_name, role, team, department, active, totp_enabled";

fn user_view(r: &Row<'_>) -> DbResult<UserView> {
    Ok(UserView {
        id: r.get::<_, Sql<Uuid>>(0)?.0,
        username: r.get(1)?,
        display_name: r.get(2)?,
        role: r.get::<_, Sql<Role>>(3)?.0,
        team: r.get(4)?,
        department: r.get(5)?,
        active: r.get(6)?,
        totp_enabled: r.get(7)?,
    })
}

pub(super) fn users(conn: &impl Db) -> StoreResult<Vec<UserView>> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {USER_VIEW_COLUMNS} FROM users ORDER BY role, team, username"))?;
    let rows = stmt.query_map((), user_view)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Changes what is given of a user; `None` when there is no such user. A new team is created. A user made
/// inactive can no longer sign in, and their sessions and devices stop working at once.
pub(super) fn update_user(
    tx: &impl Db,
    username: &str,
    update: &UserUpdate,
    now: DateTime<Utc>,
) -> StoreResult<Option<UserView>> {
    let Some(current) = tx
        .query_row(&format!("SELECT {USER_VIEW_COLUMNS} FROM users WHERE username = ?1"), [username], user_view)
        .optional()?
    else {
        return Ok(None);
    };
    let team = update.team.clone().unwrap_or(current.team);
    let department = update.department.clone().unwrap_or(current.department);
    let role = update.role.unwrap_or(current.role);
    if role == Role::Department && department.is_none() {
        return Err(StoreError::invalid("department", "a department user needs a department"));
    }
    if let Some(team) = &team {
        tx.execute(
            "INSERT INTO teams (name, created_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            params![team, ts(now)],
        )?;
    }
    tx.execute(
        "UPDATE users SET display_name = ?2, role = ?3, team = ?4, department = ?5, active = ?6,
                password_hash = COALESCE(?7, password_hash) WHERE username = ?1",
        params![
            username,
            update.display_name.as_deref().unwrap_or(&current.display_name),
            role.as_str(),
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

pub(super) fn teams(conn: &impl Db, zone: &Zone) -> StoreResult<Vec<TeamView>> {
    let mut stmt = conn.prepare_cached(
        "SELECT t.name, t.created_at, (SELECT COUNT(*) FROM users u WHERE u.team = t.name AND u.active = 1)
         FROM teams t ORDER BY t.name",
    )?;
    let rows = stmt
        .query_map((), |r| {
            Ok(TeamView {
                name: r.get(0)?,
                created_at: r.get::<_, Option<Sql<DateTime<Utc>>>>(1)?.map(|t| zone.at(t.0)),
                members: r.get(2)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Creates a team (中队); `false` when one of that name exists.
pub(super) fn add_team(conn: &impl Db, name: &str, now: DateTime<Utc>) -> StoreResult<bool> {
    Ok(conn.execute(
        "INSERT INTO teams (name, created_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        params![name, ts(now)],
    )? == 1)
}

/// The departments of the current dictionary with their users and open cases.
pub(super) fn departments(
    conn: &impl Db,
    dictionary: Option<&protocol::Dictionary>,
) -> StoreResult<Vec<DepartmentView>> {
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

/// Inserts a user (and the team, if new); refuses (409) a username in use.
pub(super) fn add_user(tx: &impl Db, user: NewUser, now: DateTime<Utc>) -> StoreResult<User> {
    if let Some(team) = &user.team {
        tx.execute(
            "INSERT INTO teams (name, created_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            params![team, ts(now)],
        )?;
    }
    let exists: bool =
        tx.query_row("SELECT EXISTS (SELECT 1 FROM users WHERE username = ?1)", [&user.username], |r| r.get(0))?;
    if exists {
        return Err(StoreError::conflict(format!("user `{}` exists already", user.username)));
    }
    let id = Uuid::now_v7();
    tx.execute(
        "INSERT INTO users (id, username, password_hash, display_name, role, team, department, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            id.to_string(),
            user.username,
            user.password_hash,
            user.display_name,
            user.role.as_str(),
            user.team,
            user.department,
            ts(now)
        ],
    )?;
    Ok(User {
        id,
        username: user.username,
        display_name: user.display_name,
        role: user.role,
        team: user.team,
        department: user.department,
    })
}

/// An active user by username, with the stored password hash.
pub(super) fn credentials(conn: &impl Db, username: &str) -> StoreResult<Option<(User, String)>> {
    let sql = format!("SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.username = ?1 AND u.active = 1");
    Ok(conn.query_row(&sql, [username], |r| Ok((row_user(r, 0)?, r.get::<_, String>(6)?))).optional()?)
}

pub(super) fn create_session(conn: &impl Db, session: &NewSession, now: DateTime<Utc>) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO sessions (token_hash, user_id, expires_ts, enrol_only) VALUES (?1, ?2, ?3, ?4)",
        params![session.token_hash, session.user_id.to_string(), session.expires_at.timestamp(), session.enrol_only],
    )?;
    conn.execute("DELETE FROM sessions WHERE expires_ts < ?1", [now.timestamp()])?;
    Ok(())
}

pub(super) fn end_session(conn: &impl Db, token_hash: &str) -> StoreResult<()> {
    conn.execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])?;
    Ok(())
}

/// Who holds a token: a device token of a device not revoked, or a console session not expired; the user
/// active either way.
pub(super) fn principal_by_token(
    conn: &impl Db,
    token_hash: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<Principal>> {
    // Every request asks this, so the statements are kept prepared.
    let device = conn
        .prepare_cached(&format!(
            "SELECT {USER_COLUMNS}, d.id FROM devices d JOIN users u ON u.id = d.user_id
             WHERE d.token_hash = ?1 AND d.revoked_at IS NULL AND u.active = 1"
        ))?
        .query_row([token_hash], |r| Ok((row_user(r, 0)?, r.get::<_, Sql<Uuid>>(6)?.0)))
        .optional()?;
    if let Some((user, device_id)) = device {
        return Ok(Some(Principal { user, device_id: Some(device_id), address: None, enrol_only: false }));
    }
    let session = conn
        .prepare_cached(&format!(
            "SELECT {USER_COLUMNS}, s.enrol_only FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = ?1 AND s.expires_ts > ?2 AND u.active = 1"
        ))?
        .query_row(params![token_hash, now.timestamp()], |r| Ok((row_user(r, 0)?, r.get::<_, bool>(6)?)))
        .optional()?;
    if let Some((user, enrol_only)) = session {
        return Ok(Some(Principal { user, device_id: None, address: None, enrol_only }));
    }
    // Another system's integration token (an Open311 api_key, a hotline system's bearer token); never an admin's,
    // even when its user was made one after it was issued.
    let integration = conn
        .prepare_cached(&format!(
            "SELECT {USER_COLUMNS} FROM integration_tokens i JOIN users u ON u.id = i.user_id
             WHERE i.token_hash = ?1 AND i.revoked_at IS NULL AND u.active = 1 AND u.role <> 'admin'"
        ))?
        .query_row([token_hash], |r| row_user(r, 0))
        .optional()?;
    Ok(integration.map(|user| Principal { user, device_id: None, address: None, enrol_only: false }))
}

/// A user's second factor (TOTP) as kept.
pub(super) fn second_factor(conn: &impl Db, user_id: Uuid) -> StoreResult<SecondFactor> {
    Ok(conn
        .query_row("SELECT totp_secret, totp_enabled FROM users WHERE id = ?1", [user_id.to_string()], |r| {
            Ok(SecondFactor { secret: r.get(0)?, enabled: r.get(1)? })
        })
        .optional()?
        .unwrap_or(SecondFactor { secret: None, enabled: false }))
}

/// Sets (or with `None`, removes) a user's second factor; a new secret starts the count of taken codes
/// afresh.
pub(super) fn set_second_factor(conn: &impl Db, user_id: Uuid, factor: &SecondFactor) -> StoreResult<()> {
    conn.execute(
        "UPDATE users SET totp_secret = ?2, totp_enabled = ?3,
             totp_last_step = CASE WHEN totp_secret IS NOT DISTINCT FROM ?2 THEN totp_last_step ELSE 0 END
         WHERE id = ?1",
        params![user_id.to_string(), factor.secret, factor.enabled],
    )?;
    Ok(())
}

/// Begins setting up a second factor: a new secret waiting for its first code, unless one is in force
/// (checked in the same statement, so a confirmation meanwhile is never overwritten); true when begun.
pub(super) fn begin_second_factor(conn: &impl Db, user_id: Uuid, secret: &str) -> StoreResult<bool> {
    let n = conn.execute(
        "UPDATE users SET totp_secret = ?2, totp_last_step = 0 WHERE id = ?1 AND totp_enabled = 0",
        params![user_id.to_string(), secret],
    )?;
    Ok(n == 1)
}

/// The session that confirmed a second factor becomes a whole session; the user's other enrol-only sessions
/// end (one opened with the password alone, by whoever, gains nothing from the confirmation).
pub(super) fn second_factor_confirmed(conn: &impl Db, user_id: Uuid, token_hash: &str) -> StoreResult<()> {
    conn.execute(
        "DELETE FROM sessions WHERE user_id = ?1 AND enrol_only = 1 AND token_hash <> ?2",
        params![user_id.to_string(), token_hash],
    )?;
    conn.execute("UPDATE sessions SET enrol_only = 0 WHERE token_hash = ?1", [token_hash])?;
    Ok(())
}

/// Takes the code of time step `step` for the user, unless that step's code or a later one was taken
/// already (a code seen once, on the wire or over a shoulder, is spent); true when taken.
pub(super) fn take_second_factor_step(conn: &impl Db, user_id: Uuid, step: i64) -> StoreResult<bool> {
    let n = conn.execute(
        "UPDATE users SET totp_last_step = ?2 WHERE id = ?1 AND totp_last_step < ?2",
        params![user_id.to_string(), step],
    )?;
    Ok(n == 1)
}
