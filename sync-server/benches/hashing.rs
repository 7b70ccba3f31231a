//! Checking uploaded photos' SHA-256: the lanes of the server's hash service (`sync_server::hashing`, eight
//! uploads at once through AVX-512, used by the server where the CPU has no SHA instructions) against hashing each photo on its own
//! (`protocol::digest`, ring's assembly), interleaved in the same run. Both use one core; the figure is CPU
//! time per 290 KB photo.
//!
//! Run: `cargo bench -p sync-server --bench hashing` (figures go to BENCHMARKS.md).

use std::time::{Duration, Instant};

use bytes::Bytes;
use sync_server::hashing::{self, HashService};

const PHOTO_BYTES: usize = 290_000;
const PHOTOS: usize = 128;
const ROUNDS: usize = 9;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    // The lanes even where the server would not use them (a CPU with SHA instructions), to compare.
    let Some(service) = HashService::with_lanes() else {
        println!("this CPU has no AVX-512: the server hashes one photo at a time, so there is nothing to compare");
        return;
    };
    println!(
        "SHA instructions: {}; the server uses {}",
        hashing::has_sha_instructions(),
        if HashService::start().uses_lanes() { "the lanes" } else { "ring, one photo at a time" }
    );
    let photos: Vec<Bytes> = (0..PHOTOS)
        .map(|p| Bytes::from((0..PHOTO_BYTES).map(|i| ((i * 31 + p * 7) >> 3) as u8).collect::<Vec<u8>>()))
        .collect();
    let want: Vec<[u8; 32]> = photos.iter().map(|p| protocol::digest::sha256(p)).collect();
    // One async worker hands the uploads over, as the server's handlers do; the service's thread hashes.
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).build().unwrap();
    let (mut lanes, mut single) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let t = Instant::now();
        let got = rt.block_on(async {
            let tasks: Vec<_> = photos
                .iter()
                .map(|p| {
                    let (s, p) = (service.clone(), p.clone());
                    tokio::spawn(async move { s.sha256(p).await })
                })
                .collect();
            let mut out = Vec::new();
            for t in tasks {
                out.push(t.await.unwrap());
            }
            out
        });
        lanes.push(t.elapsed() / PHOTOS as u32);
        assert_eq!(got, want, "the lanes give the same digests");

        let t = Instant::now();
        for p in &photos {
            std::hint::black_box(protocol::digest::sha256(std::hint::black_box(p)));
        }
        single.push(t.elapsed() / PHOTOS as u32);
    }
    let (a, b) = (median(lanes), median(single));
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let mb_s = |d: Duration| PHOTO_BYTES as f64 / d.as_secs_f64() / 1e6;
    println!(
        "sha256 of {PHOTOS} photos of {PHOTO_BYTES} bytes handed over at once, median of {ROUNDS} rounds, per photo: \
         hash service {:.3} ms ({:.0} MB/s), one at a time {:.3} ms ({:.0} MB/s), ratio {:.2}x",
        ms(a),
        mb_s(a),
        ms(b),
        mb_s(b),
        b.as_secs_f64() / a.as_secs_f64()
    );
}
