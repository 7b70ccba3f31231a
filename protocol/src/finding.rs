//! The Finding: what an inspector reports, and the rules it must obey.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{FieldError, Timestamp, is_sha256_hex};

pub const MAX_PHOTOS: usize = 9;
pub const MAX_DESCRIPTION_CHARS: usize = 2000;
/// How far ahead of the server's clock `observed_at` may be.
pub const MAX_CLOCK_AHEAD_MINUTES: i64 = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum LocationSource {
    Gps,
    Network,
    Manual,
}

/// A position fix in WGS-84, as the GPS (or the inspector's pin) gave it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Location {
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: f64,
    pub source: LocationSource,
    pub fixed_at: Timestamp,
}

/// The device's own fix (WGS-84) when the inspector placed the finding by hand: kept beside the pin, so the
/// place reported and the place the phone was at are both on record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct GpsFix {
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: f64,
    pub fixed_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum PhotoRole {
    Before,
    After,
}

/// One photo of a finding (or of a task result): the processed bytes, addressed by their SHA-256.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PhotoRef {
    pub sha256: String,
    pub role: PhotoRole,
    pub taken_at: Option<Timestamp>,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
}

/// A finding as the device creates it (`finding.create`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Finding {
    pub id: Uuid,
    #[serde(default)]
    pub patrol_id: Option<Uuid>,
    pub category: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub urgent: bool,
    #[serde(default)]
    pub fixed_on_spot: bool,
    pub location: Location,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub road: Option<String>,
    #[serde(default)]
    pub grid: Option<String>,
    #[serde(default)]
    pub facility_code: Option<String>,
    pub observed_at: Timestamp,
    pub photos: Vec<PhotoRef>,
    /// The device's fix when `location` is a manual pin; absent otherwise. Left out of the body when absent,
    /// so that a finding sent before this field existed keeps the hash it is remembered by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gps: Option<GpsFix>,
}

/// Server-side states of a finding.
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
pub enum FindingState {
    /// Waits for a section chief.
    PendingReview,
    /// A case exists for it.
    Filed,
    /// Attached to an existing case as another report of it.
    Merged,
    /// The chief said no, with a reason.
    Rejected,
}

impl FindingState {
    /// The wire name (serde's).
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }
}

/// The range rules of every position: a latitude, a longitude and an accuracy in metres.
fn check_position(prefix: &str, lat: f64, lon: f64, accuracy_m: f64) -> Result<(), FieldError> {
    if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
        return Err(FieldError::new(format!("{prefix}.lat"), "latitude must be within [-90, 90]"));
    }
    if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
        return Err(FieldError::new(format!("{prefix}.lon"), "longitude must be within [-180, 180]"));
    }
    if !accuracy_m.is_finite() || accuracy_m < 0.0 {
        return Err(FieldError::new(format!("{prefix}.accuracy_m"), "accuracy must be a number ≥ 0"));
    }
    Ok(())
}

impl Location {
    pub fn validate(&self, prefix: &str) -> Result<(), FieldError> {
        check_position(prefix, self.lat, self.lon, self.accuracy_m)
    }
}

impl GpsFix {
    pub fn validate(&self, prefix: &str) -> Result<(), FieldError> {
        check_position(prefix, self.lat, self.lon, self.accuracy_m)
    }
}

impl PhotoRef {
    pub fn validate(&self, field: &str) -> Result<(), FieldError> {
        if !is_sha256_hex(&self.sha256) {
            return Err(FieldError::new(format!("{field}.sha256"), "must be 64 lowercase hex characters"));
        }
        Ok(())
    }
}

impl Finding {
    /// Checks the rules of the contract. `category_known` says whether a code exists in any dictionary
    /// version the device may still hold; `now` is the server's clock.
    pub fn validate(&self, now: DateTime<Utc>, category_known: impl Fn(&str) -> bool) -> Result<(), FieldError> {
        if self.category.trim().is_empty() || !category_known(&self.category) {
            return Err(FieldError::new("category", format!("unknown category `{}`", self.category)));
        }
        if self.description.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(FieldError::new("description", "description is longer than 2000 characters"));
        }
        self.location.validate("location")?;
        if let Some(gps) = &self.gps {
            gps.validate("gps")?;
        }
        if self.observed_at.with_timezone(&Utc) > now + Duration::minutes(MAX_CLOCK_AHEAD_MINUTES) {
            return Err(FieldError::new(
                "observed_at",
                "observed_at is more than 10 minutes ahead of the server's clock",
            ));
        }
        if self.photos.is_empty() || self.photos.len() > MAX_PHOTOS {
            return Err(FieldError::new("photos", "a finding has 1 to 9 photos"));
        }
        for (i, p) in self.photos.iter().enumerate() {
            p.validate(&format!("photos[{i}]"))?;
            if p.role == PhotoRole::After && !self.fixed_on_spot {
                return Err(FieldError::new(format!("photos[{i}].role"), "`after` photos only when fixed_on_spot"));
            }
        }
        Ok(())
    }
}
