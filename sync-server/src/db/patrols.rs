//! Patrols (巡查) with their tracks, and the roads each track ran along, for the chief's map.

use chrono::{DateTime, Utc};
use protocol::Timestamp;
use rusqlite::Connection;
use serde::Serialize;
use uuid::Uuid;

use super::devices::DeviceUser;
use super::findings::Scope;
use super::sql::parse_ts;
use crate::config::Zone;
use crate::error::AppResult;

/// A patrol with its track, for the chief's map.
#[derive(Debug, Clone, Serialize)]
pub struct PatrolView {
    pub id: Uuid,
    pub user: DeviceUser,
    pub team: Option<String>,
    pub started_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    pub distance_m: f64,
    pub findings: i64,
    /// `[lat, lon, t]` in order.
    pub points: Vec<(f64, f64, String)>,
    /// The dictionary's roads the track ran along, longest first.
    pub roads: Vec<RoadWalked>,
}

/// Metres of a patrol's track along one road.
#[derive(Debug, Clone, Serialize)]
pub struct RoadWalked {
    pub name: String,
    pub distance_m: f64,
}

pub(super) fn patrols(
    conn: &Connection,
    zone: &Zone,
    dictionary: Option<&protocol::Dictionary>,
    scope: &Scope,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<Vec<PatrolView>> {
    let team = match scope {
        Scope::All => None,
        Scope::Team(t) => Some(t.clone()),
    };
    let mut stmt = conn.prepare_cached(
        "SELECT p.id, u.username, u.display_name, u.team, p.started_at, p.ended_at, p.distance_m,
                (SELECT COUNT(*) FROM findings f WHERE json_extract(f.body, '$.patrol_id') = p.id)
         FROM patrols p JOIN users u ON u.id = p.user_id ORDER BY p.started_at",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<f64>>(6)?,
                r.get::<_, i64>(7)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = Vec::new();
    let mut points = conn.prepare_cached("SELECT lat, lon, t FROM track_points WHERE patrol_id = ?1 ORDER BY t")?;
    for (id, username, display_name, user_team, started, ended, distance, findings) in rows {
        let Some(start) = parse_ts(&started) else { continue };
        if start < from || start >= to {
            continue;
        }
        if let Some(t) = &team
            && (t.is_none() || *t != user_team)
        {
            continue;
        }
        let track = points
            .query_map([&id], |r| Ok((r.get::<_, f64>(0)?, r.get::<_, f64>(1)?, r.get::<_, String>(2)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        let roads = dictionary
            .map(|d| {
                let line: Vec<[f64; 2]> = track.iter().map(|(lat, lon, _)| [*lat, *lon]).collect();
                d.roads_walked(&line, protocol::ROAD_MATCH_M)
                    .into_iter()
                    .map(|(name, distance_m)| RoadWalked { name, distance_m: (distance_m * 10.0).round() / 10.0 })
                    .collect()
            })
            .unwrap_or_default();
        out.push(PatrolView {
            id: Uuid::parse_str(&id).unwrap_or_default(),
            user: DeviceUser { username, display_name },
            team: user_team,
            started_at: zone.at(start),
            ended_at: ended.as_deref().and_then(parse_ts).map(|t| zone.at(t)),
            distance_m: distance.unwrap_or(0.0),
            findings,
            points: track,
            roads,
        });
    }
    Ok(out)
}
