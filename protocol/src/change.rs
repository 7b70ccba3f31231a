//! What the server tells a device since its cursor.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Dictionary, FindingState, Location, Task, Timestamp};

/// Case states of the lifecycle.
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
pub enum CaseState {
    Filed,
    Dispatched,
    Accepted,
    Handled,
    Closed,
    Suspended,
    Voided,
}

impl CaseState {
    /// The wire name (serde's).
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }

    /// Closed and voided cases are over; everything else is open.
    pub fn is_open(self) -> bool {
        !matches!(self, CaseState::Closed | CaseState::Voided)
    }
}

/// `case` inside `finding.updated`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CaseSummary {
    pub case_no: String,
    pub state: CaseState,
    pub department: Option<String>,
    pub due_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FindingUpdated {
    pub finding_id: Uuid,
    pub state: FindingState,
    pub reason: Option<String>,
    pub case: Option<CaseSummary>,
    /// The unit grid (单元网格) the server placed the finding in (second wave).
    #[serde(default)]
    pub grid: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TaskAssigned {
    pub task: Task,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TaskCancelled {
    pub task_id: Uuid,
}

/// An open case in the user's team area, kept on the phone to warn before a duplicate is reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AreaCase {
    pub case_no: String,
    pub category: String,
    pub state: CaseState,
    pub location: Location,
    pub observed_at: Timestamp,
}

/// The body of a change, tagged by `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "kind")]
pub enum ChangeBody {
    #[serde(rename = "finding.updated")]
    FindingUpdated(FindingUpdated),
    #[serde(rename = "task.assigned")]
    TaskAssigned(TaskAssigned),
    #[serde(rename = "task.cancelled")]
    TaskCancelled(TaskCancelled),
    #[serde(rename = "dictionary")]
    Dictionary(Dictionary),
    #[serde(rename = "area_case")]
    AreaCase(AreaCase),
    /// A campaign defined or changed (second wave).
    #[serde(rename = "campaign")]
    Campaign(crate::Campaign),
    /// A kind this build does not know (a newer server); kept so one change never breaks a sync.
    #[serde(other)]
    #[cfg_attr(feature = "schema", schemars(skip))]
    #[cfg_attr(feature = "specta", specta(skip))]
    Unknown,
}

impl ChangeBody {
    pub fn kind(&self) -> &'static str {
        match self {
            ChangeBody::FindingUpdated(_) => "finding.updated",
            ChangeBody::TaskAssigned(_) => "task.assigned",
            ChangeBody::TaskCancelled(_) => "task.cancelled",
            ChangeBody::Dictionary(_) => "dictionary",
            ChangeBody::AreaCase(_) => "area_case",
            ChangeBody::Campaign(_) => "campaign",
            ChangeBody::Unknown => "unknown",
        }
    }
}

/// A change: its kind's fields and `at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Change {
    pub at: Timestamp,
    #[serde(flatten)]
    pub body: ChangeBody,
}
