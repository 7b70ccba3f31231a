//! What checking a signed op costs the server beside decoding it: the canonical JSON of a typical finding op
//! (RFC 8785) and the Ed25519 verification, against decoding the same finding, interleaved in one run.
//! `cargo bench -p tiejiaoban-protocol --bench evidence`

use std::hint::black_box;
mod support;
use support::{median, time};

use protocol::evidence::{self, SigningKey};
use serde_json::json;

const ROUNDS: usize = 15;
const PER_ROUND: usize = 2_000;

fn main() {
    let device = "0190f5a4-7c1e-7000-8000-0000000000aa".parse().unwrap();
    let body = json!({"id": "0190f5a4-7c1e-7000-8000-000000000001", "patrol_id": null, "category": "C0101",
        "description": "井盖缺失, 已设置警示", "urgent": false, "fixed_on_spot": false,
        "location": {"lat": 41.7968123, "lon": 123.4328456, "accuracy_m": 6.5, "source": "gps", "fixed_at": "2026-12-04T09:29:58.123+08:00"},
        "address": "中街路 12 号", "road": "中街路", "grid": "210103001", "facility_code": null,
        "observed_at": "2026-12-04T09:30:00.456+08:00",
        "photos": [{"sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "role": "before",
                    "taken_at": "2026-12-04T09:29:50+08:00", "width": 1600, "height": 1200, "bytes": 245000}]});
    let text = body.to_string();
    let key = SigningKey::from_seed(&[3u8; 32]).unwrap();
    let public = key.public_key();
    let prev = "a".repeat(64);
    let sig = key.sign(&evidence::signed_bytes(device, 41, "finding.create", &body, Some(&prev)));
    let (mut decode, mut check) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        decode.push(time(PER_ROUND, || {
            black_box(protocol::Op::parse_str("finding.create", black_box(&text)).unwrap());
        }));
        check.push(time(PER_ROUND, || {
            let value: serde_json::Value = serde_json::from_str(black_box(&text)).unwrap();
            let bytes = evidence::signed_bytes(device, 41, "finding.create", &value, Some(&prev));
            assert!(evidence::verify(&public, &bytes, &sig));
        }));
    }
    let (decode, check) = (median(decode), median(check));
    println!("decoding a finding op:            {:>7.1} µs", decode.as_secs_f64() * 1e6);
    println!(
        "checking its signature:           {:>7.1} µs (canonical JSON + Ed25519 verify)",
        check.as_secs_f64() * 1e6
    );
    println!("signature checks per core:        {:>7.0} /s", 1.0 / check.as_secs_f64());
}
