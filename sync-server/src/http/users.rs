//! Users: who is signed in (`/me`), and the admin's list, new users and changes.

use axum::Json;
use axum::extract::State;

use super::extract::Path;
use chrono::Utc;
use protocol::Role;
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};
use crate::policy::{Target, Verb};
use crate::principal::Principal;
use crate::state::AppState;

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Me {
    user: protocol::UserInfo,
}

/// `GET /api/v1/me`: who the token belongs to (extension).
pub async fn me(principal: Principal) -> Json<Me> {
    Json(Me { user: principal.user.info() })
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct UserList {
    users: Vec<crate::db::UserView>,
}

pub async fn list_users(State(state): State<AppState>, principal: Principal) -> AppResult<Json<UserList>> {
    principal.may(Verb::ListUsers, &Target::Server)?;
    Ok(Json(UserList { users: state.blocking(|s| s.users()).await? }))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct NewUserRequest {
    username: String,
    password: String,
    #[serde(default)]
    display_name: Option<String>,
    role: Role,
    #[serde(default)]
    team: Option<String>,
    #[serde(default)]
    department: Option<String>,
}

/// `POST /api/v1/users` (extension, admin): adds a user; the team is created when new.
/// Longest display name.
const MAX_NAME_CHARS: usize = 64;
/// Longest team name (as `POST /teams` takes).
pub(super) const MAX_TEAM_CHARS: usize = 40;

/// A username: 2 to 64 of A-Z, a-z, 0-9, `.`, `_` and `-` (it names a user in paths and logs).
fn is_username(s: &str) -> bool {
    (2..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

pub async fn add_user(
    State(state): State<AppState>,
    principal: Principal,
    body: axum::body::Body,
) -> AppResult<axum::response::Response> {
    let req: NewUserRequest = super::read_json(body).await?;
    if !is_username(&req.username) {
        return Err(AppError::invalid("username", "a username is 2 to 64 of A-Z, a-z, 0-9, `.`, `_` and `-`"));
    }
    super::at_most("display_name", req.display_name.as_deref().unwrap_or_default(), MAX_NAME_CHARS)?;
    super::at_most("team", req.team.as_deref().unwrap_or_default(), MAX_TEAM_CHARS)?;
    let display = req.display_name.as_deref().unwrap_or_default();
    crate::auth::check_password_policy(&req.password, &[req.username.as_str(), display])?;
    if req.role == Role::Department && req.department.is_none() {
        return Err(AppError::invalid("department", "a department user needs a department"));
    }
    principal.may(Verb::AddUser, &Target::Server)?;
    let user = state
        .blocking(move |s| -> AppResult<_> {
            Ok(s.add_user(
                crate::db::NewUser {
                    display_name: req
                        .display_name
                        .filter(|n| !n.trim().is_empty())
                        .unwrap_or_else(|| req.username.clone()),
                    password_hash: crate::auth::hash_password(&req.password)?,
                    username: req.username,
                    role: req.role,
                    team: req.team.filter(|t| !t.trim().is_empty()),
                    department: req.department.filter(|d| !d.trim().is_empty()),
                },
                Utc::now(),
            )?)
        })
        .await?;
    let mut entry = principal.audit("user.add", user.username.clone());
    entry.detail = Some(format!("role {}, team {}", user.role, user.team.as_deref().unwrap_or("-")));
    state.audit(entry).await;
    Ok(super::created(user.info()))
}

/// Absent → `None` (leave as is); `null` → `Some(None)` (clear); a value → `Some(Some(v))`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Ok(Some(Option::<String>::deserialize(d)?))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    role: Option<Role>,
    #[serde(default, deserialize_with = "present")]
    team: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    department: Option<Option<String>>,
    #[serde(default)]
    active: Option<bool>,
    #[serde(default)]
    password: Option<String>,
}

/// `PATCH /api/v1/users/{username}` (extension, admin): name, role, team, department, active, password.
pub async fn update_user(
    State(state): State<AppState>,
    principal: Principal,
    Path(username): Path<String>,
    body: axum::body::Body,
) -> AppResult<Json<crate::db::UserView>> {
    let patch: UserPatch = super::read_json(body).await?;
    if patch.display_name.as_deref().is_some_and(|n| n.trim().is_empty()) {
        return Err(AppError::invalid("display_name", "a display name cannot be empty"));
    }
    super::at_most("display_name", patch.display_name.as_deref().unwrap_or_default(), MAX_NAME_CHARS)?;
    super::at_most("team", patch.team.clone().flatten().as_deref().unwrap_or_default(), MAX_TEAM_CHARS)?;
    if let Some(password) = &patch.password {
        crate::auth::check_password_policy(password, &[username.as_str()])?;
    }
    principal.may(Verb::ChangeUser, &Target::Server)?;
    if username == principal.user.username {
        if patch.active == Some(false) {
            return Err(AppError::invalid("active", "an admin cannot lock themselves out"));
        }
        if patch.role.is_some_and(|r| r != Role::Admin) {
            return Err(AppError::invalid("role", "an admin cannot take away their own admin role"));
        }
    }
    // What changed, for the audit log (never the password itself).
    let mut changed: Vec<String> = Vec::new();
    if let Some(role) = patch.role {
        changed.push(format!("role → {role}"));
    }
    if let Some(team) = &patch.team {
        changed.push(format!("team → {}", team.as_deref().unwrap_or("-")));
    }
    if let Some(department) = &patch.department {
        changed.push(format!("department → {}", department.as_deref().unwrap_or("-")));
    }
    if let Some(active) = patch.active {
        changed.push(if active { "enabled".into() } else { "disabled".into() });
    }
    if patch.password.is_some() {
        changed.push("password changed".into());
    }
    if patch.display_name.is_some() {
        changed.push("display name".into());
    }
    let target = username.clone();
    let blank_to_none = |v: Option<Option<String>>| v.map(|t| t.filter(|t| !t.trim().is_empty()));
    let update = crate::db::UserUpdate {
        display_name: patch.display_name.map(|n| n.trim().to_owned()),
        role: patch.role,
        team: blank_to_none(patch.team),
        department: blank_to_none(patch.department),
        active: patch.active,
        password_hash: patch.password.as_deref().map(crate::auth::hash_password).transpose()?,
    };
    let updated = state
        .blocking(move |s| s.update_user(&username, update, Utc::now()))
        .await?
        .ok_or_else(|| AppError::not_found("no such user"))?;
    let mut entry = principal.audit("user.change", target);
    entry.detail = Some(changed.join(", "));
    state.audit(entry).await;
    Ok(Json(updated))
}
