//! The rules of 数字城管 (digital urban management) that need no storage: the case lifecycle, filing and
//! duplicates, working-time deadlines, the indicators and patrol coverage. Pure functions over typed values; the `db` layer
//! persists what they decide.

pub mod calendar;
pub mod coverage;
pub mod cursor;
pub mod exports;
pub mod filing;
pub mod lifecycle;
pub mod ops;
pub mod reports;
pub mod stats;
pub mod webhooks;

use chrono::{DateTime, Utc};

use protocol::FieldError;
use serde::{Deserialize, Serialize};

use crate::config::Zone;
use calendar::WorkCalendar;

/// A CSV field, quoted when it holds a comma, a quote or a line break (the exports of the indicators, the
/// coverage and the audit log).
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_owned() }
}

/// A text field of a CSV file that people fill in (a name tried at sign-in, a description from the field).
/// Text a spreadsheet would take as a formula (`=HYPERLINK(…)`) is kept as text by a leading apostrophe.
pub fn csv_text(v: &str) -> String {
    if v.starts_with(['=', '+', '-', '@', '\t', '\r']) { csv_field(&format!("'{v}")) } else { csv_field(v) }
}

/// A point on the map (WGS-84).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GeoPoint {
    pub lat: f64,
    pub lon: f64,
}

impl GeoPoint {
    pub fn validate(&self, prefix: &str) -> Result<(), FieldError> {
        self.pin(DateTime::UNIX_EPOCH.fixed_offset()).validate(prefix)
    }

    /// The point as a pin placed by hand at `at` (how the phone's protocol carries a place it did not fix).
    pub fn pin(&self, at: protocol::Timestamp) -> protocol::Location {
        protocol::Location {
            lat: self.lat,
            lon: self.lon,
            accuracy_m: 0.0,
            source: protocol::LocationSource::Manual,
            fixed_at: at,
        }
    }
}

/// Settings of the case engine, applied inside the store's transactions.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    pub zone: Zone,
    pub calendar: WorkCalendar,
    /// Clock hours an inspector has for a verification (核查) task.
    pub verify_hours: f64,
    pub duplicate_radius_m: f64,
    pub duplicate_window_hours: f64,
}

impl EngineSettings {
    /// The deadline `hours` after `from`: clock hours for urgent categories, working hours otherwise.
    pub fn deadline(&self, from: DateTime<Utc>, hours: f64, urgent: bool) -> DateTime<Utc> {
        if urgent {
            calendar::add_clock_hours(from, hours)
        } else {
            self.calendar.add_working_hours(&self.zone, from, hours)
        }
    }

    /// When a 核实 task issued at `now` is due: as many working hours as a 核查 task has clock hours.
    pub fn confirm_due(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        self.calendar.add_working_hours(&self.zone, now, self.verify_hours)
    }

    /// When a verification task issued at `now` is due.
    pub fn verify_due(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        calendar::add_clock_hours(now, self.verify_hours)
    }
}
