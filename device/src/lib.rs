//! What runs on the phone without Tauri: the local store (findings, photos, outbox, dictionary), the photo
//! pipeline, and the sync client. The Tauri app, the `patrol` command line and the load generator all
//! use it, so that a report made anywhere takes the same path to the server.

pub mod basemaps;
pub mod error;
mod fast_jpeg;
pub mod photo;
pub mod stamp;
pub mod store;
pub mod sync;

pub use error::{DeviceError, DeviceResult};
pub use photo::{PhotoOptions, PhotoPipeline, ProcessedPhoto};
pub use store::{
    Account, DeviceStore, FindingRow, NewFinding, PatrolRow, PlaceAt, Places, Settings, StagedPhoto, Status, TaskRow,
};
pub use sync::{SyncClient, SyncReport};

/// The app version devices announce when they register.
pub const APP_VERSION: &str = env!("CARGO_PKG_VERSION");
