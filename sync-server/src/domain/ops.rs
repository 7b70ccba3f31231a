//! A sync's ops made ready for the store: parsed from their raw JSON, checked, hashed and serialised, with no
//! storage involved. Done for a whole batch before the store's write lock is taken, so that concurrent
//! requests do it in parallel and the single writer only runs SQL; a second backend takes the same ops.

use chrono::{DateTime, Utc};
use protocol::digest::sha256_hex;
use protocol::{ApiError, Op, OpEnvelopeRaw, evidence};

/// An op with the work that needs no database done: parsed, checked, hashed and serialised. Done for a
/// whole batch before the write lock is taken, so that concurrent requests do it in parallel and the
/// single writer only runs SQL.
pub struct PreparedOp {
    pub seq: u64,
    pub kind: String,
    /// The typed op with the hash its (device, seq) is remembered by, or why it cannot be parsed.
    pub op: Result<(Op, String), ApiError>,
    /// For `finding.create`: the finding's own check, hash and stored JSON.
    pub finding: Option<PreparedFinding>,
    /// The op carried a signature that verified with the device's key (kept as evidence).
    pub signed: bool,
}

/// Who signs a batch's ops: the device, with the public key it registered.
#[derive(Clone, Copy)]
pub struct Signer<'a> {
    pub device_id: uuid::Uuid,
    pub public_key: &'a str,
}

/// Checks an op's signature against the device's key: a device that registered a key signs every op.
fn check_signature(signer: Signer<'_>, env: &OpEnvelopeRaw<'_>) -> Result<(), ApiError> {
    let Some(sig) = &env.sig else {
        return Err(ApiError::invalid("sig", "this device registered a key: every op it sends is signed"));
    };
    let body: serde_json::Value =
        serde_json::from_str(env.body.get()).map_err(|e| ApiError::invalid("body", e.to_string()))?;
    let signed = evidence::signed_bytes(signer.device_id, env.seq, &env.kind, &body, env.prev.as_deref());
    if evidence::verify(signer.public_key, &signed, sig) {
        Ok(())
    } else {
        Err(ApiError::invalid("sig", "the signature does not verify with the device's key"))
    }
}

pub struct PreparedFinding {
    pub valid: Result<(), ApiError>,
    pub hash: String,
    pub json: String,
    pub id: String,
    /// Every photo was already stored when the batch was prepared (blobs are never removed, so this
    /// holds under the write lock too); otherwise they are looked up again there.
    pub photos_stored: bool,
}

/// Marks the current form of an op's remembered hash: `2:` and the SHA-256 of the typed body (for
/// `finding.create`, the finding's own hash). Rows without it hold the first form, the hash of
/// `[kind, body]` with the body's keys sorted, and are compared in that form.
pub const OP_HASH_V2: &str = "2:";

/// The first form: the body goes through a `Value`, so its keys come out sorted.
pub fn legacy_op_hash(op: &Op) -> String {
    sha256_hex(&serde_json::to_vec(&(op.kind(), op.body())).unwrap_or_default())
}

/// The ops of a sync request made ready; `known_category` says whether a category code is in any version
/// of the dictionary.
pub fn prepare(
    now: DateTime<Utc>,
    ops: &[OpEnvelopeRaw<'_>],
    signer: Option<Signer<'_>>,
    known_category: impl Fn(&str) -> bool,
) -> Vec<PreparedOp> {
    ops.iter()
        .map(|env| {
            // A signature that does not hold refuses the op before anything of it is read.
            if let Some(Err(e)) = signer.map(|s| check_signature(s, env)) {
                return PreparedOp { seq: env.seq, kind: env.kind.clone(), op: Err(e), finding: None, signed: false };
            }
            let op = Op::parse_str(&env.kind, env.body.get()).map_err(ApiError::from);
            let (op, finding) = match op {
                Ok(Op::FindingCreate(f)) => {
                    let json = serde_json::to_string(&f).unwrap_or_default();
                    let hash = sha256_hex(json.as_bytes());
                    let prepared = PreparedFinding {
                        valid: f.validate(now, &known_category).map_err(ApiError::from),
                        hash: hash.clone(),
                        json,
                        id: f.id.to_string(),
                        photos_stored: false,
                    };
                    (Ok((Op::FindingCreate(f), format!("{OP_HASH_V2}{hash}"))), Some(prepared))
                }
                Ok(op) => {
                    let hash = format!("{OP_HASH_V2}{}", sha256_hex(op.body_json().as_bytes()));
                    (Ok((op, hash)), None)
                }
                Err(e) => (Err(e), None),
            };
            PreparedOp { seq: env.seq, kind: env.kind.clone(), op, finding, signed: signer.is_some() }
        })
        .collect()
}
