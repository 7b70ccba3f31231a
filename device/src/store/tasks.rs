//! Tasks given to this inspector (核查, 核实, free tasks), and their results as ops.

use protocol::{Op, PhotoRef, PhotoRole};
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use uuid::Uuid;

use super::{DeviceStore, StagedPhoto, TaskRow, now_text};
use crate::error::{DeviceError, DeviceResult};

impl DeviceStore {
    /// Tasks, open ones first.
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
            let (id, _case_no, state, due_at, result, body) = row?;
            let task: protocol::Task = serde_json::from_str(&body)?;
            out.push(TaskRow {
                id: Uuid::parse_str(&id).unwrap_or_default(),
                task_type: task.task_type,
                case_no: task.case_no,
                state,
                due_at,
                result,
                category: task.category,
                title: task.title,
                description: task.description,
                address: task.address,
                lat: task.location.as_ref().map(|l| l.lat),
                lon: task.location.as_ref().map(|l| l.lon),
                photos: task.photos,
            });
        }
        Ok(out)
    }

    /// Records a task's result and queues its `task.complete` op. The result must fit the task's type; a
    /// confirmed report needs a category (the report's, or `category`) and a place (the report's, or
    /// `location`: where the inspector stands); "not found" needs a note saying what was there.
    #[allow(clippy::too_many_arguments)]
    pub fn complete_task(
        &mut self,
        task_id: Uuid,
        result: protocol::TaskResult,
        note: String,
        photos: Vec<StagedPhoto>,
        completed_at: protocol::Timestamp,
        category: Option<String>,
        location: Option<protocol::Location>,
    ) -> DeviceResult<()> {
        let row: Option<(String, String)> = self
            .conn
            .query_row("SELECT state, body FROM tasks WHERE id = ?1", [task_id.to_string()], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        let task: protocol::Task = match row {
            None => return Err(DeviceError::Invalid(format!("no task {task_id} on this device; sync first"))),
            Some((state, body)) if state == "open" => serde_json::from_str(&body)?,
            Some((other, _)) => return Err(DeviceError::Invalid(format!("task {task_id} is already {other}"))),
        };
        if !result.fits(task.task_type) {
            let allowed: Vec<&str> = protocol::TaskResult::of(task.task_type).iter().map(|r| r.as_str()).collect();
            return Err(DeviceError::Invalid(format!(
                "a {} task ends with {}, not {}",
                task.task_type.as_str(),
                allowed.join(" or "),
                result.as_str()
            )));
        }
        let category = category.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty());
        let location = if result == protocol::TaskResult::Confirmed {
            if task.category.is_empty() && category.is_none() {
                return Err(DeviceError::Invalid("this report came without a category: choose one".into()));
            }
            if let Some(code) = &category
                && self.dictionary()?.is_some_and(|d| d.category(code).is_none())
            {
                return Err(DeviceError::Invalid(format!("`{code}` is not a category of the dictionary")));
            }
            if task.location.is_none() && location.is_none() {
                return Err(DeviceError::Invalid("this report has no place on the map: send where you are".into()));
            }
            // The report's own place stands; where the inspector stood is sent only when it has none.
            location.filter(|_| task.location.is_none())
        } else {
            None
        };
        if result == protocol::TaskResult::NotFound && note.trim().is_empty() {
            return Err(DeviceError::Invalid("say what was found at the place (a note)".into()));
        }
        let category = category.filter(|_| result == protocol::TaskResult::Confirmed);
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
        let op = Op::TaskComplete(protocol::TaskComplete {
            task_id,
            result,
            note,
            photos: refs.clone(),
            completed_at,
            category,
            location,
        });
        let now = now_text();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "UPDATE tasks SET state = 'done', result = ?2, completed_at = ?3 WHERE id = ?1",
            params![task_id.to_string(), result.as_str(), now],
        )?;
        Self::enqueue_with_photos(&tx, &op, &now, &refs)?;
        tx.commit()?;
        Ok(())
    }

    /// Photos of open tasks (a report's, a handled case's before and after) that are not on the device yet.
    pub fn missing_task_photos(&self) -> DeviceResult<Vec<String>> {
        let mut stmt = self.conn.prepare_cached("SELECT body FROM tasks WHERE state = 'open' ORDER BY due_at")?;
        let bodies = stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
        let mut missing = Vec::new();
        for body in bodies {
            let task: protocol::Task = serde_json::from_str(&body)?;
            for sha in task.photos {
                if !missing.contains(&sha) && !self.photo_path(&sha, false).is_file() {
                    missing.push(sha);
                }
            }
        }
        Ok(missing)
    }

    /// Keeps a task's photo fetched from the server, when its bytes are what its name (their SHA-256) says.
    pub fn keep_fetched_photo(&self, sha256: &str, bytes: &[u8]) -> DeviceResult<()> {
        if protocol::digest::sha256_hex(bytes) != sha256 {
            return Err(DeviceError::BadPhoto(format!("the server's photo {sha256} does not match its hash")));
        }
        self.write_atomically(&self.photo_path(sha256, false), bytes)?;
        self.conn.execute(
            "INSERT OR IGNORE INTO photo_files (sha256, width, height, bytes, taken_at, created_at) VALUES (?1, 0, 0, ?2, NULL, ?3)",
            params![sha256, bytes.len() as i64, now_text()],
        )?;
        Ok(())
    }

    pub fn open_task_count(&self) -> DeviceResult<u64> {
        Ok(self.conn.query_row("SELECT COUNT(*) FROM tasks WHERE state = 'open'", [], |r| r.get::<_, i64>(0))? as u64)
    }
}
