//! Place, as both ends compute it: which unit grid (单元网格) a position lies in, grids read from GeoJSON and
//! checked, and (for coverage) what a patrol's track walked. The phone assigns a grid offline from the
//! dictionary it holds, so the report form shows it before any sync; the server assigns it again on receipt,
//! and its answer is the record. One implementation for both, so they agree.
//!
//! Positions are WGS-84 `[lat, lon]` as everywhere in the protocol; the geometry library works in `x = lon,
//! y = lat`, and the conversion happens here only.

mod address;
mod coverage;
#[cfg(feature = "fixtures")]
pub mod fixtures;
mod grids;
mod import;

pub use address::road_in_address;
pub use coverage::{RoadIndex, TrackPoint, Walked, Walks, walk};
pub use grids::{GridIndex, check, shape};
pub use import::{GridImport, ImportError, OVERLAP_WARN_M2, Overlap, import_geojson, overlaps};
