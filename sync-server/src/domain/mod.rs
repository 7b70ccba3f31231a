//! The rules of 数字城管 (digital urban management) that need no storage: the case lifecycle, filing and
//! duplicates, working-time deadlines, the indicators and patrol coverage. Pure functions over typed values; the `db` layer
//! persists what they decide.

pub mod calendar;
pub mod coverage;
pub mod cursor;
pub mod filing;
pub mod lifecycle;
pub mod ops;
pub mod stats;

use chrono::{DateTime, Duration, Utc};

use crate::config::Zone;
use calendar::WorkCalendar;

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
            from + Duration::milliseconds((hours * 3_600_000.0).round() as i64)
        } else {
            self.calendar.add_working_hours(&self.zone, from, hours)
        }
    }

    /// When a verification task issued at `now` is due.
    pub fn verify_due(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now + Duration::milliseconds((self.verify_hours * 3_600_000.0) as i64)
    }
}
