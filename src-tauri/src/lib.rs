//! The Tauri shell of the inspector's app. Commands are thin: each one calls into the device core and
//! turns its error into `{code, message}` for the front end. No logic lives here.

mod commands;
mod error;
mod photo_scheme;
mod sync_loop;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use device::DeviceStore;
use tauri::{Manager, Runtime};

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

/// The builder with every command and the `photo` scheme registered; generic so tests can pass tauri's
/// mock runtime. The caller manages `Core` and `Syncer` (see `manage_core`).
pub fn builder<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder
        .manage(commands::Uploads::default())
        .register_asynchronous_uri_scheme_protocol("photo", photo_scheme::serve)
        .invoke_handler(tauri::generate_handler![
            commands::status,
            commands::register,
            commands::dictionary,
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
            commands::sync_now,
            commands::sync_state,
            commands::sync_cancel,
            commands::notify_network,
            commands::settings_get,
            commands::settings_set,
            commands::nearby_cases,
            commands::simulated_location,
        ])
}

/// Opens the store under `home` and puts it, with its syncer, into the app's state.
pub fn manage_core<R: Runtime, M: Manager<R>>(app: &M, home: &std::path::Path) -> Result<Syncer, CommandError> {
    let core = Core::open(home)?;
    let syncer = Syncer::new(core.store.clone());
    app.manage(core);
    app.manage(syncer.clone());
    Ok(syncer)
}

#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    let app = builder(tauri::Builder::default());
    // Phones take positions from the platform's location service; the web view's geolocation is the
    // fallback (see ui/src/app/position.ts). Desktop builds have neither the plugin nor its permissions.
    #[cfg(mobile)]
    let app = app.plugin(tauri_plugin_geolocation::init());
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
