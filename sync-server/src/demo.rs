//! With `--demo`, a small district (teams, users of every role, roads with their chiefs, unit grids, this month's
//! campaign) to try the system with. It only adds what is missing.

use chrono::Utc;
use protocol::{Dictionary, Grid, Road, Role};

use crate::auth::hash_password;
use crate::db::{NewUser, Store, StoreError};
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

/// A few roads of a demo district (Shenyang, Shenhe), centre lines as [lat, lon], with their road chiefs.
fn demo_roads() -> Vec<Road> {
    let road = |name: &str, chief: &str, points: &[[f64; 2]]| Road {
        name: name.to_owned(),
        grid: None,
        points: points.to_vec(),
        chief: Some(chief.to_owned()),
    };
    vec![
        road("中街路", "chief1", &[[41.7968, 123.4280], [41.7969, 123.4330], [41.7970, 123.4385]]),
        road("正阳街", "chief1", &[[41.7900, 123.4290], [41.7950, 123.4291], [41.8000, 123.4292]]),
        road("朝阳街", "chief2", &[[41.7905, 123.4350], [41.7955, 123.4352], [41.8005, 123.4353]]),
        road("北顺城路", "chief2", &[[41.8010, 123.4260], [41.8011, 123.4320], [41.8012, 123.4400]]),
    ]
}

/// The district cut into four unit grids (单元网格) around those roads: west and east of 123.432, south and
/// north of 41.7985; the south ones are 一中队's, the north ones 二中队's.
fn demo_grids() -> Vec<Grid> {
    let grid = |code: &str, name: &str, team: &str, inspectors: &[&str], [s, w, n, e]: [f64; 4]| Grid {
        code: code.to_owned(),
        name: name.to_owned(),
        team: Some(team.to_owned()),
        inspectors: inspectors.iter().map(|i| (*i).to_owned()).collect(),
        polygon: vec![vec![[s, w], [s, e], [n, e], [n, w], [s, w]]],
        parts: Vec::new(),
    };
    vec![
        grid("210103001", "中街西网格", "一中队", &["inspector1"], [41.7895, 123.4255, 41.7985, 123.4320]),
        grid("210103002", "中街东网格", "一中队", &["inspector2"], [41.7895, 123.4320, 41.7985, 123.4405]),
        grid("210103003", "北顺城西网格", "二中队", &["inspector3"], [41.7985, 123.4255, 41.8025, 123.4320]),
        grid("210103004", "北顺城东网格", "二中队", &["inspector3"], [41.7985, 123.4320, 41.8025, 123.4405]),
    ]
}

/// The demo roads and grids, each road in the grid that holds its middle point.
fn demo_places() -> (Vec<Road>, Vec<Grid>) {
    let grids = demo_grids();
    let index = places::GridIndex::new(&grids);
    let roads = demo_roads()
        .into_iter()
        .map(|mut r| {
            let [lat, lon] = r.points[r.points.len() / 2];
            r.grid = index.locate(lat, lon).map(str::to_owned);
            r
        })
        .collect();
    (roads, grids)
}

/// This month's campaign (每月一主题): the manhole covers (C0101–C0105), everywhere.
fn demo_campaign(today: chrono::NaiveDate) -> protocol::Campaign {
    use chrono::Datelike;
    let first = today.with_day(1).unwrap_or(today);
    let next = if first.month() == 12 {
        chrono::NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)
    } else {
        chrono::NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)
    }
    .unwrap_or(today);
    protocol::Campaign {
        id: "demo-manholes".into(),
        name: "井盖专项整治月".into(),
        categories: ["C0101", "C0102", "C0103", "C0104", "C0105"].map(str::to_owned).to_vec(),
        from: first.format("%Y-%m-%d").to_string(),
        to: (next - chrono::Duration::days(1)).format("%Y-%m-%d").to_string(),
        grids: Vec::new(),
    }
}

/// Seeds the demo district; idempotent.
pub fn seed_demo(store: &dyn Store) -> AppResult<Vec<&'static str>> {
    ensure_dictionary(store)?;
    let mut added = Vec::new();
    for (username, name, role, team, department) in DEMO_USERS {
        if store.user_credentials(username)?.is_some() {
            continue;
        }
        let user = NewUser {
            username: (*username).to_owned(),
            password_hash: hash_password(DEMO_PASSWORD)?,
            display_name: (*name).to_owned(),
            role: *role,
            team: team.map(str::to_owned),
            department: department.map(str::to_owned),
        };
        match store.add_user(user, Utc::now()) {
            Ok(_) => added.push(*username),
            // Another server on the same database, starting at the same moment, added it first.
            Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    // After the users: the grids name inspectors. Only on top of the bundled default, or of the demo's roads
    // of before the grids: a dictionary an admin imported is left as it is.
    let dict = store.dictionary()?.ok_or_else(|| AppError::internal("no dictionary after seeding"))?;
    let demo_names: Vec<String> = demo_roads().into_iter().map(|r| r.name).collect();
    let names: Vec<&String> = dict.roads.iter().map(|r| &r.name).collect();
    let bundled = dict.roads.is_empty() && dict.version == 1;
    let demo_without_grids = dict.grids.is_empty() && names.iter().copied().eq(demo_names.iter());
    if bundled || demo_without_grids {
        let (roads, grids) = demo_places();
        store.import_dictionary(Dictionary { roads, grids, ..dict }, Utc::now())?;
    }
    if store.campaigns()?.is_empty() {
        store.save_campaign(&demo_campaign(chrono::Local::now().date_naive()), "admin", Utc::now())?;
    }
    Ok(added)
}
