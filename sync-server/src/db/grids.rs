//! The grid (单元网格) each stored finding and case carries: checked grids in a dictionary, and placing every
//! record again when the grids change.

use super::conn::{Db, Stmt, params};
use protocol::{Dictionary, FieldError};

use super::dict::DictIndex;
use super::error::StoreResult;

/// A dictionary fit to store: its own rules, then grids with unique codes and sound shapes.
pub(super) fn check_dictionary(d: &Dictionary) -> Result<(), FieldError> {
    d.validate()?;
    let mut seen = std::collections::HashSet::new();
    for (i, g) in d.grids.iter().enumerate() {
        if !seen.insert(g.code.as_str()) {
            return Err(FieldError::new(format!("grids[{i}].code"), format!("repeated grid code `{}`", g.code)));
        }
        places::check(g).map_err(|m| FieldError::new(format!("grids[{i}]"), format!("grid {}: {m}", g.code)))?;
    }
    Ok(())
}

/// A stored record as placing it needs: its key, position, the grid its device sent and the one it carries.
struct Placed {
    key: String,
    lat: f64,
    lon: f64,
    sent: Option<String>,
    stored: Option<String>,
}

/// Places the records `select` reads (key, lat, lon, grid sent, grid stored) by the index, writing those
/// whose grid changes with `update` (key, grid); returns how many changed.
fn place_again(tx: &impl Db, index: &DictIndex, select: &str, update: &str) -> StoreResult<usize> {
    let records: Vec<Placed> = tx
        .prepare(select)?
        .query_map((), |r| {
            Ok(Placed { key: r.get(0)?, lat: r.get(1)?, lon: r.get(2)?, sent: r.get(3)?, stored: r.get(4)? })
        })?
        .collect::<Result<_, _>>()?;
    let mut update = tx.prepare(update)?;
    let mut changed = 0;
    for p in records {
        let grid = index.grid_of(p.lat, p.lon, p.sent.as_deref());
        if grid != p.stored {
            update.execute(params![p.key, grid])?;
            changed += 1;
        }
    }
    Ok(changed)
}

/// Places every finding and case again by the index's grids (or, without grids, by what the device sent);
/// returns how many findings and cases changed grid.
pub(super) fn regrid(tx: &impl Db, index: &DictIndex) -> StoreResult<(usize, usize)> {
    let findings = place_again(
        tx,
        index,
        &format!("SELECT id, lat, lon, {}, grid FROM findings", tx.json_field("body", "grid")),
        "UPDATE findings SET grid = ?2 WHERE id = ?1",
    )?;
    // A case lies where it was filed; without grids it carries its first finding's.
    let cases = place_again(
        tx,
        index,
        &format!(
            "SELECT c.case_no, c.lat, c.lon,
                    (SELECT {} FROM findings f WHERE f.case_no = c.case_no ORDER BY f.observed_ts LIMIT 1),
                    c.grid
             FROM cases c",
            tx.json_field("f.body", "grid")
        ),
        "UPDATE cases SET grid = ?2 WHERE case_no = ?1",
    )?;
    Ok((findings, cases))
}
