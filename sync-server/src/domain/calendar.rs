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

/// The latest deadline there is: 9999-12-30 00:00 UTC. A deadline beyond it is kept as this (it stays in
/// the four-digit years that stored times compare in, in every time zone it is shown in), never as an error
/// or an earlier time.
pub const FAR_FUTURE: DateTime<Utc> = match NaiveDate::from_ymd_opt(9999, 12, 30) {
    Some(day) => match day.and_hms_opt(0, 0, 0) {
        Some(t) => t.and_utc(),
        None => DateTime::<Utc>::MIN_UTC,
    },
    None => DateTime::<Utc>::MIN_UTC,
};

/// `hours` as a duration; `None` when it is beyond any duration there is.
fn milliseconds(hours: f64) -> Option<Duration> {
    let ms = (hours * 3_600_000.0).round();
    // `as` saturates; a value at the bounds is out of range.
    if !ms.is_finite() || ms.abs() >= i64::MAX as f64 { None } else { Duration::try_milliseconds(ms as i64) }
}

/// `hours` of clock time after `start` (urgent categories, verification tasks), `FAR_FUTURE` at most.
pub fn add_clock_hours(start: DateTime<Utc>, hours: f64) -> DateTime<Utc> {
    milliseconds(hours).and_then(|d| start.checked_add_signed(d)).map_or(FAR_FUTURE, |t| t.min(FAR_FUTURE))
}

impl WorkCalendar {
    pub fn is_workday(&self, day: NaiveDate) -> bool {
        if self.holidays.contains(&day) {
            return false;
        }
        self.workdays.contains(&day) || self.weekdays.contains(&(day.weekday().number_from_monday() as u8))
    }

    /// The instant `hours` of working time after `start`, counted in `zone`'s local time. A calendar with no
    /// working time in the three years ahead counts clock time instead; one whose working time runs out (its
    /// last make-up day passed) gives `FAR_FUTURE`, as does a deadline beyond it.
    pub fn add_working_hours(&self, zone: &Zone, start: DateTime<Utc>, hours: f64) -> DateTime<Utc> {
        let Some(mut remaining) = milliseconds(hours) else { return FAR_FUTURE };
        let local = zone.at(start).naive_local();
        // More working time than every remaining day could hold ends at the far future at once, without
        // walking the millennia day by day.
        let per_day: Duration = self.periods.iter().map(|[a, b]| (*b - *a).max(Duration::zero())).sum();
        let days_left = (FAR_FUTURE.date_naive() - local.date()).num_days().max(0);
        if per_day.checked_mul(i32::try_from(days_left + 1).unwrap_or(i32::MAX)).is_some_and(|all| remaining > all) {
            return if per_day.is_zero() { add_clock_hours(start, hours) } else { FAR_FUTURE };
        }
        let mut day = local.date();
        let mut from = local.time();
        // Days since working time was last met: three years of none ends the search.
        let mut idle = 0;
        let mut worked = false;
        while idle < HORIZON_DAYS {
            if self.is_workday(day) {
                for [a, b] in &self.periods {
                    let begin = (*a).max(from);
                    if begin >= *b {
                        continue;
                    }
                    let available = *b - begin;
                    if remaining <= available {
                        return zone.to_utc(NaiveDateTime::new(day, begin) + remaining).min(FAR_FUTURE);
                    }
                    remaining -= available;
                    idle = 0;
                    worked = true;
                }
            }
            idle += 1;
            match day.succ_opt() {
                Some(next) if next <= FAR_FUTURE.date_naive() => day = next,
                _ => return FAR_FUTURE,
            }
            from = NaiveTime::MIN;
        }
        if worked { FAR_FUTURE } else { add_clock_hours(start, hours) }
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

    proptest::proptest! {
        /// Deadline arithmetic never panics, never comes before its start, never before the same hours of
        /// clock time (working time runs no faster than the clock), and never shrinks when more hours are
        /// given: whatever the start and the hours, a deadline is neither lost nor moved forward.
        #[test]
        fn a_deadline_is_never_lost_nor_earlier_for_more_hours(
            start_s in 946_684_800i64..4_102_444_800,
            hours in proptest::prop_oneof![0.001f64..1_000.0, 1_000.0f64..20_000.0, proptest::sample::select(vec![
                720.0, 5_880.0, 6_000.0, 1e6, 1e12, 1e300, f64::MAX])],
            more in 0.0f64..5_000.0,
            urgent: bool,
        ) {
            let settings = crate::domain::EngineSettings {
                zone: Zone::parse("+08:00").unwrap(),
                calendar: WorkCalendar::default(),
                verify_hours: 24.0,
                duplicate_radius_m: 50.0,
                duplicate_window_hours: 72.0,
            };
            let start = DateTime::from_timestamp(start_s, 0).unwrap();
            let due = settings.deadline(start, hours, urgent);
            let clock = Duration::try_milliseconds((hours * 3_600_000.0).round() as i64)
                .and_then(|d| start.checked_add_signed(d))
                .unwrap_or(FAR_FUTURE);
            proptest::prop_assert!(due > start, "{due} for {hours} h from {start}");
            proptest::prop_assert!(due >= clock.min(FAR_FUTURE), "{due} before {hours} clock hours from {start}");
            proptest::prop_assert!(due <= FAR_FUTURE);
            let later = settings.deadline(start, hours + more, urgent);
            proptest::prop_assert!(later >= due, "{hours} h: {due}; {} h: {later}", hours + more);
        }
    }
}
