//! Evidence packages: a case's record with what proves it — each finding's op as the phone signed and sent
//! it, the bytes that were signed, the op it links to, the devices' public keys and every photo — in one ZIP
//! that anyone can check offline (`sync-server evidence verify FILE`, or by hand with standard tools:
//! docs/evidence.md). Making a package and checking one are both here, so they cannot drift apart.
//!
//! ```text
//! manifest.json                  what the package holds: the case, signed and unsigned findings, photos
//! case.json                      the case as the console shows it: state, findings, history
//! findings/<id>/op.json          the op that created the finding, as received: device_id, seq, kind, body, prev, sig
//! findings/<id>/signed.json      the bytes that were signed (RFC 8785 canonical JSON of the op without sig)
//! findings/<id>/previous-op.json the device's signed op before it, which `prev` links to (absent for a first op)
//! findings/<id>/previous-signed.json  the bytes that op was signed over: their SHA-256 is `prev`
//! devices/<device_id>.json       the device's public keys (base64), every one it registered
//! devices/<device_id>-<n>.pem    the same keys as PEM, for openssl
//! photos/<sha256>.jpg            every photo of the findings and of the case's history
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Cursor, Read, Write};

use protocol::evidence;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use zip::write::SimpleFileOptions;

use crate::db::{CaseView, SignedOp};

/// What the package holds, beside the files themselves.
#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub case_no: String,
    pub made_at: String,
    /// Findings created by a signed op, and those that were not (a device that registered no key, a report
    /// from another channel).
    pub signed: Vec<String>,
    pub unsigned: Vec<String>,
    /// Photos named by the record but no longer held (the retention rule removed them).
    pub removed_photos: Vec<String>,
}

/// Everything a package is made of, gathered from the store and the photo store.
pub struct Contents {
    pub case: CaseView,
    pub made_at: String,
    /// Per finding id: its signed op and the op it links to.
    pub ops: BTreeMap<String, (SignedOp, Option<SignedOp>)>,
    /// Per device id: every key it registered.
    pub keys: BTreeMap<String, Vec<String>>,
    /// Per photo: its bytes, or `None` when it is no longer held.
    pub photos: BTreeMap<String, Option<Vec<u8>>>,
}

/// Every photo a case names: its findings' and its history's.
pub fn photos_of(case: &CaseView) -> BTreeSet<String> {
    let mut shas: BTreeSet<String> = case.photos.iter().cloned().collect();
    for f in case.findings.iter().flatten() {
        shas.extend(f.photos.iter().map(|p| p.sha256.clone()));
    }
    for h in case.history.iter().flatten() {
        shas.extend(h.photos.iter().cloned());
    }
    shas
}

fn op_json(op: &SignedOp) -> Value {
    let body: Value = serde_json::from_str(op.body.get()).unwrap_or(Value::Null);
    json!({"device_id": op.device_id, "seq": op.seq, "kind": op.kind, "body": body, "prev": op.prev, "sig": op.sig})
}

fn signed_bytes_of(op: &Value) -> Option<Vec<u8>> {
    let device = op["device_id"].as_str()?.parse().ok()?;
    Some(evidence::signed_bytes(device, op["seq"].as_u64()?, op["kind"].as_str()?, &op["body"], op["prev"].as_str()))
}

/// Writes the package.
pub fn write(contents: &Contents) -> zip::result::ZipResult<Vec<u8>> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    // Photos are JPEG already and the rest is small: stored, so any unzip tool reads it.
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut put = |name: &str, bytes: &[u8]| -> zip::result::ZipResult<()> {
        zip.start_file(name, options)?;
        zip.write_all(bytes)?;
        Ok(())
    };
    let findings: Vec<String> = contents.case.findings.iter().flatten().map(|f| f.id.to_string()).collect();
    let manifest = Manifest {
        case_no: contents.case.case_no.clone(),
        made_at: contents.made_at.clone(),
        signed: findings.iter().filter(|id| contents.ops.contains_key(*id)).cloned().collect(),
        unsigned: findings.iter().filter(|id| !contents.ops.contains_key(*id)).cloned().collect(),
        removed_photos: contents.photos.iter().filter(|(_, b)| b.is_none()).map(|(s, _)| s.clone()).collect(),
    };
    put("manifest.json", &serde_json::to_vec_pretty(&manifest).unwrap_or_default())?;
    put("case.json", &serde_json::to_vec_pretty(&contents.case).unwrap_or_default())?;
    for (id, (op, previous)) in &contents.ops {
        let op = op_json(op);
        put(&format!("findings/{id}/op.json"), &serde_json::to_vec_pretty(&op).unwrap_or_default())?;
        put(&format!("findings/{id}/signed.json"), &signed_bytes_of(&op).unwrap_or_default())?;
        if let Some(previous) = previous {
            let previous = op_json(previous);
            put(&format!("findings/{id}/previous-op.json"), &serde_json::to_vec_pretty(&previous).unwrap_or_default())?;
            put(&format!("findings/{id}/previous-signed.json"), &signed_bytes_of(&previous).unwrap_or_default())?;
        }
    }
    for (device, keys) in &contents.keys {
        let doc = json!({"device_id": device, "public_keys": keys});
        put(&format!("devices/{device}.json"), &serde_json::to_vec_pretty(&doc).unwrap_or_default())?;
        for (n, key) in keys.iter().enumerate() {
            if let Some(pem) = evidence::public_key_pem(key) {
                put(&format!("devices/{device}-{}.pem", n + 1), pem.as_bytes())?;
            }
        }
    }
    for (sha, bytes) in &contents.photos {
        if let Some(bytes) = bytes {
            put(&format!("photos/{sha}.jpg"), bytes)?;
        }
    }
    Ok(zip.finish()?.into_inner())
}

/// The outcome of checking a package: one line per finding that holds, and each thing that does not.
#[derive(Debug, Default)]
pub struct Verdict {
    pub holds: Vec<String>,
    pub fails: Vec<String>,
}

fn read_file(archive: &mut zip::ZipArchive<Cursor<&[u8]>>, name: &str) -> Option<Vec<u8>> {
    let mut file = archive.by_name(name).ok()?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).ok()?;
    Some(bytes)
}

fn read_json(archive: &mut zip::ZipArchive<Cursor<&[u8]>>, name: &str) -> Option<Value> {
    serde_json::from_slice(&read_file(archive, name)?).ok()
}

/// The fields of a finding's record (`case.json`) that differ from the body its phone signed.
fn differences(body: &Value, record: &Value) -> Vec<&'static str> {
    let time = |v: &Value| v.as_str().and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok());
    let number = |v: &Value| v.as_f64();
    let photos = |v: &Value| -> Vec<(Value, Value)> {
        v.as_array().into_iter().flatten().map(|p| (p["sha256"].clone(), p["role"].clone())).collect()
    };
    let text = |v: &Value| v.as_str().map(str::to_owned).unwrap_or_default();
    let flag = |v: &Value| v.as_bool().unwrap_or(false);
    let mut out = Vec::new();
    for (name, same) in [
        ("id", body["id"] == record["id"]),
        ("category", body["category"] == record["category"]),
        ("description", text(&body["description"]) == text(&record["description"])),
        ("address", body["address"].as_str() == record["address"].as_str()),
        ("observed_at", time(&body["observed_at"]) == time(&record["observed_at"])),
        ("location.lat", number(&body["location"]["lat"]) == number(&record["location"]["lat"])),
        ("location.lon", number(&body["location"]["lon"]) == number(&record["location"]["lon"])),
        ("location.accuracy_m", number(&body["location"]["accuracy_m"]) == number(&record["location"]["accuracy_m"])),
        ("urgent", flag(&body["urgent"]) == flag(&record["urgent"])),
        ("fixed_on_spot", flag(&body["fixed_on_spot"]) == flag(&record["fixed_on_spot"])),
        ("photos", photos(&body["photos"]) == photos(&record["photos"])),
    ] {
        if !same {
            out.push(name);
        }
    }
    out
}

/// Checks a package: every photo's hash, every signature against its device's registered keys, every
/// chain link, and that the case's record of each finding is what the phone signed.
pub fn verify(package: &[u8]) -> Verdict {
    let mut verdict = Verdict::default();
    let mut archive = match zip::ZipArchive::new(Cursor::new(package)) {
        Ok(a) => a,
        Err(e) => {
            verdict.fails.push(format!("the file is not a ZIP archive: {e}"));
            return verdict;
        }
    };
    let Some(manifest) =
        read_json(&mut archive, "manifest.json").and_then(|m| serde_json::from_value::<Manifest>(m).ok())
    else {
        verdict.fails.push("manifest.json is missing or unreadable".into());
        return verdict;
    };
    let Some(case) = read_json(&mut archive, "case.json") else {
        verdict.fails.push("case.json is missing or unreadable".into());
        return verdict;
    };
    let removed: BTreeSet<&str> = manifest.removed_photos.iter().map(String::as_str).collect();
    let photo_holds = |archive: &mut zip::ZipArchive<Cursor<&[u8]>>, sha: &str, whose: &str| -> Result<bool, String> {
        if removed.contains(sha) {
            return Ok(false);
        }
        match read_file(archive, &format!("photos/{sha}.jpg")) {
            None => Err(format!("photo {sha} of {whose} is missing from the package")),
            Some(bytes) => {
                let actual = protocol::digest::sha256_hex(&bytes);
                if actual == sha {
                    Ok(true)
                } else {
                    Err(format!("photo {sha} of {whose} was altered: its bytes hash to {actual}"))
                }
            }
        }
    };
    let findings = case["findings"].as_array().cloned().unwrap_or_default();
    for finding in &findings {
        let id = finding["id"].as_str().unwrap_or_default().to_owned();
        let whose = format!("finding {id}");
        let mut fails = Vec::new();
        let mut photos_held = 0;
        for p in finding["photos"].as_array().into_iter().flatten() {
            match photo_holds(&mut archive, p["sha256"].as_str().unwrap_or_default(), &whose) {
                Ok(true) => photos_held += 1,
                Ok(false) => {}
                Err(e) => fails.push(e),
            }
        }
        // A finding whose op is in the package is checked whatever the manifest says of it.
        let has_op = archive.file_names().any(|n| n == format!("findings/{id}/op.json"));
        if !manifest.signed.contains(&id) && !has_op {
            if fails.is_empty() {
                verdict.holds.push(format!(
                    "finding {id}: not signed by a phone, nothing to verify but its {photos_held} photos' hashes"
                ));
            }
            verdict.fails.extend(fails);
            continue;
        }
        let Some(op) = read_json(&mut archive, &format!("findings/{id}/op.json")) else {
            verdict.fails.push(format!("finding {id}: its signed op (findings/{id}/op.json) is missing"));
            continue;
        };
        let device = op["device_id"].as_str().unwrap_or_default().to_owned();
        let keys: Vec<String> = read_json(&mut archive, &format!("devices/{device}.json"))
            .and_then(|d| serde_json::from_value(d["public_keys"].clone()).ok())
            .unwrap_or_default();
        let signed_by = |op: &Value| -> Option<Vec<u8>> {
            let bytes = signed_bytes_of(op)?;
            let sig = op["sig"].as_str()?;
            keys.iter().any(|k| evidence::verify(k, &bytes, sig)).then_some(bytes)
        };
        if keys.is_empty() {
            fails.push(format!("finding {id}: the key of device {device} is missing (devices/{device}.json)"));
        } else if signed_by(&op).is_none() {
            fails.push(format!("finding {id}: the signature of op {} of device {device} does not verify", op["seq"]));
        }
        if let (Some(bytes), Some(written)) =
            (signed_bytes_of(&op), read_file(&mut archive, &format!("findings/{id}/signed.json")))
            && bytes != written
        {
            fails.push(format!("finding {id}: signed.json is not the canonical form of op.json"));
        }
        // The case's record of the finding is what the phone signed.
        let differing = differences(&op["body"], finding);
        if !differing.is_empty() {
            fails.push(format!(
                "finding {id}: the case's record differs from the signed op in {}",
                differing.join(", ")
            ));
        }
        let link = match op["prev"].as_str() {
            None => "the first op of its chain".to_owned(),
            Some(prev) => match read_json(&mut archive, &format!("findings/{id}/previous-op.json")) {
                None => {
                    fails.push(format!(
                        "finding {id}: the chain link is broken: the op it links to ({prev}) is missing"
                    ));
                    String::new()
                }
                Some(previous) => match signed_by(&previous) {
                    None => {
                        fails.push(format!("finding {id}: the op it links to does not verify with the device's key"));
                        String::new()
                    }
                    Some(bytes)
                        if read_file(&mut archive, &format!("findings/{id}/previous-signed.json"))
                            .is_some_and(|written| written != bytes) =>
                    {
                        fails.push(format!(
                            "finding {id}: previous-signed.json is not the canonical form of previous-op.json"
                        ));
                        String::new()
                    }
                    Some(bytes) if evidence::link(&bytes) != prev => {
                        fails.push(format!(
                            "finding {id}: the chain link is broken: prev {prev} is not the hash of the op before"
                        ));
                        String::new()
                    }
                    Some(_) => format!("linked to op {}", previous["seq"]),
                },
            },
        };
        if fails.is_empty() {
            verdict.holds.push(format!(
                "finding {id}: signature holds (device {device}, op {}), {link}, {photos_held} photos hold",
                op["seq"]
            ));
        }
        verdict.fails.extend(fails);
    }
    let case_no = case["case_no"].as_str().unwrap_or_default().to_owned();
    for entry in case["history"].as_array().into_iter().flatten() {
        for sha in entry["photos"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            if let Err(e) = photo_holds(&mut archive, sha, &format!("case {case_no}'s history")) {
                verdict.fails.push(e);
            }
        }
    }
    if findings.is_empty() {
        verdict.fails.push(format!("case {case_no} has no findings in case.json"));
    }
    verdict
}
