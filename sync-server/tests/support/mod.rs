//! What the store tests share with the black-box tests: a database of their own on the PostgreSQL server the
//! test script starts.

#[path = "../../../tests/support/pg.rs"]
mod pg;

pub use pg::*;
