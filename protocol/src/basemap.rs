//! Offline base maps: MBTiles packages the server offers and phones download (`GET /api/v1/basemaps`).

use serde::{Deserialize, Serialize};

use crate::Timestamp;

/// The datum a package's tiles are drawn in. Positions are WGS-84 everywhere else; a GCJ-02 map (most
/// Chinese online maps) needs them shifted for drawing, once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumString)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Datum {
    Wgs84,
    Gcj02,
}

impl Datum {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
    pub fn parse(s: &str) -> Option<Datum> {
        s.parse().ok()
    }
}

/// The package format; MBTiles only (an SQLite file of raster tiles).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "lowercase")]
pub enum BasemapFormat {
    Mbtiles,
}

/// One offered package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Basemap {
    pub name: String,
    pub format: BasemapFormat,
    pub datum: Datum,
    /// `[west, south, east, north]` in degrees.
    pub bounds: [f64; 4],
    pub minzoom: u8,
    pub maxzoom: u8,
    pub bytes: u64,
    pub sha256: String,
    pub updated_at: Timestamp,
    /// Extension: the tiles' image type (`png`, `jpg` or `webp`).
    #[serde(default)]
    pub tile_format: Option<String>,
}

/// `GET /api/v1/basemaps`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct BasemapList {
    pub basemaps: Vec<Basemap>,
}

/// A package name: `[a-z0-9-]{1,64}` (it names a file on the server and on phones).
pub fn is_basemap_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_short_lowercase_words() {
        assert!(is_basemap_name("shenhe-2026"));
        assert!(is_basemap_name(&"a".repeat(64)));
        for bad in ["", "Shenhe", "shen_he", "../x", "沈河", "a.mbtiles", &"a".repeat(65)] {
            assert!(!is_basemap_name(bad), "{bad}");
        }
    }

    #[test]
    fn the_listing_form() {
        let b: Basemap = serde_json::from_value(serde_json::json!({
            "name": "shenhe", "format": "mbtiles", "datum": "gcj02", "bounds": [123.3, 41.7, 123.5, 41.9],
            "minzoom": 12, "maxzoom": 17, "bytes": 1024, "sha256": "a".repeat(64),
            "updated_at": "2026-12-04T08:00:00+08:00"
        }))
        .unwrap();
        assert_eq!((b.datum, b.format, b.tile_format), (Datum::Gcj02, BasemapFormat::Mbtiles, None));
        assert_eq!(Datum::parse("wgs84"), Some(Datum::Wgs84));
        assert_eq!(Datum::parse("bd09"), None);
    }
}
