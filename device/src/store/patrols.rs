//! Patrols (巡查): the running patrol, its track points and its end, each as ops.

use protocol::Op;
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use uuid::Uuid;

use super::{DeviceStore, PatrolRow, now_text};
use crate::error::{DeviceError, DeviceResult};

impl DeviceStore {
    /// The patrol under way, if any: (id, started at, metres walked, points kept).
    pub fn current_patrol(&self) -> DeviceResult<Option<PatrolRow>> {
        Ok(self
            .conn
            .query_row(
                "SELECT id, started_at, ended_at, distance_m, points, paused_at FROM patrols WHERE ended_at IS NULL
                 ORDER BY started_at DESC LIMIT 1",
                [],
                |r| {
                    Ok(PatrolRow {
                        id: Uuid::parse_str(&r.get::<_, String>(0)?).unwrap_or_default(),
                        started_at: r.get(1)?,
                        ended_at: r.get(2)?,
                        distance_m: r.get(3)?,
                        points: r.get(4)?,
                        paused: r.get::<_, Option<String>>(5)?.is_some(),
                    })
                },
            )
            .optional()?)
    }

    /// Starts a patrol; findings reported while it runs belong to it.
    pub fn start_patrol(&mut self, at: protocol::Timestamp) -> DeviceResult<Uuid> {
        if let Some(p) = self.current_patrol()? {
            return Err(DeviceError::Invalid(format!("patrol {} is already under way; end it first", p.id)));
        }
        let id = Uuid::now_v7();
        let now = now_text();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("INSERT INTO patrols (id, started_at) VALUES (?1, ?2)", params![id.to_string(), at.to_rfc3339()])?;
        Self::enqueue(&tx, &Op::PatrolStart(protocol::PatrolStart { id, started_at: at }), &now)?;
        tx.commit()?;
        Ok(id)
    }

    /// Adds a track point to the running patrol. Points with poor accuracy, or closer than a few metres to
    /// the last one kept, are skipped (thinning); returns whether the point was kept.
    pub fn track_point(&mut self, point: protocol::TrackPoint) -> DeviceResult<bool> {
        const MIN_STEP_M: f64 = 5.0;
        const MAX_ACCURACY_M: f64 = 50.0;
        let patrol = self.current_patrol()?.ok_or_else(|| DeviceError::Invalid("no patrol is under way".into()))?;
        if !point.is_valid() {
            return Err(DeviceError::Invalid("position out of range or negative accuracy".into()));
        }
        if point.accuracy_m > MAX_ACCURACY_M || patrol.paused {
            return Ok(false);
        }
        let last: (Option<f64>, Option<f64>) = self.conn.query_row(
            "SELECT last_lat, last_lon FROM patrols WHERE id = ?1",
            [patrol.id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let step = match last {
            (Some(lat), Some(lon)) => protocol::geo::distance_m(lat, lon, point.lat, point.lon),
            _ => 0.0,
        };
        if last.0.is_some() && step < MIN_STEP_M {
            return Ok(false);
        }
        let now = now_text();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO track_points (patrol_id, seq, lat, lon, t)
             SELECT id, points + 1, ?2, ?3, ?4 FROM patrols WHERE id = ?1",
            params![patrol.id.to_string(), point.lat, point.lon, point.t.to_rfc3339()],
        )?;
        tx.execute(
            "UPDATE patrols SET distance_m = distance_m + ?2, last_lat = ?3, last_lon = ?4, points = points + 1 WHERE id = ?1",
            params![patrol.id.to_string(), step, point.lat, point.lon],
        )?;
        Self::enqueue(
            &tx,
            &Op::PatrolTrack(protocol::PatrolTrack { patrol_id: patrol.id, points: vec![point] }),
            &now,
        )?;
        tx.commit()?;
        Ok(true)
    }

    /// Pauses or resumes the running patrol (a break: no track points while paused).
    pub fn pause_patrol(&mut self, paused: bool) -> DeviceResult<PatrolRow> {
        let mut patrol = self.current_patrol()?.ok_or_else(|| DeviceError::Invalid("no patrol is under way".into()))?;
        let at = if paused { Some(now_text()) } else { None };
        self.conn.execute("UPDATE patrols SET paused_at = ?2 WHERE id = ?1", params![patrol.id.to_string(), at])?;
        patrol.paused = paused;
        Ok(patrol)
    }

    /// Ends the running patrol; returns it with its distance.
    pub fn end_patrol(&mut self, at: protocol::Timestamp) -> DeviceResult<PatrolRow> {
        let row = self.end_patrol_row(at)?;
        self.checkpoint()?;
        Ok(row)
    }

    pub(super) fn end_patrol_row(&mut self, at: protocol::Timestamp) -> DeviceResult<PatrolRow> {
        let mut patrol = self.current_patrol()?.ok_or_else(|| DeviceError::Invalid("no patrol is under way".into()))?;
        let now = now_text();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("UPDATE patrols SET ended_at = ?2 WHERE id = ?1", params![patrol.id.to_string(), at.to_rfc3339()])?;
        let op = Op::PatrolEnd(protocol::PatrolEnd { id: patrol.id, ended_at: at, distance_m: patrol.distance_m });
        Self::enqueue(&tx, &op, &now)?;
        tx.commit()?;
        patrol.ended_at = Some(at.to_rfc3339());
        patrol.paused = false;
        Ok(patrol)
    }
}
