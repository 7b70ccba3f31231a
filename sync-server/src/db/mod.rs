//! What the server keeps. The handlers speak to the `Store` trait (`store.rs`), never to SQL. Its behaviour is
//! written once (`backend.rs`) over two backends: the embedded SQLite store (`sqlite.rs`, the default) and
//! PostgreSQL (`postgres.rs`), which hold the connections and transactions; each concept's SQL is in the file
//! named after it and runs on either through `conn.rs`. The files form layers; a file imports only files of the
//! layers below it (`tests/module_layers.rs` checks that no two modules import each other):
//!
//! 1. `store` (the traits), `sqlite`, `postgres` (the backends), `backend` (the behaviour over both)
//! 2. `ingest` (sync ops), `review` (a chief's decision)
//! 3. `cases` (views and lifecycle actions)
//! 4. `tasks` (verification, 核查), `findings` (the review list)
//! 5. `filing` (立案, duplicates)
//! 6. `history`, `changes` (the feed back to devices)
//! 7. `dict`, then `sql` (shared helpers), then `conn` (SQL on either backend), then `error` (the
//!    storage-neutral `StoreError`)
//!
//! Beside them, each over `sql` only: `accounts`, `devices`, `blobs`, `basemaps`, `patrols`, `sync_health`, `stats_facts`.

mod accounts;
mod audit;
mod backend;
mod basemaps;
mod blobs;
mod campaigns;
mod cases;
mod changes;
pub(crate) mod conn;
mod coverage;
mod devices;
mod dict;
mod error;
mod evidence;
mod exports;
mod filing;
mod findings;
mod grids;
mod heat;
mod history;
mod ingest;
mod integrations;
mod inventory;
pub mod migrate;
mod patrols;
mod postgres;
mod reports;
mod review;
mod schema;
mod sql;
mod sqlite;
mod stats_facts;
mod store;
mod sync_health;
mod task_results;
mod tasks;
mod webhooks;

pub use accounts::{DepartmentView, NewSession, NewUser, SecondFactor, TeamView, UserUpdate, UserView};
pub use audit::{AuditEntry, AuditFilter, AuditRecord};
pub use blobs::UploadState;
pub use cases::{ActionInput, CaseFilter, CaseMeta, CaseRequest, CaseView, GeoPoint, HistoryEntry, TaskView};
pub use changes::ChangePage;
pub use devices::{DeviceUser, DeviceView, RegisterOutcome};
pub use error::{DATABASE_DOWN, DISK_FULL, StoreError, StoreResult};
pub use evidence::SignedOp;
pub use findings::{FindingMeta, ReviewItem};
pub use heat::{HeatFilter, HeatKind, HeatPoint};
pub use ingest::SyncContext;
pub use integrations::IntegrationToken;
pub use patrols::{PatrolView, RoadWalked};
pub use postgres::{Dumped, PgStore, WRITE_LOCK};
pub use reports::{ReportFilter, TaskFilter};
pub use review::Decision;
pub use sqlite::SqliteStore;
pub use store::{AccountStore, PhotoStore, Store};
pub use sync_health::{DayCount, RejectedOp, SyncHealth};
pub use tasks::TaskChange;
pub use webhooks::{Attempt, AttemptOutcome, Claim, Delivery, DueDelivery, Endpoint, OutboxEvent, Webhook};
