fn main() {
    // Every command the app exposes is listed here, so that each needs a permission in a capability file.
    tauri_build::try_build(
        tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(&["status"])),
    )
    .expect("tauri build script");
}
