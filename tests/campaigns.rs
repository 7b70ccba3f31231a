//! Campaigns (每月一主题): defined by the centre, announced to the phones, and a filter of the indicators.

use serde_json::{Value, json};
use tiejiaoban::{Device, Server};

#[test]
fn a_campaign_reaches_the_phones_and_filters_the_indicators() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let api = server.api();
    let dispatcher = api.sign_in("dispatcher1");
    let today = chrono::Local::now().date_naive();
    let day = |d: i64| (today + chrono::Duration::days(d)).format("%Y-%m-%d").to_string();
    // The demo runs this month's campaign already.
    let demo = api.get("/campaigns", Some(&dispatcher));
    assert_eq!(demo.body["campaigns"][0]["id"], "demo-manholes", "{}", demo.body);
    let campaign = json!({"id": "manholes-dec", "name": "窨井盖整治", "categories": ["C0101", "C0102"],
                          "from": day(-3), "to": day(27), "grids": []});

    let created = api.post("/campaigns", Some(&dispatcher), &campaign);
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(api.post("/campaigns", Some(&dispatcher), &campaign).status, 200, "the same again replaces nothing");
    // Who may, and what is refused.
    assert_eq!(api.post("/campaigns", Some(&api.sign_in("chief1")), &campaign).status, 403);
    let refused = |body: Value| {
        let a = api.post("/campaigns", Some(&dispatcher), &body);
        assert_eq!(a.status, 422, "{}", a.body);
        a.body["error"]["details"]["field"].as_str().unwrap().to_owned()
    };
    let mut bad = campaign.clone();
    bad["categories"] = json!(["Z9999"]);
    assert_eq!(refused(bad), "categories[0]");
    let mut bad = campaign.clone();
    bad["to"] = json!(day(-10));
    assert_eq!(refused(bad), "to");
    let mut bad = campaign.clone();
    bad["grids"] = json!(["nowhere"]);
    assert_eq!(refused(bad), "grids[0]");
    let mut bad = campaign.clone();
    bad["id"] = json!("Not An Id");
    assert_eq!(refused(bad), "id");
    let listed = api.get("/campaigns", Some(&api.sign_in("inspector1")));
    assert!(listed.body["campaigns"].as_array().unwrap().iter().any(|c| c["name"] == "窨井盖整治"), "{}", listed.body);

    // The phone hears of it with its next sync; a campaign of last year is not running.
    let mut old = campaign.clone();
    old["id"] = json!("cables-last-year");
    old["from"] = json!(day(-400));
    old["to"] = json!(day(-370));
    assert_eq!(api.post("/campaigns", Some(&dispatcher), &old).status, 201);
    let phone = Device::new(&tmp.path().join("phone"));
    phone.register(&server.url, "inspector1");
    phone.ok(&["sync"]);
    let running: Vec<Value> = phone.ok(&["campaigns"]).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let ids: Vec<&str> = running.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&"manholes-dec") && ids.contains(&"demo-manholes"), "{ids:?}");
    assert!(!ids.contains(&"cables-last-year"), "{ids:?}");

    // The indicators of the campaign count its categories only.
    phone.report("C0101", 41.7968, "orientation-landscape-1.jpg");
    phone.report("E0102", 41.7969, "orientation-landscape-1.jpg");
    phone.ok(&["sync"]);
    let today = today.format("%Y-%m-%d");
    let reported = |query: &str| {
        let a = api.get(&format!("/stats?from={today}&to={today}&group_by=team{query}"), Some(&dispatcher));
        assert_eq!(a.status, 200, "{}", a.body);
        a.body["rows"].as_array().unwrap().iter().map(|r| r["reported"].as_u64().unwrap()).sum::<u64>()
    };
    assert_eq!(reported(""), 2);
    assert_eq!(reported("&campaign=manholes-dec"), 1);
    assert_eq!(reported("&campaign=cables-last-year"), 0);
    assert_eq!(api.get(&format!("/stats?from={today}&to={today}&campaign=nope"), Some(&dispatcher)).status, 422);
}
