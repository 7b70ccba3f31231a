//! Reports from other channels (12345 hotline, 领导交办, citizens, cameras) and free tasks, as the centre's
//! 受理员 enters them: their shapes and the rules that need no storage. A report that needs checking (核实)
//! becomes a `confirm` task for an inspector of its place; a confirmed report is filed as a case.

use chrono::{DateTime, Utc};
use protocol::{FieldError, PhotoRef, Timestamp};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::GeoPoint;
use protocol::finding::MAX_DESCRIPTION_CHARS;

/// Where a report came from.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    strum::IntoStaticStr,
    strum::EnumString,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Channel {
    /// The 12345 citizens' hotline.
    Hotline,
    /// 领导交办: a leader's instruction.
    Leader,
    Citizen,
    Camera,
    Other,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    strum::IntoStaticStr,
    strum::EnumString,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ReportState {
    /// A `confirm` task (核实) is out.
    Verifying,
    /// A case was filed (or the report joined an open case of the same problem).
    Filed,
    /// The inspector found nothing; the note says what they saw.
    NotConfirmed,
}

impl ReportState {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The caller, private to the dispatcher and the admin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Contact {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub phone: String,
}

fn yes() -> bool {
    true
}

/// `POST /api/v1/reports`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NewReport {
    /// Chosen by the client: sending the same report again never makes two.
    pub id: Uuid,
    pub channel: Channel,
    /// The channel's own number (the hotline's 工单号).
    #[serde(default)]
    pub external_ref: Option<String>,
    /// A category code of the dictionary; the centre may not know it yet.
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub description: String,
    /// Picked on the map; may be left out when `address` names a road of the dictionary.
    #[serde(default)]
    pub location: Option<GeoPoint>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub contact: Option<Contact>,
    /// Photos uploaded first (`PUT /api/v1/blobs/{sha256}`).
    #[serde(default)]
    pub photos: Vec<PhotoRef>,
    /// Send a 核实 task first (the default); false files a case at once.
    #[serde(default = "yes")]
    pub verify: bool,
    /// Who checks it (a username), when the place has no grid or road inspector, or the centre chooses.
    #[serde(default)]
    pub assignee: Option<String>,
}

/// The longest reference number, address or contact field accepted.
const MAX_SHORT_CHARS: usize = 200;

impl NewReport {
    /// The rules of the report itself; the dictionary's codes and the users are the store's to check.
    pub fn validate(&self) -> Result<(), FieldError> {
        let too_long = |s: &Option<String>| s.as_deref().is_some_and(|s| s.chars().count() > MAX_SHORT_CHARS);
        if too_long(&self.external_ref) {
            return Err(FieldError::new("external_ref", "the reference number is longer than 200 characters"));
        }
        if too_long(&self.address) {
            return Err(FieldError::new("address", "the address is longer than 200 characters"));
        }
        if self.description.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(FieldError::new("description", "description is longer than 2000 characters"));
        }
        if let Some(location) = &self.location {
            location.validate("location")?;
        } else if self.address().is_none() {
            return Err(FieldError::new("location", "a report needs a place: pick it on the map or type an address"));
        }
        if let Some(contact) = &self.contact {
            if contact.name.chars().count() > MAX_SHORT_CHARS {
                return Err(FieldError::new("contact.name", "the name is longer than 200 characters"));
            }
            if !contact.phone.trim().is_empty() && normal_phone(&contact.phone).is_none() {
                return Err(FieldError::new(
                    "contact.phone",
                    format!(
                        "`{}` is not a phone number (a mobile 1xxxxxxxxxx or a landline 0xx-xxxxxxxx)",
                        contact.phone
                    ),
                ));
            }
        }
        for (i, p) in self.photos.iter().enumerate() {
            p.validate(&format!("photos[{i}]"))?;
        }
        Ok(())
    }

    /// The address, when one was typed.
    pub fn address(&self) -> Option<&str> {
        self.address.as_deref().map(str::trim).filter(|a| !a.is_empty())
    }

    /// The category, when one was given.
    pub fn category(&self) -> Option<&str> {
        self.category.as_deref().map(str::trim).filter(|c| !c.is_empty())
    }

    /// What "the same body" means for a resent report: the body as parsed, written again (so that key order
    /// and spacing do not count), hashed.
    pub fn fingerprint(&self) -> String {
        let bytes = serde_json::to_vec(self).unwrap_or_default();
        protocol::digest::sha256_hex(&bytes)
    }
}

/// A phone number as digits (a mobile's `+86` dropped), when it is one: a mobile `1[3-9]` and 9 more digits, a
/// landline with its area code `0` and 9 to 11 digits, or a local number of 7 or 8 digits. Spaces and dashes
/// between digits are allowed.
pub fn normal_phone(s: &str) -> Option<String> {
    let s = s.trim();
    let s = s.strip_prefix("+86").unwrap_or(s);
    if s.chars().any(|c| !(c.is_ascii_digit() || c == ' ' || c == '-')) {
        return None;
    }
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    let b = digits.as_bytes();
    let mobile = b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]);
    let landline = (10..=12).contains(&b.len()) && b[0] == b'0';
    let local = (7..=8).contains(&b.len()) && b[0] != b'0' && b[0] != b'1';
    (mobile || landline || local).then_some(digits)
}

/// A report as the console lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Report {
    pub id: Uuid,
    pub channel: Channel,
    pub state: ReportState,
    pub grid: Option<String>,
    /// The case it was filed as (or joined).
    pub case_no: Option<String>,
    /// Its 核实 task.
    pub task_id: Option<Uuid>,
    pub external_ref: Option<String>,
    pub category: Option<String>,
    pub description: String,
    /// As given, or the point of the road the address names.
    pub location: Option<GeoPoint>,
    pub address: Option<String>,
    /// Shown to the dispatcher and the admin only; null for everyone else.
    pub contact: Option<Contact>,
    pub photos: Vec<String>,
    pub received_by: String,
    pub received_at: Timestamp,
    /// The 核实 task's inspector and deadline.
    pub assignee: Option<String>,
    pub due_at: Option<Timestamp>,
    /// What the inspector said: the note of `not_found`, or of `confirmed`.
    pub note: Option<String>,
    pub decided_at: Option<Timestamp>,
}

/// `{"report": …}`, the answer to `POST /api/v1/reports`.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ReportAnswer {
    pub report: Report,
}

/// `POST /api/v1/tasks`: a free task (点名抽查, 领导交办) for one inspector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NewTask {
    pub id: Uuid,
    /// `inspect`: the other types are the server's to issue.
    #[serde(rename = "type")]
    pub task_type: protocol::TaskType,
    /// A username.
    pub assignee: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// Where to go; none asks for a photo from wherever the inspector is.
    #[serde(default)]
    pub location: Option<GeoPoint>,
    #[serde(default)]
    pub address: Option<String>,
    pub due_at: Timestamp,
}

impl NewTask {
    pub fn validate(&self, now: DateTime<Utc>) -> Result<(), FieldError> {
        if self.task_type != protocol::TaskType::Inspect {
            return Err(FieldError::new(
                "type",
                "only free tasks (`inspect`) are created here; 核查 and 核实 tasks follow cases and reports",
            ));
        }
        let title = self.title.trim();
        if title.is_empty() || title.chars().count() > MAX_SHORT_CHARS {
            return Err(FieldError::new("title", "a task needs a title of at most 200 characters"));
        }
        if self.description.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(FieldError::new("description", "description is longer than 2000 characters"));
        }
        if self.address.as_deref().is_some_and(|s| s.chars().count() > MAX_SHORT_CHARS) {
            return Err(FieldError::new("address", "the address is longer than 200 characters"));
        }
        if let Some(location) = &self.location {
            location.validate("location")?;
        }
        if self.due_at.with_timezone(&Utc) <= now {
            return Err(FieldError::new("due_at", "the deadline has passed already"));
        }
        Ok(())
    }

    pub fn fingerprint(&self) -> String {
        protocol::digest::sha256_hex(&serde_json::to_vec(self).unwrap_or_default())
    }
}

/// A task as the console lists it (`GET /api/v1/tasks`): free tasks and 核实 tasks, with their results.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct TaskItem {
    pub id: Uuid,
    #[serde(rename = "type")]
    pub task_type: protocol::TaskType,
    pub state: protocol::TaskState,
    pub assignee: String,
    pub assignee_name: String,
    pub title: Option<String>,
    pub description: String,
    pub location: Option<GeoPoint>,
    pub address: Option<String>,
    pub case_no: Option<String>,
    pub report_id: Option<Uuid>,
    pub created_at: Timestamp,
    pub created_by: Option<String>,
    pub due_at: Timestamp,
    pub completed_at: Option<Timestamp>,
    pub result: Option<protocol::TaskResult>,
    pub note: Option<String>,
    pub photos: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_are_mobiles_landlines_or_local_numbers() {
        assert_eq!(normal_phone("13912345678").as_deref(), Some("13912345678"));
        assert_eq!(normal_phone("+86 139-1234-5678").as_deref(), Some("13912345678"));
        assert_eq!(normal_phone("024-22345678").as_deref(), Some("02422345678"));
        assert_eq!(normal_phone("22345678").as_deref(), Some("22345678"));
        for bad in ["12345678901", "1391234567", "139123456789", "abc", "139l2345678", "", "0245", "02-1"] {
            assert_eq!(normal_phone(bad), None, "{bad}");
        }
    }

    fn report(json: serde_json::Value) -> NewReport {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_report_needs_a_place_and_a_phone_that_is_one() {
        let id = "0190f1c2-0000-7000-8000-000000000001";
        let ok = report(serde_json::json!({"id": id, "channel": "hotline", "address": "中山路 8号"}));
        assert!(ok.verify, "verify is the default");
        ok.validate().unwrap();
        let none = report(serde_json::json!({"id": id, "channel": "hotline", "address": "  "}));
        assert_eq!(none.validate().unwrap_err().field, "location");
        let phone = report(serde_json::json!({"id": id, "channel": "citizen", "address": "中山路",
            "contact": {"name": "李女士", "phone": "12345"}}));
        assert_eq!(phone.validate().unwrap_err().field, "contact.phone");
        let far = report(serde_json::json!({"id": id, "channel": "leader", "location": {"lat": 91.0, "lon": 0.0}}));
        assert_eq!(far.validate().unwrap_err().field, "location.lat");
    }

    #[test]
    fn the_same_report_written_otherwise_has_the_same_fingerprint() {
        let a: NewReport = serde_json::from_str(
            r#"{"id":"0190f1c2-0000-7000-8000-000000000001","channel":"hotline","address":"中山路","verify":true}"#,
        )
        .unwrap();
        let b: NewReport = serde_json::from_str(
            r#"{ "address": "中山路", "channel": "hotline", "id": "0190f1c2-0000-7000-8000-000000000001" }"#,
        )
        .unwrap();
        assert_eq!(a.fingerprint(), b.fingerprint());
        let c = NewReport { description: "另一件事".into(), ..b };
        assert_ne!(a.fingerprint(), c.fingerprint());
    }
}
