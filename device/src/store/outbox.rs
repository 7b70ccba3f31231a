//! The outbox: ops waiting for the server, in the order made, and the photos they need uploaded first.

use protocol::{Op, OpEnvelope, PhotoRef, evidence};
use rusqlite::{Connection, OptionalExtension, params};

use super::{DeviceStore, PendingBlob, PendingOp};
use crate::error::{DeviceError, DeviceResult};

/// Meta keys: the device's key pair (PKCS#8, base64), the link of the last signed op, and the device id that
/// chain belongs to.
const SIGNING_KEY: &str = "signing_key";
const CHAIN_HEAD: &str = "chain_head";
const CHAIN_DEVICE: &str = "chain_device";

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
        let body = op.body();
        conn.execute(
            "INSERT INTO outbox (kind, entity_id, body, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![op.kind(), op.entity_id().to_string(), serde_json::to_string(&body)?, now],
        )?;
        let seq = conn.last_insert_rowid();
        Self::sign_op(conn, seq, op.kind(), &body)?;
        Ok(seq)
    }

    /// Signs a queued op with the device's key, chained to the previous signed op, in the caller's
    /// transaction: the op, its signature and the chain's new head are written together or not at all. A
    /// device with no key yet (never registered with a server that takes one) leaves its ops unsigned.
    pub(super) fn sign_op(conn: &Connection, seq: i64, kind: &str, body: &serde_json::Value) -> DeviceResult<()> {
        let meta = |key: &str| -> DeviceResult<Option<String>> {
            Ok(conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
        };
        let (Some(document), Some(device_id)) = (meta(SIGNING_KEY)?, meta("device_id")?) else { return Ok(()) };
        let device_id = uuid::Uuid::parse_str(&device_id).map_err(|e| DeviceError::Invalid(e.to_string()))?;
        let key = evidence::SigningKey::from_pkcs8(&document).map_err(DeviceError::Invalid)?;
        // The chain is the device id's: a store registered anew under another id starts a new one.
        let prev = match (meta(CHAIN_HEAD)?, meta(CHAIN_DEVICE)?) {
            (Some(head), Some(owner)) if owner == device_id.to_string() => Some(head),
            _ => None,
        };
        let signed = evidence::signed_bytes(device_id, seq as u64, kind, body, prev.as_deref());
        conn.execute("UPDATE outbox SET sig = ?2, prev = ?3 WHERE seq = ?1", params![seq, key.sign(&signed), prev])?;
        Self::set_meta(conn, CHAIN_HEAD, &evidence::link(&signed))?;
        Self::set_meta(conn, CHAIN_DEVICE, &device_id.to_string())?;
        Ok(())
    }

    /// The device's public key, made (with its private half, kept in the store) on first use; and every
    /// pending op not signed yet (queued by a release that did not sign) signed, in order, so that a server
    /// that takes the key takes them too.
    pub fn signing_public_key(&mut self) -> DeviceResult<String> {
        let tx = self.conn.transaction()?;
        let existing: Option<String> =
            tx.query_row("SELECT value FROM meta WHERE key = ?1", [SIGNING_KEY], |r| r.get(0)).optional()?;
        let key = match existing {
            Some(document) => evidence::SigningKey::from_pkcs8(&document).map_err(DeviceError::Invalid)?,
            None => {
                let (key, document) = evidence::SigningKey::generate().map_err(DeviceError::Invalid)?;
                Self::set_meta(&tx, SIGNING_KEY, &document)?;
                key
            }
        };
        tx.commit()?;
        Ok(key.public_key())
    }

    /// Signs the pending ops that are not signed yet, in order (a registration gave the store its device id).
    pub(super) fn sign_unsigned(conn: &Connection) -> DeviceResult<()> {
        let unsigned: Vec<(i64, String, String)> = conn
            .prepare("SELECT seq, kind, body FROM outbox WHERE state = 'pending' AND sig IS NULL ORDER BY seq")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        for (seq, kind, body) in unsigned {
            Self::sign_op(conn, seq, &kind, &serde_json::from_str(&body)?)?;
        }
        Ok(())
    }

    pub fn pending_count(&self) -> DeviceResult<u64> {
        Ok(self.conn.query_row("SELECT COUNT(*) FROM outbox WHERE state = 'pending'", [], |r| r.get::<_, i64>(0))?
            as u64)
    }

    /// Pending ops after `after_seq`, oldest first, at most `max_ops` and about `max_bytes` of bodies.
    pub fn pending_ops(&self, after_seq: u64, max_ops: usize, max_bytes: usize) -> DeviceResult<Vec<PendingOp>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, kind, body, sig, prev FROM outbox WHERE state = 'pending' AND seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![after_seq as i64, max_ops as i64], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get(3)?, r.get(4)?))
        })?;
        let mut out = Vec::new();
        let mut bytes = 0;
        for row in rows {
            let (seq, kind, body, sig, prev) = row?;
            bytes += body.len();
            if !out.is_empty() && bytes > max_bytes {
                break;
            }
            out.push(PendingOp {
                seq: seq as u64,
                envelope: OpEnvelope { seq: seq as u64, kind, body: serde_json::from_str(&body)?, sig, prev },
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
