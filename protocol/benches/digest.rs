//! SHA-256 of a photo-sized buffer: the implementation the project uses (`protocol::digest`, ring) against the
//! portable `sha2` crate, interleaved in the same run. `cargo bench -p tiejiaoban-protocol --bench digest`

use std::hint::black_box;
use std::time::Duration;

mod support;
use support::{median, time};

const PHOTO_BYTES: usize = 290_000;
const ROUNDS: usize = 15;
const PER_ROUND: usize = 40;

fn main() {
    let data: Vec<u8> = (0..PHOTO_BYTES as u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    assert_eq!(
        protocol::digest::sha256_hex(&data),
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&data)),
        "both give the same hash"
    );
    let (mut ours, mut portable) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        ours.push(time(PER_ROUND, || {
            black_box(protocol::digest::sha256(black_box(&data)));
        }));
        portable.push(time(PER_ROUND, || {
            black_box(<sha2::Sha256 as sha2::Digest>::digest(black_box(&data)));
        }));
    }
    let mb_s = |d: Duration| PHOTO_BYTES as f64 / d.as_secs_f64() / 1e6;
    let (a, b) = (median(ours), median(portable));
    println!(
        "sha256 of {PHOTO_BYTES} bytes, median of {ROUNDS} rounds: protocol::digest (ring) {:.2} ms ({:.0} MB/s), \
         sha2 {:.2} ms ({:.0} MB/s), ratio {:.2}x",
        a.as_secs_f64() * 1e3,
        mb_s(a),
        b.as_secs_f64() * 1e3,
        mb_s(b),
        b.as_secs_f64() / a.as_secs_f64()
    );
}
