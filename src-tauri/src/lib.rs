//! The Tauri shell of the inspector's app. Commands are thin: each one calls into the device core and
//! turns its error into `{code, message}` for the front end. No logic lives here.

mod commands;
mod error;

use std::path::PathBuf;
use std::sync::Mutex;

use device::DeviceStore;
use tauri::{Manager, Runtime};

pub use error::CommandError;

/// What the commands share: the device store, opened once at start.
pub struct Core {
    pub store: Mutex<DeviceStore>,
}

impl Core {
    pub fn open(home: &std::path::Path) -> Result<Core, CommandError> {
        Ok(Core { store: Mutex::new(DeviceStore::open(home)?) })
    }
}

/// Where the store lives: `TIEJIAOBAN_HOME` when set (tests, field laptops), else the app's private data dir.
fn home_dir<R: Runtime>(app: &tauri::App<R>) -> Result<PathBuf, Box<dyn std::error::Error>> {
    if let Some(home) = std::env::var_os("TIEJIAOBAN_HOME") {
        return Ok(PathBuf::from(home));
    }
    Ok(app.path().app_data_dir()?)
}

/// The builder with every command registered; generic so tests can pass tauri's mock runtime.
pub fn builder<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder.invoke_handler(tauri::generate_handler![commands::status])
}

#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    builder(tauri::Builder::default())
        .setup(|app| {
            let home = home_dir(app)?;
            std::fs::create_dir_all(&home)?;
            app.manage(Core::open(&home)?);
            Ok(())
        })
        .run(tauri::generate_context!())
        .expect("error while running the Tiejiaoban app");
}

#[cfg(test)]
mod tests {
    use tauri::ipc::{CallbackFn, InvokeBody};
    use tauri::test::{INVOKE_KEY, get_ipc_response, mock_builder, mock_context, noop_assets};
    use tauri::webview::InvokeRequest;

    use super::*;

    fn invoke(cmd: &str, home: &std::path::Path) -> Result<serde_json::Value, serde_json::Value> {
        let app = builder(mock_builder()).manage(Core::open(home).unwrap()).build(mock_context(noop_assets())).unwrap();
        let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap();
        get_ipc_response(
            &webview,
            InvokeRequest {
                cmd: cmd.into(),
                callback: CallbackFn(0),
                error: CallbackFn(1),
                url: "tauri://localhost".parse().unwrap(),
                body: InvokeBody::default(),
                headers: Default::default(),
                invoke_key: INVOKE_KEY.to_string(),
            },
        )
        .map(|b| b.deserialize::<serde_json::Value>().unwrap())
    }

    #[test]
    fn status_reports_the_device_store() {
        let home = tempfile::tempdir().unwrap();
        let status = invoke("status", home.path()).expect("status answers");
        assert_eq!(status["registered"], false);
        assert_eq!(status["pending_ops"], 0);
        assert_eq!(status["findings"], 0);
        assert!(home.path().join("device.sqlite").is_file(), "the command works on the real store file");
    }

    #[test]
    fn unknown_commands_are_refused() {
        let home = tempfile::tempdir().unwrap();
        assert!(invoke("drop_everything", home.path()).is_err());
    }
}
