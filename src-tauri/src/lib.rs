//! The Tauri shell of the inspector's app. Commands are thin: each one calls into the device core and
//! turns its error into `{code, message}` for the front end. No logic lives here.

mod commands;
mod error;
mod maps;
mod photo_scheme;
mod sync_loop;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use device::DeviceStore;
use tauri::{Manager, Runtime, generate_handler};

pub use error::CommandError;
pub use sync_loop::Syncer;

/// What the commands share: the device store, opened once at start, and where it lives.
pub struct Core {
    pub store: Arc<Mutex<DeviceStore>>,
    pub home: PathBuf,
}

impl Core {
    pub fn open(home: &std::path::Path) -> Result<Core, CommandError> {
        Ok(Core { store: Arc::new(Mutex::new(DeviceStore::open(home)?)), home: home.to_owned() })
    }
}

/// Where the store lives: `TIEJIAOBAN_HOME` when set (tests, field laptops), else the app's private data dir.
fn home_dir<R: Runtime>(app: &tauri::App<R>) -> Result<PathBuf, Box<dyn std::error::Error>> {
    if let Some(home) = std::env::var_os("TIEJIAOBAN_HOME") {
        return Ok(PathBuf::from(home));
    }
    Ok(app.path().app_data_dir()?)
}

/// Every command of the IPC, listed once: for Tauri's handler (`generate_handler`, generic over the
/// runtime) and for the TypeScript bindings (`collect_commands`, for one runtime). `sync_now` is the one
/// command generic over the runtime, so each caller names it.
macro_rules! ipc_commands {
    ($collect:ident, $($sync_now:tt)+) => {
        $collect![
            commands::status,
            commands::register,
            commands::dictionary,
            commands::place_at,
            commands::campaigns,
            commands::photo_begin,
            commands::photo_append,
            commands::photo_finish,
            commands::report,
            commands::draft_save,
            commands::draft_submit,
            commands::draft_delete,
            commands::findings,
            commands::finding,
            commands::tasks,
            commands::complete_task,
            commands::patrol_start,
            commands::patrol_pause,
            commands::patrol_resume,
            commands::patrol_end,
            commands::patrol_track,
            $($sync_now)+,
            commands::sync_state,
            commands::sync_cancel,
            commands::notify_network,
            commands::settings_get,
            commands::settings_set,
            commands::nearby_cases,
            commands::simulated_location,
            maps::map_layers,
            maps::basemaps_installed,
            maps::basemaps_offered,
            maps::basemap_download,
            maps::basemap_cancel,
            maps::basemap_remove,
        ]
    };
}

/// The builder with every command and the `photo` scheme registered; generic so tests can pass tauri's
/// mock runtime. The caller manages `Core` and `Syncer` (see `manage_core`).
pub fn builder<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder
        .manage(commands::Uploads::default())
        .register_asynchronous_uri_scheme_protocol("photo", photo_scheme::serve)
        .register_asynchronous_uri_scheme_protocol("tiles", maps::serve)
        .invoke_handler(ipc_commands!(generate_handler, commands::sync_now))
}

/// The IPC as the front end sees it: the TypeScript bindings it calls the commands through
/// (`ui/src/app/generated/bindings.ts`, made by `export_bindings`). Commands reject with a `CommandError`,
/// thrown in TypeScript; counts are `u64` in Rust and never near 2^53, so they are numbers there, and
/// so are floats (never NaN).
pub fn ipc() -> tauri_specta::Builder<tauri::Wry> {
    use tauri_specta::collect_commands;
    tauri_specta::Builder::<tauri::Wry>::new()
        .commands(ipc_commands!(collect_commands, commands::sync_now::<tauri::Wry>))
        .error_handling(tauri_specta::ErrorHandlingMode::Throw)
        .dangerously_cast_bigints_to_number()
        // Positions and distances are never NaN or infinite, so an `f64` is a `number`, not `number | null`.
        .semantic_types(specta_typescript::semantic::Configuration::empty().enable_lossless_floats())
}

/// Writes the TypeScript bindings of the IPC to `path`.
pub fn export_bindings(path: &std::path::Path) -> Result<(), String> {
    let header = "// Generated from the Tauri commands (src-tauri/src/commands.rs) by `export_bindings`; do not edit.\n\
                  // UPDATE_BINDINGS=1 cargo test -p tiejiaoban-app bindings writes it again.";
    ipc().export(specta_typescript::Typescript::default().header(header), path).map_err(|e| e.to_string())
}

/// Opens the store under `home` and puts it, with its syncer, into the app's state.
pub fn manage_core<R: Runtime, M: Manager<R>>(app: &M, home: &std::path::Path) -> Result<Syncer, CommandError> {
    let core = Core::open(home)?;
    let syncer = Syncer::new(core.store.clone());
    app.manage(maps::Maps::open(home)?);
    app.manage(core);
    app.manage(syncer.clone());
    Ok(syncer)
}

#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    let app = builder(tauri::Builder::default());
    // Phones take positions from the platform's location service; the web view's geolocation is the
    // fallback (see ui/src/app/position.ts). The opener hands a task's place to the phone's navigation app
    // (ui/src/app/navigation.ts), allowed only those apps' URL schemes. Desktop builds have neither plugin
    // nor their permissions.
    #[cfg(mobile)]
    let app = app.plugin(tauri_plugin_geolocation::init()).plugin(tauri_plugin_opener::init());
    app.setup(|app| {
        let home = home_dir(app)?;
        std::fs::create_dir_all(&home)?;
        let syncer = manage_core(app, &home)?;
        syncer.spawn(app.handle().clone());
        Ok(())
    })
    .run(tauri::generate_context!())
    .expect("error while running the Tiejiaoban app");
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use tauri::ipc::{CallbackFn, InvokeBody};
    use tauri::test::{INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder, mock_context, noop_assets};
    use tauri::webview::InvokeRequest;
    use tauri::{App, WebviewWindow};

    use super::*;

    /// The committed TypeScript bindings are what the commands make now: a command, argument or type
    /// changed in Rust without the bindings written again fails here (and the front end's type check fails
    /// where it calls what changed).
    #[test]
    fn bindings_are_current() {
        let committed = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/app/generated/bindings.ts");
        let dir = tempfile::tempdir().unwrap();
        let fresh = dir.path().join("bindings.ts");
        export_bindings(&fresh).unwrap();
        let fresh = std::fs::read_to_string(&fresh).unwrap();
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            std::fs::create_dir_all(committed.parent().unwrap()).unwrap();
            std::fs::write(&committed, &fresh).unwrap();
        }
        let held = std::fs::read_to_string(&committed).unwrap_or_default();
        assert!(
            held == fresh,
            "ui/src/app/generated/bindings.ts is stale: run UPDATE_BINDINGS=1 cargo test -p tiejiaoban-app bindings"
        );
    }

    fn app(home: &std::path::Path) -> (App<MockRuntime>, WebviewWindow<MockRuntime>) {
        let app = builder(mock_builder()).build(mock_context(noop_assets())).unwrap();
        manage_core(&app, home).unwrap();
        let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap();
        (app, webview)
    }

    fn invoke(webview: &WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> Result<Value, Value> {
        get_ipc_response(
            webview,
            InvokeRequest {
                cmd: cmd.into(),
                callback: CallbackFn(0),
                error: CallbackFn(1),
                url: "tauri://localhost".parse().unwrap(),
                body: InvokeBody::Json(args),
                headers: Default::default(),
                invoke_key: INVOKE_KEY.to_string(),
            },
        )
        .map(|b| b.deserialize::<Value>().unwrap())
    }

    #[test]
    fn status_reports_the_device_store() {
        let home = tempfile::tempdir().unwrap();
        let (_app, webview) = app(home.path());
        let status = invoke(&webview, "status", json!({})).expect("status answers");
        assert_eq!(status["registered"], false);
        assert_eq!(status["pending_ops"], 0);
        assert_eq!(status["open_tasks"], 0);
        assert!(home.path().join("device.sqlite").is_file(), "the command works on the real store file");
    }

    #[test]
    fn unknown_commands_are_refused() {
        let home = tempfile::tempdir().unwrap();
        let (_app, webview) = app(home.path());
        assert!(invoke(&webview, "drop_everything", json!({})).is_err());
    }

    #[test]
    fn photos_arrive_in_chunks_and_are_processed_and_stored() {
        use base64::Engine;
        let home = tempfile::tempdir().unwrap();
        let (_app, webview) = app(home.path());
        let bytes = std::fs::read("../../shared/fixtures/photos/orientation-portrait-6.jpg").unwrap();
        let id = invoke(&webview, "photo_begin", json!({})).unwrap();
        let mut received = 0;
        for chunk in bytes.chunks(100 * 1024) {
            let b64 = base64::engine::general_purpose::STANDARD.encode(chunk);
            received =
                invoke(&webview, "photo_append", json!({"uploadId": id, "chunk": b64})).unwrap().as_u64().unwrap();
        }
        assert_eq!(received as usize, bytes.len());
        let staged =
            invoke(&webview, "photo_finish", json!({"uploadId": id, "lat": 41.8, "lon": 123.4, "accuracy": 5.0}))
                .unwrap();
        let sha = staged["sha256"].as_str().unwrap();
        assert!(staged["height"].as_u64().unwrap() > staged["width"].as_u64().unwrap(), "portrait, turned upright");
        assert!(home.path().join("photos").join(format!("{sha}.jpg")).is_file());
        assert!(home.path().join("photos").join(format!("{sha}.thumb.jpg")).is_file());
        // The upload is gone once finished.
        let again = invoke(&webview, "photo_finish", json!({"uploadId": id})).unwrap_err();
        assert_eq!(again["code"], "invalid");
        // Reporting before registering is refused with a code the UI can act on.
        let refused = invoke(
            &webview,
            "report",
            json!({"input": {"category": "E0102", "location": {"lat": 41.8, "lon": 123.4, "accuracy_m": 5.0, "source": "gps",
                   "fixed_at": "2026-11-22T08:00:00+08:00"}, "photos": [{"sha256": sha, "role": "before"}]}}),
        )
        .unwrap_err();
        assert_eq!(refused["code"], "not_registered");
        assert!(refused["message"].as_str().unwrap().contains("register"));
    }

    /// Every command the front end can call is declared to Tauri's access control (build.rs) and allowed
    /// in both capability files; a command added without its permission would be refused on a phone.
    #[test]
    fn every_command_has_its_permission() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let bindings = std::fs::read_to_string(root.join("../ui/src/app/generated/bindings.ts")).unwrap();
        let commands: Vec<&str> = bindings
            .split("__TAURI_INVOKE<")
            .skip(1)
            .filter_map(|s| s.split("(\"").nth(1)?.split('"').next())
            .collect();
        assert!(commands.len() > 30, "{commands:?}");
        let build = std::fs::read_to_string(root.join("build.rs")).unwrap();
        for file in ["capabilities/desktop.json", "capabilities/mobile.json"] {
            let caps: Value = serde_json::from_str(&std::fs::read_to_string(root.join(file)).unwrap()).unwrap();
            // Phones take their own positions; the simulated one is for desktop runs.
            let skipped: &[&str] = if file.contains("mobile") { &["simulated_location"] } else { &[] };
            for c in commands.iter().filter(|c| !skipped.contains(c)) {
                assert!(build.contains(&format!("\"{c}\"")), "{c} is not in build.rs");
                let permission = format!("allow-{}", c.replace('_', "-"));
                assert!(
                    caps["permissions"].as_array().unwrap().contains(&json!(permission)),
                    "{file} lacks {permission}"
                );
            }
        }
    }

    /// The report form's road and grid come from Rust's rules over the dictionary the phone holds.
    #[test]
    fn the_place_is_the_dictionary_road_within_reach_and_the_grid_holding_it() {
        let home = tempfile::tempdir().unwrap();
        {
            let mut store = DeviceStore::open(home.path()).unwrap();
            let answer: protocol::SyncResponse = serde_json::from_value(json!({
                "results": [], "cursor": "c1", "more": false, "server_time": "2026-12-04T08:00:00+08:00",
                "changes": [{"at": "2026-12-04T08:00:00+08:00", "kind": "dictionary", "version": 3,
                    "categories": [], "departments": [],
                    "roads": [{"name": "中山路", "grid": null, "points": [[41.7968, 123.43], [41.7968, 123.44]]}],
                    "grids": [{"code": "210103001", "name": "中山路北网格", "team": null, "inspectors": [],
                        "polygon": [[[41.7968, 123.43], [41.7968, 123.44], [41.80, 123.44], [41.80, 123.43], [41.7968, 123.43]]]}]}]
            }))
            .unwrap();
            store.apply_answer(&answer).unwrap();
        }
        let (_app, webview) = app(home.path());
        let at = |lat: f64| invoke(&webview, "place_at", json!({"lat": lat, "lon": 123.435})).unwrap();
        // About 5 m north of the centre line: on the road, in the grid north of it.
        assert_eq!(at(41.79685), json!({"road": "中山路", "grid": "210103001", "grid_name": "中山路北网格"}));
        // About 80 m south: beyond the road's reach and outside the grid.
        assert_eq!(at(41.7961), json!({"road": null, "grid": null, "grid_name": null}));
    }

    #[test]
    fn settings_round_trip_and_are_checked() {
        let home = tempfile::tempdir().unwrap();
        let (_app, webview) = app(home.path());
        let mut settings = invoke(&webview, "settings_get", json!({})).unwrap();
        assert_eq!(settings["photo_max_edge"], 1600);
        assert_eq!(settings["language"], "zh-CN");
        settings["wifi_only_photos"] = json!(true);
        settings["language"] = json!("en");
        let saved = invoke(&webview, "settings_set", json!({"settings": settings})).unwrap();
        assert_eq!((saved["wifi_only_photos"].as_bool(), saved["language"].as_str()), (Some(true), Some("en")));
        settings["photo_max_edge"] = json!(10);
        assert_eq!(invoke(&webview, "settings_set", json!({"settings": settings})).unwrap_err()["code"], "invalid");
    }

    #[test]
    fn a_patrol_starts_pauses_and_ends() {
        let home = tempfile::tempdir().unwrap();
        let (_app, webview) = app(home.path());
        invoke(&webview, "patrol_start", json!({})).unwrap();
        assert_eq!(
            invoke(&webview, "patrol_track", json!({"lat": 41.8, "lon": 123.4, "accuracy": 5.0})).unwrap(),
            true
        );
        assert_eq!(invoke(&webview, "patrol_pause", json!({})).unwrap()["paused"], true);
        assert_eq!(
            invoke(&webview, "patrol_track", json!({"lat": 41.81, "lon": 123.4, "accuracy": 5.0})).unwrap(),
            false
        );
        invoke(&webview, "patrol_resume", json!({})).unwrap();
        assert_eq!(
            invoke(&webview, "patrol_track", json!({"lat": 41.801, "lon": 123.4, "accuracy": 5.0})).unwrap(),
            true
        );
        let ended = invoke(&webview, "patrol_end", json!({})).unwrap();
        assert!((ended["distance_m"].as_f64().unwrap() - 111.2).abs() < 1.0, "{ended}");
        assert!(invoke(&webview, "status", json!({})).unwrap()["patrol"].is_null());
    }

    #[test]
    fn a_draft_is_saved_edited_and_queued_and_a_sync_can_be_cancelled() {
        use base64::Engine;
        let home = tempfile::tempdir().unwrap();
        let (app, webview) = app(home.path());
        let location = json!({"lat": 41.8, "lon": 123.4, "accuracy_m": 5.0, "source": "gps",
                              "fixed_at": "2026-11-22T08:00:00+08:00"});
        // A draft with neither category nor photo yet.
        let id = invoke(
            &webview,
            "draft_save",
            json!({"id": null, "input": {"category": "", "location": location,
                        "description": "占道经营", "photos": []}}),
        )
        .unwrap();
        let drafts = invoke(&webview, "findings", json!({"state": "draft"})).unwrap();
        assert_eq!(drafts.as_array().unwrap().len(), 1);
        assert_eq!(drafts[0]["id"], id);

        let bytes = std::fs::read("../../shared/fixtures/photos/orientation-portrait-6.jpg").unwrap();
        let upload = invoke(&webview, "photo_begin", json!({})).unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
        invoke(&webview, "photo_append", json!({"uploadId": upload, "chunk": b64})).unwrap();
        let sha = invoke(&webview, "photo_finish", json!({"uploadId": upload})).unwrap()["sha256"].clone();
        let input = json!({"category": "E0102", "location": location, "description": "占道经营，已劝离",
                           "photos": [{"sha256": sha, "role": "before"}]});
        assert_eq!(invoke(&webview, "draft_save", json!({"id": id, "input": input})).unwrap(), id);
        let detail = invoke(&webview, "finding", json!({"id": id})).unwrap();
        assert_eq!(detail["row"]["local_state"], "draft");
        assert_eq!(detail["finding"]["description"], "占道经营，已劝离");
        assert_eq!(invoke(&webview, "status", json!({})).unwrap()["pending_ops"], 0, "a draft is not queued");

        // Queuing needs a registered device, as a report does.
        assert_eq!(
            invoke(&webview, "draft_submit", json!({"id": id, "input": input})).unwrap_err()["code"],
            "not_registered"
        );
        let account = device::Account {
            server_url: "http://127.0.0.1:9".into(),
            device_id: uuid::Uuid::now_v7(),
            token: "t".into(),
            user: serde_json::from_value(json!({"id": uuid::Uuid::now_v7(), "username": "inspector1",
                "display_name": "巡查员一", "role": "inspector", "team": "一中队"}))
            .unwrap(),
        };
        app.state::<Core>().store.lock().unwrap().set_account(&account).unwrap();
        assert_eq!(invoke(&webview, "draft_submit", json!({"id": id, "input": input})).unwrap(), id);
        assert_eq!(invoke(&webview, "status", json!({})).unwrap()["pending_ops"], 1);
        assert_eq!(invoke(&webview, "finding", json!({"id": id})).unwrap()["row"]["local_state"], "queued");
        // Queued: no longer a draft to change or delete.
        assert_eq!(invoke(&webview, "draft_delete", json!({"id": id})).unwrap_err()["code"], "invalid");
        assert_eq!(invoke(&webview, "draft_save", json!({"id": id, "input": input})).unwrap_err()["code"], "invalid");

        // No sync runs in this test: nothing to cancel.
        assert_eq!(invoke(&webview, "sync_cancel", json!({})).unwrap(), false);
    }
}
