//! Timing shared by the protocol crate's benchmarks: the mean of one call over a round, and the median round.

use std::time::{Duration, Instant};

/// The mean time of one call of `f`, over `calls` calls.
pub fn time(calls: usize, mut f: impl FnMut()) -> Duration {
    let t = Instant::now();
    for _ in 0..calls {
        f();
    }
    t.elapsed() / calls as u32
}

pub fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}
