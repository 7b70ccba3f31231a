//! The commands the app's web view may call. Database work runs off the main thread.

use tauri::State;

use crate::{CommandError, Core};

/// The device at a glance: registration, queue, last sync.
#[tauri::command]
pub async fn status(core: State<'_, Core>) -> Result<device::Status, CommandError> {
    let store = core.store.lock().unwrap_or_else(|e| e.into_inner());
    Ok(store.status()?)
}
