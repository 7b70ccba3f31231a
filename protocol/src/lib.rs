//! Wire types of the Tiejiaoban sync protocol, version 1, and the validation rules that go with them.
//!
//! This crate is the single description of what travels between the phone and the sync server. It
//! depends on serde (and `ring` for SHA-256) only, so that both sides (and the tests) can use it without pulling
//! each other in.

pub mod account;
pub mod basemap;
pub mod campaign;
pub mod change;
pub mod dictionary;
pub mod digest;
pub mod error;
pub mod evidence;
pub mod finding;
pub mod geo;
pub mod json;
pub mod sync;
pub mod task;

pub use account::*;
pub use basemap::*;
pub use campaign::*;
pub use change::*;
pub use dictionary::*;
pub use error::*;
pub use finding::*;
pub use sync::*;
pub use task::*;

/// The protocol version announced by `GET /api/v1/health`.
pub const PROTOCOL_VERSION: u32 = 1;
/// Base path of every endpoint.
pub const API_BASE: &str = "/api/v1";
/// Most ops one sync request may carry.
pub const MAX_OPS_PER_SYNC: usize = 500;
/// Largest sync request body, after decompression.
pub const MAX_SYNC_BODY_BYTES: usize = 8 * 1024 * 1024;
/// Default largest photo the server takes; the real value is announced in the health answer.
pub const DEFAULT_MAX_BLOB_BYTES: u64 = 20 * 1024 * 1024;

/// Times on the wire: RFC 3339 with the offset the sender used.
pub type Timestamp = chrono::DateTime<chrono::FixedOffset>;

/// True when `s` is a lowercase hex SHA-256 (64 characters).
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A case number: letters, digits and dashes.
pub fn is_case_no(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}
