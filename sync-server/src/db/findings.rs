//! Findings as stored and as the console reads them: a finding's row and photos, the review list, a finding's
//! state and team for permission checks.

use super::conn::{Db, OptionalExtension, Param, Stmt, params};
use protocol::{Finding, FindingAck, FindingState, Location, PhotoRef};
use serde::Serialize;
use uuid::Uuid;

use super::error::StoreResult;
use super::filing::nearest_open_case;
use super::sql::{Sql, bad_data, json};
use crate::domain::EngineSettings;
use crate::principal::User;

/// One row of `GET /api/v1/review`.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ReviewItem {
    pub id: Uuid,
    pub reporter: String,
    pub category: String,
    pub description: String,
    pub address: Option<String>,
    pub observed_at: protocol::Timestamp,
    pub location: Location,
    /// The device's own fix beside a pin placed by hand, as sent; null otherwise.
    pub gps: Option<protocol::GpsFix>,
    pub photos: Vec<PhotoRef>,
    pub fixed_on_spot: bool,
    pub urgent: bool,
    pub state: protocol::FindingState,
    pub case_no: Option<String>,
    pub possible_duplicate_of: Option<String>,
    /// Extensions for the console.
    pub team: Option<String>,
    pub road: Option<String>,
    /// The unit grid (单元网格) the finding lies in: the server's assignment when the dictionary has grids.
    pub grid: Option<String>,
    pub facility_code: Option<String>,
    pub reason: Option<String>,
    /// The op that created it was signed by the reporting phone's key, and the signature held when it came
    /// (its evidence is in the case's evidence package).
    pub signed: bool,
}

/// What permission checks need to know of a finding.
#[derive(Debug, Clone)]
pub struct FindingMeta {
    pub state: protocol::FindingState,
    pub team: Option<String>,
}

/// Review items matching `where_sql` (on table alias `f`), oldest first, paged by `limit` (-1: all).
pub(super) fn review_items(
    conn: &impl Db,
    settings: &EngineSettings,
    where_sql: &str,
    args: &[&dyn Param],
    limit: i64,
    offset: u32,
) -> StoreResult<Vec<ReviewItem>> {
    let limit = match limit {
        ..0 if conn.is_pg() => "ALL".to_owned(),
        ..0 => "-1".to_owned(),
        n => n.to_string(),
    };
    let sql = format!(
        "SELECT f.body, u.username, f.state, f.case_no, f.possible_duplicate_of, f.team, f.reason, f.category, f.grid,
                EXISTS (SELECT 1 FROM signed_ops s WHERE s.entity_id = f.id AND s.kind = 'finding.create')
         FROM findings f JOIN users u ON u.id = f.reporter_id WHERE {where_sql}
         ORDER BY f.observed_ts, f.id LIMIT {limit} OFFSET {offset}"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(args, |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Sql<FindingState>>(2)?.0,
            r.get::<_, Option<String>>(3)?,
            r.get::<_, Option<String>>(4)?,
            r.get::<_, Option<String>>(5)?,
            r.get::<_, Option<String>>(6)?,
            r.get::<_, String>(7)?,
            r.get::<_, Option<String>>(8)?,
            r.get::<_, bool>(9)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (body, reporter, state, case_no, dup, team, reason, category, grid, signed) = row?;
        let f: protocol::Finding = serde_json::from_str(&body).map_err(bad_data)?;
        // The suggestion is only worth showing while the finding waits, against cases still open now.
        let possible_duplicate_of = if state == FindingState::PendingReview {
            nearest_open_case(conn, settings, &category, f.location.lat, f.location.lon, f.observed_at.timestamp())?
                .map(|(case_no, _)| case_no)
        } else {
            dup
        };
        out.push(ReviewItem {
            id: f.id,
            reporter,
            category,
            description: f.description,
            address: f.address,
            observed_at: f.observed_at,
            location: f.location,
            gps: f.gps,
            photos: f.photos,
            fixed_on_spot: f.fixed_on_spot,
            urgent: f.urgent,
            state,
            case_no,
            possible_duplicate_of,
            team,
            road: f.road,
            grid,
            facility_code: f.facility_code,
            reason,
            signed,
        });
    }
    Ok(out)
}

pub(super) fn finding_meta(conn: &impl Db, id: Uuid) -> StoreResult<Option<FindingMeta>> {
    Ok(conn
        .query_row("SELECT state, team FROM findings WHERE id = ?1", [id.to_string()], |r| {
            Ok(FindingMeta { state: r.get::<_, Sql<FindingState>>(0)?.0, team: r.get(1)? })
        })
        .optional()?)
}

/// A finding as stored: its row and its photos.
pub(super) struct FindingRow<'a> {
    pub finding: &'a Finding,
    pub id: &'a str,
    pub hash: &'a str,
    pub json: &'a str,
    /// The device it came from (`centre` for a report the centre filed).
    pub device: &'a str,
    pub reporter: &'a User,
    pub dict_version: i64,
    pub ack: &'a FindingAck,
    pub duplicate_of: Option<&'a str>,
    pub received_at: &'a str,
    pub grid: Option<&'a str>,
}

pub(super) fn insert_finding(tx: &impl Db, row: &FindingRow<'_>) -> StoreResult<()> {
    let f = row.finding;
    // Keyed by the finding's place in the order received, so that a batch's photos are appended.
    let finding = tx.prepare_cached(
        "INSERT INTO findings (id, body_hash, body, device_id, reporter_id, team, category, dict_version, observed_ts, lat, lon,
                               state, case_no, possible_duplicate_of, first_ack, received_at, fixed_on_spot, patrol_id, grid)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19) RETURNING seq",
    )?
    .query_row(params![
        row.id,
        row.hash,
        row.json,
        row.device,
        row.reporter.id.to_string(),
        row.reporter.team,
        f.category,
        row.dict_version,
        f.observed_at.timestamp(),
        f.location.lat,
        f.location.lon,
        row.ack.state.as_str(),
        row.ack.case_no,
        row.duplicate_of,
        json(row.ack)?,
        row.received_at,
        f.fixed_on_spot,
        f.patrol_id.map(|p| p.to_string()),
        row.grid
    ], |r| r.get::<_, i64>(0))?;
    let mut stmt =
        tx.prepare_cached("INSERT INTO finding_photos (finding, idx, sha256, role) VALUES (?1, ?2, ?3, ?4)")?;
    for (i, p) in f.photos.iter().enumerate() {
        let role = if p.role == protocol::PhotoRole::After { "after" } else { "before" };
        stmt.execute(params![finding, i as i64, p.sha256, role])?;
    }
    Ok(())
}
