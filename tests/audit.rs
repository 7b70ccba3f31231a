//! The audit log through the real server: sign-ins (and failures, with the name tried and the address),
//! user, device, dictionary and export actions recorded with who, when and from where; the admin reads it
//! filtered or as CSV, nobody else reads it; the database refuses to change or delete an entry.

use serde_json::{Value, json};
use tiejiaoban::{STRONG_PASSWORD, Server};

#[test]
fn security_relevant_actions_are_logged_for_the_admin_and_kept_append_only() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(&tmp.path().join("server"));
    let api = server.api();
    let admin = api.sign_in("admin");
    let dispatcher = api.sign_in("dispatcher1");
    assert_eq!(api.post("/sessions", None, &json!({"username": "nobody", "password": "guess-guess"})).status, 401);
    let added = api.post(
        "/users",
        Some(&admin),
        &json!({"username": "li", "password": STRONG_PASSWORD, "role": "inspector", "team": "一中队"}),
    );
    assert_eq!(added.status, 201, "{}", added.body);
    let new_password = "巡查-换了-新密码-2026";
    let changed = api.send(
        api.http
            .patch(format!("{}/users/li", api.base))
            .bearer_auth(&admin)
            .json(&json!({"role": "chief", "password": new_password})),
    );
    assert_eq!(changed.status, 200, "{}", changed.body);
    let (device, _) = api.register("inspector2");
    assert_eq!(api.post(&format!("/devices/{device}/revoke"), Some(&admin), &json!({})).status, 200);
    let csv = api.send(
        api.http
            .get(format!("{}/stats?from=2026-01-01&to=2026-12-31&group_by=team", api.base))
            .bearer_auth(&dispatcher)
            .header("Accept", "text/csv"),
    );
    assert_eq!(csv.status, 200);

    let log = api.get("/audit", Some(&admin));
    assert_eq!(log.status, 200, "{}", log.body);
    let entries = log.body["entries"].as_array().unwrap().clone();
    let find = |action: &str, actor: &str| -> Value {
        entries
            .iter()
            .find(|e| e["action"] == action && e["actor"] == actor)
            .unwrap_or_else(|| panic!("no {action} by {actor} in {entries:?}"))
            .clone()
    };
    let signed_in = find("sign_in", "dispatcher1");
    assert_eq!((signed_in["outcome"].as_str(), signed_in["role"].as_str()), (Some("ok"), Some("dispatcher")));
    assert_eq!(signed_in["address"], "127.0.0.1", "from where");
    assert_eq!(find("sign_in", "nobody")["outcome"], "refused");
    assert_eq!(find("user.add", "admin")["target"], "li");
    let change = find("user.change", "admin");
    let detail = change["detail"].as_str().unwrap();
    assert!(detail.contains("role → chief") && detail.contains("password changed"), "{detail}");
    assert!(!log.body.to_string().contains(new_password), "never the password itself");
    assert_eq!(find("device.register", "inspector2")["outcome"], "ok");
    assert!(find("device.revoke", "admin")["target"].as_str().unwrap().starts_with(&device));
    assert_eq!(find("export", "dispatcher1")["target"], "indicators CSV");
    // The newest first.
    let ids: Vec<i64> = entries.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");

    // Filtered by action (a prefix names a family) and by actor; as CSV; for the admin only.
    let users = api.get("/audit?action=user", Some(&admin));
    let actions: Vec<&str> =
        users.body["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["user.change", "user.add"]);
    let by_nobody = api.get("/audit?actor=nobody", Some(&admin));
    assert_eq!(by_nobody.body["entries"].as_array().unwrap().len(), 1);
    let as_csv = api
        .http
        .get(format!("{}/audit?action=sign_in", api.base))
        .bearer_auth(&admin)
        .header("Accept", "text/csv")
        .send()
        .unwrap();
    let text = as_csv.text().unwrap();
    assert!(text.starts_with("at,actor,role,action,target,detail,address,outcome\n"), "{text}");
    assert!(text.lines().skip(1).all(|l| l.contains(",sign_in,")), "{text}");
    assert_eq!(api.get("/audit", Some(&dispatcher)).status, 403);
    assert_eq!(api.get("/audit?from=2026-13-01&to=2026-12-31", Some(&admin)).status, 422);

    // Append-only, by the database itself.
    let db = rusqlite::Connection::open(server.data.join("server.sqlite")).unwrap();
    db.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
    for sql in ["UPDATE audit_log SET actor = 'someone-else'", "DELETE FROM audit_log"] {
        let e = db.execute(sql, []).unwrap_err();
        assert!(e.to_string().contains("append-only"), "{sql}: {e}");
    }
}
