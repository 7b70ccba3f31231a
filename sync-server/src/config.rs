//! Server settings, with the defaults of the contract.

use std::path::PathBuf;

use chrono::{DateTime, FixedOffset, Local, NaiveDate, NaiveTime, Offset, TimeZone, Utc};

/// The zone in which calendar days are counted (review by date, case numbers). Default: the host's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    Host,
    Fixed(FixedOffset),
}

impl Zone {
    /// Parses `host`, `+08:00`, `-05:30`, `UTC`.
    pub fn parse(s: &str) -> Option<Zone> {
        match s {
            "host" | "local" => Some(Zone::Host),
            "UTC" | "utc" | "Z" => Some(Zone::Fixed(FixedOffset::east_opt(0)?)),
            _ => {
                let (sign, rest) = match s.as_bytes().first()? {
                    b'+' => (1, &s[1..]),
                    b'-' => (-1, &s[1..]),
                    _ => return None,
                };
                let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
                let secs = h.parse::<i32>().ok()? * 3600 + m.parse::<i32>().ok()? * 60;
                FixedOffset::east_opt(sign * secs).map(Zone::Fixed)
            }
        }
    }

    /// A UTC instant as seen in this zone.
    pub fn at(&self, t: DateTime<Utc>) -> DateTime<FixedOffset> {
        match self {
            Zone::Host => t.with_timezone(&Local).fixed_offset(),
            Zone::Fixed(off) => t.with_timezone(off),
        }
    }

    pub fn now(&self) -> DateTime<FixedOffset> {
        self.at(Utc::now())
    }

    /// A wall-clock time of this zone as an instant.
    pub fn to_utc(&self, naive: chrono::NaiveDateTime) -> DateTime<Utc> {
        match self {
            Zone::Host => Local
                .from_local_datetime(&naive)
                .earliest()
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_else(|| naive.and_utc() - Local::now().offset().fix()),
            Zone::Fixed(off) => (naive - *off).and_utc(),
        }
    }

    /// The instants `[start, end)` of a calendar day in this zone.
    pub fn day_bounds(&self, day: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
        let start = day.and_time(NaiveTime::MIN);
        let next = (day + chrono::Days::new(1)).and_time(NaiveTime::MIN);
        (self.to_utc(start), self.to_utc(next))
    }
}

/// Everything `serve` can be told.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    /// Where photos are kept: `None`, packs in the data directory; `s3://BUCKET[/PREFIX]`, object storage.
    pub blobs: Option<String>,
    /// Where the records are: `None`, the embedded SQLite store in the data directory; a `postgres://` URL,
    /// that database (the data directory still holds base maps, the calendar, exports and photo packs).
    pub database: Option<String>,
    /// Served over TLS (answers then carry Strict-Transport-Security).
    pub tls: bool,
    /// Largest photo taken, announced as `max_blob_bytes`.
    pub max_blob_bytes: u64,
    /// Largest offline base map package taken (`PUT /basemaps/{name}`).
    pub max_basemap_bytes: u64,
    /// How long a console session lasts unless its user signs out.
    pub session_hours: i64,
    /// Admins must sign in with a second factor (TOTP).
    pub require_totp_for_admins: bool,
    /// Retention: photos of cases closed more than this many days ago are removed (`None`: kept for ever).
    pub purge_photos_after_days: Option<u32>,
    pub zone: Zone,
    /// Duplicate detection: an open case of the same category within this distance ...
    pub duplicate_radius_m: f64,
    /// ... whose first finding was observed within this many hours.
    pub duplicate_window_hours: f64,
    /// Clock hours an inspector has to verify a handled case (核查).
    pub verify_hours: f64,
    /// Where the built console is; served under `/console/` when present.
    pub console_dir: Option<PathBuf>,
    /// Test hook: abort right after this many sync ops have been made durable.
    pub crash_after_ops: Option<u64>,
    /// Photo hashing through the AVX-512 lanes (`SYNC_SERVER_HASH_LANES=on|off`), for measuring one
    /// against the other; unset, the CPU decides (`HashService::start`).
    pub hash_lanes: Option<bool>,
    /// The address people reach the console at (`https://cg.example.cn`), for links in group robots' messages.
    pub public_url: Option<String>,
    /// How long after a failed webhook delivery the first retry comes (then three times longer each time).
    pub webhook_first_retry: std::time::Duration,
    /// Open311's `GET` calls need an `api_key` too (by default they are open, as Open311 expects).
    pub open311_require_key: bool,
}

impl Config {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Config {
            data_dir: data_dir.into(),
            blobs: None,
            database: None,
            tls: false,
            max_blob_bytes: protocol::DEFAULT_MAX_BLOB_BYTES,
            // A district's raster tiles to zoom 18 are a few hundred megabytes; a city's, a few gigabytes.
            max_basemap_bytes: 8 << 30,
            session_hours: 12,
            require_totp_for_admins: false,
            purge_photos_after_days: None,
            zone: Zone::Host,
            duplicate_radius_m: 50.0,
            duplicate_window_hours: 72.0,
            verify_hours: 24.0,
            console_dir: None,
            crash_after_ops: std::env::var("SYNC_SERVER_CRASH_AFTER_OPS").ok().and_then(|v| v.parse().ok()),
            hash_lanes: match std::env::var("SYNC_SERVER_HASH_LANES").as_deref() {
                Ok("on") => Some(true),
                Ok("off") => Some(false),
                _ => None,
            },
            public_url: None,
            webhook_first_retry: std::time::Duration::from_secs(10),
            open311_require_key: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_parse_and_bound_days() {
        let z = Zone::parse("+08:00").unwrap();
        let (s, e) = z.day_bounds(NaiveDate::from_ymd_opt(2026, 11, 21).unwrap());
        assert_eq!(s.to_rfc3339(), "2026-11-20T16:00:00+00:00");
        assert_eq!(e.to_rfc3339(), "2026-11-21T16:00:00+00:00");
        assert_eq!(Zone::parse("UTC"), Zone::parse("+00:00"));
        assert_eq!(Zone::parse("host"), Some(Zone::Host));
        assert!(Zone::parse("tomorrow").is_none());
    }
}
