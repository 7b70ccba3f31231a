//! The dictionary (字典): its versions as stored, and the index in memory that the store's transactions
//! consult (the newest version, its grids indexed by place, and every category code any version ever had).

use std::collections::HashMap;
use std::sync::Arc;

use super::conn::{Db, Stmt, params};
use chrono::{DateTime, Utc};
use places::{GridIndex, RoadIndex};
use protocol::{Category, Dictionary};

use super::error::StoreResult;
use super::sql::{Sql, bad_data, json, ts};

/// The dictionary in memory: the newest version, and every category code any version ever had.
#[derive(Debug, Clone)]
pub struct DictIndex {
    pub current: Option<Dictionary>,
    /// When the current version was imported: the `at` of its change.
    pub current_at: Option<DateTime<Utc>>,
    /// Code → (version it was last defined in, its definition there).
    pub categories: HashMap<String, (i64, Category)>,
    /// The current version's grids and roads, indexed by place.
    pub grids: Arc<GridIndex>,
    pub roads: Arc<RoadIndex>,
}

impl Default for DictIndex {
    fn default() -> DictIndex {
        DictIndex {
            current: None,
            current_at: None,
            categories: HashMap::new(),
            grids: Arc::new(GridIndex::new(&[])),
            roads: Arc::new(RoadIndex::new(&[])),
        }
    }
}

impl DictIndex {
    /// The department for a case: a route override of the current dictionary, else `None`.
    pub fn route(&self, category: &str, road: Option<&str>, grid: Option<&str>) -> Option<String> {
        self.current.as_ref()?.route(category, road, grid).map(str::to_owned)
    }

    /// The grid a record at this position carries (`GridIndex::assign`).
    pub fn grid_of(&self, lat: f64, lon: f64, sent: Option<&str>) -> Option<String> {
        self.grids.assign(lat, lon, sent)
    }

    /// This index with `d` added (and, when it becomes the current version, its grids indexed).
    pub(super) fn with(&self, d: &Dictionary, at: DateTime<Utc>) -> DictIndex {
        let mut next = self.clone();
        next.add(d, at);
        next.index_places();
        next
    }

    fn index_places(&mut self) {
        let (grids, roads) = self.current.as_ref().map_or((&[][..], &[][..]), |d| (&d.grids[..], &d.roads[..]));
        self.grids = Arc::new(GridIndex::new(grids));
        self.roads = Arc::new(RoadIndex::new(roads));
    }

    fn add(&mut self, d: &Dictionary, at: DateTime<Utc>) {
        for c in &d.categories {
            let newer = self.categories.get(&c.code).is_none_or(|(v, _)| *v <= d.version);
            if newer {
                self.categories.insert(c.code.clone(), (d.version, c.clone()));
            }
        }
        if self.current.as_ref().is_none_or(|cur| cur.version <= d.version) {
            self.current = Some(d.clone());
            self.current_at = Some(at);
        }
    }
}

/// Reads every stored version into the index.
pub(super) fn load(conn: &impl Db) -> StoreResult<DictIndex> {
    let mut index = DictIndex::default();
    let mut stmt = conn.prepare("SELECT body, imported_at FROM dictionary_versions ORDER BY version")?;
    let rows = stmt.query_map((), |r| Ok((r.get::<_, String>(0)?, r.get::<_, Sql<DateTime<Utc>>>(1)?.0)))?;
    for row in rows {
        let (body, at) = row?;
        let d: Dictionary = serde_json::from_str(&body).map_err(bad_data)?;
        index.add(&d, at);
    }
    index.index_places();
    Ok(index)
}

/// Stores a dictionary as a new version (never below the newest stored one plus one); returns it with the
/// version given.
pub(super) fn insert_version(tx: &impl Db, mut dictionary: Dictionary, now: DateTime<Utc>) -> StoreResult<Dictionary> {
    let latest: Option<i64> = tx.query_row("SELECT MAX(version) FROM dictionary_versions", (), |r| r.get(0))?;
    if let Some(v) = latest {
        dictionary.version = dictionary.version.max(v + 1);
    }
    tx.execute(
        "INSERT INTO dictionary_versions (version, body, imported_at) VALUES (?1, ?2, ?3)",
        params![dictionary.version, json(&dictionary)?, ts(now)],
    )?;
    Ok(dictionary)
}
