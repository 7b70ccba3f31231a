//! The offline base maps offered to phones: one row per MBTiles package (its file is the server's, under
//! `basemaps/` of the data directory; see `crate::basemaps`).

use super::conn::{Db, DbResult, OptionalExtension, Row, Stmt, params};
use chrono::{DateTime, Utc};
use protocol::{Basemap, BasemapFormat, Datum};

use super::error::StoreResult;
use super::sql::{Sql, ts};

const COLUMNS: &str = "name, datum, tile_format, west, south, east, north, minzoom, maxzoom, bytes, sha256, updated_at";

fn row(r: &Row<'_>) -> DbResult<Basemap> {
    let updated: DateTime<Utc> = r.get::<_, Sql<DateTime<Utc>>>(11)?.0;
    Ok(Basemap {
        name: r.get(0)?,
        format: BasemapFormat::Mbtiles,
        datum: r.get::<_, Sql<Datum>>(1)?.0,
        tile_format: r.get(2)?,
        bounds: [r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?],
        minzoom: r.get(7)?,
        maxzoom: r.get(8)?,
        bytes: r.get(9)?,
        sha256: r.get(10)?,
        updated_at: updated.fixed_offset(),
    })
}

pub(super) fn basemaps(conn: &impl Db) -> StoreResult<Vec<Basemap>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM basemaps ORDER BY name"))?;
    let rows = stmt.query_map((), row)?;
    Ok(rows.collect::<DbResult<Vec<_>>>()?)
}

pub(super) fn basemap(conn: &impl Db, name: &str) -> StoreResult<Option<Basemap>> {
    Ok(conn.query_row(&format!("SELECT {COLUMNS} FROM basemaps WHERE name = ?1"), [name], row).optional()?)
}

/// Stores a package's description, replacing one of the same name; true when the name is new.
pub(super) fn save_basemap(tx: &impl Db, b: &Basemap) -> StoreResult<bool> {
    let existed = basemap(tx, &b.name)?.is_some();
    if existed {
        delete_basemap(tx, &b.name)?;
    }
    tx.execute(
        &format!("INSERT INTO basemaps ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"),
        params![
            b.name,
            b.datum.as_str(),
            b.tile_format,
            b.bounds[0],
            b.bounds[1],
            b.bounds[2],
            b.bounds[3],
            b.minzoom,
            b.maxzoom,
            b.bytes,
            b.sha256,
            ts(b.updated_at.to_utc())
        ],
    )?;
    Ok(!existed)
}

pub(super) fn delete_basemap(tx: &impl Db, name: &str) -> StoreResult<bool> {
    Ok(tx.execute("DELETE FROM basemaps WHERE name = ?1", [name])? > 0)
}
