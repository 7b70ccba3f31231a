//! What the store benchmarks share: a store as the server opens it, an inspector, a registered device.

use chrono::Utc;
use protocol::{DeviceInfo, Role};
use sync_server::Zone;
use sync_server::db::{AccountStore, NewUser, SqliteStore};
use sync_server::domain::EngineSettings;
use sync_server::domain::calendar::WorkCalendar;
use sync_server::principal::{Principal, User};
use uuid::Uuid;

/// A store in `dir` with the bundled dictionary, with the engine's usual settings.
pub fn open_store(dir: &std::path::Path) -> SqliteStore {
    let settings = EngineSettings {
        zone: Zone::Host,
        calendar: WorkCalendar::default(),
        verify_hours: 24.0,
        duplicate_radius_m: 50.0,
        duplicate_window_hours: 72.0,
    };
    let store = SqliteStore::open(dir, settings).unwrap();
    sync_server::seed::ensure_dictionary(&store).unwrap();
    store
}

pub fn inspector(store: &SqliteStore, username: &str, team: &str) -> User {
    let user = NewUser {
        username: username.into(),
        password_hash: "unused".into(),
        display_name: format!("巡查员 {username}"),
        role: Role::Inspector,
        team: Some(team.into()),
        department: None,
    };
    store.add_user(user, Utc::now()).unwrap()
}

/// Registers a device of `user` named `name`; the principal its requests carry.
pub fn device(store: &SqliteStore, user: &User, name: &str) -> Principal {
    let device = DeviceInfo {
        id: Uuid::now_v7(),
        name: name.into(),
        platform: "bench".into(),
        app_version: "0".into(),
        public_key: None,
    };
    store.register_device(user, &device, &format!("token-hash-{name}"), Utc::now()).unwrap();
    Principal { user: user.clone(), device_id: Some(device.id), address: None, enrol_only: false }
}
