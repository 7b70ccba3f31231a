//! Verification tasks (核查) and their completion.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Location, PhotoRef, Timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum TaskResult {
    Pass,
    Fail,
}

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
pub enum TaskState {
    Open,
    Passed,
    Failed,
    Cancelled,
}

impl TaskState {
    /// The wire name (serde's).
    pub fn as_str(self) -> &'static str {
        self.into()
    }
    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }
}

/// `task.complete`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TaskComplete {
    pub task_id: Uuid,
    pub result: TaskResult,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub photos: Vec<PhotoRef>,
    pub completed_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum TaskType {
    /// 核查: on-site verification that a handled case is really fixed.
    Verify,
}

/// A task as `task.assigned` delivers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Task {
    pub id: Uuid,
    #[serde(rename = "type")]
    pub task_type: TaskType,
    pub case_no: String,
    pub category: String,
    pub location: Location,
    pub address: Option<String>,
    pub description: String,
    pub due_at: Option<Timestamp>,
    pub photos: Vec<String>,
}
