//! The evaluation indicators (综合评价) of domain.md, counted from the history of findings, tasks and
//! cases — never from counters that could drift.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::Zone;

/// One kind of fact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// A finding reported (observed in the period); `in_time` = it became a case (filed or merged).
    Reported,
    /// A finding fixed on the spot.
    SelfHandled,
    /// A verification task due in the period; `in_time` = completed before its deadline.
    VerifyDue,
    /// A 核实 task (of a report from another channel) due in the period; `in_time` = completed before it.
    ConfirmDue,
    /// A case whose handling deadline falls in the period; `in_time` = handled before it.
    Due,
    /// A `handle` action in the period.
    Handled,
    /// A failed verification in the period (返工).
    Rework,
    /// A case closed in the period; `in_time` = closed before its deadline.
    Closed,
    /// A dispatch (by the centre or automatic) in the period.
    Dispatched,
    /// A case returned by its department in the period (回退): a dispatch that missed.
    Returned,
    /// 督办 in the period.
    Supervised,
}

/// One fact the indicators are counted from; `key` is the group it falls in for each grouping.
#[derive(Debug, Clone)]
pub struct StatEvent {
    pub metric: Metric,
    pub inspector: Option<String>,
    pub team: Option<String>,
    pub department: Option<String>,
    pub category: Option<String>,
    /// The unit grid and the road of the finding or case.
    pub grid: Option<String>,
    pub road: Option<String>,
    pub at: DateTime<Utc>,
    /// For "due"-type metrics: whether it was done in time.
    pub in_time: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::EnumString)]
#[strum(serialize_all = "snake_case")]
pub enum GroupBy {
    Inspector,
    Team,
    Department,
    Category,
    Day,
    Grid,
    Road,
}

impl GroupBy {
    pub fn parse(s: &str) -> Option<GroupBy> {
        s.parse().ok()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct StatsRow {
    pub key: String,
    /// 上报数
    pub reported: u64,
    pub valid: u64,
    /// 有效上报率 = valid ÷ reported
    pub valid_rate: Option<f64>,
    /// 自行处置数
    pub self_handled: u64,
    pub verify_due: u64,
    /// 按时核查率 = verified_on_time ÷ verify_due
    pub verified_on_time: u64,
    pub confirm_due: u64,
    /// 按时核实率 = confirmed_on_time ÷ confirm_due
    pub confirmed_on_time: u64,
    pub due: u64,
    pub handled_on_time: u64,
    /// 按期处置率 = handled_on_time ÷ due
    pub on_time_rate: Option<f64>,
    pub handled: u64,
    pub rework: u64,
    /// 返工率 = rework ÷ handled
    pub rework_rate: Option<f64>,
    pub closed: u64,
    pub closed_on_time: u64,
    /// 督办 of the period.
    pub supervised: u64,
    pub dispatched: u64,
    pub returned: u64,
    /// 准确派遣率 = dispatches not returned ÷ dispatches.
    pub dispatch_accuracy: Option<f64>,
}

fn rate(n: u64, d: u64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

/// Groups facts into rows, ordered by key. Facts without a value for the grouping fall under "-".
pub fn aggregate(events: &[StatEvent], group_by: GroupBy, zone: &Zone) -> Vec<StatsRow> {
    let mut rows: BTreeMap<String, StatsRow> = BTreeMap::new();
    for e in events {
        let key = match group_by {
            GroupBy::Inspector => e.inspector.clone(),
            GroupBy::Team => e.team.clone(),
            GroupBy::Department => e.department.clone(),
            GroupBy::Category => e.category.clone(),
            GroupBy::Day => Some(zone.at(e.at).format("%Y-%m-%d").to_string()),
            GroupBy::Grid => e.grid.clone(),
            GroupBy::Road => e.road.clone(),
        }
        .unwrap_or_else(|| "-".to_owned());
        let row = rows.entry(key.clone()).or_insert_with(|| StatsRow { key, ..StatsRow::default() });
        let hit = u64::from(e.in_time);
        match e.metric {
            Metric::Reported => {
                row.reported += 1;
                row.valid += hit;
            }
            Metric::SelfHandled => row.self_handled += 1,
            Metric::VerifyDue => {
                row.verify_due += 1;
                row.verified_on_time += hit;
            }
            Metric::ConfirmDue => {
                row.confirm_due += 1;
                row.confirmed_on_time += hit;
            }
            Metric::Due => {
                row.due += 1;
                row.handled_on_time += hit;
            }
            Metric::Handled => row.handled += 1,
            Metric::Rework => row.rework += 1,
            Metric::Closed => {
                row.closed += 1;
                row.closed_on_time += hit;
            }
            Metric::Dispatched => row.dispatched += 1,
            Metric::Returned => row.returned += 1,
            Metric::Supervised => row.supervised += 1,
        }
    }
    rows.into_values()
        .map(|mut r| {
            r.valid_rate = rate(r.valid, r.reported);
            r.on_time_rate = rate(r.handled_on_time, r.due);
            r.rework_rate = rate(r.rework, r.handled);
            r.dispatch_accuracy = rate(r.dispatched.saturating_sub(r.returned), r.dispatched);
            r
        })
        .collect()
}

/// The rows as CSV, with the same columns as the JSON rows.
pub fn to_csv(rows: &[StatsRow]) -> String {
    let mut out = String::from(
        "key,reported,valid,valid_rate,self_handled,verify_due,verified_on_time,due,handled_on_time,on_time_rate,handled,rework,rework_rate,closed,closed_on_time,supervised,dispatched,returned,dispatch_accuracy,confirm_due,confirmed_on_time\n",
    );
    let r = |v: Option<f64>| v.map(|x| format!("{x:.4}")).unwrap_or_default();
    for row in rows {
        let key = super::csv_field(&row.key);
        out.push_str(&format!(
            "{key},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
            row.reported,
            row.valid,
            r(row.valid_rate),
            row.self_handled,
            row.verify_due,
            row.verified_on_time,
            row.due,
            row.handled_on_time,
            r(row.on_time_rate),
            row.handled,
            row.rework,
            r(row.rework_rate),
            row.closed,
            row.closed_on_time,
            row.supervised,
            row.dispatched,
            row.returned,
            r(row.dispatch_accuracy),
            row.confirm_due,
            row.confirmed_on_time
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(metric: Metric, who: &str, in_time: bool) -> StatEvent {
        StatEvent {
            metric,
            inspector: Some(who.into()),
            team: Some("一中队".into()),
            department: Some("HW".into()),
            category: Some("E0102".into()),
            grid: Some("210103001".into()),
            road: None,
            at: "2026-11-21T02:00:00Z".parse().unwrap(),
            in_time,
        }
    }

    #[test]
    fn rates_follow_the_definitions() {
        let events = vec![
            ev(Metric::Reported, "a", true),
            ev(Metric::Reported, "a", false),
            ev(Metric::Reported, "b", true),
            ev(Metric::Due, "a", true),
            ev(Metric::Due, "a", false),
            ev(Metric::Handled, "a", false),
            ev(Metric::Handled, "a", false),
            ev(Metric::Rework, "a", false),
        ];
        let rows = aggregate(&events, GroupBy::Inspector, &Zone::parse("+08:00").unwrap());
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].reported, rows[0].valid, rows[0].valid_rate), (2, 1, Some(0.5)));
        assert_eq!(rows[0].on_time_rate, Some(0.5));
        assert_eq!(rows[0].rework_rate, Some(0.5));
        assert_eq!(rows[1].rework_rate, None, "no handled case, no rate");
        let by_team = aggregate(&events, GroupBy::Team, &Zone::parse("+08:00").unwrap());
        assert_eq!(by_team[0].reported, 3);
        let by_day = aggregate(&events, GroupBy::Day, &Zone::parse("+08:00").unwrap());
        assert_eq!(by_day[0].key, "2026-11-21");
        assert!(to_csv(&rows).lines().nth(1).unwrap().starts_with("a,2,1,0.5000,"));
    }
}
