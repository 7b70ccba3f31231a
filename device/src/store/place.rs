//! Place on the phone, offline: the road and the unit grid (单元网格) at a position, from the dictionary the
//! phone holds, so that the report form shows them before any sync. The dictionary is parsed and its roads
//! and grids indexed once per version, not per position.

use std::sync::Arc;

use places::{GridIndex, RoadIndex};
use protocol::{Dictionary, ROAD_MATCH_M};
use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};

use super::DeviceStore;
use crate::error::DeviceResult;

/// The dictionary with its grids indexed.
#[derive(Debug)]
pub struct Places {
    pub dictionary: Dictionary,
    roads: RoadIndex,
    grids: GridIndex,
}

impl Places {
    pub fn new(dictionary: Dictionary) -> Places {
        let roads = RoadIndex::new(&dictionary.roads);
        let grids = GridIndex::new(&dictionary.grids);
        Places { dictionary, roads, grids }
    }

    /// The dictionary road within reach of the position (`ROAD_MATCH_M`).
    pub fn road_at(&self, lat: f64, lon: f64) -> Option<&str> {
        self.roads.nearest(lat, lon, ROAD_MATCH_M).map(|r| self.roads.name(r))
    }

    /// The grid a report at the position carries: the server's rule (`GridIndex::assign`), so both agree.
    pub fn grid_at(&self, lat: f64, lon: f64, typed: Option<&str>) -> Option<String> {
        self.grids.assign(lat, lon, typed)
    }

    pub fn at(&self, lat: f64, lon: f64) -> PlaceAt {
        let grid = self.grid_at(lat, lon, None);
        let grid_name = grid
            .as_deref()
            .and_then(|code| self.dictionary.grids.iter().find(|g| g.code == code))
            .map(|g| g.name.clone());
        PlaceAt { road: self.road_at(lat, lon).map(str::to_owned), grid, grid_name }
    }
}

/// The road and grid at a position, for the report form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PlaceAt {
    pub road: Option<String>,
    pub grid: Option<String>,
    pub grid_name: Option<String>,
}

impl DeviceStore {
    /// The held dictionary with its grids indexed; built again only when a newer version arrived.
    pub fn places(&self) -> DeviceResult<Option<Arc<Places>>> {
        let version: Option<i64> =
            self.conn.query_row("SELECT version FROM dictionary WHERE id = 1", [], |r| r.get(0)).optional()?;
        let Some(version) = version else { return Ok(None) };
        let mut cached = self.places.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(p) = cached.as_ref().filter(|p| p.dictionary.version == version) {
            return Ok(Some(p.clone()));
        }
        let Some(dictionary) = self.dictionary()? else { return Ok(None) };
        let places = Arc::new(Places::new(dictionary));
        *cached = Some(places.clone());
        Ok(Some(places))
    }

    /// The road and grid at a position, from the held dictionary (nothing without one).
    pub fn place_at(&self, lat: f64, lon: f64) -> DeviceResult<PlaceAt> {
        Ok(self.places()?.map_or(PlaceAt { road: None, grid: None, grid_name: None }, |p| p.at(lat, lon)))
    }
}
