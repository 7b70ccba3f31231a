//! Photo rows: the photos the server holds (their place in the pack files), resumable uploads under way, and
//! who may read a photo.

use super::conn::{Db, DbResult, OptionalExtension, Param, Row, Stmt, params};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::error::StoreResult;
use super::sql::{Sql, ts};
use crate::blobs::{BlobMeta, PackPlace};
use crate::policy::{CaseOwners, PhotoUse};
use crate::principal::User;

/// A resumable upload in progress.
#[derive(Debug, Clone, PartialEq)]
pub struct UploadState {
    pub sha256: String,
    pub length: u64,
    pub started_by: Uuid,
}

pub(super) fn blob(conn: &impl Db, sha256: &str) -> StoreResult<Option<BlobMeta>> {
    Ok(conn
        .prepare_cached(
            "SELECT sha256, bytes, content_type, pack, pack_offset FROM blobs WHERE sha256 = ?1 AND purged_at IS NULL",
        )?
        .query_row([sha256], blob_meta)
        .optional()?)
}

/// The photos held, by hash, after `after`.
pub(super) fn held(conn: &impl Db, after: Option<&str>, limit: u32) -> StoreResult<Vec<BlobMeta>> {
    Ok(conn
        .prepare_cached(
            "SELECT sha256, bytes, content_type, pack, pack_offset FROM blobs
             WHERE purged_at IS NULL AND (?1 IS NULL OR sha256 > ?1) ORDER BY sha256 LIMIT ?2",
        )?
        .query_map(params![after, limit], blob_meta)?
        .collect::<Result<Vec<_>, _>>()?)
}

/// A `blobs` row read as `sha256, bytes, content_type, pack, pack_offset`.
fn blob_meta(r: &Row<'_>) -> DbResult<BlobMeta> {
    let packed = match (r.get::<_, Option<i64>>(3)?, r.get::<_, Option<i64>>(4)?) {
        (Some(pack), Some(offset)) => Some(PackPlace { pack: pack as u32, offset: offset as u64 }),
        _ => None,
    };
    Ok(BlobMeta { sha256: r.get(0)?, bytes: r.get::<_, i64>(1)? as u64, content_type: r.get(2)?, packed })
}

/// The uses of photos, each with the case it belongs to (none: a finding not filed, a report or task of no
/// case), and the cases closed before `?1`.
const USES: &str = "WITH closed AS (SELECT case_no FROM cases WHERE state = 'closed' AND closed_at < ?1),
     uses AS (
         SELECT p.sha256, f.case_no FROM finding_photos p JOIN findings f ON f.seq = p.finding
         UNION ALL SELECT sha256, case_no FROM case_photos
         UNION ALL SELECT a.sha256, COALESCE(t.case_no, r.case_no) FROM attachments a
             LEFT JOIN tasks t ON t.id = a.owner_id LEFT JOIN reports r ON r.id = a.owner_id)";

/// A photo (`b`) used, and used only by cases closed before `?1`.
const ONLY_IN_CLOSED_CASES: &str = "b.sha256 IN (SELECT u.sha256 FROM uses u JOIN closed c ON c.case_no = u.case_no)
     AND NOT EXISTS (SELECT 1 FROM uses u WHERE u.sha256 = b.sha256
                     AND (u.case_no IS NULL OR u.case_no NOT IN (SELECT case_no FROM closed)))";

/// Photos whose every use is in a case closed before `closed_before` (its findings' photos, its handling
/// photos, and the photos of reports and tasks that became part of it), not purged yet, at most `limit`.
/// A photo used anywhere else (a finding not filed, an open case, a report or task of no closed case) stays.
pub(super) fn photos_to_purge(
    conn: &impl Db,
    closed_before: DateTime<Utc>,
    limit: usize,
) -> StoreResult<Vec<BlobMeta>> {
    let sql = format!(
        "{USES} SELECT b.sha256, b.bytes, b.content_type, b.pack, b.pack_offset FROM blobs b
         WHERE b.purged_at IS NULL AND {ONLY_IN_CLOSED_CASES} LIMIT ?2"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params![ts(closed_before), limit as i64], blob_meta)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Marks photos purged, before their bytes are removed (a crash in between leaves bytes no row serves, never
/// a row that serves bytes gone). The rule is checked again here, under the write lock: a photo a new record
/// took up since it was chosen stays. Returns the photos marked.
pub(super) fn mark_purged(
    tx: &impl Db,
    shas: &[String],
    closed_before: DateTime<Utc>,
    now: DateTime<Utc>,
) -> StoreResult<Vec<String>> {
    let sql = format!(
        "{USES} UPDATE blobs AS b SET purged_at = ?3
         WHERE b.sha256 = ?2 AND b.purged_at IS NULL AND {ONLY_IN_CLOSED_CASES}"
    );
    let mut mark = tx.prepare(&sql)?;
    let (cutoff, at) = (ts(closed_before), ts(now));
    let mut marked = Vec::with_capacity(shas.len());
    for sha in shas {
        if mark.execute(params![cutoff, sha, at])? == 1 {
            marked.push(sha.clone());
        }
    }
    Ok(marked)
}

/// Takes back a photo's purge mark: its bytes could not be removed, so it is held as before and the next run
/// tries again.
pub(super) fn unmark_purged(tx: &impl Db, sha: &str) -> StoreResult<()> {
    tx.execute("UPDATE blobs SET purged_at = NULL WHERE sha256 = ?1", [sha])?;
    Ok(())
}

/// Records complete photos and ends their uploads; for each, false when it was already held.
pub(super) fn record_blobs(tx: &impl Db, blobs: &[(BlobMeta, Uuid)], now: DateTime<Utc>) -> StoreResult<Vec<bool>> {
    let mut created = Vec::with_capacity(blobs.len());
    // A photo purged by the retention rule and uploaded again is stored anew, in its new place.
    let mut insert = tx.prepare_cached(
        "INSERT INTO blobs (sha256, bytes, content_type, uploaded_by, created_at, pack, pack_offset) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
         ON CONFLICT (sha256) DO UPDATE SET bytes = excluded.bytes, content_type = excluded.content_type, \
             pack = excluded.pack, pack_offset = excluded.pack_offset, purged_at = NULL \
         WHERE blobs.purged_at IS NOT NULL",
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

pub(super) fn upload(conn: &impl Db, sha256: &str) -> StoreResult<Option<UploadState>> {
    Ok(conn
        .query_row("SELECT length, started_by FROM uploads WHERE sha256 = ?1", [sha256], |r| {
            Ok(UploadState {
                sha256: sha256.to_owned(),
                length: r.get::<_, i64>(0)? as u64,
                started_by: r.get::<_, Sql<Uuid>>(1)?.0,
            })
        })
        .optional()?)
}

pub(super) fn begin_upload(conn: &impl Db, sha256: &str, length: u64, by: Uuid, now: DateTime<Utc>) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO uploads (sha256, length, started_by, started_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (sha256) DO UPDATE SET length = excluded.length, started_by = excluded.started_by,
             started_at = excluded.started_at",
        params![sha256, length as i64, by.to_string(), ts(now)],
    )?;
    Ok(())
}

pub(super) fn end_upload(conn: &impl Db, sha256: &str) -> StoreResult<()> {
    conn.execute("DELETE FROM uploads WHERE sha256 = ?1", [sha256])?;
    Ok(())
}

/// Where a photo is used, as seen from `user`: what the policy decides from whether they may read it.
/// `None` when no such photo is held.
pub(super) fn photo_use(conn: &impl Db, sha256: &str, user: &User) -> StoreResult<Option<PhotoUse>> {
    let uploader: Option<String> =
        conn.query_row("SELECT uploaded_by FROM blobs WHERE sha256 = ?1", [sha256], |r| r.get(0)).optional()?;
    let Some(uploader) = uploader else {
        return Ok(None);
    };
    let me = user.id.to_string();
    // The uploader reads it whatever else holds: no need to look further (every photo GET of a phone's own).
    if uploader == me {
        return Ok(Some(PhotoUse { uploaded_by_caller: true, ..PhotoUse::default() }));
    }
    // Photos of findings, and photos attached to a case's history (handling) or a task's result.
    let case_photo = "SELECT c.team, c.department, c.reporter_id FROM cases c WHERE c.case_no IN
         (SELECT f.case_no FROM finding_photos p JOIN findings f ON f.seq = p.finding WHERE p.sha256 = ?1
          UNION SELECT case_no FROM case_photos WHERE sha256 = ?1)";
    let cases = conn
        .prepare_cached(case_photo)?
        .query_map([sha256], |r| {
            Ok(CaseOwners { team: r.get(0)?, department: r.get(1)?, reported_by_caller: r.get::<_, String>(2)? == me })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let exists = |sql: &str, args: &[&dyn Param]| -> StoreResult<bool> {
        Ok(conn.prepare_cached(sql)?.query_row(args, |r| r.get(0))?)
    };
    const IN_FINDING: &str = "SELECT EXISTS (SELECT 1 FROM finding_photos p JOIN findings f ON f.seq = p.finding
        WHERE p.sha256 = ?1 AND (?2 IS NULL OR f.team = ?2) AND (?3 IS NULL OR f.reporter_id = ?3))";
    let none: Option<&str> = None;
    Ok(Some(PhotoUse {
        uploaded_by_caller: false,
        cases,
        in_a_finding: exists(IN_FINDING, &[&sha256, &none, &none])?,
        in_a_finding_of_team: user.team.is_some() && exists(IN_FINDING, &[&sha256, &user.team, &none])?,
        in_a_finding_of_caller: exists(IN_FINDING, &[&sha256, &none, &me])?,
        in_a_task_of_caller: exists(
            "SELECT EXISTS (SELECT 1 FROM tasks t JOIN case_photos p ON p.case_no = t.case_no
             WHERE t.assignee_id = ?2 AND p.sha256 = ?1)
             OR EXISTS (SELECT 1 FROM tasks t JOIN findings f ON f.case_no = t.case_no
                        JOIN finding_photos p ON p.finding = f.seq WHERE t.assignee_id = ?2 AND p.sha256 = ?1)
             OR EXISTS (SELECT 1 FROM tasks t JOIN attachments a ON a.owner_id = t.report_id
             WHERE t.assignee_id = ?2 AND a.sha256 = ?1)",
            &[&sha256, &me],
        )?,
        in_centre_records: exists("SELECT EXISTS (SELECT 1 FROM attachments WHERE sha256 = ?1)", &[&sha256])?,
    }))
}
