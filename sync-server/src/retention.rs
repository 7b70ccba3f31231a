//! Retention: with `--purge-photos-after-days N`, the photos of cases closed more than N days ago are removed,
//! every night at 02:00 (the server's zone) and when an admin asks (`POST /api/v1/retention/run`). A photo is
//! removed only when every record that uses it belongs to such a case; its hash stays in every record, the
//! history stays whole, and each run that removes anything is in the audit log. On packs the photo's room is
//! given back to the filesystem (a hole punched into its pack); in object storage its object is deleted.

use chrono::{DateTime, Duration, FixedOffset, Utc};
use serde::Serialize;

use crate::audit::AuditEntry;
use crate::config::Zone;
use crate::error::AppResult;
use crate::state::AppState;

/// When the nightly run starts, in the server's zone.
const NIGHTLY: chrono::NaiveTime = chrono::NaiveTime::from_hms_opt(2, 0, 0).unwrap();

/// Photos looked at in one batch.
const BATCH: usize = 200;

/// What a run removed.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Purged {
    /// Photos of cases closed before this moment were removed (the server's zone).
    pub closed_before: DateTime<FixedOffset>,
    pub photos: u64,
    pub bytes: u64,
    /// Photos whose bytes could not be removed (kept, and tried again at the next run).
    pub failed: u64,
}

/// Removes the photos of cases closed more than `days` days before `now`; `actor` is the admin who asked
/// (`None`: the schedule).
pub async fn purge_photos(
    state: &AppState,
    days: u32,
    now: DateTime<Utc>,
    actor: Option<AuditEntry>,
) -> AppResult<Purged> {
    let closed_before = now - Duration::days(i64::from(days));
    let mut purged = Purged { closed_before: state.config.zone.at(closed_before), photos: 0, bytes: 0, failed: 0 };
    // Photos whose bytes could not be removed this run: taken back, and not chosen again until the next run.
    let mut skipped: Vec<String> = Vec::new();
    loop {
        let limit = BATCH + skipped.len();
        let batch = state.blocking(move |s| s.photos_to_purge(closed_before, limit)).await?;
        let batch: Vec<_> = batch.into_iter().filter(|m| !skipped.contains(&m.sha256)).collect();
        if batch.is_empty() {
            break;
        }
        let shas: Vec<String> = batch.iter().map(|m| m.sha256.clone()).collect();
        // The rows first: a crash before the bytes are gone leaves bytes nobody is served, never the reverse.
        let marked = state.blocking(move |s| s.mark_photos_purged(&shas, closed_before, Utc::now())).await?;
        for meta in batch.into_iter().filter(|m| marked.contains(&m.sha256)) {
            let (sha, bytes) = (meta.sha256.clone(), meta.bytes);
            match state.photos.remove(meta).await {
                Ok(()) => {
                    purged.photos += 1;
                    purged.bytes += bytes;
                }
                Err(e) => {
                    tracing::error!(error = %e, photo = %sha, "retention: a photo's bytes could not be removed");
                    purged.failed += 1;
                    let s2 = sha.clone();
                    state.blocking(move |s| s.unmark_photo_purged(&s2)).await?;
                    skipped.push(sha);
                }
            }
        }
    }
    if purged.photos > 0 || purged.failed > 0 || actor.is_some() {
        let mut entry = actor.unwrap_or(AuditEntry {
            actor: None,
            role: None,
            action: "photos.purge",
            target: None,
            detail: None,
            address: None,
            outcome: "ok",
        });
        entry.action = "photos.purge";
        entry.outcome = if purged.failed > 0 { "partial" } else { "ok" };
        entry.detail = Some(format!(
            "{} photos, {} bytes, of cases closed before {}; {} could not be removed",
            purged.photos,
            purged.bytes,
            purged.closed_before.format("%Y-%m-%d %H:%M"),
            purged.failed
        ));
        state.audit(entry).await;
    }
    Ok(purged)
}

/// The next 02:00 of the server's zone after `now`.
fn next_run(zone: Zone, now: DateTime<Utc>) -> DateTime<Utc> {
    let today = zone.at(now).date_naive();
    let tonight = zone.to_utc(today.and_time(NIGHTLY));
    if tonight > now { tonight } else { zone.to_utc((today + Duration::days(1)).and_time(NIGHTLY)) }
}

/// Runs the rule every night at 02:00 of the server's zone, for as long as the server runs.
pub fn schedule(state: AppState, days: u32) {
    tokio::spawn(async move {
        loop {
            let wait = (next_run(state.config.zone, Utc::now()) - Utc::now()).to_std().unwrap_or_default();
            tokio::time::sleep(wait).await;
            match purge_photos(&state, days, Utc::now(), None).await {
                Ok(p) => {
                    tracing::info!(photos = p.photos, bytes = p.bytes, "retention: photos of closed cases removed")
                }
                Err(e) => tracing::error!(error = %e, "retention: the run failed; it is tried again tomorrow"),
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nightly_run_is_the_next_two_o_clock_of_the_servers_zone() {
        let beijing = Zone::parse("+08:00").unwrap();
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        // 01:30 in Beijing: tonight's 02:00, half an hour on.
        assert_eq!(next_run(beijing, at("2026-12-04T17:30:00Z")), at("2026-12-04T18:00:00Z"));
        // 02:00 itself and later: tomorrow's.
        assert_eq!(next_run(beijing, at("2026-12-04T18:00:00Z")), at("2026-12-05T18:00:00Z"));
        assert_eq!(next_run(beijing, at("2026-12-05T09:00:00Z")), at("2026-12-05T18:00:00Z"));
    }
}
