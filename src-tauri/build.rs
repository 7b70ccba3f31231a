fn main() {
    // Every command the app exposes is listed here, so that each needs a permission in a capability file.
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(&[
        "status",
        "register",
        "dictionary",
        "photo_begin",
        "photo_append",
        "photo_finish",
        "report",
        "draft_save",
        "draft_submit",
        "draft_delete",
        "findings",
        "finding",
        "tasks",
        "complete_task",
        "patrol_start",
        "patrol_pause",
        "patrol_resume",
        "patrol_end",
        "patrol_track",
        "sync_now",
        "sync_state",
        "sync_cancel",
        "notify_network",
        "settings_get",
        "settings_set",
        "nearby_cases",
        "simulated_location",
    ])))
    .expect("tauri build script");
}
