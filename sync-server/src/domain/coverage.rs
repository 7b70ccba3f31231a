//! Coverage (巡查覆盖): for a period, every road or grid of the dictionary with the metres walked on it, how
//! many patrols walked it, when last, how many days ago, and the findings reported there; never walked and
//! longest unwalked first — the chief's answer to "did my team walk every road this week?".

use super::csv_field;
use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use protocol::{Dictionary, Timestamp};
use serde::Serialize;

use crate::config::Zone;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoverageBy {
    Road,
    Grid,
}

impl CoverageBy {
    pub fn parse(s: &str) -> Option<CoverageBy> {
        match s {
            "road" => Some(CoverageBy::Road),
            "grid" => Some(CoverageBy::Grid),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CoverageBy::Road => "road",
            CoverageBy::Grid => "grid",
        }
    }
}

/// What the patrols of a period walked on one road or in one grid.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    pub walked_m: f64,
    /// Patrols that walked it.
    pub visits: i64,
    pub last_at: Option<DateTime<Utc>>,
}

/// What the store gives for a period: tallies by road name or grid code, and the findings there.
#[derive(Debug, Clone, Default)]
pub struct CoverageTallies {
    pub walked: HashMap<String, Tally>,
    pub findings: HashMap<String, i64>,
}

/// One row of `GET /api/v1/coverage`.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct CoverageRow {
    /// The road's name or the grid's code.
    pub key: String,
    pub name: String,
    /// Who answers for it: the road's 路长, or the grid's inspectors (comma-separated).
    pub owner: Option<String>,
    pub walked_m: f64,
    pub visits: i64,
    pub last_walked_at: Option<Timestamp>,
    /// Whole days from the last walk to the end of the period (or today, if that is earlier); null when not
    /// walked in the period.
    pub days_since_walked: Option<i64>,
    pub findings: i64,
}

/// The rows of every road (or grid) of the dictionary, walked or not. `team`: a chief's team, whose grids
/// (and those of no team) are shown; `None` for all. `until`: the day days are counted to.
pub fn rows(
    dictionary: &Dictionary,
    by: CoverageBy,
    team: Option<Option<&str>>,
    walked: &HashMap<String, Tally>,
    findings: &HashMap<String, i64>,
    zone: &Zone,
    until: NaiveDate,
) -> Vec<CoverageRow> {
    let places: Vec<(String, String, Option<String>)> = match by {
        CoverageBy::Road => {
            dictionary.roads.iter().map(|r| (r.name.clone(), r.name.clone(), r.chief.clone())).collect()
        }
        CoverageBy::Grid => dictionary
            .grids
            .iter()
            .filter(|g| team.is_none_or(|t| g.team.is_none() || g.team.as_deref() == t))
            .map(|g| {
                let owner = (!g.inspectors.is_empty()).then(|| g.inspectors.join(","));
                (g.code.clone(), g.name.clone(), owner)
            })
            .collect(),
    };
    let mut out: Vec<CoverageRow> = places
        .into_iter()
        .map(|(key, name, owner)| {
            let tally = walked.get(&key).cloned().unwrap_or_default();
            let days_since_walked = tally.last_at.map(|t| (until - zone.at(t).date_naive()).num_days().max(0));
            CoverageRow {
                findings: findings.get(&key).copied().unwrap_or(0),
                walked_m: (tally.walked_m * 10.0).round() / 10.0,
                visits: tally.visits,
                last_walked_at: tally.last_at.map(|t| zone.at(t)),
                days_since_walked,
                key,
                name,
                owner,
            }
        })
        .collect();
    // Never walked first, then the longest unwalked; then the least walked.
    out.sort_by(|a, b| {
        let rank = |r: &CoverageRow| r.days_since_walked.map_or(i64::MAX, |d| d);
        rank(b).cmp(&rank(a)).then(a.walked_m.total_cmp(&b.walked_m)).then(a.key.cmp(&b.key))
    });
    out
}

pub fn to_csv(rows: &[CoverageRow]) -> String {
    let mut out = String::from("key,name,owner,walked_m,visits,last_walked_at,days_since_walked,findings\n");
    for r in rows {
        out.push_str(&format!(
            "{},{},{},{:.1},{},{},{},{}\n",
            csv_field(&r.key),
            csv_field(&r.name),
            csv_field(r.owner.as_deref().unwrap_or("")),
            r.walked_m,
            r.visits,
            r.last_walked_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            r.days_since_walked.map(|d| d.to_string()).unwrap_or_default(),
            r.findings
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dictionary() -> Dictionary {
        serde_json::from_value(serde_json::json!({
            "version": 2, "categories": [], "departments": [],
            "roads": [
                {"name": "中街路", "points": [], "chief": "chief1"},
                {"name": "正阳街", "points": []},
                {"name": "朝阳街", "points": []}
            ],
            "grids": [
                {"code": "G1", "name": "一", "team": "一中队", "inspectors": ["inspector1", "inspector2"], "polygon": []},
                {"code": "G2", "name": "二", "team": "二中队", "inspectors": [], "polygon": []},
                {"code": "G3", "name": "三", "team": null, "inspectors": [], "polygon": []}
            ]
        }))
        .unwrap()
    }

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        chrono::NaiveDate::from_ymd_opt(2026, 12, day).unwrap().and_hms_opt(hour, 0, 0).unwrap().and_utc()
    }

    #[test]
    fn every_road_with_the_longest_unwalked_first() {
        let zone = Zone::parse("+08:00").unwrap();
        let walked = HashMap::from([
            ("中街路".to_owned(), Tally { walked_m: 812.34, visits: 3, last_at: Some(at(3, 2)) }),
            ("正阳街".to_owned(), Tally { walked_m: 120.0, visits: 1, last_at: Some(at(1, 2)) }),
        ]);
        let findings = HashMap::from([("正阳街".to_owned(), 2)]);
        let until = NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
        let rows = rows(&dictionary(), CoverageBy::Road, None, &walked, &findings, &zone, until);
        let keys: Vec<&str> = rows.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys, ["朝阳街", "正阳街", "中街路"]);
        assert_eq!((rows[0].walked_m, rows[0].visits, rows[0].days_since_walked), (0.0, 0, None));
        assert_eq!((rows[1].days_since_walked, rows[1].findings), (Some(3), 2));
        assert_eq!(
            (rows[2].walked_m, rows[2].owner.as_deref(), rows[2].days_since_walked),
            (812.3, Some("chief1"), Some(1))
        );
        let csv = to_csv(&rows);
        assert!(
            csv.starts_with(
                "key,name,owner,walked_m,visits,last_walked_at,days_since_walked,findings\n朝阳街,朝阳街,,0.0,0,,,0\n"
            ),
            "{csv}"
        );
    }

    #[test]
    fn a_chief_sees_the_grids_of_the_team_and_of_none() {
        let zone = Zone::parse("+08:00").unwrap();
        let until = NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
        let none = HashMap::new();
        let rows = rows(&dictionary(), CoverageBy::Grid, Some(Some("一中队")), &none, &HashMap::new(), &zone, until);
        let keys: Vec<&str> = rows.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys, ["G1", "G3"]);
        assert_eq!(rows[0].owner.as_deref(), Some("inspector1,inspector2"));
        let all = super::rows(&dictionary(), CoverageBy::Grid, None, &none, &HashMap::new(), &zone, until);
        assert_eq!(all.len(), 3);
    }
}
