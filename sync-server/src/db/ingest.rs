//! Applying a device's sync ops inside one transaction: the idempotency rules of the contract (an op is
//! remembered by `(device, seq)` and the hash of its body; a finding by its id), and storing findings, patrols
//! and task results. A finding of an `auto` category is filed (or merged) here, inside the same transaction.

use std::collections::HashSet;

use super::conn::{Db, OptionalExtension, Stmt, params};
use chrono::{DateTime, Utc};
use protocol::{ApiError, ErrorCode, Finding, FindingAck, FindingState, Op, OpResult, OpStatus, PatrolAck, ReviewMode};
use uuid::Uuid;

use super::changes::notify_finding;
use super::dict::DictIndex;
use super::error::{StoreError, StoreResult};
use super::filing::{file_case, nearest_open_case};
use super::findings::{FindingRow, insert_finding};
use super::history::{Details, step};
use super::sql::{json, ts};
use super::task_results::complete_task;
use crate::domain::EngineSettings;
use crate::domain::filing::Intake;
use crate::domain::lifecycle::CaseEvent;
use crate::domain::ops::{OP_HASH_V2, PreparedFinding, PreparedOp, legacy_op_hash};
use crate::principal::Principal;

/// Who syncs, and when.
pub struct SyncContext<'a> {
    pub principal: &'a Principal,
    pub device_id: Uuid,
    pub now: DateTime<Utc>,
    /// What the device reported of itself: ops waiting, dictionary version held.
    pub backlog: Option<u64>,
    pub dictionary_version: Option<i64>,
}

struct Outcome {
    status: OpStatus,
    result: OpResult,
}

fn rejected(seq: u64, error: ApiError) -> Outcome {
    Outcome { status: OpStatus::Rejected, result: OpResult::failed(seq, OpStatus::Rejected, error) }
}

fn retry(seq: u64, error: ApiError) -> Outcome {
    Outcome { status: OpStatus::Retry, result: OpResult::failed(seq, OpStatus::Retry, error) }
}

fn done(status: OpStatus, result: OpResult) -> Outcome {
    Outcome { status, result }
}

/// Notes the findings whose photos are all stored already, with a reader connection (taken only for these
/// lookups, after the parsing, so that token checks and the console are not kept waiting for one).
pub(super) fn mark_stored_photos(prepared: &mut [PreparedOp], reader: &impl Db) -> StoreResult<()> {
    let mut stored =
        reader.prepare_cached("SELECT EXISTS (SELECT 1 FROM blobs WHERE sha256 = ?1 AND purged_at IS NULL)")?;
    let mut known: HashSet<String> = HashSet::new();
    for op in prepared.iter_mut() {
        let (Some(prep), Ok((Op::FindingCreate(f), _))) = (op.finding.as_mut(), &op.op) else { continue };
        let mut all = true;
        for p in &f.photos {
            if !known.contains(&p.sha256) {
                if !stored.query_row([&p.sha256], |r| r.get::<_, bool>(0))? {
                    all = false;
                    break;
                }
                known.insert(p.sha256.clone());
            }
        }
        prep.photos_stored = all;
    }
    Ok(())
}

pub(super) fn apply_batch(
    tx: &impl Db,
    settings: &EngineSettings,
    dict: &DictIndex,
    ctx: &SyncContext<'_>,
    ops: &[PreparedOp],
) -> StoreResult<Vec<OpResult>> {
    // Entities whose op in this batch was not applied: later ops about them must wait.
    let mut blocked: HashSet<Uuid> = HashSet::new();
    let mut results = Vec::with_capacity(ops.len());
    let keys = BatchKeys { device: ctx.device_id.to_string(), now: ts(ctx.now) };
    for prepared in ops {
        let outcome = apply_one(tx, settings, dict, ctx, &keys, prepared, &mut blocked)?;
        if outcome.status == OpStatus::Rejected
            && let Some(e) = &outcome.result.error
        {
            tx.prepare_cached(
                "INSERT INTO rejected_ops (device_id, seq, kind, code, message, field, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                ctx.device_id.to_string(),
                prepared.seq as i64,
                prepared.kind,
                e.code.as_str(),
                e.message,
                e.field(),
                ts(ctx.now)
            ])?;
        }
        results.push(outcome.result);
    }
    Ok(results)
}

/// The same for every op of a batch, as stored: made once.
struct BatchKeys {
    device: String,
    now: String,
}

fn apply_one(
    tx: &impl Db,
    settings: &EngineSettings,
    dict: &DictIndex,
    ctx: &SyncContext<'_>,
    keys: &BatchKeys,
    prepared: &PreparedOp,
    blocked: &mut HashSet<Uuid>,
) -> StoreResult<Outcome> {
    let seq = prepared.seq;
    let (op, op_hash) = match &prepared.op {
        Ok(op) => op,
        Err(e) => return Ok(rejected(seq, e.clone())),
    };
    let device = &keys.device;
    let seen: Option<(String, String, String)> = tx
        .prepare_cached("SELECT kind, body_hash, result FROM ops WHERE device_id = ?1 AND seq = ?2")?
        .query_row(params![device, seq as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    if let Some((kind, hash, first)) = seen {
        let same = if hash.starts_with(OP_HASH_V2) {
            kind == op.kind() && hash == *op_hash
        } else {
            hash == legacy_op_hash(op)
        };
        if !same {
            let msg = format!("seq {seq} of this device was already used for a different op");
            return Ok(rejected(seq, ApiError::new(ErrorCode::Conflict, msg)));
        }
        let mut result: OpResult = serde_json::from_str(&first).map_err(StoreError::from)?;
        result.status = OpStatus::Duplicate;
        return Ok(done(OpStatus::Duplicate, result));
    }
    let entity = op.entity_id();
    if blocked.contains(&entity) {
        let msg = format!("an earlier op about {entity} in this batch was not applied");
        return Ok(retry(seq, ApiError::new(ErrorCode::DependsOn, msg)));
    }
    let outcome = match op {
        Op::FindingCreate(f) => {
            let prep = prepared.finding.as_ref().ok_or_else(|| StoreError::internal("finding not prepared"))?;
            finding_create(tx, settings, dict, ctx, keys, seq, f, prep)?
        }
        Op::PatrolStart(p) => {
            let owner: Option<String> = tx
                .query_row("SELECT user_id FROM patrols WHERE id = ?1", [p.id.to_string()], |r| r.get(0))
                .optional()?;
            match owner {
                Some(o) if o != ctx.principal.user.id.to_string() => rejected(
                    seq,
                    ApiError::new(ErrorCode::Conflict, format!("patrol {} belongs to another user", p.id)),
                ),
                Some(_) => done(OpStatus::Applied, patrol_ack(seq, p.id)),
                None => {
                    tx.execute(
                        "INSERT INTO patrols (id, device_id, user_id, started_at, started_ts) VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![
                            p.id.to_string(),
                            device,
                            ctx.principal.user.id.to_string(),
                            p.started_at.to_rfc3339(),
                            p.started_at.timestamp()
                        ],
                    )?;
                    done(OpStatus::Applied, patrol_ack(seq, p.id))
                }
            }
        }
        Op::PatrolTrack(t) => {
            if !patrol_exists(tx, t.patrol_id)? {
                retry(
                    seq,
                    ApiError::new(
                        ErrorCode::DependsOn,
                        format!("patrol {} has not started on the server", t.patrol_id),
                    ),
                )
            } else if let Some(i) = t.points.iter().position(|p| !p.is_valid()) {
                rejected(seq, ApiError::invalid(format!("points[{i}]"), "position out of range or negative accuracy"))
            } else {
                let mut stmt = tx.prepare_cached(
                    "INSERT INTO track_points (patrol_id, t, lat, lon, accuracy_m) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT DO NOTHING",
                )?;
                for p in &t.points {
                    let at = ts(p.t.with_timezone(&Utc));
                    stmt.execute(params![t.patrol_id.to_string(), at, p.lat, p.lon, p.accuracy_m])?;
                }
                // The coverage kept for this patrol no longer holds its whole track.
                tx.prepare_cached("UPDATE patrols SET track_rev = track_rev + 1 WHERE id = ?1")?
                    .execute([t.patrol_id.to_string()])?;
                done(OpStatus::Applied, patrol_ack(seq, t.patrol_id))
            }
        }
        Op::PatrolEnd(e) => {
            if !patrol_exists(tx, e.id)? {
                retry(
                    seq,
                    ApiError::new(ErrorCode::DependsOn, format!("patrol {} has not started on the server", e.id)),
                )
            } else {
                tx.execute(
                    "UPDATE patrols SET ended_at = ?2, distance_m = ?3 WHERE id = ?1",
                    params![e.id.to_string(), e.ended_at.to_rfc3339(), e.distance_m],
                )?;
                // A patrol's coverage is walked once, as it ends (about a millisecond for a day's track), so
                // that the chief's coverage of a month is sums of what is kept; points that come later make it
                // stale and it is walked again when next asked for.
                super::coverage::refresh(tx, dict, &e.id.to_string())?;
                done(OpStatus::Applied, patrol_ack(seq, e.id))
            }
        }
        Op::TaskComplete(t) => match complete_task(tx, settings, dict, &ctx.principal.user, ctx.now, seq, t)? {
            Ok(result) => done(OpStatus::Applied, result),
            Err((status, error)) => Outcome { status, result: OpResult::failed(seq, status, error) },
        },
    };
    match outcome.status {
        OpStatus::Retry | OpStatus::Rejected => {
            blocked.insert(entity);
        }
        OpStatus::Applied | OpStatus::Duplicate => {
            tx.prepare_cached(
                "INSERT INTO ops (device_id, seq, kind, body_hash, result, applied_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![device, seq as i64, op.kind(), op_hash, json(&outcome.result)?, keys.now])?;
        }
    }
    Ok(outcome)
}

fn patrol_ack(seq: u64, id: Uuid) -> OpResult {
    OpResult { seq, status: OpStatus::Applied, finding: None, patrol: Some(PatrolAck { id }), task: None, error: None }
}

fn patrol_exists(tx: &impl Db, id: Uuid) -> StoreResult<bool> {
    Ok(tx.query_row("SELECT EXISTS (SELECT 1 FROM patrols WHERE id = ?1)", [id.to_string()], |r| r.get(0))?)
}

fn finding_result(seq: u64, status: OpStatus, ack: FindingAck) -> OpResult {
    OpResult { seq, status, finding: Some(ack), patrol: None, task: None, error: None }
}

#[allow(clippy::too_many_arguments)]
fn finding_create(
    tx: &impl Db,
    settings: &EngineSettings,
    dict: &DictIndex,
    ctx: &SyncContext<'_>,
    keys: &BatchKeys,
    seq: u64,
    f: &Finding,
    prep: &PreparedFinding,
) -> StoreResult<Outcome> {
    if let Err(e) = &prep.valid {
        return Ok(rejected(seq, e.clone()));
    }
    let finding_hash = &prep.hash;
    let existing: Option<(String, String)> = tx
        .prepare_cached("SELECT body_hash, first_ack FROM findings WHERE id = ?1")?
        .query_row([&prep.id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    if let Some((hash, first_ack)) = existing {
        if hash != *finding_hash {
            let msg = format!("finding {} is already stored with a different body", f.id);
            return Ok(rejected(seq, ApiError::new(ErrorCode::Conflict, msg)));
        }
        let ack: FindingAck = serde_json::from_str(&first_ack).map_err(StoreError::from)?;
        return Ok(done(OpStatus::Duplicate, finding_result(seq, OpStatus::Duplicate, ack)));
    }
    let mut missing: Vec<&str> = Vec::new();
    if !prep.photos_stored {
        let mut stmt =
            tx.prepare_cached("SELECT EXISTS (SELECT 1 FROM blobs WHERE sha256 = ?1 AND purged_at IS NULL)")?;
        for p in &f.photos {
            if !missing.contains(&p.sha256.as_str()) && !stmt.query_row([&p.sha256], |r| r.get::<_, bool>(0))? {
                missing.push(&p.sha256);
            }
        }
    }
    if !missing.is_empty() {
        let error = ApiError::new(ErrorCode::MissingBlobs, "photos must be uploaded before the finding")
            .with_details(serde_json::json!({ "missing": missing }));
        return Ok(retry(seq, error));
    }

    let (dict_version, mut category) =
        dict.categories.get(&f.category).cloned().ok_or_else(|| StoreError::internal("category vanished"))?;
    // The grid is the server's to say when the dictionary has grids (the body keeps what the device sent).
    let grid = dict.grid_of(f.location.lat, f.location.lon, f.grid.as_deref());
    // Routing is data: a road or grid override of the dictionary beats the category's own department.
    category.department = dict.route(&f.category, f.road.as_deref(), grid.as_deref()).unwrap_or(category.department);
    let reporter = &ctx.principal.user;
    let observed_ts = f.observed_at.timestamp();
    // Only an `auto` finding is merged at ingest; for the others the review list works the suggestion out
    // when a chief looks, against the cases open then.
    let duplicate_of = match category.review {
        ReviewMode::Auto => nearest_open_case(tx, settings, &f.category, f.location.lat, f.location.lon, observed_ts)?,
        ReviewMode::Chief => None,
    };

    let (state, case_no) = match Intake::decide(category.review, f.fixed_on_spot, duplicate_of.clone()) {
        Intake::AwaitReview => (FindingState::PendingReview, None),
        Intake::Merge { case_no, state: open } => {
            let note = f.id.to_string();
            let details = Details { note: Some(&note), ..Details::default() };
            step(tx, &case_no, ctx.now, reporter, CaseEvent::Merge, open, details)?;
            (FindingState::Merged, Some(case_no))
        }
        Intake::File => {
            let case_no = file_case(
                tx,
                settings,
                ctx.now,
                &category,
                f,
                grid.as_deref(),
                (reporter.id, reporter.team.as_deref()),
                reporter,
                true,
            )?;
            (FindingState::Filed, Some(case_no))
        }
    };
    let ack = FindingAck { id: f.id, state, case_no: case_no.clone() };
    insert_finding(
        tx,
        &FindingRow {
            finding: f,
            id: &prep.id,
            hash: finding_hash,
            json: &prep.json,
            device: &keys.device,
            reporter,
            dict_version,
            ack: &ack,
            duplicate_of: duplicate_of.as_ref().map(|(case_no, _)| case_no.as_str()),
            received_at: &keys.now,
            grid: grid.as_deref(),
        },
    )?;
    if let Some(case_no) = &case_no {
        notify_finding(tx, &settings.zone, reporter.id, f.id, state, None, Some(case_no), ctx.now)?;
    }
    Ok(done(OpStatus::Applied, finding_result(seq, OpStatus::Applied, ack)))
}
