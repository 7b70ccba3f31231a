//! `POST /api/v1/sync`: ops up, results and changes down.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::json::decode_str;
use crate::{ApiError, Change, FieldError, Finding, FindingState, TaskComplete, TaskState, Timestamp};

/// One op as it travels: the kind names the body's type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct OpEnvelope {
    pub seq: u64,
    pub kind: String,
    pub body: Value,
    /// The device's Ed25519 signature (base64) over the op's canonical JSON (`evidence::signed_bytes`);
    /// absent from a device that registered no key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sig: Option<String>,
    /// The link to the device's previous signed op (`evidence::link`); `null` for its first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev: Option<String>,
}

/// The sync request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SyncRequest {
    pub device_id: Uuid,
    #[serde(default)]
    pub ops: Vec<OpEnvelope>,
    #[serde(default)]
    pub cursor: Option<String>,
    /// Extension: ops still waiting on the device, for the admin's device list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backlog: Option<u64>,
    /// Extension: the dictionary version the device holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dictionary_version: Option<i64>,
}

/// The sync request as the server reads it: op bodies left as raw JSON text borrowed from the request, so
/// that each is decoded once into its typed op (and a bad one is refused alone, with its field).
#[derive(Debug, Deserialize)]
pub struct SyncRequestRaw<'a> {
    pub device_id: Uuid,
    #[serde(default, borrow)]
    pub ops: Vec<OpEnvelopeRaw<'a>>,
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default)]
    pub backlog: Option<u64>,
    #[serde(default)]
    pub dictionary_version: Option<i64>,
}

/// One op of a `SyncRequestRaw`.
#[derive(Debug, Clone, Deserialize)]
pub struct OpEnvelopeRaw<'a> {
    pub seq: u64,
    pub kind: String,
    #[serde(borrow)]
    pub body: &'a serde_json::value::RawValue,
    #[serde(default)]
    pub sig: Option<String>,
    #[serde(default)]
    pub prev: Option<String>,
}

/// `patrol.start`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PatrolStart {
    pub id: Uuid,
    pub started_at: Timestamp,
}

/// One point of a patrol track.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TrackPoint {
    pub t: Timestamp,
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: f64,
}

impl TrackPoint {
    /// A position on the globe with a non-negative accuracy.
    pub fn is_valid(&self) -> bool {
        (-90.0..=90.0).contains(&self.lat)
            && (-180.0..=180.0).contains(&self.lon)
            && self.accuracy_m.is_finite()
            && self.accuracy_m >= 0.0
    }
}

/// `patrol.track`: points may arrive in several ops and more than once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PatrolTrack {
    pub patrol_id: Uuid,
    pub points: Vec<TrackPoint>,
}

/// `patrol.end`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PatrolEnd {
    pub id: Uuid,
    pub ended_at: Timestamp,
    pub distance_m: f64,
}

/// The typed form of an op body.
// Findings are by far the most frequent op and each is decoded, checked and stored once; boxing them to
// shrink the rare variants would add an allocation to every finding for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    FindingCreate(Finding),
    PatrolStart(PatrolStart),
    PatrolTrack(PatrolTrack),
    PatrolEnd(PatrolEnd),
    TaskComplete(TaskComplete),
}

impl Op {
    pub const FINDING_CREATE: &'static str = "finding.create";
    pub const PATROL_START: &'static str = "patrol.start";
    pub const PATROL_TRACK: &'static str = "patrol.track";
    pub const PATROL_END: &'static str = "patrol.end";
    pub const TASK_COMPLETE: &'static str = "task.complete";

    pub fn kind(&self) -> &'static str {
        match self {
            Op::FindingCreate(_) => Self::FINDING_CREATE,
            Op::PatrolStart(_) => Self::PATROL_START,
            Op::PatrolTrack(_) => Self::PATROL_TRACK,
            Op::PatrolEnd(_) => Self::PATROL_END,
            Op::TaskComplete(_) => Self::TASK_COMPLETE,
        }
    }

    /// The id of the entity the op is about; ops about one entity depend on each other.
    pub fn entity_id(&self) -> Uuid {
        match self {
            Op::FindingCreate(f) => f.id,
            Op::PatrolStart(p) => p.id,
            Op::PatrolTrack(p) => p.patrol_id,
            Op::PatrolEnd(p) => p.id,
            Op::TaskComplete(t) => t.task_id,
        }
    }

    pub fn body(&self) -> Value {
        let v = match self {
            Op::FindingCreate(b) => serde_json::to_value(b),
            Op::PatrolStart(b) => serde_json::to_value(b),
            Op::PatrolTrack(b) => serde_json::to_value(b),
            Op::PatrolEnd(b) => serde_json::to_value(b),
            Op::TaskComplete(b) => serde_json::to_value(b),
        };
        v.expect("op bodies are plain data and always serialize")
    }

    pub fn envelope(&self, seq: u64) -> OpEnvelope {
        OpEnvelope { seq, kind: self.kind().to_owned(), body: self.body(), sig: None, prev: None }
    }

    /// Parses a body of the given kind; a failure names the offending field.
    /// Parses an op from the raw JSON text of its body.
    pub fn parse_str(kind: &str, body: &str) -> Result<Op, FieldError> {
        Ok(match kind {
            Self::FINDING_CREATE => Op::FindingCreate(decode_str(body)?),
            Self::PATROL_START => Op::PatrolStart(decode_str(body)?),
            Self::PATROL_TRACK => Op::PatrolTrack(decode_str(body)?),
            Self::PATROL_END => Op::PatrolEnd(decode_str(body)?),
            Self::TASK_COMPLETE => Op::TaskComplete(decode_str(body)?),
            other => {
                return Err(FieldError::new("kind", format!("unknown op kind `{other}`")));
            }
        })
    }

    /// The body serialised as the typed op (fields in declaration order), as hashed to recognise a resend.
    pub fn body_json(&self) -> String {
        let text = match self {
            Op::FindingCreate(b) => serde_json::to_string(b),
            Op::PatrolStart(b) => serde_json::to_string(b),
            Op::PatrolTrack(b) => serde_json::to_string(b),
            Op::PatrolEnd(b) => serde_json::to_string(b),
            Op::TaskComplete(b) => serde_json::to_string(b),
        };
        text.expect("op bodies are plain data and always serialize")
    }

    /// Parses an op from a body already parsed as JSON.
    pub fn parse(kind: &str, body: &Value) -> Result<Op, FieldError> {
        Self::parse_str(kind, &body.to_string())
    }
}

/// How an op fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum OpStatus {
    /// Done now.
    Applied,
    /// Already applied before; the answer is the first one.
    Duplicate,
    /// Permanent: never send it again as it is.
    Rejected,
    /// Nothing was done; send it again later.
    Retry,
}

/// `finding` in a result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FindingAck {
    pub id: Uuid,
    pub state: FindingState,
    pub case_no: Option<String>,
}

/// `patrol` in a result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PatrolAck {
    pub id: Uuid,
}

/// `task` in a result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TaskAck {
    pub id: Uuid,
    pub state: TaskState,
}

/// One result per op, in the order sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct OpResult {
    pub seq: u64,
    pub status: OpStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finding: Option<FindingAck>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patrol: Option<PatrolAck>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskAck>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ApiError>,
}

impl OpResult {
    pub fn failed(seq: u64, status: OpStatus, error: ApiError) -> Self {
        OpResult { seq, status, finding: None, patrol: None, task: None, error: Some(error) }
    }
}

/// The sync answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SyncResponse {
    pub results: Vec<OpResult>,
    pub changes: Vec<Change>,
    pub cursor: String,
    pub more: bool,
    pub server_time: Timestamp,
}
