//! What the phone's map draws, all from the store so that it works with no network: my findings with their
//! states, my open verification tasks, the team's open cases the server sent (`area_case`), and the
//! running patrol's track.

use rusqlite::params;
use serde::Serialize;
use uuid::Uuid;

use super::DeviceStore;
use crate::error::DeviceResult;

/// A finding of mine on the map.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MapFinding {
    pub id: Uuid,
    pub lat: f64,
    pub lon: f64,
    pub category: String,
    /// `draft`, `queued`, `received` or `rejected`.
    pub local_state: String,
    pub server_state: Option<String>,
    pub case_state: Option<String>,
    pub observed_at: String,
}

/// An open case of my team the server told this device of.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MapCase {
    pub case_no: String,
    pub category: String,
    pub state: String,
    pub lat: f64,
    pub lon: f64,
}

/// An open task (核查, 核实, a free task) at its place.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MapTask {
    pub id: Uuid,
    pub task_type: protocol::TaskType,
    /// The case of a 核查 task.
    pub case_no: Option<String>,
    /// A free task's title.
    pub title: Option<String>,
    pub category: String,
    pub due_at: Option<String>,
    pub lat: f64,
    pub lon: f64,
}

/// Everything the map draws.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MapLayers {
    pub findings: Vec<MapFinding>,
    pub tasks: Vec<MapTask>,
    pub cases: Vec<MapCase>,
    /// The running patrol's track, `[lat, lon]` in the order walked; empty without a patrol.
    pub track: Vec<[f64; 2]>,
}

impl DeviceStore {
    /// The map's layers: my newest `limit` findings that have a position (drafts included), open tasks,
    /// the team's open cases and the running patrol's track.
    pub fn map_layers(&self, limit: u32) -> DeviceResult<MapLayers> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, lat, lon, category, local_state, server_state, case_state, observed_at FROM findings
             WHERE lat IS NOT NULL AND lon IS NOT NULL ORDER BY created_at DESC, id DESC LIMIT ?1",
        )?;
        let findings = stmt
            .query_map([limit], |r| {
                Ok(MapFinding {
                    id: Uuid::parse_str(&r.get::<_, String>(0)?).unwrap_or_default(),
                    lat: r.get(1)?,
                    lon: r.get(2)?,
                    category: r.get(3)?,
                    local_state: r.get(4)?,
                    server_state: r.get(5)?,
                    case_state: r.get(6)?,
                    observed_at: r.get(7)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut stmt = self
            .conn
            .prepare_cached("SELECT case_no, category, state, lat, lon FROM area_cases ORDER BY observed_at DESC")?;
        let cases = stmt
            .query_map([], |r| {
                Ok(MapCase {
                    case_no: r.get(0)?,
                    category: r.get(1)?,
                    state: r.get(2)?,
                    lat: r.get(3)?,
                    lon: r.get(4)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let tasks = self
            .tasks()?
            .into_iter()
            .filter(|t| t.state == "open")
            // A task with no place (a free task's "from where you are") is not on the map.
            .filter_map(|t| {
                Some(MapTask {
                    id: t.id,
                    task_type: t.task_type,
                    case_no: t.case_no,
                    title: t.title,
                    category: t.category,
                    due_at: t.due_at,
                    lat: t.lat?,
                    lon: t.lon?,
                })
            })
            .collect();
        let track = match self.current_patrol()? {
            None => Vec::new(),
            Some(patrol) => {
                let mut stmt =
                    self.conn.prepare_cached("SELECT lat, lon FROM track_points WHERE patrol_id = ?1 ORDER BY seq")?;
                stmt.query_map(params![patrol.id.to_string()], |r| Ok([r.get(0)?, r.get(1)?]))?
                    .collect::<rusqlite::Result<Vec<_>>>()?
            }
        };
        Ok(MapLayers { findings, tasks, cases, track })
    }
}
