//! Verification tasks (核查) given to this inspector, and their results as ops.

use protocol::{Op, PhotoRef, PhotoRole};
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use uuid::Uuid;

use super::{DeviceStore, StagedPhoto, TaskRow, now_text};
use crate::error::{DeviceError, DeviceResult};

impl DeviceStore {
    /// Verification tasks, open ones first.
    pub fn tasks(&self) -> DeviceResult<Vec<TaskRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, case_no, state, due_at, result, body FROM tasks ORDER BY state != 'open', due_at",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, String>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, case_no, state, due_at, result, body) = row?;
            let task: protocol::Task = serde_json::from_str(&body)?;
            out.push(TaskRow {
                id: Uuid::parse_str(&id).unwrap_or_default(),
                case_no,
                state,
                due_at,
                result,
                category: task.category,
                description: task.description,
                address: task.address,
                lat: task.location.lat,
                lon: task.location.lon,
            });
        }
        Ok(out)
    }

    /// Records a verification result and queues its `task.complete` op.
    pub fn complete_task(
        &mut self,
        task_id: Uuid,
        result: protocol::TaskResult,
        note: String,
        photos: Vec<StagedPhoto>,
        completed_at: protocol::Timestamp,
    ) -> DeviceResult<()> {
        let state: Option<String> = self
            .conn
            .query_row("SELECT state FROM tasks WHERE id = ?1", [task_id.to_string()], |r| r.get(0))
            .optional()?;
        match state.as_deref() {
            None => return Err(DeviceError::Invalid(format!("no task {task_id} on this device; sync first"))),
            Some("open") => {}
            Some(other) => return Err(DeviceError::Invalid(format!("task {task_id} is already {other}"))),
        }
        let mut refs = Vec::new();
        for photo in &photos {
            refs.push(PhotoRef {
                sha256: photo.sha256.clone(),
                role: PhotoRole::After,
                taken_at: photo.taken_at,
                width: photo.width,
                height: photo.height,
                bytes: photo.bytes,
            });
        }
        let op = Op::TaskComplete(protocol::TaskComplete { task_id, result, note, photos: refs.clone(), completed_at });
        let now = now_text();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let label = match result {
            protocol::TaskResult::Pass => "pass",
            protocol::TaskResult::Fail => "fail",
        };
        tx.execute(
            "UPDATE tasks SET state = 'done', result = ?2, completed_at = ?3 WHERE id = ?1",
            params![task_id.to_string(), label, now],
        )?;
        Self::enqueue_with_photos(&tx, &op, &now, &refs)?;
        tx.commit()?;
        Ok(())
    }

    pub fn open_task_count(&self) -> DeviceResult<u64> {
        Ok(self.conn.query_row("SELECT COUNT(*) FROM tasks WHERE state = 'open'", [], |r| r.get::<_, i64>(0))? as u64)
    }
}
