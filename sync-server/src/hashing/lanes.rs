//! SHA-256 of eight messages at once, one per 32-bit lane of a 256-bit register ("multi-buffer" hashing).
//!
//! SHA-256 is a chain: each 64-byte block needs the state left by the one before, so a single message cannot
//! go faster than one core's scalar rounds (about 1.4 ms for a 290 KB photo on x86 servers without SHA
//! instructions). Independent messages can: every instruction here does the same step for eight of them.
//! The server's photo uploads arrive side by side, so the hash service (`super::HashService`) feeds them
//! through these lanes.
//!
//! The rounds use AVX-512's rotate and three-input logic instructions on 256-bit registers (AVX-512VL),
//! about half the instructions of plain AVX2 and without the lower clock that full 512-bit work brings on
//! many Intel CPUs.
//!
//! Everything in this file is safe Rust; the intrinsics are safe inside functions compiled with the target
//! features. The only `unsafe` is the one call into that code, made after checking at run time that the CPU
//! has the features (`Lanes::new`).

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::{
    __m256i, _mm256_add_epi32, _mm256_extract_epi32, _mm256_ror_epi32, _mm256_set_epi32, _mm256_set1_epi32,
    _mm256_srli_epi32, _mm256_ternarylogic_epi32,
};

/// Number of messages hashed side by side.
pub const LANES: usize = 8;

/// A SHA-256 block.
pub const BLOCK: usize = 64;

pub(crate) const IV: [u32; 8] =
    [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
    0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
    0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
    0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2,
];

/// The chaining state of eight messages (`LANES`): `words[i][lane]` is word `i` of that lane's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct State {
    pub words: [[u32; LANES]; 8],
}

impl State {
    /// Every lane at SHA-256's initial value.
    pub fn new() -> Self {
        let mut s = State { words: [[0; LANES]; 8] };
        for lane in 0..LANES {
            s.reset(lane);
        }
        s
    }

    /// Starts a new message in `lane`.
    pub fn reset(&mut self, lane: usize) {
        for (i, v) in IV.iter().enumerate() {
            self.words[i][lane] = *v;
        }
    }

    /// The digest of the message that ended in `lane`.
    pub fn digest(&self, lane: usize) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, chunk) in out.chunks_exact_mut(4).enumerate() {
            chunk.copy_from_slice(&self.words[i][lane].to_be_bytes());
        }
        out
    }
}

impl Default for State {
    fn default() -> Self {
        Self::new()
    }
}

/// The multi-buffer compression function, present only on CPUs that have AVX-512F and AVX-512VL.
#[derive(Clone, Copy, Debug)]
pub struct Lanes(());

impl Lanes {
    /// The lanes, if this CPU can run them.
    pub fn new() -> Option<Self> {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("avx512vl") {
            return Some(Lanes(()));
        }
        None
    }

    /// Runs `blocks` compression rounds on every lane. Lane `l` reads its `b`-th block from
    /// `inputs[l][b * BLOCK..]`; an idle lane is given an empty slice and is then fed zero blocks (its state is
    /// garbage afterwards, to be reset before use). A lane whose slice is shorter than `blocks` blocks panics.
    pub fn compress(&self, state: &mut State, inputs: &[&[u8]; LANES], blocks: usize) {
        #[cfg(target_arch = "x86_64")]
        {
            // SAFETY: a `Lanes` exists only when `new` found both features on this CPU, and `compress8` has no
            // other precondition (it is safe code compiled for that feature).
            #[allow(unsafe_code)]
            unsafe {
                compress8(state, inputs, blocks)
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = (state, inputs, blocks);
            unreachable!("Lanes cannot be made without AVX-512")
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl")]
fn compress8(state: &mut State, inputs: &[&[u8]; LANES], blocks: usize) {
    let load = |row: &[u32; LANES]| {
        _mm256_set_epi32(
            row[7] as i32,
            row[6] as i32,
            row[5] as i32,
            row[4] as i32,
            row[3] as i32,
            row[2] as i32,
            row[1] as i32,
            row[0] as i32,
        )
    };
    let mut h: [__m256i; 8] = std::array::from_fn(|i| load(&state.words[i]));
    let mut rows = [[0u32; LANES]; 16];
    for b in 0..blocks {
        // The block's sixteen big-endian words, turned so that row `t` holds word `t` of every lane.
        // Idle lanes keep the zero words they started with.
        for (lane, input) in inputs.iter().enumerate().filter(|(_, input)| !input.is_empty()) {
            let block = &input[b * BLOCK..(b + 1) * BLOCK];
            for (t, word) in block.chunks_exact(4).enumerate() {
                rows[t][lane] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
            }
        }
        let mut w: [__m256i; 16] = std::array::from_fn(|t| load(&rows[t]));
        let [mut a, mut bb, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        // One round of sixteen; `$k` is the round's place in its pass, `$pass` which pass of four. The
        // working variables rotate by naming them in turn, not by moving values, and the message schedule
        // lives in a ring of sixteen words whose positions are constants, so everything stays in registers.
        macro_rules! round {
            ($a:ident, $b:ident, $c:ident, $d:ident, $e:ident, $f:ident, $g:ident, $h:ident, $k:expr, $pass:expr) => {{
                if $pass > 0 {
                    let w15 = w[($k + 1) % 16];
                    let w2 = w[($k + 14) % 16];
                    let s0 = _mm256_ternarylogic_epi32::<0x96>(
                        _mm256_ror_epi32::<7>(w15),
                        _mm256_ror_epi32::<18>(w15),
                        _mm256_srli_epi32::<3>(w15),
                    );
                    let s1 = _mm256_ternarylogic_epi32::<0x96>(
                        _mm256_ror_epi32::<17>(w2),
                        _mm256_ror_epi32::<19>(w2),
                        _mm256_srli_epi32::<10>(w2),
                    );
                    w[$k] = _mm256_add_epi32(_mm256_add_epi32(w[$k], s0), _mm256_add_epi32(w[($k + 9) % 16], s1));
                }
                let s1 = _mm256_ternarylogic_epi32::<0x96>(
                    _mm256_ror_epi32::<6>($e),
                    _mm256_ror_epi32::<11>($e),
                    _mm256_ror_epi32::<25>($e),
                );
                // ch = e ? f : g
                let ch = _mm256_ternarylogic_epi32::<0xCA>($e, $f, $g);
                let kw = _mm256_add_epi32(w[$k], _mm256_set1_epi32(K[16 * $pass + $k] as i32));
                let t1 = _mm256_add_epi32(_mm256_add_epi32($h, s1), _mm256_add_epi32(ch, kw));
                let s0 = _mm256_ternarylogic_epi32::<0x96>(
                    _mm256_ror_epi32::<2>($a),
                    _mm256_ror_epi32::<13>($a),
                    _mm256_ror_epi32::<22>($a),
                );
                // maj = majority of a, b, c
                let maj = _mm256_ternarylogic_epi32::<0xE8>($a, $b, $c);
                $d = _mm256_add_epi32($d, t1);
                $h = _mm256_add_epi32(t1, _mm256_add_epi32(s0, maj));
            }};
        }
        for pass in 0..4 {
            round!(a, bb, c, d, e, f, g, hh, 0, pass);
            round!(hh, a, bb, c, d, e, f, g, 1, pass);
            round!(g, hh, a, bb, c, d, e, f, 2, pass);
            round!(f, g, hh, a, bb, c, d, e, 3, pass);
            round!(e, f, g, hh, a, bb, c, d, 4, pass);
            round!(d, e, f, g, hh, a, bb, c, 5, pass);
            round!(c, d, e, f, g, hh, a, bb, 6, pass);
            round!(bb, c, d, e, f, g, hh, a, 7, pass);
            round!(a, bb, c, d, e, f, g, hh, 8, pass);
            round!(hh, a, bb, c, d, e, f, g, 9, pass);
            round!(g, hh, a, bb, c, d, e, f, 10, pass);
            round!(f, g, hh, a, bb, c, d, e, 11, pass);
            round!(e, f, g, hh, a, bb, c, d, 12, pass);
            round!(d, e, f, g, hh, a, bb, c, 13, pass);
            round!(c, d, e, f, g, hh, a, bb, 14, pass);
            round!(bb, c, d, e, f, g, hh, a, 15, pass);
        }
        for (acc, v) in h.iter_mut().zip([a, bb, c, d, e, f, g, hh]) {
            *acc = _mm256_add_epi32(*acc, v);
        }
    }
    for (row, v) in state.words.iter_mut().zip(h) {
        *row = unpack(v);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl")]
fn unpack(v: __m256i) -> [u32; LANES] {
    [
        _mm256_extract_epi32::<0>(v) as u32,
        _mm256_extract_epi32::<1>(v) as u32,
        _mm256_extract_epi32::<2>(v) as u32,
        _mm256_extract_epi32::<3>(v) as u32,
        _mm256_extract_epi32::<4>(v) as u32,
        _mm256_extract_epi32::<5>(v) as u32,
        _mm256_extract_epi32::<6>(v) as u32,
        _mm256_extract_epi32::<7>(v) as u32,
    ]
}
