//! Tasks given to inspectors and their completion: 核查 (verify a handled case), 核实 (confirm a report from
//! another channel before it is filed) and free tasks (点名抽查, 领导交办).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Location, PhotoRef, Timestamp};

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
pub enum TaskResult {
    /// `verify`: fixed; closes the case.
    Pass,
    /// `verify`: not fixed; back to the department (返工).
    Fail,
    /// `confirm`: the report is true; the case is filed with the inspector's photos.
    Confirmed,
    /// `confirm`: nothing found; the report ends `not_confirmed` with the note.
    NotFound,
    /// `inspect`: done.
    Done,
}

impl TaskResult {
    /// Whether this result answers a task of that type.
    pub fn fits(self, task_type: TaskType) -> bool {
        Self::of(task_type).contains(&self)
    }

    /// The results a task of that type takes.
    pub fn of(task_type: TaskType) -> &'static [TaskResult] {
        match task_type {
            TaskType::Verify => &[TaskResult::Pass, TaskResult::Fail],
            TaskType::Confirm => &[TaskResult::Confirmed, TaskResult::NotFound],
            TaskType::Inspect => &[TaskResult::Done],
        }
    }

    /// The wire name (serde's).
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The state a task ends in with this result.
    pub fn state(self) -> TaskState {
        match self {
            TaskResult::Pass => TaskState::Passed,
            TaskResult::Fail => TaskState::Failed,
            TaskResult::Confirmed => TaskState::Confirmed,
            TaskResult::NotFound => TaskState::NotFound,
            TaskResult::Done => TaskState::Done,
        }
    }
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
    Confirmed,
    NotFound,
    Done,
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
    /// `confirm`: the category the inspector found, when the report came without one (or with a wrong one).
    /// Left out of the body when absent, as every field added after the first wave.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// `confirm`: where the inspector stood, for a report that came with an address only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
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
pub enum TaskType {
    /// 核查: on-site verification that a handled case is really fixed.
    Verify,
    /// 核实: checking on site that a report from another channel is true, before it is filed.
    Confirm,
    /// A free task: 点名抽查 ("send a photo from where you are"), 领导交办 ("go and look at X").
    Inspect,
}

impl TaskType {
    /// The wire name (serde's).
    pub fn as_str(self) -> &'static str {
        self.into()
    }
    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }
}

/// A task as `task.assigned` delivers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Task {
    pub id: Uuid,
    #[serde(rename = "type")]
    pub task_type: TaskType,
    /// The case verified (`verify`); none for the other types.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_no: Option<String>,
    /// Empty when not known (a report taken without a category, a free task).
    #[serde(default)]
    pub category: String,
    /// Where to go; none for a free task that asks for wherever the inspector is.
    #[serde(default)]
    pub location: Option<Location>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub description: String,
    pub due_at: Option<Timestamp>,
    #[serde(default)]
    pub photos: Vec<String>,
    /// A free task's title (`inspect`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The report a `confirm` task checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_id: Option<Uuid>,
}
