//! The working-time calendar that deadlines of ordinary categories are counted in (处置时限): working
//! hours of a day, working weekdays, holidays, and the weekend days worked in exchange (调休).
//! Urgent categories count clock hours instead.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::Zone;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WorkCalendar {
    /// Working periods of a day, `["08:30", "12:00"]`, in order and not overlapping.
    pub periods: Vec<[NaiveTime; 2]>,
    /// Working weekdays, 1 = Monday … 7 = Sunday.
    pub weekdays: Vec<u8>,
    /// Days off although they fall on a working weekday.
    pub holidays: BTreeSet<NaiveDate>,
    /// Days worked although they fall on a weekend (调休 make-up days).
    pub workdays: BTreeSet<NaiveDate>,
}

impl Default for WorkCalendar {
    fn default() -> Self {
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).expect("valid time");
        WorkCalendar {
            periods: vec![[t(8, 30), t(12, 0)], [t(13, 30), t(17, 30)]],
            weekdays: vec![1, 2, 3, 4, 5],
            holidays: BTreeSet::new(),
            workdays: BTreeSet::new(),
        }
    }
}

/// Days looked ahead before giving up (a calendar with no working time at all).
const HORIZON_DAYS: u32 = 3 * 366;

impl WorkCalendar {
    pub fn is_workday(&self, day: NaiveDate) -> bool {
        if self.holidays.contains(&day) {
            return false;
        }
        self.workdays.contains(&day) || self.weekdays.contains(&(day.weekday().number_from_monday() as u8))
    }

    /// The instant `hours` of working time after `start`, counted in `zone`'s local time.
    pub fn add_working_hours(&self, zone: &Zone, start: DateTime<Utc>, hours: f64) -> DateTime<Utc> {
        let mut remaining = Duration::milliseconds((hours * 3_600_000.0).round() as i64);
        let local = zone.at(start).naive_local();
        let mut day = local.date();
        let mut from = local.time();
        for _ in 0..HORIZON_DAYS {
            if self.is_workday(day) {
                for [a, b] in &self.periods {
                    let begin = (*a).max(from);
                    if begin >= *b {
                        continue;
                    }
                    let available = *b - begin;
                    if remaining <= available {
                        return zone.to_utc(NaiveDateTime::new(day, begin) + remaining);
                    }
                    remaining -= available;
                }
            }
            day = day.succ_opt().unwrap_or(day);
            from = NaiveTime::MIN;
        }
        // No working time within the horizon: fall back to clock time rather than never.
        start + Duration::milliseconds((hours * 3_600_000.0).round() as i64)
    }

    /// Reads `calendar.json` of the data directory, or the default when there is none.
    pub fn load(path: &std::path::Path) -> Result<WorkCalendar, String> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(WorkCalendar::default()),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn working_time_skips_nights_weekends_and_holidays() {
        let zone = Zone::parse("+08:00").unwrap();
        let mut cal = WorkCalendar::default();
        // Friday 2026-09-25 16:30 +08:00 plus 4 working hours: 1 h on Friday (to 17:30), Saturday and
        // Sunday off, Monday 2026-09-28 is made a holiday, Tuesday 08:30–11:30 gives the other 3 h.
        cal.holidays.insert(NaiveDate::from_ymd_opt(2026, 9, 28).unwrap());
        let due = cal.add_working_hours(&zone, at("2026-09-25T16:30:00+08:00"), 4.0);
        assert_eq!(due, at("2026-09-29T11:30:00+08:00"));
        // Without the holiday it is Monday.
        let plain = WorkCalendar::default().add_working_hours(&zone, at("2026-09-25T16:30:00+08:00"), 4.0);
        assert_eq!(plain, at("2026-09-28T11:30:00+08:00"));
        // A make-up Sunday is worked; the lunch break is skipped: 1 h Friday, 3.5 h Sunday morning,
        // 0.5 h after lunch.
        cal.workdays.insert(NaiveDate::from_ymd_opt(2026, 9, 27).unwrap());
        let due = cal.add_working_hours(&zone, at("2026-09-25T16:30:00+08:00"), 5.0);
        assert_eq!(due, at("2026-09-27T14:00:00+08:00"));
        // Filed at night: the clock starts the next working morning.
        let due = WorkCalendar::default().add_working_hours(&zone, at("2026-09-22T22:00:00+08:00"), 2.0);
        assert_eq!(due, at("2026-09-23T10:30:00+08:00"));
    }

    #[test]
    fn a_calendar_without_working_time_falls_back_to_clock_time() {
        let zone = Zone::parse("+08:00").unwrap();
        let cal = WorkCalendar { weekdays: vec![], ..WorkCalendar::default() };
        let start = at("2026-09-25T16:30:00+08:00");
        assert_eq!(cal.add_working_hours(&zone, start, 3.0), start + Duration::hours(3));
    }

    #[test]
    fn parses_the_json_form() {
        let cal: WorkCalendar = serde_json::from_str(
            r#"{"periods": [["09:00:00", "17:00:00"]], "weekdays": [1,2,3,4,5,6], "holidays": ["2026-10-01"]}"#,
        )
        .unwrap();
        assert!(cal.is_workday(NaiveDate::from_ymd_opt(2026, 10, 3).unwrap()), "a Saturday in this calendar");
        assert!(!cal.is_workday(NaiveDate::from_ymd_opt(2026, 10, 1).unwrap()));
    }
}
