//! The SHA-256 of uploaded photos, checked against the name they are sent under.
//!
//! Verifying a photo is the largest piece of CPU an upload costs: about 1.4 ms for 290 KB on an x86 core
//! without SHA instructions. Where the CPU has AVX-512 (F and VL) but no SHA instructions, one thread
//! (`sha-lanes`) hashes up to
//! eight uploads at once through [`lanes`], several times the throughput of hashing them one by one when the lanes
//! are full. Every photo goes there, even one alone: a step of the lanes costs the same with one photo as with
//! eight, so a photo alone costs more CPU (about 2.4 ms) than hashed the ordinary way, but uploads that come
//! while it is hashed join it at no further cost. Under a stream of uploads this costs less CPU in all (at
//! saturation 8–15 % less server CPU per finding than sending a photo to the lanes only when two were being
//! hashed already; see BENCHMARKS.md); when uploads are few there is CPU to spare. On CPUs with SHA
//! instructions (SHA-NI: most current servers) ring hashes a photo alone in 0.24 ms, a fifth of a lanes step, and
//! photo uploads went 8–11 % faster with it than through the lanes on such a CPU that also has AVX-512
//! (BENCHMARKS.md, "SHA-256"), so there, on CPUs without AVX-512, and if the thread has gone, photos are
//! hashed the ordinary way (`protocol::digest`) on the blocking pool.

pub mod lanes;

use std::sync::mpsc;

use bytes::Bytes;
use tokio::sync::oneshot;

use lanes::{BLOCK, LANES, Lanes, State};

/// Blocks each lane runs between looks at the queue, so that uploads arriving meanwhile join soon.
const MAX_STEP_BLOCKS: usize = 64;

struct Job {
    data: Bytes,
    reply: oneshot::Sender<[u8; 32]>,
}

/// Hashes photos for the request handlers; cheap to share.
#[derive(Clone)]
pub struct HashService {
    jobs: Option<mpsc::Sender<Job>>,
}

impl HashService {
    /// The service for this CPU: the lanes where it has AVX-512 and no SHA instructions, the blocking pool
    /// otherwise.
    pub fn start() -> Self {
        if has_sha_instructions() { Self::scalar() } else { Self::with_lanes().unwrap_or_else(Self::scalar) }
    }

    /// The service asked for: the lanes (where the CPU has AVX-512) or not, or the CPU's rule (`None`).
    pub fn choose(lanes: Option<bool>) -> Self {
        match lanes {
            None => Self::start(),
            Some(true) => Self::with_lanes().unwrap_or_else(Self::scalar),
            Some(false) => Self::scalar(),
        }
    }

    /// Starts the `sha-lanes` thread wherever the CPU has AVX-512, SHA instructions or not (the benchmark
    /// compares the two); `None` without AVX-512.
    pub fn with_lanes() -> Option<Self> {
        let lanes = Lanes::new()?;
        let (tx, rx) = mpsc::channel();
        let spawned = std::thread::Builder::new().name("sha-lanes".into()).spawn(move || serve(lanes, &rx));
        Some(HashService { jobs: spawned.ok().map(|_| tx) })
    }

    /// Hashing on the blocking pool only.
    pub fn scalar() -> Self {
        HashService { jobs: None }
    }

    /// Whether uploads go through the multi-buffer lanes.
    pub fn uses_lanes(&self) -> bool {
        self.jobs.is_some()
    }

    /// The SHA-256 of `data`.
    pub async fn sha256(&self, data: Bytes) -> [u8; 32] {
        if let Some(jobs) = &self.jobs {
            let (reply, answer) = oneshot::channel();
            if jobs.send(Job { data: data.clone(), reply }).is_ok()
                && let Ok(digest) = answer.await
            {
                return digest;
            }
        }
        let copy = data.clone();
        tokio::task::spawn_blocking(move || protocol::digest::sha256(&copy))
            .await
            .unwrap_or_else(|_| protocol::digest::sha256(&data))
    }
}

/// Whether the CPU has the SHA extensions that ring's SHA-256 uses.
pub fn has_sha_instructions() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("sha")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// One message in a lane: its whole blocks straight from the upload, then one or two padded blocks.
struct Slot {
    data: Bytes,
    reply: oneshot::Sender<[u8; 32]>,
    /// Next unread byte of `data`'s whole blocks, or of `tail` once `in_tail`.
    pos: usize,
    whole: usize,
    in_tail: bool,
    tail: [u8; 2 * BLOCK],
    tail_len: usize,
}

impl Slot {
    fn new(job: Job) -> Self {
        let len = job.data.len();
        let whole = len / BLOCK * BLOCK;
        let rest = &job.data[whole..];
        // SHA-256 padding: 0x80, zeros, and the message length in bits, big-endian, ending a block.
        let mut tail = [0u8; 2 * BLOCK];
        tail[..rest.len()].copy_from_slice(rest);
        tail[rest.len()] = 0x80;
        let tail_len = if rest.len() < BLOCK - 8 { BLOCK } else { 2 * BLOCK };
        tail[tail_len - 8..tail_len].copy_from_slice(&((len as u64) * 8).to_be_bytes());
        Slot { data: job.data, reply: job.reply, pos: 0, whole, in_tail: whole == 0, tail, tail_len }
    }

    fn segment(&self) -> &[u8] {
        if self.in_tail { &self.tail[self.pos..self.tail_len] } else { &self.data[self.pos..self.whole] }
    }

    /// Moves on by `blocks`; true when the message has been read to its end.
    fn advance(&mut self, blocks: usize) -> bool {
        self.pos += blocks * BLOCK;
        if !self.in_tail && self.pos == self.whole {
            self.in_tail = true;
            self.pos = 0;
        }
        self.in_tail && self.pos == self.tail_len
    }
}

fn serve(lanes: Lanes, jobs: &mpsc::Receiver<Job>) {
    let mut state = State::new();
    let mut slots: [Option<Slot>; LANES] = Default::default();
    loop {
        if slots.iter().all(Option::is_none) {
            let Ok(first) = jobs.recv() else { return };
            place(&mut slots, &mut state, first);
        }
        while slots.iter().any(Option::is_none) {
            match jobs.try_recv() {
                Ok(job) => place(&mut slots, &mut state, job),
                Err(_) => break,
            }
        }
        let step = slots.iter().flatten().map(|s| s.segment().len() / BLOCK).min().unwrap_or(0).min(MAX_STEP_BLOCKS);
        let inputs: [&[u8]; LANES] =
            std::array::from_fn(|l| slots[l].as_ref().map_or(&[][..], |s| &s.segment()[..step * BLOCK]));
        lanes.compress(&mut state, &inputs, step);
        for (lane, slot) in slots.iter_mut().enumerate() {
            if slot.as_mut().is_some_and(|s| s.advance(step))
                && let Some(done) = slot.take()
            {
                let _ = done.reply.send(state.digest(lane));
            }
        }
    }
}

/// Puts a job in a free lane.
fn place(slots: &mut [Option<Slot>; LANES], state: &mut State, job: Job) {
    let lane = slots.iter().position(Option::is_none).expect("a free lane is looked for only when there is one");
    state.reset(lane);
    slots[lane] = Some(Slot::new(job));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(len: usize, seed: u32) -> Vec<u8> {
        let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect()
    }

    #[test]
    fn padding_lengths_around_the_block_edges() {
        // Message lengths where the padding takes one block, two blocks, or a block of its own.
        for len in [0usize, 1, 55, 56, 63, 64, 65, 119, 120, 127, 128, 129, 1000] {
            let job = Job { data: Bytes::from(message(len, len as u32)), reply: oneshot::channel().0 };
            let slot = Slot::new(job);
            let padded = slot.whole + slot.tail_len;
            assert_eq!(padded % BLOCK, 0, "{len}");
            assert!(padded >= len + 9 && padded < len + 9 + BLOCK, "{len}: {padded}");
        }
    }

    #[test]
    fn lanes_of_different_lengths_give_the_scalar_digests() {
        let Some(lanes) = Lanes::new() else {
            // Nothing to compare on this CPU; what can be checked is that the server does not use them.
            assert!(!HashService::start().uses_lanes() && HashService::with_lanes().is_none());
            return;
        };
        let (tx, rx) = mpsc::channel();
        let mut answers = Vec::new();
        let mut expected = Vec::new();
        // More messages than lanes, so that lanes are refilled mid-way; lengths around block edges and a few
        // long ones that span several steps.
        let lens =
            [0usize, 1, 55, 56, 63, 64, 65, 119, 120, 128, 4096, 70_001, 290_000, 3, 17, 200_000, 5, 64 * 64, 999];
        for (i, len) in lens.iter().enumerate() {
            let data = message(*len, i as u32);
            expected.push(protocol::digest::sha256(&data));
            let (reply, answer) = oneshot::channel();
            tx.send(Job { data: Bytes::from(data), reply }).unwrap();
            answers.push(answer);
        }
        drop(tx);
        serve(lanes, &rx);
        for (i, (answer, want)) in answers.into_iter().zip(expected).enumerate() {
            assert_eq!(answer.blocking_recv().unwrap(), want, "message {i} of {} bytes", lens[i]);
        }
    }

    #[test]
    fn every_lane_against_a_known_answer() {
        let Some(lanes) = Lanes::new() else {
            // Nothing to compare on this CPU; what can be checked is that the server does not use them.
            assert!(!HashService::start().uses_lanes() && HashService::with_lanes().is_none());
            return;
        };
        // One padded block of "abc" (FIPS 180-2) in every lane.
        let mut block = [0u8; BLOCK];
        block[..3].copy_from_slice(b"abc");
        block[3] = 0x80;
        block[63] = 24;
        let inputs: [&[u8]; LANES] = [&block[..]; LANES];
        let mut state = State::new();
        lanes.compress(&mut state, &inputs, 1);
        for lane in 0..LANES {
            assert_eq!(
                hex::encode(state.digest(lane)),
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
            );
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_service_answers_many_uploads_at_once() {
        let datas: Vec<Bytes> = (0..40).map(|i| Bytes::from(message(10_000 + i * 777, i as u32))).collect();
        // Through the lanes (where the CPU has AVX-512), the service this CPU gets, and the blocking pool alone.
        let lanes = HashService::with_lanes();
        assert_eq!(lanes.is_some(), Lanes::new().is_some());
        for service in lanes.into_iter().chain([HashService::start(), HashService::scalar()]) {
            // One alone, then many at once.
            assert_eq!(service.sha256(datas[7].clone()).await, protocol::digest::sha256(&datas[7]));
            let hashed = futures_join(&service, &datas).await;
            for (data, digest) in datas.iter().zip(hashed) {
                assert_eq!(digest, protocol::digest::sha256(data));
            }
        }
    }

    #[test]
    fn the_lanes_serve_only_cpus_without_sha_instructions() {
        let expected = Lanes::new().is_some() && !has_sha_instructions();
        assert_eq!(HashService::start().uses_lanes(), expected);
        assert_eq!(HashService::choose(None).uses_lanes(), expected);
        // Asked for, as the A/B benchmark does: the lanes wherever the CPU can run them, or never.
        assert_eq!(HashService::choose(Some(true)).uses_lanes(), Lanes::new().is_some());
        assert!(!HashService::choose(Some(false)).uses_lanes());
    }

    async fn futures_join(service: &HashService, datas: &[Bytes]) -> Vec<[u8; 32]> {
        let tasks: Vec<_> = datas
            .iter()
            .map(|d| {
                let (s, d) = (service.clone(), d.clone());
                tokio::spawn(async move { s.sha256(d).await })
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    }
}
