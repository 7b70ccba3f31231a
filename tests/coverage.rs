//! Patrol coverage (巡查覆盖): `GET /coverage` answers for every road (or grid) of the dictionary, walked or
//! not, from the patrol tracks the phones sent; the roads nobody walked come first.

use chrono::{Duration, Local};
use serde_json::{Value, json};
use tiejiaoban::{Api, Server};

/// Track points from `from` to `to` (`[lat, lon]`) in `n` steps, a minute apart from `start`.
fn line(from: [f64; 2], to: [f64; 2], n: usize, start: chrono::DateTime<Local>) -> Vec<Value> {
    (0..=n)
        .map(|i| {
            let k = i as f64 / n as f64;
            let t = start + Duration::minutes(i as i64);
            json!({"t": t.to_rfc3339(), "lat": from[0] + (to[0] - from[0]) * k,
                   "lon": from[1] + (to[1] - from[1]) * k, "accuracy_m": 5.0})
        })
        .collect()
}

/// Coverage from yesterday to today: the test's patrol may have been walked yesterday evening.
fn coverage(api: &Api, token: &str, by: &str) -> tiejiaoban::Answer {
    let today = Local::now().format("%Y-%m-%d");
    let yesterday = (Local::now() - chrono::Duration::days(1)).format("%Y-%m-%d");
    api.get(&format!("/coverage?from={yesterday}&to={today}&by={by}"), Some(token))
}

fn row<'a>(answer: &'a Value, key: &str) -> &'a Value {
    answer["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == key)
        .unwrap_or_else(|| panic!("no row {key}: {answer}"))
}

#[test]
fn coverage_shows_the_roads_and_grids_nobody_walked() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let api = server.api();
    let (device_id, token) = api.register("inspector1");
    let chief = api.sign_in("chief1");
    let patrol = uuid::Uuid::now_v7().to_string();
    // The walk takes an hour. It lies within one calendar day: the last hour when there is one before now, or
    // else (a run just after midnight) the evening before. Its roads are then sorted by metres alone.
    let now = Local::now();
    let start = if now.time() >= chrono::NaiveTime::from_hms_opt(1, 0, 0).unwrap() {
        now - Duration::hours(1)
    } else {
        now - Duration::hours(3)
    };
    // Along 中街路 (east–west, the demo district's) for 0.008° (~660 m), then down 正阳街 (north–south at
    // 123.429) for 0.004° (~445 m): two of the district's four roads; 朝阳街 and 北顺城路 stay unwalked.
    let along_zhongjie = line([41.79687, 123.4300], [41.79697, 123.4380], 16, start);
    let along_zhengyang = line([41.7900, 123.4290], [41.7940, 123.42908], 10, start + Duration::minutes(30));
    let send = |seq: u64, kind: &str, body: Value| {
        let ops = json!([{"seq": seq, "kind": kind, "body": body}]);
        let answer = api.post("/sync", Some(&token), &json!({"device_id": device_id, "ops": ops, "cursor": null}));
        assert_eq!(answer.body["results"][0]["status"], "applied", "{}", answer.body);
    };
    send(1, "patrol.start", json!({"id": patrol, "started_at": start.to_rfc3339()}));
    send(2, "patrol.track", json!({"patrol_id": patrol, "points": along_zhongjie}));

    let first = coverage(&api, &chief, "road");
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.body["by"], "road");
    assert_eq!(first.body["rows"].as_array().unwrap().len(), 4, "every road of the dictionary: {}", first.body);
    let walked = row(&first.body, "中街路")["walked_m"].as_f64().unwrap();
    assert!((600.0..700.0).contains(&walked), "{walked}");
    assert_eq!(row(&first.body, "正阳街")["walked_m"], 0.0);

    // The track grows: the kept coverage is computed again.
    send(3, "patrol.track", json!({"patrol_id": patrol, "points": along_zhengyang}));
    let answer = coverage(&api, &chief, "road").body;
    let keys: Vec<&str> = answer["rows"].as_array().unwrap().iter().map(|r| r["key"].as_str().unwrap()).collect();
    // Never walked first (by name), then the walked ones, least walked first.
    assert_eq!(keys, ["北顺城路", "朝阳街", "正阳街", "中街路"], "{answer}");
    for unwalked in ["北顺城路", "朝阳街"] {
        let r = row(&answer, unwalked);
        assert_eq!((r["walked_m"].as_f64(), r["visits"].as_i64()), (Some(0.0), Some(0)), "{r}");
        assert!(r["last_walked_at"].is_null() && r["days_since_walked"].is_null(), "{r}");
    }
    let zhengyang = row(&answer, "正阳街");
    assert!((400.0..500.0).contains(&zhengyang["walked_m"].as_f64().unwrap()), "{zhengyang}");
    // Days since walked: today's date less the last walk's (0, unless the run crossed midnight).
    let last: chrono::DateTime<chrono::FixedOffset> = zhengyang["last_walked_at"].as_str().unwrap().parse().unwrap();
    let days = (Local::now().date_naive() - last.with_timezone(&Local).date_naive()).num_days();
    assert_eq!((zhengyang["visits"].as_i64(), zhengyang["days_since_walked"].as_i64()), (Some(1), Some(days)));

    // As CSV, for the spreadsheet.
    let today = Local::now().format("%Y-%m-%d");
    let yesterday = (Local::now() - chrono::Duration::days(1)).format("%Y-%m-%d");
    let csv = api
        .http
        .get(format!("{}/coverage?from={yesterday}&to={today}&by=road", api.base))
        .bearer_auth(&chief)
        .header("Accept", "text/csv")
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        csv.starts_with("key,name,owner,walked_m,visits,last_walked_at,days_since_walked,findings\n北顺城路,"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 5);

    // Another team's chief sees the roads, none walked by the team; inspectors may not ask.
    let other = coverage(&api, &api.sign_in("chief2"), "road").body;
    assert!(other["rows"].as_array().unwrap().iter().all(|r| r["walked_m"] == 0.0), "{other}");
    assert_eq!(coverage(&api, &token, "road").status, 403);
    assert_eq!(coverage(&api, &chief, "street").status, 422);

    // By grid, once the district has grids: the west one walked (both lines lie in it), the east one not.
    let grids = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "W", "name": "西", "team": "一中队", "inspectors": ["inspector1"]},
         "geometry": {"type": "Polygon", "coordinates": [[[123.420, 41.785], [123.434, 41.785], [123.434, 41.805], [123.420, 41.805], [123.420, 41.785]]]}},
        {"type": "Feature", "properties": {"code": "E", "name": "东", "team": "一中队"},
         "geometry": {"type": "Polygon", "coordinates": [[[123.440, 41.785], [123.450, 41.785], [123.450, 41.805], [123.440, 41.805], [123.440, 41.785]]]}}
    ]});
    let admin = api.sign_in("admin");
    let put = api.send(api.http.put(format!("{}/grids", api.base)).bearer_auth(&admin).body(grids.to_string()));
    assert_eq!(put.status, 200, "{}", put.body);
    let by_grid = coverage(&api, &chief, "grid").body;
    let keys: Vec<&str> = by_grid["rows"].as_array().unwrap().iter().map(|r| r["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["E", "W"], "{by_grid}");
    let west = row(&by_grid, "W");
    assert_eq!((west["name"].as_str(), west["owner"].as_str()), (Some("西"), Some("inspector1")));
    // 中街路 up to 123.434 (~330 m) and all of the 正阳街 line (~445 m).
    let metres = west["walked_m"].as_f64().unwrap();
    assert!((700.0..850.0).contains(&metres), "{west}");
    assert_eq!(row(&by_grid, "E")["walked_m"], 0.0);

    // A patrol that ends has its coverage walked as it ends, before anyone asks.
    let second = uuid::Uuid::now_v7().to_string();
    let later = start + Duration::minutes(50);
    send(4, "patrol.start", json!({"id": second, "started_at": later.to_rfc3339()}));
    send(
        5,
        "patrol.track",
        json!({"patrol_id": second, "points": line([41.7905, 123.4351], [41.7945, 123.43515], 8, later)}),
    );
    let kept = format!("SELECT COUNT(*) FROM patrol_coverage WHERE patrol_id = '{second}'");
    assert_eq!(server.count(&kept), 0);
    send(
        6,
        "patrol.end",
        json!({"id": second, "ended_at": (later + Duration::minutes(9)).to_rfc3339(), "distance_m": 445.0}),
    );
    assert!(server.count(&kept) > 0, "kept at the end");
    let chaoyang = row(&coverage(&api, &chief, "road").body, "朝阳街").clone();
    assert!((400.0..500.0).contains(&chaoyang["walked_m"].as_f64().unwrap()), "{chaoyang}");
}
