//! Patrols (巡查) with their tracks, and the roads each track ran along, for the chief's map.

use super::conn::{Db, Stmt, params};
use chrono::{DateTime, Utc};
use places::TrackPoint;
use protocol::Timestamp;
use serde::Serialize;
use uuid::Uuid;

use super::devices::DeviceUser;
use super::dict::DictIndex;
use super::error::StoreResult;
use super::sql::{Sql, stored};
use crate::config::Zone;
use crate::policy::Scope;

/// A patrol with its track, for the chief's map.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
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
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct RoadWalked {
    pub name: String,
    pub distance_m: f64,
}

pub(super) fn patrols(
    conn: &impl Db,
    zone: &Zone,
    dict: &DictIndex,
    scope: &Scope,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> StoreResult<Vec<PatrolView>> {
    let visible = |user_id: &str, user_team: &Option<String>| match scope {
        Scope::All => true,
        Scope::Team(team) => team.is_some() && team == user_team,
        Scope::Reporter(id) => *user_id == id.to_string(),
        Scope::Department(_) => false,
    };
    let mut stmt = conn.prepare_cached(
        "SELECT p.id, u.username, u.display_name, u.team, p.started_at, p.ended_at, p.distance_m,
                (SELECT COUNT(*) FROM findings f WHERE f.patrol_id = p.id), p.user_id
         FROM patrols p JOIN users u ON u.id = p.user_id
         WHERE p.started_ts >= ?1 AND p.started_ts < ?2 ORDER BY p.started_ts, p.id",
    )?;
    let rows = stmt
        .query_map(params![from.timestamp(), to.timestamp()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Sql<DateTime<Utc>>>(4)?.0,
                r.get::<_, Option<Sql<DateTime<Utc>>>>(5)?.map(|t| t.0),
                r.get::<_, Option<f64>>(6)?,
                r.get::<_, i64>(7)?,
                r.get::<_, String>(8)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = Vec::new();
    let no_grids = places::GridIndex::new(&[]);
    let mut points = conn.prepare_cached("SELECT lat, lon, t FROM track_points WHERE patrol_id = ?1 ORDER BY t")?;
    for (id, username, display_name, user_team, start, ended, distance, findings, user_id) in rows {
        if !visible(&user_id, &user_team) {
            continue;
        }
        let track = points
            .query_map([&id], |r| Ok((r.get::<_, f64>(0)?, r.get::<_, f64>(1)?, r.get::<_, String>(2)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        // (Neither times nor grids are needed for the roads of one patrol.)
        let line: Vec<TrackPoint> =
            track.iter().map(|(lat, lon, _)| TrackPoint { lat: *lat, lon: *lon, t: 0 }).collect();
        let roads = places::walk(&line, &dict.roads, &no_grids, protocol::ROAD_MATCH_M)
            .roads
            .into_iter()
            .map(|w| RoadWalked { name: w.key, distance_m: (w.metres * 10.0).round() / 10.0 })
            .collect();
        out.push(PatrolView {
            id: stored(&id)?,
            user: DeviceUser { username, display_name },
            team: user_team,
            started_at: zone.at(start),
            ended_at: ended.map(|t| zone.at(t)),
            distance_m: distance.unwrap_or(0.0),
            findings,
            points: track,
            roads,
        });
    }
    Ok(out)
}
