//! Wire cost of a sync (BENCHMARKS.md, "Wire cost"): a phone (the real `patrol` binary) reports N findings, each
//! with one of the shared fixture photos, and syncs them through a byte-counting proxy to the real server. The
//! bytes both ways against the photo bytes the phone uploaded; the target is ≤ 1.05 × the photo bytes + 2 KB per
//! finding.
//!
//!   cargo bench --bench wire            # N = 40 (WIRE_FINDINGS=… for another count)

use std::time::Instant;

use tiejiaoban::{CutProxy, Device, Server};

fn main() {
    let n: usize = std::env::var("WIRE_FINDINGS").ok().and_then(|v| v.parse().ok()).unwrap_or(40);
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let proxy = CutProxy::start(server.port);
    let phone = Device::new(&tmp.path().join("phone"));
    phone.register(&proxy.url(), "inspector1");
    let photos = ["orientation-landscape-1.jpg", "orientation-portrait-6.jpg", "iphone_hdr_YES.jpg", "45-gps_ifd.jpg"];
    for i in 0..n {
        let lat = 41.790 + (i as f64) * 0.0002;
        phone.report("E0102", lat, photos[i % photos.len()]);
    }
    // What the phone stored (and will upload): its processed photos.
    let photo_bytes: u64 = std::fs::read_dir(phone.home.join("photos"))
        .unwrap()
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().contains(".thumb."))
        .map(|e| e.metadata().unwrap().len())
        .sum();
    let (sent0, received0) = (proxy.sent(), proxy.received());
    let started = Instant::now();
    let out = phone.ok(&["sync"]);
    let took = started.elapsed();
    let sent = proxy.sent() - sent0;
    let received = proxy.received() - received0;
    let wire = sent + received;
    let allowed = photo_bytes as f64 * 1.05 + 2048.0 * n as f64;
    println!("{}", out.lines().last().unwrap_or_default());
    println!(
        "findings {n}, photo bytes {photo_bytes}, sent {sent}, received {received}, wire ÷ photo bytes {:.4}, \
         overhead per finding {:.0} B, target ≤ {:.0} B: {}; {:.2} s",
        wire as f64 / photo_bytes as f64,
        (wire as f64 - photo_bytes as f64) / n as f64,
        allowed,
        if (wire as f64) <= allowed { "met" } else { "not met" },
        took.as_secs_f64()
    );
}
