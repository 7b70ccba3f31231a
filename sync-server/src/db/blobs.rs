//! Photo rows: the photos the server holds (their place in the pack files), resumable uploads under way, and
//! who may read a photo.

use chrono::{DateTime, Utc};
use protocol::Role;
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use super::sql::ts;
use crate::blobs::{BlobMeta, PackPlace};
use crate::error::AppResult;
use crate::principal::Principal;

/// A resumable upload in progress.
#[derive(Debug, Clone, PartialEq)]
pub struct UploadState {
    pub sha256: String,
    pub length: u64,
    pub started_by: Uuid,
}

pub(super) fn blob(conn: &Connection, sha256: &str) -> AppResult<Option<BlobMeta>> {
    Ok(conn
        .prepare_cached("SELECT bytes, content_type, pack, pack_offset FROM blobs WHERE sha256 = ?1")?
        .query_row([sha256], |r| {
            let packed = match (r.get::<_, Option<i64>>(2)?, r.get::<_, Option<i64>>(3)?) {
                (Some(pack), Some(offset)) => Some(PackPlace { pack: pack as u32, offset: offset as u64 }),
                _ => None,
            };
            Ok(BlobMeta {
                sha256: sha256.to_owned(),
                bytes: r.get::<_, i64>(0)? as u64,
                content_type: r.get(1)?,
                packed,
            })
        })
        .optional()?)
}

/// Records complete photos and ends their uploads; for each, false when it was already held.
pub(super) fn record_blobs(tx: &Connection, blobs: &[(BlobMeta, Uuid)], now: DateTime<Utc>) -> AppResult<Vec<bool>> {
    let mut created = Vec::with_capacity(blobs.len());
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO blobs (sha256, bytes, content_type, uploaded_by, created_at, pack, pack_offset) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    let mut end_upload = tx.prepare_cached("DELETE FROM uploads WHERE sha256 = ?1")?;
    let at = ts(now);
    for (meta, uploader) in blobs {
        let n = insert.execute(params![
            meta.sha256,
            meta.bytes as i64,
            meta.content_type,
            uploader.to_string(),
            at,
            meta.packed.map(|p| i64::from(p.pack)),
            meta.packed.map(|p| p.offset as i64),
        ])?;
        end_upload.execute([&meta.sha256])?;
        created.push(n == 1);
    }
    Ok(created)
}

pub(super) fn upload(conn: &Connection, sha256: &str) -> AppResult<Option<UploadState>> {
    Ok(conn
        .query_row("SELECT length, started_by FROM uploads WHERE sha256 = ?1", [sha256], |r| {
            Ok(UploadState {
                sha256: sha256.to_owned(),
                length: r.get::<_, i64>(0)? as u64,
                started_by: Uuid::parse_str(&r.get::<_, String>(1)?).unwrap_or_default(),
            })
        })
        .optional()?)
}

pub(super) fn begin_upload(
    conn: &Connection,
    sha256: &str,
    length: u64,
    by: Uuid,
    now: DateTime<Utc>,
) -> AppResult<()> {
    conn.execute(
        "INSERT OR REPLACE INTO uploads (sha256, length, started_by, started_at) VALUES (?1, ?2, ?3, ?4)",
        params![sha256, length as i64, by.to_string(), ts(now)],
    )?;
    Ok(())
}

pub(super) fn end_upload(conn: &Connection, sha256: &str) -> AppResult<()> {
    conn.execute("DELETE FROM uploads WHERE sha256 = ?1", [sha256])?;
    Ok(())
}

/// Whoever uploaded a photo, and whoever may see a finding, case or task that uses it.
pub(super) fn may_read_blob(conn: &Connection, sha256: &str, principal: &Principal) -> AppResult<bool> {
    let uploader: Option<String> =
        conn.query_row("SELECT uploaded_by FROM blobs WHERE sha256 = ?1", [sha256], |r| r.get(0)).optional()?;
    let Some(uploader) = uploader else {
        return Ok(false);
    };
    if uploader == principal.user.id.to_string() {
        return Ok(true);
    }
    let user = &principal.user;
    // Photos of findings, and photos attached to a case's history (handling) or a task's result.
    let case_photo = "SELECT c.case_no, c.team, c.department, c.reporter_id FROM cases c WHERE c.case_no IN
         (SELECT f.case_no FROM finding_photos p JOIN findings f ON f.id = p.finding_id WHERE p.sha256 = ?1
          UNION SELECT h.case_no FROM case_history h WHERE h.photos LIKE '%' || ?1 || '%')";
    let mut stmt = conn.prepare_cached(case_photo)?;
    let cases = stmt
        .query_map([sha256], |r| {
            Ok((r.get::<_, Option<String>>(1)?, r.get::<_, Option<String>>(2)?, r.get::<_, String>(3)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let in_case = cases.iter().any(|(team, department, reporter)| match user.role {
        Role::Admin | Role::Dispatcher => true,
        Role::Chief => user.team.is_some() && *team == user.team,
        Role::Department => user.department.is_some() && *department == user.department,
        Role::Inspector => *reporter == user.id.to_string(),
    });
    let visible = in_case
        || match user.role {
            Role::Admin | Role::Dispatcher => {
                conn.query_row("SELECT EXISTS (SELECT 1 FROM finding_photos WHERE sha256 = ?1)", [sha256], |r| {
                    r.get(0)
                })?
            }
            Role::Chief => conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM finding_photos p JOIN findings f ON f.id = p.finding_id
                 WHERE p.sha256 = ?1 AND f.team IS ?2)",
                params![sha256, user.team],
                |r| r.get(0),
            )?,
            Role::Inspector => conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM finding_photos p JOIN findings f ON f.id = p.finding_id
                 WHERE p.sha256 = ?1 AND f.reporter_id = ?2)
                 OR EXISTS (SELECT 1 FROM tasks t JOIN case_history h ON h.case_no = t.case_no
                 WHERE t.assignee_id = ?2 AND h.photos LIKE '%' || ?1 || '%')",
                params![sha256, user.id.to_string()],
                |r| r.get(0),
            )?,
            Role::Department => false,
        };
    Ok(visible)
}
