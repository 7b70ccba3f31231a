//! Findings: drafts, queued reports (one transaction with their photo rows and outbox op), the lists of "my
//! reports", and the team's open cases nearby.

use chrono::Local;

use protocol::{Finding, Op, PhotoRef, PhotoRole};
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use uuid::Uuid;

use super::{DeviceStore, FindingRow, NewFinding, local_state, now_text};
use crate::error::{DeviceError, DeviceResult};

impl DeviceStore {
    /// Saves a finding and queues its `finding.create` op, all or nothing.
    pub fn queue_finding(&mut self, new: NewFinding) -> DeviceResult<Finding> {
        let patrol_id = self.current_patrol()?.map(|p| p.id);
        let new = NewFinding { observed_at: self.on_server_clock(new.observed_at)?, ..new };
        let finding = self.build_finding(Uuid::now_v7(), patrol_id, new, true)?;
        self.write_finding(&finding, false, true)?;
        Ok(finding)
    }

    /// Saves a draft (情况草稿): a finding still being written, sent nowhere. With `id`, replaces that
    /// draft's fields and photos, keeping its time and patrol; a finding already queued cannot be changed.
    /// A draft may lack its category and photos; whatever it has must be valid.
    pub fn save_draft(&mut self, id: Option<Uuid>, new: NewFinding) -> DeviceResult<Finding> {
        let finding = match id {
            Some(id) => {
                let old = self.draft(id)?;
                self.build_finding(id, old.patrol_id, NewFinding { observed_at: old.observed_at, ..new }, false)?
            }
            None => {
                let patrol_id = self.current_patrol()?.map(|p| p.id);
                let new = NewFinding { observed_at: self.on_server_clock(new.observed_at)?, ..new };
                self.build_finding(Uuid::now_v7(), patrol_id, new, false)?
            }
        };
        self.write_finding(&finding, id.is_some(), false)?;
        Ok(finding)
    }

    /// Queues a draft with its latest fields (draft → queued), checked as a new report is.
    pub fn submit_draft(&mut self, id: Uuid, new: NewFinding) -> DeviceResult<Finding> {
        let old = self.draft(id)?;
        let finding =
            self.build_finding(id, old.patrol_id, NewFinding { observed_at: old.observed_at, ..new }, true)?;
        self.write_finding(&finding, true, true)?;
        Ok(finding)
    }

    /// Throws a draft away; its photo files stay staged on the device.
    pub fn delete_draft(&mut self, id: Uuid) -> DeviceResult<()> {
        self.draft(id)?;
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM photos WHERE finding_id = ?1", [id.to_string()])?;
        tx.execute(
            "DELETE FROM findings WHERE id = ?1 AND local_state = ?2",
            params![id.to_string(), local_state::DRAFT],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The stored draft `id`; an error when there is none or it is queued already.
    pub(super) fn draft(&self, id: Uuid) -> DeviceResult<Finding> {
        match self.finding(id)? {
            Some((row, finding)) if row.local_state == local_state::DRAFT => Ok(finding),
            Some(_) => Err(DeviceError::Invalid(format!("finding {id} is queued already and can no longer be edited"))),
            None => Err(DeviceError::Invalid(format!("no draft {id} on this device"))),
        }
    }

    /// Checks what the inspector entered and makes the finding: `complete` for a report to queue (a category
    /// and 1–9 photos), otherwise a draft (only what is there is checked). The road is filled in from the
    /// dictionary's road list when none was given.
    pub(super) fn build_finding(
        &self,
        id: Uuid,
        patrol_id: Option<Uuid>,
        new: NewFinding,
        complete: bool,
    ) -> DeviceResult<Finding> {
        if new.photos.len() > protocol::MAX_PHOTOS || (complete && new.photos.is_empty()) {
            return Err(DeviceError::Invalid("a finding has 1 to 9 photos".into()));
        }
        if complete && new.category.trim().is_empty() {
            return Err(DeviceError::Invalid("a finding needs a category".into()));
        }
        let places = self.places()?;
        if let Some(dict) = places.as_ref().map(|p| &p.dictionary)
            && !new.category.is_empty()
            && dict.category(&new.category).is_none()
        {
            return Err(DeviceError::Invalid(format!(
                "category {} is not in the dictionary (version {})",
                new.category, dict.version
            )));
        }
        if new.photos.iter().any(|(_, role)| *role == PhotoRole::After) && !new.fixed_on_spot {
            return Err(DeviceError::Invalid("photos after fixing need \"fixed on the spot\"".into()));
        }
        let mut refs = Vec::with_capacity(new.photos.len());
        for (photo, role) in &new.photos {
            let path = self.photo_path(&photo.sha256, false);
            if !path.is_file() {
                return Err(DeviceError::Invalid(format!("photo {} is not stored on this device", photo.sha256)));
            }
            refs.push(PhotoRef {
                sha256: photo.sha256.clone(),
                role: *role,
                taken_at: photo.taken_at,
                width: photo.width,
                height: photo.height,
                bytes: photo.bytes,
            });
        }
        let (lat, lon) = (new.location.lat, new.location.lon);
        let road = new.road.or_else(|| places.as_ref().and_then(|p| p.road_at(lat, lon)).map(str::to_owned));
        // Placed by the dictionary's grids when it has some (as the server will), else as typed.
        let grid = match &places {
            Some(p) => p.grid_at(lat, lon, new.grid.as_deref()),
            None => new.grid,
        };
        // The contract sends the fix beside a manual pin only; a GPS position is its own fix.
        let gps = new.gps.filter(|_| new.location.source == protocol::LocationSource::Manual);
        Ok(Finding {
            id,
            patrol_id,
            category: new.category,
            description: new.description,
            urgent: new.urgent,
            fixed_on_spot: new.fixed_on_spot,
            location: new.location,
            address: new.address,
            road,
            grid,
            facility_code: new.facility_code,
            observed_at: new.observed_at,
            photos: refs,
            gps,
        })
    }

    /// Writes a finding and its photo rows in one transaction (with `replace`, over the draft of the same id),
    /// and with `queue` its `finding.create` op too.
    pub(super) fn write_finding(&mut self, finding: &Finding, replace: bool, queue: bool) -> DeviceResult<()> {
        let now = now_text();
        let state = if queue { local_state::QUEUED } else { local_state::DRAFT };
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if replace {
            tx.execute("DELETE FROM photos WHERE finding_id = ?1", [finding.id.to_string()])?;
        }
        tx.execute(
            "INSERT INTO findings (id, body, category, description, observed_at, observed_day, patrol_id, local_state, created_at, updated_at,
                                   lat, lon, grid)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10, ?11, ?12)
             ON CONFLICT (id) DO UPDATE SET body = excluded.body, category = excluded.category,
                 description = excluded.description, local_state = excluded.local_state, updated_at = excluded.updated_at,
                 lat = excluded.lat, lon = excluded.lon, grid = excluded.grid
             WHERE findings.local_state = 'draft'",
            params![
                finding.id.to_string(),
                serde_json::to_string(finding)?,
                finding.category,
                finding.description,
                finding.observed_at.to_rfc3339(),
                finding.observed_at.with_timezone(&Local).format("%Y-%m-%d").to_string(),
                finding.patrol_id.map(|p| p.to_string()),
                state,
                now,
                finding.location.lat,
                finding.location.lon,
                finding.grid
            ],
        )?;
        let mut insert_photo = tx.prepare_cached(
            "INSERT INTO photos (finding_id, idx, sha256, role, width, height, bytes, taken_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for (i, p) in finding.photos.iter().enumerate() {
            insert_photo.execute(params![
                finding.id.to_string(),
                i as i64,
                p.sha256,
                if p.role == PhotoRole::After { "after" } else { "before" },
                p.width,
                p.height,
                p.bytes as i64,
                p.taken_at.map(|t| t.to_rfc3339())
            ])?;
        }
        drop(insert_photo);
        if queue {
            Self::enqueue_with_photos(&tx, &Op::FindingCreate(finding.clone()), &now, &finding.photos)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Open cases of the team's area near a point, to warn before a duplicate report.
    pub fn nearby_cases(&self, lat: f64, lon: f64, radius_m: f64) -> DeviceResult<Vec<(String, String, f64)>> {
        let mut stmt = self.conn.prepare_cached("SELECT case_no, category, lat, lon FROM area_cases")?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, f64>(2)?, r.get::<_, f64>(3)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (case_no, category, clat, clon) = row?;
            let d = protocol::geo::distance_m(lat, lon, clat, clon);
            if d <= radius_m {
                out.push((case_no, category, d));
            }
        }
        out.sort_by(|a, b| a.2.total_cmp(&b.2));
        Ok(out)
    }

    /// The findings, newest first, optionally of one local state and one local day (`YYYY-MM-DD`).
    pub fn findings(
        &self,
        state: Option<&str>,
        day: Option<&str>,
        limit: u32,
        offset: u32,
    ) -> DeviceResult<Vec<FindingRow>> {
        // One statement per filter, so that SQLite walks an index in list order and stops at the page.
        let filter = match (state.is_some(), day.is_some()) {
            (true, true) => "f.local_state = ?1 AND f.observed_day = ?2",
            (true, false) => "f.local_state = ?1 AND ?2 IS NULL",
            (false, true) => "?1 IS NULL AND f.observed_day = ?2",
            (false, false) => "?1 IS NULL AND ?2 IS NULL",
        };
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT f.id, f.local_state, f.server_state, f.case_no, f.case_state, f.reason, f.category, f.description, f.observed_at,
                    (SELECT COUNT(*) FROM photos p WHERE p.finding_id = f.id), f.grid
             FROM findings f WHERE {filter}
             ORDER BY f.created_at DESC, f.id DESC LIMIT ?3 OFFSET ?4"
        ))?;
        let rows = stmt.query_map(params![state, day, limit, offset], |r| {
            Ok(FindingRow {
                id: Uuid::parse_str(&r.get::<_, String>(0)?).unwrap_or_default(),
                local_state: r.get(1)?,
                server_state: r.get(2)?,
                case_no: r.get(3)?,
                case_state: r.get(4)?,
                reason: r.get(5)?,
                category: r.get(6)?,
                description: r.get(7)?,
                observed_at: r.get(8)?,
                photos: r.get(9)?,
                grid: r.get(10)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One finding as stored, with its list row.
    pub fn finding(&self, id: Uuid) -> DeviceResult<Option<(FindingRow, Finding)>> {
        let body: Option<String> = self
            .conn
            .query_row("SELECT body FROM findings WHERE id = ?1", [id.to_string()], |r| r.get(0))
            .optional()?;
        let Some(body) = body else { return Ok(None) };
        let finding: Finding = serde_json::from_str(&body)?;
        let row = self.conn.query_row(
            "SELECT local_state, server_state, case_no, case_state, reason, category, description, observed_at, grid
                 FROM findings WHERE id = ?1",
            [id.to_string()],
            |r| {
                Ok(FindingRow {
                    id,
                    local_state: r.get(0)?,
                    server_state: r.get(1)?,
                    case_no: r.get(2)?,
                    case_state: r.get(3)?,
                    reason: r.get(4)?,
                    category: r.get(5)?,
                    description: r.get(6)?,
                    observed_at: r.get(7)?,
                    photos: finding.photos.len() as u32,
                    grid: r.get(8)?,
                })
            },
        )?;
        Ok(Some((row, finding)))
    }
}
