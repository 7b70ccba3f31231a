//! What the store tests share with the black-box tests: a database of their own on the PostgreSQL server the
//! test script starts.

// The store tests use only some of what the black-box tests do.
#[allow(dead_code)]
#[path = "../../../tests/support/pg.rs"]
mod pg;

pub use pg::*;
