//! With `--demo`, a small district (teams, users of every role, roads) to try the system with. It only adds
//! what is missing.

use chrono::Utc;
use protocol::{Dictionary, Road, Role};

use crate::auth::hash_password;
use crate::db::{NewUser, Store};
use crate::error::{AppError, AppResult};
use crate::seed::ensure_dictionary;

/// The password of every demo user; printed by `serve --demo` and in the README.
pub const DEMO_PASSWORD: &str = "demo1234";

/// (username, display name, role, team, department)
type DemoUser = (&'static str, &'static str, Role, Option<&'static str>, Option<&'static str>);
const DEMO_USERS: &[DemoUser] = &[
    ("inspector1", "张伟", Role::Inspector, Some("一中队"), None),
    ("inspector2", "李娜", Role::Inspector, Some("一中队"), None),
    ("inspector3", "王强", Role::Inspector, Some("二中队"), None),
    ("chief1", "刘洋 (一中队长)", Role::Chief, Some("一中队"), None),
    ("chief2", "陈静 (二中队长)", Role::Chief, Some("二中队"), None),
    ("dispatcher1", "赵敏 (指挥中心)", Role::Dispatcher, None, None),
    ("dept-hw", "环卫处", Role::Department, None, Some("HW")),
    ("dept-sz", "市政处", Role::Department, None, Some("SZ")),
    ("dept-zf", "城管执法大队", Role::Department, None, Some("ZF")),
    ("admin", "系统管理员", Role::Admin, None, None),
];

/// A few roads of a demo district (Shenyang, Shenhe), centre lines as [lat, lon].
fn demo_roads() -> Vec<Road> {
    let road = |name: &str, grid: &str, points: &[[f64; 2]]| Road {
        name: name.to_owned(),
        grid: Some(grid.to_owned()),
        points: points.to_vec(),
        chief: None,
    };
    vec![
        road("中街路", "210103001", &[[41.7968, 123.4280], [41.7969, 123.4330], [41.7970, 123.4385]]),
        road("正阳街", "210103002", &[[41.7900, 123.4290], [41.7950, 123.4291], [41.8000, 123.4292]]),
        road("朝阳街", "210103003", &[[41.7905, 123.4350], [41.7955, 123.4352], [41.8005, 123.4353]]),
        road("北顺城路", "210103004", &[[41.8010, 123.4260], [41.8011, 123.4320], [41.8012, 123.4400]]),
    ]
}

/// Seeds the demo district; idempotent.
pub fn seed_demo(store: &dyn Store) -> AppResult<Vec<&'static str>> {
    ensure_dictionary(store)?;
    let dict = store.dictionary()?.ok_or_else(|| AppError::internal("no dictionary after seeding"))?;
    // Only on top of the bundled default: a dictionary an admin imported is left as it is.
    if dict.roads.is_empty() && dict.version == 1 {
        store.import_dictionary(Dictionary { roads: demo_roads(), ..dict }, Utc::now())?;
    }
    let mut added = Vec::new();
    for (username, name, role, team, department) in DEMO_USERS {
        if store.user_credentials(username)?.is_some() {
            continue;
        }
        store.add_user(
            NewUser {
                username: (*username).to_owned(),
                password_hash: hash_password(DEMO_PASSWORD)?,
                display_name: (*name).to_owned(),
                role: *role,
                team: team.map(str::to_owned),
                department: department.map(str::to_owned),
            },
            Utc::now(),
        )?;
        added.push(*username);
    }
    Ok(added)
}
