//! The outbox: ops waiting for the server, in the order made, and the photos they need uploaded first.

use protocol::{Op, OpEnvelope, PhotoRef};
use rusqlite::{Connection, params};

use super::{DeviceStore, PendingBlob, PendingOp};
use crate::error::DeviceResult;

impl DeviceStore {
    /// Queues an op and records the photo files it needs on the server (stored as `photos/<sha256>.jpg`).
    pub(super) fn enqueue_with_photos(conn: &Connection, op: &Op, now: &str, photos: &[PhotoRef]) -> DeviceResult<i64> {
        let seq = Self::enqueue(conn, op, now)?;
        for p in photos {
            conn.execute(
                "INSERT OR IGNORE INTO blobs (sha256, file, bytes) VALUES (?1, ?2, ?3)",
                params![p.sha256, format!("photos/{}.jpg", p.sha256), p.bytes as i64],
            )?;
            conn.execute("INSERT OR IGNORE INTO outbox_blobs (seq, sha256) VALUES (?1, ?2)", params![seq, p.sha256])?;
        }
        Ok(seq)
    }

    pub(super) fn enqueue(conn: &Connection, op: &Op, now: &str) -> DeviceResult<i64> {
        conn.execute(
            "INSERT INTO outbox (kind, entity_id, body, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![op.kind(), op.entity_id().to_string(), serde_json::to_string(&op.body())?, now],
        )?;
        Ok(conn.last_insert_rowid())
    }

    pub fn pending_count(&self) -> DeviceResult<u64> {
        Ok(self.conn.query_row("SELECT COUNT(*) FROM outbox WHERE state = 'pending'", [], |r| r.get::<_, i64>(0))?
            as u64)
    }

    /// Pending ops after `after_seq`, oldest first, at most `max_ops` and about `max_bytes` of bodies.
    pub fn pending_ops(&self, after_seq: u64, max_ops: usize, max_bytes: usize) -> DeviceResult<Vec<PendingOp>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, kind, body FROM outbox WHERE state = 'pending' AND seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![after_seq as i64, max_ops as i64], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
        })?;
        let mut out = Vec::new();
        let mut bytes = 0;
        for row in rows {
            let (seq, kind, body) = row?;
            bytes += body.len();
            if !out.is_empty() && bytes > max_bytes {
                break;
            }
            out.push(PendingOp {
                seq: seq as u64,
                envelope: OpEnvelope { seq: seq as u64, kind, body: serde_json::from_str(&body)? },
            });
        }
        Ok(out)
    }

    /// Photo files that pending ops need and the server does not have yet.
    pub fn pending_blobs(&self) -> DeviceResult<Vec<PendingBlob>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT DISTINCT b.sha256, b.file, b.bytes FROM outbox o
             JOIN outbox_blobs ob ON ob.seq = o.seq JOIN blobs b ON b.sha256 = ob.sha256
             WHERE o.state = 'pending' AND b.uploaded = 0 ORDER BY o.seq",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (sha256, file, bytes) = row?;
            out.push(PendingBlob { sha256, path: self.home.join(file), bytes: bytes as u64 });
        }
        Ok(out)
    }

    pub fn mark_uploaded(&self, sha256: &str) -> DeviceResult<()> {
        self.conn.execute("UPDATE blobs SET uploaded = 1 WHERE sha256 = ?1", [sha256])?;
        Ok(())
    }

    /// Forgets that a blob was uploaded (the server asked for it again in a `missing_blobs` retry).
    pub fn mark_not_uploaded(&self, sha256: &str) -> DeviceResult<()> {
        self.conn.execute("UPDATE blobs SET uploaded = 0 WHERE sha256 = ?1", [sha256])?;
        Ok(())
    }
}
