//! The map's offline side: base map packages (listing, downloading with progress, removing) and the
//! `tiles` scheme that serves their tiles to the web view, `tiles://localhost/<name>/<z>/<x>/<y>`
//! (`http://tiles.localhost/...` on Android and Windows), so that no tile ever needs the network.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use device::basemaps::{Basemaps, DownloadProgress};
use device::sync::SyncClient;
use protocol::Basemap;
use serde::Serialize;
use tauri::http::{Request, Response, StatusCode, header};
use tauri::ipc::Channel;
use tauri::{Manager, Runtime, State, UriSchemeContext, UriSchemeResponder};

use crate::sync_loop::Syncer;
use crate::{CommandError, Core};

/// The packages of this device, shared by the commands and the `tiles` scheme.
pub struct Maps {
    pub basemaps: Arc<Basemaps>,
    /// Set to stop the download under way.
    cancel: AtomicBool,
    /// One download at a time.
    one_at_a_time: tokio::sync::Mutex<()>,
}

impl Maps {
    pub fn open(home: &std::path::Path) -> Result<Maps> {
        Ok(Maps {
            basemaps: Arc::new(Basemaps::open(home)?),
            cancel: AtomicBool::new(false),
            one_at_a_time: tokio::sync::Mutex::new(()),
        })
    }
}

type Result<T> = std::result::Result<T, CommandError>;

fn failed(code: &str, message: impl Into<String>) -> CommandError {
    CommandError { code: code.into(), message: message.into() }
}

/// A package the server offers, and what this device holds of it.
#[derive(Debug, Serialize, specta::Type)]
pub struct BasemapOffer {
    pub basemap: Basemap,
    /// `installed` (this very file), `older` (another version of it), `partial` (a download to resume)
    /// or `none`.
    pub held: String,
    /// Bytes already on the phone of a download to resume.
    pub partial_bytes: u64,
}

/// Markers a map shows at most; beyond them the oldest findings are left out.
const MAP_FINDINGS: u32 = 2000;

/// What the map draws, from the phone's store (works with no network): my findings, open tasks, the team's
/// open cases and the running patrol's track.
#[tauri::command]
#[specta::specta]
pub async fn map_layers(core: State<'_, Core>) -> Result<device::store::MapLayers> {
    let store = core.store.clone();
    tauri::async_runtime::spawn_blocking(move || {
        store.lock().unwrap_or_else(|e| e.into_inner()).map_layers(MAP_FINDINGS).map_err(CommandError::from)
    })
    .await
    .map_err(|e| failed("internal", e.to_string()))?
}

/// The packages installed on this device; works with no network.
#[tauri::command]
#[specta::specta]
pub fn basemaps_installed(maps: State<'_, Maps>) -> Result<Vec<Basemap>> {
    Ok(maps.basemaps.installed()?)
}

/// The packages the server offers, each with what this device holds of it.
#[tauri::command]
#[specta::specta]
pub async fn basemaps_offered(core: State<'_, Core>, maps: State<'_, Maps>) -> Result<Vec<BasemapOffer>> {
    let server = core.store.lock().unwrap_or_else(|e| e.into_inner()).require_account()?.server_url;
    let offered = SyncClient::new(&server)?.basemaps(core.store.as_ref()).await?;
    let installed = maps.basemaps.installed()?;
    Ok(offered
        .into_iter()
        .map(|basemap| {
            let partial = maps.basemaps.partial(&basemap.name).filter(|(e, n)| e.sha256 == basemap.sha256 && *n > 0);
            let (held, partial_bytes) = match (installed.iter().find(|b| b.name == basemap.name), partial) {
                (Some(b), _) if b.sha256 == basemap.sha256 => ("installed", 0),
                (_, Some((_, n))) => ("partial", n),
                (Some(_), None) => ("older", 0),
                (None, None) => ("none", 0),
            };
            BasemapOffer { basemap, held: held.into(), partial_bytes }
        })
        .collect())
}

/// Downloads (or resumes) the package `name`, reporting bytes on the phone on `on_progress`; on a
/// metered network only when `wifi_only_basemaps` is off or `anyway` is set.
#[tauri::command]
#[specta::specta]
pub async fn basemap_download(
    core: State<'_, Core>,
    maps: State<'_, Maps>,
    syncer: State<'_, Syncer>,
    name: String,
    anyway: bool,
    on_progress: Channel<DownloadProgress>,
) -> Result<Basemap> {
    let wifi_only = core.store.lock().unwrap_or_else(|e| e.into_inner()).settings()?.wifi_only_basemaps;
    may_download(syncer.network(), wifi_only, anyway)?;
    let server = core.store.lock().unwrap_or_else(|e| e.into_inner()).require_account()?.server_url;
    let Ok(_one) = maps.one_at_a_time.try_lock() else {
        return Err(failed("busy", "a base map is being downloaded already"));
    };
    maps.cancel.store(false, Ordering::Relaxed);
    let client = SyncClient::new(&server)?;
    let offered = client
        .basemaps(core.store.as_ref())
        .await?
        .into_iter()
        .find(|b| b.name == name)
        .ok_or_else(|| failed("not_found", format!("the server no longer offers the base map {name}")))?;
    let mut report = |p: DownloadProgress| {
        let _ = on_progress.send(p);
    };
    Ok(client.download_basemap(core.store.as_ref(), &maps.basemaps, &offered, &mut report, Some(&maps.cancel)).await?)
}

/// Whether a package may be downloaded on the network the web view reported (`(online, wifi)`): never
/// offline; on a metered network only when the Wi-Fi-only setting is off or the inspector said so.
fn may_download((online, wifi): (bool, bool), wifi_only: bool, anyway: bool) -> Result<()> {
    if !online {
        return Err(failed("offline", "no network: a base map is downloaded when the phone is online"));
    }
    if wifi_only && !wifi && !anyway {
        return Err(failed("needs_wifi", "base maps are downloaded on Wi-Fi only (see the settings)"));
    }
    Ok(())
}

/// Stops the download under way (what arrived stays, to resume); false when none runs.
#[tauri::command]
#[specta::specta]
pub fn basemap_cancel(maps: State<'_, Maps>) -> bool {
    let running = maps.one_at_a_time.try_lock().is_err();
    if running {
        maps.cancel.store(true, Ordering::Relaxed);
    }
    running
}

#[tauri::command]
#[specta::specta]
pub fn basemap_remove(maps: State<'_, Maps>, name: String) -> Result<()> {
    Ok(maps.basemaps.remove(&name)?)
}

/// `tiles://localhost/<name>/<z>/<x>/<y>[.ext]`: a tile of an installed package; 404 where there is none.
pub fn serve<R: Runtime>(ctx: UriSchemeContext<'_, R>, request: Request<Vec<u8>>, responder: UriSchemeResponder) {
    let basemaps = ctx.app_handle().try_state::<Maps>().map(|m| m.basemaps.clone());
    let path = request.uri().path().to_owned();
    std::thread::spawn(move || responder.respond(tile_response(basemaps.as_deref(), &path)));
}

/// The answer to a tile request: the tile, or 404 (no such package, no tile there, a malformed path).
pub fn tile_response(basemaps: Option<&Basemaps>, path: &str) -> Response<Vec<u8>> {
    let not_found = || Response::builder().status(StatusCode::NOT_FOUND).body(Vec::new()).expect("static response");
    let tile = basemaps.and_then(|maps| {
        let (name, z, x, y) = tile_address(path)?;
        maps.tile(name, z, x, y).ok().flatten()
    });
    match tile {
        Some(tile) => Response::builder()
            .header(header::CONTENT_TYPE, tile.content_type)
            .header(header::CACHE_CONTROL, "max-age=3600")
            .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")
            .body(tile.bytes)
            .unwrap_or_else(|_| not_found()),
        None => not_found(),
    }
}

/// `/<name>/<z>/<x>/<y>` with an optional extension on `y`.
fn tile_address(path: &str) -> Option<(&str, u8, u32, u32)> {
    let mut parts = path.trim_start_matches('/').split('/');
    let name = parts.next()?;
    let z = parts.next()?.parse().ok()?;
    let x = parts.next()?.parse().ok()?;
    let y = parts.next()?.split('.').next()?.parse().ok()?;
    parts.next().is_none().then_some((name, z, x, y))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An installed package with one tile at zoom 2, x=1, in the northernmost row (TMS row 3).
    fn installed(home: &std::path::Path) -> Basemaps {
        let file = home.join("made.mbtiles");
        let tile: &[u8] = b"\x89PNG-tile";
        mbtiles::write(&file, &[], [(2, 1, 3, tile)]).unwrap();
        let bytes = std::fs::read(&file).unwrap();
        let offered: Basemap = serde_json::from_value(serde_json::json!({
            "name": "shenhe", "format": "mbtiles", "datum": "wgs84", "bounds": [-180, -85, 180, 85],
            "minzoom": 2, "maxzoom": 2, "bytes": bytes.len(),
            "sha256": hex_sha256(&bytes), "updated_at": "2026-12-04T08:00:00+08:00"
        }))
        .unwrap();
        let maps = Basemaps::open(home).unwrap();
        maps.begin(&offered).unwrap();
        maps.append("shenhe", 0, &bytes).unwrap();
        maps.finish(&offered).unwrap();
        maps
    }

    fn hex_sha256(bytes: &[u8]) -> String {
        use std::fmt::Write;
        let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
        digest.as_ref().iter().fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
    }

    #[test]
    fn the_tiles_scheme_serves_installed_tiles_and_404_elsewhere() {
        let home = tempfile::tempdir().unwrap();
        let maps = installed(home.path());
        let ok = tile_response(Some(&maps), "/shenhe/2/1/0.png");
        assert_eq!(ok.status(), StatusCode::OK);
        assert_eq!(ok.headers()[header::CONTENT_TYPE], "image/png");
        assert_eq!(ok.body(), b"\x89PNG-tile");
        for missing in ["/shenhe/2/1/1", "/shenhe/2/9/0", "/other/2/1/0", "/shenhe/2/1", "/../2/1/0"] {
            assert_eq!(tile_response(Some(&maps), missing).status(), StatusCode::NOT_FOUND, "{missing}");
        }
        assert_eq!(tile_response(None, "/shenhe/2/1/0").status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn downloads_wait_for_a_network_and_for_wifi_unless_told_otherwise() {
        let code = |network, wifi_only, anyway| may_download(network, wifi_only, anyway).err().map(|e| e.code);
        assert_eq!(code((false, false), false, true), Some("offline".to_owned()));
        assert_eq!(code((true, false), true, false), Some("needs_wifi".to_owned()));
        assert_eq!(code((true, false), true, true), None, "the inspector chose mobile data");
        assert_eq!(code((true, false), false, false), None, "the setting is off");
        assert_eq!(code((true, true), true, false), None, "on Wi-Fi");
    }

    #[test]
    fn tile_addresses() {
        assert_eq!(tile_address("/shenhe/14/13810/6131"), Some(("shenhe", 14, 13810, 6131)));
        assert_eq!(tile_address("/shenhe/14/13810/6131.png"), Some(("shenhe", 14, 13810, 6131)));
        for bad in ["/shenhe/14/13810", "/shenhe/a/1/2", "/shenhe/14/1/2/3", "/shenhe/300/1/2"] {
            assert_eq!(tile_address(bad), None, "{bad}");
        }
    }
}
