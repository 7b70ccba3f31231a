//! Who is calling: a user of the server, through a registered device or a console session. Plain data,
//! known to every layer; the HTTP extractor that finds it is in `auth.rs`.

use protocol::{Role, UserInfo};
use uuid::Uuid;

/// A user as the server keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub team: Option<String>,
    pub department: Option<String>,
}

impl User {
    pub fn info(&self) -> UserInfo {
        UserInfo {
            id: self.id,
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            role: self.role,
            team: self.team.clone(),
            department: self.department.clone(),
        }
    }
}

/// Who is calling: a user, through a registered device or a console session.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: User,
    /// Set when the token is a device token.
    pub device_id: Option<Uuid>,
    /// Where the request came from (the peer's address), for the audit log; none when unknown.
    pub address: Option<std::net::IpAddr>,
    /// A console session that may only set up a second factor (an admin who must have one, without one).
    pub enrol_only: bool,
}

impl Principal {
    /// An audit log entry of this caller doing `action` on `target`.
    pub fn audit(&self, action: &'static str, target: impl Into<String>) -> crate::audit::AuditEntry {
        crate::audit::AuditEntry {
            actor: Some(self.user.username.clone()),
            role: Some(self.user.role.to_string()),
            action,
            target: Some(target.into()),
            detail: None,
            address: self.address.map(|a| a.to_string()),
            outcome: "ok",
        }
    }
}
