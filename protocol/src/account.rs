//! Health, accounts, devices and sessions.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Timestamp;

/// The five roles of the contract.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::EnumIter,
)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Role {
    /// 巡查员: patrols, reports, verifies.
    Inspector,
    /// 科长 / 中队长: reviews the team's finds.
    Chief,
    /// 派遣员: dispatches cases to departments.
    Dispatcher,
    /// 专业部门: handles the cases of its department.
    Department,
    /// System administration.
    Admin,
}

impl Role {
    /// The wire name (serde's).
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<Role> {
        s.parse().ok()
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `GET /api/v1/health`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Health {
    pub status: String,
    pub version: String,
    pub protocol: u32,
    pub server_time: Timestamp,
    pub max_blob_bytes: u64,
}

/// The device part of a registration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DeviceInfo {
    pub id: Uuid,
    pub name: String,
    pub platform: String,
    pub app_version: String,
    /// The device's Ed25519 public key (base64 of 32 bytes); the device then signs every op.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
}

/// `POST /api/v1/devices/register`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RegisterRequest {
    pub username: String,
    pub password: String,
    pub device: DeviceInfo,
}

/// The signed-in user as answers describe it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct UserInfo {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub team: Option<String>,
    /// Extension: the department code of a `department` user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
}

/// Answer to a registration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RegisterResponse {
    pub token: String,
    pub user: UserInfo,
    pub server_time: Timestamp,
}

/// `POST /api/v1/sessions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SessionRequest {
    pub username: String,
    pub password: String,
    /// Extension: the 6-digit code of the user's authenticator app, for a user with two-factor sign-in on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp: Option<String>,
}

/// Answer to a console sign-in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SessionResponse {
    pub token: String,
    pub user: UserInfo,
    /// Extension: when the session ends unless the user signs out first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
    /// Extension: the session may only set up two-factor sign-in (an admin on a server that requires it, who
    /// has none yet); every other request is refused until it is set up.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub enrol_second_factor: bool,
}
