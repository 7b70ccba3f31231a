//! Filing (立案) as decisions: what becomes of a finding when it arrives, what a new case starts as, its
//! number and deadline, and which open case a new report duplicates. The store reads the candidates and
//! writes what is decided here; every backend decides the same way.

use chrono::{DateTime, Utc};
use protocol::{CaseState, Category, ReviewMode};

use super::EngineSettings;
use super::lifecycle::CaseEvent;
use crate::config::Zone;

/// What becomes of a finding as it arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intake {
    /// A section chief decides (the category is reviewed).
    AwaitReview,
    /// Another report of an open case: attached to it (the case is in `state`).
    Merge { case_no: String, state: CaseState },
    /// A case of its own, dispatched at once or, fixed on the spot, closed at once.
    File,
}

impl Intake {
    /// Only a category filed without review is merged or filed at ingest; a self-fixed problem is its own
    /// closed case even where a case is open nearby (it is not another report of that problem's case).
    pub fn decide(review: ReviewMode, fixed_on_spot: bool, open_duplicate: Option<(String, CaseState)>) -> Intake {
        match (review, open_duplicate, fixed_on_spot) {
            (ReviewMode::Chief, _, _) => Intake::AwaitReview,
            (ReviewMode::Auto, Some((case_no, state)), false) => Intake::Merge { case_no, state },
            (ReviewMode::Auto, _, _) => Intake::File,
        }
    }
}

/// How a new case starts: filed, then at once closed (fixed on the spot) or dispatched by the platform's
/// rule (平台法定), or left filed for a dispatcher.
#[derive(Debug, Clone, PartialEq)]
pub struct FilingPlan {
    /// The state the `file` event gives.
    pub filed: CaseState,
    /// The system event right after filing, if any.
    pub then: Option<CaseEvent>,
    /// The state the case is stored in.
    pub state: CaseState,
    pub due_at: DateTime<Utc>,
    pub self_handled: bool,
    pub urgent: bool,
}

impl FilingPlan {
    pub fn new(
        settings: &EngineSettings,
        now: DateTime<Utc>,
        category: &Category,
        finding_urgent: bool,
        fixed_on_spot: bool,
        dispatch: bool,
    ) -> Result<FilingPlan, CaseEvent> {
        let then = if fixed_on_spot {
            Some(CaseEvent::SelfClose)
        } else if dispatch {
            Some(CaseEvent::AutoDispatch)
        } else {
            None
        };
        let filed = CaseEvent::File.next(None, None).ok_or(CaseEvent::File)?;
        let state = match then {
            Some(e) => e.next(Some(filed), None).ok_or(e)?,
            None => filed,
        };
        Ok(FilingPlan {
            filed,
            then,
            state,
            due_at: settings.deadline(now, category.time_limit_hours, category.urgent),
            self_handled: fixed_on_spot,
            urgent: finding_urgent || category.urgent,
        })
    }
}

/// Case numbers are `YYYYMMDD-NNNN`, counted per day of the server's zone.
pub fn case_day(zone: &Zone, now: DateTime<Utc>) -> String {
    zone.at(now).format("%Y%m%d").to_string()
}

pub fn case_number(day: &str, n: i64) -> String {
    format!("{day}-{n:04}")
}

/// Of candidate cases (`(case, lat, lon)`, found in a box around the point), the nearest within `radius_m`
/// of `(lat, lon)`; the first of equally near ones.
pub fn nearest_within<T>(
    lat: f64,
    lon: f64,
    radius_m: f64,
    candidates: impl IntoIterator<Item = (T, f64, f64)>,
) -> Option<T> {
    let mut best: Option<(f64, T)> = None;
    for (case, clat, clon) in candidates {
        let d = protocol::geo::distance_m(lat, lon, clat, clon);
        if d <= radius_m && best.as_ref().is_none_or(|(bd, _)| d < *bd) {
            best = Some((d, case));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::WorkCalendar;

    fn settings() -> EngineSettings {
        EngineSettings {
            zone: Zone::parse("+08:00").unwrap(),
            calendar: WorkCalendar::default(),
            verify_hours: 24.0,
            duplicate_radius_m: 50.0,
            duplicate_window_hours: 72.0,
        }
    }

    fn category(urgent: bool) -> Category {
        serde_json::from_value(serde_json::json!({
            "code": "C0101", "name": "上水井盖", "branch": "component", "department": "SW",
            "time_limit_hours": 6.0, "review": "auto", "urgent": urgent
        }))
        .unwrap()
    }

    #[test]
    fn intake_by_review_mode_duplicate_and_fixing() {
        let open = || Some(("20261204-0001".to_string(), CaseState::Dispatched));
        assert_eq!(Intake::decide(ReviewMode::Chief, false, open()), Intake::AwaitReview);
        assert_eq!(Intake::decide(ReviewMode::Chief, true, None), Intake::AwaitReview);
        assert_eq!(
            Intake::decide(ReviewMode::Auto, false, open()),
            Intake::Merge { case_no: "20261204-0001".into(), state: CaseState::Dispatched }
        );
        assert_eq!(Intake::decide(ReviewMode::Auto, true, open()), Intake::File);
        assert_eq!(Intake::decide(ReviewMode::Auto, false, None), Intake::File);
    }

    #[test]
    fn a_case_starts_dispatched_closed_or_filed() {
        let now = "2026-12-04T02:00:00Z".parse().unwrap();
        let s = settings();
        let dispatched = FilingPlan::new(&s, now, &category(true), false, false, true).unwrap();
        assert_eq!(
            (dispatched.filed, dispatched.then, dispatched.state),
            (CaseState::Filed, Some(CaseEvent::AutoDispatch), CaseState::Dispatched)
        );
        // An urgent category counts clock hours.
        assert_eq!(dispatched.due_at, now + chrono::Duration::hours(6));
        assert!(dispatched.urgent && !dispatched.self_handled);

        let fixed = FilingPlan::new(&s, now, &category(false), false, true, true).unwrap();
        assert_eq!(
            (fixed.then, fixed.state, fixed.self_handled),
            (Some(CaseEvent::SelfClose), CaseState::Closed, true)
        );
        let reviewed = FilingPlan::new(&s, now, &category(false), true, false, false).unwrap();
        assert_eq!((reviewed.then, reviewed.state, reviewed.urgent), (None, CaseState::Filed, true));
    }

    #[test]
    fn case_numbers_count_days_of_the_zone() {
        // 16:30 UTC is already the next day in Beijing.
        let late = "2026-12-04T16:30:00Z".parse().unwrap();
        assert_eq!(case_number(&case_day(&settings().zone, late), 7), "20261205-0007");
    }

    #[test]
    fn the_nearest_candidate_inside_the_radius() {
        let (lat, lon) = (41.8, 123.4);
        // About 11 m, 33 m and 110 m north.
        let candidates = [("far", 41.801, 123.4), ("mid", 41.8003, 123.4), ("near", 41.8001, 123.4)];
        assert_eq!(nearest_within(lat, lon, 50.0, candidates), Some("near"));
        assert_eq!(nearest_within(lat, lon, 50.0, [candidates[0]]), None);
        assert_eq!(nearest_within(lat, lon, 200.0, [candidates[0], candidates[1]]), Some("mid"));
        assert_eq!(nearest_within::<&str>(lat, lon, 50.0, []), None);
    }
}
