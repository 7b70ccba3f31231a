//! Open311 GeoReport v2 through the real server and the device CLI, as an Open311 client speaks it (plain
//! HTTP, form-encoded posts): the categories as services; a citizen's request posted with an integration
//! token becomes a `citizen` report sent for 核实, followed by its token until it is a case; cases listed and
//! filtered; every refusal in Open311's error form; a revoked token refused; reads closed on request.

use serde_json::{Value, json};
use tiejiaoban::{Device, Server};

fn open311_error(r: reqwest::blocking::Response, status: u16) -> String {
    assert_eq!(r.status().as_u16(), status);
    let body: Value = r.json().unwrap();
    assert_eq!(body[0]["code"], status, "{body}");
    body[0]["description"].as_str().unwrap().to_owned()
}

fn get(http: &reqwest::blocking::Client, url: &str) -> Value {
    let r = http.get(url).send().unwrap();
    assert_eq!(r.status().as_u16(), 200, "{url}");
    r.json().unwrap()
}

#[test]
fn a_citizens_request_posted_over_open311_is_checked_on_site_and_followed_to_its_case() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let api = server.api();
    let admin = api.sign_in("admin");
    let dispatcher = api.sign_in("dispatcher1");
    let http = reqwest::blocking::Client::new();
    let base = format!("{}/open311/v2", server.url);

    // The admin issues the hotline system a token acting as the dispatcher; never as an admin.
    let refused = api.post("/integrations", Some(&dispatcher), &json!({"name": "x", "username": "dispatcher1"}));
    assert_eq!(refused.status, 403);
    let as_admin = api.post("/integrations", Some(&admin), &json!({"name": "x", "username": "admin"}));
    assert_eq!((as_admin.status, as_admin.body["error"]["details"]["field"].as_str()), (422, Some("username")));
    let issued = api.post("/integrations", Some(&admin), &json!({"name": "12345 热线", "username": "dispatcher1"}));
    assert_eq!(issued.status, 201, "{}", issued.body);
    let key = issued.body["secret"].as_str().unwrap().to_owned();
    let listed = api.get("/integrations", Some(&admin));
    assert!(listed.body["tokens"].to_string().contains("12345 热线"));
    assert!(!listed.body.to_string().contains(&key), "the token is shown once only");

    // The services are the dictionary's categories.
    let services = get(&http, &format!("{base}/services.json"));
    let manhole = services.as_array().unwrap().iter().find(|s| s["service_code"] == "C0101").expect("C0101");
    assert_eq!((manhole["service_name"].as_str(), manhole["group"].as_str()), (Some("上水井盖"), Some("部件")));
    assert_eq!(get(&http, &format!("{base}/services/C0101.json"))["service_code"], "C0101");
    assert!(open311_error(http.get(format!("{base}/services.xml")).send().unwrap(), 400).contains(".json"));
    open311_error(http.get(format!("{base}/nothing.json")).send().unwrap(), 404);

    // A citizen's request, form-encoded as Open311 posts it.
    let form = [
        ("api_key", key.as_str()),
        ("service_code", "C0101"),
        ("lat", "41.7940"),
        ("long", "123.4300"),
        ("description", "路口井盖丢了"),
        ("last_name", "王"),
        ("first_name", "先生"),
        ("phone", "13812345678"),
    ];
    let posted = http.post(format!("{base}/requests.json")).form(&form).send().unwrap();
    assert_eq!(posted.status().as_u16(), 201);
    let posted: Value = posted.json().unwrap();
    let token = posted[0]["token"].as_str().expect("a token").to_owned();
    assert_eq!(posted[0]["service_notice"], "已受理，待现场核实");
    assert!(posted[0].get("service_request_id").is_none(), "no case yet: {posted}");
    // Sent again: the same token, nothing new.
    let again = http.post(format!("{base}/requests.json")).form(&form).send().unwrap();
    assert_eq!(again.status().as_u16(), 200);
    assert_eq!(again.json::<Value>().unwrap()[0]["token"], token.as_str());
    let reports = api.get("/reports?channel=citizen", Some(&dispatcher));
    let reports = reports.body["reports"].as_array().unwrap().clone();
    assert_eq!(reports.len(), 1);
    assert_eq!(
        (reports[0]["state"].as_str(), reports[0]["contact"]["name"].as_str()),
        (Some("verifying"), Some("王先生"))
    );
    let pending = get(&http, &format!("{base}/requests/{token}.json"));
    assert_eq!(
        (pending[0]["status"].as_str(), pending[0]["status_notes"].as_str()),
        (Some("open"), Some("待现场核实"))
    );
    assert!(pending[0].get("phone").is_none() && !pending.to_string().contains("13812345678"), "{pending}");
    assert_eq!(get(&http, &format!("{base}/tokens/{token}.json"))[0]["service_request_id"], Value::Null);

    // Refusals, in Open311's form.
    let post = |fields: &[(&str, &str)]| http.post(format!("{base}/requests.json")).form(fields).send().unwrap();
    assert!(
        open311_error(post(&[("service_code", "C0101"), ("lat", "41.79"), ("long", "123.43")]), 403)
            .contains("api_key")
    );
    open311_error(
        post(&[("api_key", "tjb_int_nope"), ("service_code", "C0101"), ("lat", "41.79"), ("long", "123.43")]),
        403,
    );
    let unknown = post(&[("api_key", &key), ("service_code", "Z9999"), ("lat", "41.79"), ("long", "123.43")]);
    assert!(open311_error(unknown, 400).contains("category"));
    assert!(open311_error(post(&[("api_key", &key), ("service_code", "C0101")]), 400).contains("location"));
    assert!(
        open311_error(post(&[("api_key", &key), ("service_code", "C0101"), ("lat", "north"), ("long", "1")]), 400)
            .contains("lat")
    );

    // Checked on site by the grid's inspector, confirmed with a photo: a case, which the token now names.
    let phone = Device::new(&tmp.path().join("phone"));
    phone.register(&server.url, "inspector1");
    phone.complete_task("confirm", "confirmed", "orientation-landscape-1.jpg");
    let case_no = get(&http, &format!("{base}/tokens/{token}.json"))[0]["service_request_id"]
        .as_str()
        .expect("a case")
        .to_owned();
    let followed = get(&http, &format!("{base}/requests/{token}.json"));
    assert_eq!(followed[0]["service_request_id"], case_no.as_str());
    let case = get(&http, &format!("{base}/requests/{case_no}.json"));
    assert_eq!(
        (case[0]["status"].as_str(), case[0]["service_code"].as_str(), case[0]["agency_responsible"].as_str()),
        (Some("open"), Some("C0101"), Some("SW"))
    );
    assert!(case[0]["expected_datetime"].is_string() && case[0]["lat"].is_number() && case[0]["long"].is_number());
    let open = get(&http, &format!("{base}/requests.json?status=open&service_code=C0101"));
    assert!(open.as_array().unwrap().iter().any(|r| r["service_request_id"] == case_no.as_str()));
    assert!(get(&http, &format!("{base}/requests.json?status=closed")).as_array().unwrap().is_empty());
    assert!(get(&http, &format!("{base}/requests.json?service_code=C0301")).as_array().unwrap().is_empty());
    let both = get(&http, &format!("{base}/requests.json?service_request_id={case_no},{token}"));
    assert_eq!(both.as_array().unwrap().len(), 2);
    open311_error(http.get(format!("{base}/requests.json?status=lost")).send().unwrap(), 400);
    open311_error(http.get(format!("{base}/requests/20991231-9999.json")).send().unwrap(), 404);

    // A token never acts as an admin, even when its user is made one after it was issued.
    let promote = |role: &str| {
        let patch = reqwest::blocking::Client::new()
            .patch(format!("{}/api/v1/users/dispatcher1", server.url))
            .bearer_auth(&admin)
            .json(&json!({"role": role}));
        assert_eq!(api.send(patch).status, 200);
    };
    promote("admin");
    open311_error(post(&[("api_key", &key), ("service_code", "C0101"), ("lat", "41.79"), ("long", "123.43")]), 403);
    promote("dispatcher");

    // Revoked: the token stops at once.
    let id = issued.body["id"].as_str().unwrap();
    let revoke =
        reqwest::blocking::Client::new().delete(format!("{}/api/v1/integrations/{id}", server.url)).bearer_auth(&admin);
    assert_eq!(api.send(revoke).status, 204);
    open311_error(post(&[("api_key", &key), ("service_code", "C0101"), ("lat", "41.79"), ("long", "123.43")]), 403);
}

#[test]
fn reads_need_a_key_when_the_server_asks_for_one() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start_with(&tmp.path().join("server"), 0, &["--open311-require-key"], &[]);
    let api = server.api();
    let admin = api.sign_in("admin");
    let key = api.post("/integrations", Some(&admin), &json!({"name": "GIS", "username": "chief1"})).body["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let http = reqwest::blocking::Client::new();
    let base = format!("{}/open311/v2", server.url);
    open311_error(http.get(format!("{base}/services.json")).send().unwrap(), 403);
    open311_error(http.get(format!("{base}/requests.json")).send().unwrap(), 403);
    get(&http, &format!("{base}/services.json?api_key={key}"));
    get(&http, &format!("{base}/requests.json?api_key={key}"));
}
