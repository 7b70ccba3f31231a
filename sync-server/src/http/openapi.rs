//! `GET /api/v1/openapi.json`: an OpenAPI 3 description of every endpoint, built from the table below,
//! which lists the same routes as `http/mod.rs` (a test checks that every route is described).

use axum::Json;
use serde_json::{Map, Value, json};

/// (method, path, summary, who may call it, request schema, success status, response schema)
type Endpoint =
    (&'static str, &'static str, &'static str, &'static str, Option<&'static str>, u16, Option<&'static str>);

pub const ENDPOINTS: &[Endpoint] = &[
    ("get", "/health", "Server health, version, protocol and photo size limit", "anyone", None, 200, Some("Health")),
    (
        "post",
        "/devices/register",
        "Register a device for a user; issues a device token",
        "anyone with credentials",
        Some("RegisterRequest"),
        201,
        Some("RegisterResponse"),
    ),
    (
        "post",
        "/sessions",
        "Console sign-in; issues a session token",
        "anyone with credentials",
        Some("SessionRequest"),
        201,
        Some("SessionResponse"),
    ),
    ("delete", "/sessions/current", "Sign the console session out", "console session", None, 204, None),
    (
        "head",
        "/blobs/{sha256}",
        "Bytes held of a photo: Upload-Offset, Blob-Complete headers",
        "signed in",
        None,
        200,
        None,
    ),
    ("put", "/blobs/{sha256}", "Upload a whole photo (image/jpeg or image/png)", "signed in", None, 201, None),
    (
        "patch",
        "/blobs/{sha256}",
        "Resume an upload from Upload-Offset (application/offset+octet-stream)",
        "signed in",
        None,
        204,
        None,
    ),
    (
        "get",
        "/blobs/{sha256}",
        "A photo's bytes",
        "its uploader, or who may see a finding, case or task using it",
        None,
        200,
        None,
    ),
    (
        "post",
        "/sync",
        "Send ops, receive results and changes since the cursor",
        "device token of that device",
        Some("SyncRequest"),
        200,
        Some("SyncResponse"),
    ),
    (
        "get",
        "/review",
        "Findings observed on a day (?date=YYYY-MM-DD&limit&offset)",
        "chief (own team), dispatcher, admin",
        None,
        200,
        Some("ReviewList"),
    ),
    (
        "post",
        "/findings/{id}/review",
        "Approve, reject or merge a finding",
        "chief (own team), dispatcher, admin",
        Some("ReviewRequest"),
        200,
        Some("ReviewAnswer"),
    ),
    (
        "get",
        "/cases",
        "Cases (?state&department&overdue=true)",
        "by role: all, own team, own department, own reports",
        None,
        200,
        Some("CaseList"),
    ),
    ("get", "/cases/{case_no}", "A case with its findings, history and tasks", "by role", None, 200, Some("Case")),
    (
        "post",
        "/cases/{case_no}/actions",
        "dispatch, accept, return, handle, close, suspend, resume, void, extend",
        "by action and role",
        Some("CaseAction"),
        200,
        Some("Case"),
    ),
    (
        "get",
        "/stats",
        "Evaluation indicators (?from&to&group_by); Accept: text/csv for CSV",
        "chief (own team), dispatcher, admin",
        None,
        200,
        Some("Stats"),
    ),
    ("get", "/devices", "Registered devices with last sync and backlog", "admin", None, 200, Some("DeviceList")),
    ("post", "/devices/{id}/revoke", "Revoke a device", "admin", None, 200, Some("Device")),
    ("get", "/me", "The user of the token", "signed in", None, 200, Some("Me")),
    ("get", "/dictionary", "The current category dictionary", "signed in", None, 200, Some("Dictionary")),
    (
        "post",
        "/dictionary",
        "Import a dictionary as a new version, pushed to devices",
        "admin",
        Some("Dictionary"),
        200,
        Some("Imported"),
    ),
    ("get", "/users", "Users", "admin", None, 200, Some("UserList")),
    ("post", "/users", "Add a user", "admin", Some("NewUser"), 201, Some("User")),
    (
        "patch",
        "/users/{username}",
        "Change a user: display_name, role, team (null clears), department, active, password",
        "admin",
        Some("UserPatch"),
        200,
        Some("UserView"),
    ),
    ("get", "/teams", "Teams with their active members", "admin, dispatcher", None, 200, Some("TeamList")),
    ("post", "/teams", "Add a team", "admin", Some("NewTeam"), 201, Some("Team")),
    (
        "get",
        "/departments",
        "The dictionary's departments with users and open cases",
        "admin, dispatcher",
        None,
        200,
        Some("DepartmentList"),
    ),
    (
        "post",
        "/tasks/{id}/reassign",
        "Give an open verification task to another inspector, same deadline",
        "dispatcher, admin, chief of the case's team",
        Some("TaskChange"),
        200,
        Some("Case"),
    ),
    (
        "post",
        "/tasks/{id}/cancel",
        "Cancel an open verification task",
        "dispatcher, admin, chief of the case's team",
        Some("TaskChange"),
        200,
        Some("Case"),
    ),
    (
        "get",
        "/patrols",
        "Patrols of a day with tracks (?date=YYYY-MM-DD)",
        "chief (own team), dispatcher, admin",
        None,
        200,
        Some("PatrolList"),
    ),
    ("get", "/sync-health", "Rejected ops, ops per day, storage", "admin", None, 200, Some("SyncHealth")),
    ("get", "/openapi.json", "This description", "anyone", None, 200, None),
];

fn obj(fields: &[(&str, Value)]) -> Value {
    let props: Map<String, Value> = fields.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
    json!({"type": "object", "properties": props})
}

fn s(t: &str) -> Value {
    json!({"type": t})
}

fn r(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn arr(items: Value) -> Value {
    json!({"type": "array", "items": items})
}

fn schemas() -> Value {
    let time = json!({"type": "string", "format": "date-time"});
    let uuid = json!({"type": "string", "format": "uuid"});
    let location = obj(&[
        ("lat", s("number")),
        ("lon", s("number")),
        ("accuracy_m", s("number")),
        ("source", json!({"enum": ["gps", "network", "manual"]})),
        ("fixed_at", time.clone()),
    ]);
    let photo = obj(&[
        ("sha256", s("string")),
        ("role", json!({"enum": ["before", "after"]})),
        ("taken_at", time.clone()),
        ("width", s("integer")),
        ("height", s("integer")),
        ("bytes", s("integer")),
    ]);
    let user = obj(&[
        ("id", uuid.clone()),
        ("username", s("string")),
        ("display_name", s("string")),
        ("role", json!({"enum": ["inspector", "chief", "dispatcher", "department", "admin"]})),
        ("team", s("string")),
        ("department", s("string")),
    ]);
    let review_item = obj(&[
        ("id", uuid.clone()),
        ("reporter", s("string")),
        ("category", s("string")),
        ("description", s("string")),
        ("address", s("string")),
        ("observed_at", time.clone()),
        ("location", r("Location")),
        ("photos", arr(r("PhotoRef"))),
        ("fixed_on_spot", s("boolean")),
        ("urgent", s("boolean")),
        ("state", json!({"enum": ["pending_review", "filed", "merged", "rejected"]})),
        ("case_no", s("string")),
        ("possible_duplicate_of", s("string")),
    ]);
    let case = obj(&[
        ("case_no", s("string")),
        ("state", json!({"enum": ["filed", "dispatched", "accepted", "handled", "closed", "suspended", "voided"]})),
        ("category", s("string")),
        ("department", s("string")),
        ("due_at", time.clone()),
        ("overdue", s("boolean")),
        ("self_handled", s("boolean")),
        ("rework_count", s("integer")),
        ("findings", arr(r("ReviewItem"))),
        (
            "history",
            arr(obj(&[
                ("at", time.clone()),
                ("actor", s("string")),
                ("role", s("string")),
                ("action", s("string")),
                ("from", s("string")),
                ("to", s("string")),
                ("note", s("string")),
                ("photos", arr(s("string"))),
                ("due_at", time.clone()),
            ])),
        ),
    ]);
    let stats_row = obj(&[
        ("key", s("string")),
        ("reported", s("integer")),
        ("valid", s("integer")),
        ("valid_rate", s("number")),
        ("self_handled", s("integer")),
        ("verify_due", s("integer")),
        ("verified_on_time", s("integer")),
        ("due", s("integer")),
        ("handled_on_time", s("integer")),
        ("on_time_rate", s("number")),
        ("handled", s("integer")),
        ("rework", s("integer")),
        ("rework_rate", s("number")),
        ("closed", s("integer")),
        ("closed_on_time", s("integer")),
    ]);
    json!({
        "Error": obj(&[("error", obj(&[("code", s("string")), ("message", s("string")), ("details", s("object"))]))]),
        "Health": obj(&[("status", s("string")), ("version", s("string")), ("protocol", s("integer")), ("server_time", time.clone()), ("max_blob_bytes", s("integer"))]),
        "User": user,
        "Me": obj(&[("user", r("User"))]),
        "RegisterRequest": obj(&[("username", s("string")), ("password", s("string")), ("device", obj(&[("id", uuid.clone()), ("name", s("string")), ("platform", s("string")), ("app_version", s("string"))]))]),
        "RegisterResponse": obj(&[("token", s("string")), ("user", r("User")), ("server_time", time.clone())]),
        "SessionRequest": obj(&[("username", s("string")), ("password", s("string"))]),
        "SessionResponse": obj(&[("token", s("string")), ("user", r("User")), ("expires_at", time.clone())]),
        "Location": location,
        "PhotoRef": photo,
        "Finding": obj(&[("id", uuid.clone()), ("patrol_id", uuid.clone()), ("category", s("string")), ("description", s("string")), ("urgent", s("boolean")), ("fixed_on_spot", s("boolean")), ("location", r("Location")), ("address", s("string")), ("road", s("string")), ("grid", s("string")), ("facility_code", s("string")), ("observed_at", time.clone()), ("photos", arr(r("PhotoRef")))]),
        "SyncRequest": obj(&[("device_id", uuid.clone()), ("ops", arr(obj(&[("seq", s("integer")), ("kind", json!({"enum": ["finding.create", "patrol.start", "patrol.track", "patrol.end", "task.complete"]})), ("body", s("object"))]))), ("cursor", s("string"))]),
        "SyncResponse": obj(&[("results", arr(obj(&[("seq", s("integer")), ("status", json!({"enum": ["applied", "duplicate", "rejected", "retry"]})), ("finding", s("object")), ("patrol", s("object")), ("task", s("object")), ("error", s("object"))]))), ("changes", arr(s("object"))), ("cursor", s("string")), ("more", s("boolean")), ("server_time", time.clone())]),
        "ReviewItem": review_item,
        "ReviewList": obj(&[("findings", arr(r("ReviewItem")))]),
        "ReviewRequest": obj(&[("decision", json!({"enum": ["approve", "reject", "merge"]})), ("reason", s("string")), ("case_no", s("string")), ("category", s("string"))]),
        "ReviewAnswer": obj(&[("finding", r("ReviewItem")), ("case", r("Case"))]),
        "Case": case,
        "CaseList": obj(&[("cases", arr(r("Case")))]),
        "CaseAction": obj(&[("action", json!({"enum": ["dispatch", "accept", "return", "handle", "close", "suspend", "resume", "void", "extend"]})), ("department", s("string")), ("note", s("string")), ("photos", arr(s("string"))), ("hours", s("number"))]),
        "Stats": obj(&[("from", s("string")), ("to", s("string")), ("group_by", s("string")), ("rows", arr(stats_row))]),
        "Device": obj(&[("id", uuid.clone()), ("name", s("string")), ("platform", s("string")), ("app_version", s("string")), ("user", s("object")), ("last_sync_at", time.clone()), ("revoked_at", time.clone()), ("backlog", s("integer"))]),
        "DeviceList": obj(&[("devices", arr(r("Device")))]),
        "Dictionary": obj(&[("version", s("integer")), ("categories", arr(s("object"))), ("departments", arr(s("object"))), ("roads", arr(s("object")))]),
        "Imported": obj(&[("version", s("integer"))]),
        "NewUser": obj(&[("username", s("string")), ("password", s("string")), ("display_name", s("string")), ("role", s("string")), ("team", s("string")), ("department", s("string"))]),
        "UserList": obj(&[("users", arr(r("User")))]),
        "PatrolList": obj(&[("patrols", arr(obj(&[("id", uuid.clone()), ("user", s("object")), ("team", s("string")), ("started_at", time.clone()), ("ended_at", time.clone()), ("distance_m", s("number")), ("findings", s("integer")), ("points", arr(s("array"))), ("roads", arr(obj(&[("name", s("string")), ("distance_m", s("number"))])))])))]),
        "UserPatch": obj(&[("display_name", s("string")), ("role", s("string")), ("team", s("string")), ("department", s("string")), ("active", s("boolean")), ("password", s("string"))]),
        "UserView": obj(&[("id", uuid.clone()), ("username", s("string")), ("display_name", s("string")), ("role", s("string")), ("team", s("string")), ("department", s("string")), ("active", s("boolean"))]),
        "Team": obj(&[("name", s("string")), ("members", s("integer")), ("created_at", time.clone())]),
        "TeamList": obj(&[("teams", arr(r("Team")))]),
        "NewTeam": obj(&[("name", s("string"))]),
        "DepartmentList": obj(&[("departments", arr(obj(&[("code", s("string")), ("name", s("string")), ("users", s("integer")), ("open_cases", s("integer"))])))]),
        "TaskChange": obj(&[("assignee", s("string")), ("note", s("string"))]),
        "SyncHealth": obj(&[("rejected_ops", arr(s("object"))), ("ops_per_day", arr(s("object"))), ("storage_bytes", s("integer"))]),
    })
}

pub fn document() -> Value {
    let mut paths = Map::new();
    for (method, path, summary, who, request, status, response) in ENDPOINTS {
        let mut op = json!({
            "summary": summary,
            "description": format!("Who may call it: {who}."),
            "responses": {
                "default": {"description": "an error", "content": {"application/json": {"schema": r("Error")}}}
            }
        });
        let ok = match response {
            Some(name) => json!({"description": "success", "content": {"application/json": {"schema": r(name)}}}),
            None => json!({"description": "success"}),
        };
        op["responses"][status.to_string()] = ok;
        if let Some(name) = request {
            op["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": r(name)}}});
        }
        if !matches!(*path, "/health" | "/devices/register" | "/sessions" | "/openapi.json") || *method == "delete" {
            op["security"] = json!([{"bearer": []}]);
        }
        let params: Vec<Value> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|p| p.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        if !params.is_empty() {
            op["parameters"] = json!(params);
        }
        let entry = paths.entry(format!("/api/v1{path}")).or_insert_with(|| json!({}));
        entry[*method] = op;
    }
    json!({
        "openapi": "3.0.3",
        "info": {"title": "Tiejiaoban (铁脚板) sync server", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Sync protocol v1 for field devices and the console API of the case engine."},
        "paths": paths,
        "components": {"schemas": schemas(), "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}}
    })
}

pub async fn openapi() -> Json<Value> {
    Json(document())
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_route_is_described_and_every_reference_resolves() {
        let doc = super::document();
        let routes = include_str!("mod.rs");
        for (method, path, ..) in super::ENDPOINTS {
            assert!(doc["paths"][format!("/api/v1{path}")][*method].is_object(), "{method} {path}");
        }
        // Every `.route("...")` of the router appears in the table.
        for line in routes.lines().filter(|l| l.trim_start().starts_with(".route(\"")) {
            let path = line.split('"').nth(1).unwrap();
            if path == "/" {
                continue; // the redirect to the console, not part of the API
            }
            assert!(super::ENDPOINTS.iter().any(|(_, p, ..)| *p == path), "route {path} is not described");
        }
        let text = doc.to_string();
        for part in text.split("#/components/schemas/").skip(1) {
            let name = part.split('"').next().unwrap();
            assert!(doc["components"]["schemas"][name].is_object(), "schema {name} is referenced but missing");
        }
    }
}
