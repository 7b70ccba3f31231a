//! `GET /api/v1/openapi.json`: an OpenAPI 3 description of every endpoint. The paths come from the table
//! below, which lists the same routes as `http/mod.rs` (a test checks that every route is described); the
//! schemas are generated from the Rust types (`schemars`, from their serde attributes). The document is also
//! committed as `sync-server/openapi.json`, and a test fails when that file is not what the types give
//! (`UPDATE_OPENAPI=1 cargo test -p sync-server openapi` writes it anew).

use axum::Json;
use schemars::generate::{Contract, SchemaSettings};
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
    ("get", "/cases/{case_no}", "A case with its findings, history and tasks", "by role", None, 200, Some("CaseView")),
    (
        "post",
        "/cases/{case_no}/actions",
        "dispatch, accept, return, handle, close, suspend, resume, void, extend",
        "by action and role",
        Some("ActionRequest"),
        200,
        Some("CaseView"),
    ),
    (
        "get",
        "/cases/{case_no}/evidence",
        "The case's evidence package (application/zip): the case, its findings' ops as received with their \
         signatures, the device keys, every photo, the history; check it with `sync-server evidence verify`",
        "who may see the case",
        None,
        200,
        None,
    ),
    (
        "get",
        "/stats",
        "Evaluation indicators (?from&to&group_by); Accept: text/csv for CSV",
        "chief (own team), dispatcher, admin",
        None,
        200,
        Some("StatsAnswer"),
    ),
    (
        "get",
        "/coverage",
        "Patrol coverage of a period (?from&to&by=road|grid): every road or grid, walked or not, longest unwalked \
         first; Accept: text/csv for CSV",
        "chief (own team), dispatcher, admin",
        None,
        200,
        Some("CoverageAnswer"),
    ),
    (
        "get",
        "/heatmap",
        "Where the findings or cases of a period are (?from&to&kind=findings|cases&category&state&team)",
        "chief (own team), dispatcher, admin",
        None,
        200,
        Some("HeatAnswer"),
    ),
    ("get", "/campaigns", "Campaigns (每月一主题), the newest first", "signed in", None, 200, Some("CampaignList")),
    (
        "post",
        "/campaigns",
        "Define a campaign, or change the one of that id: 201 when new, 200 when replaced",
        "dispatcher, admin",
        Some("Campaign"),
        201,
        Some("Campaign"),
    ),
    ("get", "/devices", "Registered devices with last sync and backlog", "admin", None, 200, Some("DeviceList")),
    ("post", "/devices/{id}/revoke", "Revoke a device", "admin", None, 200, Some("DeviceView")),
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
    (
        "put",
        "/grids",
        "Import the grids (单元网格) from a GeoJSON FeatureCollection as a new dictionary version; 422 names the \
         refused feature in details.feature",
        "admin",
        None,
        200,
        Some("GridsImported"),
    ),
    (
        "get",
        "/me/totp",
        "Whether the caller signs in with a second factor (TOTP) and whether the server requires one",
        "console session",
        None,
        200,
        Some("TotpStatus"),
    ),
    (
        "post",
        "/me/totp",
        "Begin setting up two-factor sign-in: a secret and its otpauth:// link; 409 when it is on already",
        "console session",
        None,
        201,
        Some("TotpEnrolment"),
    ),
    (
        "delete",
        "/me/totp",
        "Turn two-factor sign-in off with a current code; 403 for an admin on a server that requires it",
        "console session",
        Some("TotpCode"),
        204,
        None,
    ),
    (
        "post",
        "/me/totp/confirm",
        "Confirm the set-up with the app's first code; from then on sign-in takes `totp`",
        "console session",
        Some("TotpCode"),
        200,
        Some("TotpStatus"),
    ),
    ("delete", "/users/{username}/totp", "Remove a user's second factor (a lost phone)", "admin", None, 204, None),
    (
        "post",
        "/retention/run",
        "Run the retention rule now: remove the photos of cases closed more than --purge-photos-after-days ago \
         (409 when the server runs without it)",
        "admin",
        None,
        200,
        Some("Purged"),
    ),
    (
        "post",
        "/webhooks",
        "Register a webhook (format json: signed with X-Tiejiaoban-Signature) or a department's group robot \
         (wecom, dingtalk)",
        "admin",
        Some("NewWebhook"),
        201,
        Some("Webhook"),
    ),
    (
        "get",
        "/webhooks",
        "Webhooks and group robots, with counts of their deliveries",
        "admin",
        None,
        200,
        Some("WebhookList"),
    ),
    ("get", "/webhooks/{id}", "A webhook", "admin", None, 200, Some("Webhook")),
    ("delete", "/webhooks/{id}", "Stop a webhook; what waited for it is cancelled", "admin", None, 204, None),
    ("post", "/webhooks/{id}/ping", "Send a test event to a webhook", "admin", None, 202, Some("Queued")),
    (
        "get",
        "/webhooks/{id}/deliveries",
        "A webhook's deliveries, the newest first, each with every try and its answer (?state=&limit=)",
        "admin",
        None,
        200,
        Some("DeliveryList"),
    ),
    (
        "post",
        "/webhooks/{id}/deliveries/{delivery}/retry",
        "Send a delivery again, now, with a new day of retries",
        "admin",
        None,
        202,
        Some("Queued"),
    ),
    (
        "post",
        "/exports",
        "Export cases or findings of a period and filter as CSV, XLSX or GeoJSON (photos: a ZIP with them), made in \
         the background",
        "who may list cases (findings: review them), over what they may see",
        Some("ExportRequest"),
        202,
        Some("ExportJob"),
    ),
    (
        "get",
        "/exports",
        "The caller's exports (the admin's: all), the newest first",
        "signed in",
        None,
        200,
        Some("ExportList"),
    ),
    ("get", "/exports/{id}", "An export and its progress", "who asked, the admin", None, 200, Some("ExportJob")),
    (
        "get",
        "/exports/{id}/file",
        "The finished file (409 while it is made or when it failed; kept for a week)",
        "who asked, the admin",
        None,
        200,
        None,
    ),
    (
        "post",
        "/integrations",
        "Issue a token for another system (a bearer token and Open311's api_key), acting as a user who is not an \
         admin; shown once",
        "admin",
        Some("NewIntegration"),
        201,
        Some("IssuedToken"),
    ),
    (
        "get",
        "/integrations",
        "Integration tokens (never the tokens themselves)",
        "admin",
        None,
        200,
        Some("IntegrationList"),
    ),
    ("delete", "/integrations/{id}", "Revoke an integration token", "admin", None, 204, None),
    ("get", "/users", "Users", "admin", None, 200, Some("UserList")),
    ("post", "/users", "Add a user", "admin", Some("NewUserRequest"), 201, Some("UserInfo")),
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
    ("post", "/teams", "Add a team", "admin", Some("NewTeam"), 201, Some("TeamView")),
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
        "/reports",
        "Take a report from another channel (受理): 201; the same id and body again: 200 with the report as it is \
         now, another body: 409. verify (default true) sends a 核实 task to an inspector of its place",
        "dispatcher, chief, admin",
        Some("NewReport"),
        201,
        Some("ReportAnswer"),
    ),
    (
        "get",
        "/reports",
        "Reports, the newest first (?state=verifying|filed|not_confirmed&channel&limit); contact for dispatcher and \
         admin only",
        "dispatcher, chief, admin",
        None,
        200,
        Some("ReportList"),
    ),
    ("get", "/reports/{id}", "One report", "dispatcher, chief, admin", None, 200, Some("ReportAnswer")),
    (
        "post",
        "/tasks",
        "Give a free task (inspect: 点名抽查, 领导交办) to an inspector: 201; the same id and body again: 200",
        "dispatcher, admin, chief (own team)",
        Some("NewTask"),
        201,
        Some("TaskItem"),
    ),
    (
        "get",
        "/tasks",
        "Free and 核实 tasks with their results, the newest first (?type=verify|confirm|inspect&limit)",
        "dispatcher, admin, chief (own team)",
        None,
        200,
        Some("TaskList"),
    ),
    (
        "post",
        "/tasks/{id}/reassign",
        "Give an open verification task to another inspector, same deadline",
        "dispatcher, admin, chief of the case's team",
        Some("TaskChangeRequest"),
        200,
        Some("CaseView"),
    ),
    (
        "post",
        "/tasks/{id}/cancel",
        "Cancel an open verification task",
        "dispatcher, admin, chief of the case's team",
        Some("TaskChangeRequest"),
        200,
        Some("CaseView"),
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
    (
        "get",
        "/audit",
        "The audit log, the newest first (?from&to=YYYY-MM-DD&action&actor&limit); Accept: text/csv for CSV",
        "admin",
        None,
        200,
        Some("AuditList"),
    ),
    ("get", "/basemaps", "The offline base maps offered (MBTiles)", "signed in", None, 200, Some("BasemapList")),
    (
        "get",
        "/basemaps/{name}",
        "A base map's file; Range: bytes=n- answers 206 from byte n",
        "signed in",
        None,
        200,
        None,
    ),
    (
        "put",
        "/basemaps/{name}",
        "Upload an MBTiles file (?datum=wgs84|gcj02): 201, or 200 when replaced",
        "admin",
        None,
        201,
        Some("Basemap"),
    ),
    ("delete", "/basemaps/{name}", "Delete a base map", "admin", None, 204, None),
    (
        "get",
        "/basemaps/{name}/tiles/{z}/{x}/{y}",
        "One tile of a base map (rows from the north; y may end in .png): the console's map",
        "signed in",
        None,
        200,
        None,
    ),
    ("get", "/openapi.json", "This description", "anyone", None, 200, None),
];

fn r(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// The schemas of every type the endpoints take or answer with, generated from the Rust types themselves
/// (their serde attributes included), so that they cannot drift from what is sent. What the server sends is
/// described as it serialises it (a field always sent is required, `null` or not); what it only takes is
/// described as it reads it (a field with a default may be left out). A type that is both is described as sent.
fn schemas() -> Map<String, Value> {
    let mut sent = SchemaSettings::openapi3().with(|s| s.contract = Contract::Serialize).into_generator();
    let mut taken = SchemaSettings::openapi3().into_generator();
    macro_rules! add {
        ($generator:ident: $($t:ty),* $(,)?) => { $( $generator.subschema_for::<$t>(); )* };
    }
    add!(sent:
        protocol::ErrorBody,
        protocol::Health,
        protocol::UserInfo,
        protocol::RegisterResponse,
        protocol::SessionResponse,
        protocol::SyncResponse,
        protocol::Dictionary,
        super::users::Me,
        crate::retention::Purged,
        super::webhooks::WebhookList,
        super::webhooks::DeliveryList,
        super::webhooks::Queued,
        super::exports::ExportList,
        crate::domain::exports::ExportJob,
        super::integrations::IntegrationList,
        super::integrations::IssuedToken,
        crate::db::Webhook,
        super::second_factor::TotpStatus,
        super::second_factor::TotpEnrolment,
        super::users::UserList,
        super::review::ReviewList,
        super::cases::ReviewAnswer,
        super::cases::CaseList,
        super::stats::StatsAnswer,
        super::coverage::CoverageAnswer,
        super::coverage::HeatAnswer,
        super::campaigns::CampaignList,
        protocol::Campaign,
        super::reports::ReportList,
        super::audit::AuditList,
        super::reports::TaskList,
        crate::domain::reports::ReportAnswer,
        crate::domain::reports::TaskItem,
        super::devices::DeviceList,
        super::dictionary::Imported,
        crate::grids::GridsImported,
        super::patrols::PatrolList,
        super::teams::TeamList,
        super::teams::DepartmentList,
        crate::db::CaseView,
        crate::db::DeviceView,
        crate::db::TeamView,
        crate::db::UserView,
        crate::db::SyncHealth,
        protocol::BasemapList,
        protocol::Basemap,
    );
    add!(taken:
        crate::domain::webhooks::NewWebhook,
        crate::domain::exports::ExportRequest,
        super::integrations::NewIntegration,
        protocol::RegisterRequest,
        protocol::SessionRequest,
        protocol::SyncRequest,
        // The ops a sync request carries, by `kind`.
        protocol::Finding,
        protocol::PatrolStart,
        protocol::PatrolTrack,
        protocol::PatrolEnd,
        protocol::TaskComplete,
        super::users::NewUserRequest,
        super::second_factor::TotpCode,
        super::users::UserPatch,
        super::cases::ReviewRequest,
        super::cases::ActionRequest,
        super::cases::TaskChangeRequest,
        super::teams::NewTeam,
        crate::domain::reports::NewReport,
        crate::domain::reports::NewTask,
    );
    let mut schemas = taken.take_definitions(true);
    schemas.extend(sent.take_definitions(true));
    schemas
}

pub fn document() -> Value {
    let mut paths = Map::new();
    for (method, path, summary, who, request, status, response) in ENDPOINTS {
        let mut op = json!({
            "summary": summary,
            "description": format!("Who may call it: {who}."),
            "responses": {
                "default": {"description": "an error", "content": {"application/json": {"schema": r("ErrorBody")}}}
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
        "components": {"schemas": Value::Object(schemas()), "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}}
    })
}

pub async fn openapi() -> Json<Value> {
    Json(canonical(document()))
}

/// The document with every object's keys in order, whatever order serde_json keeps them in (the order of
/// insertion where a crate of the build turns on `preserve_order`): what `openapi.json` holds.
fn canonical(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, canonical(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(canonical).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_committed_document_is_the_generated_one() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json");
        let generated = serde_json::to_string_pretty(&super::canonical(super::document())).unwrap() + "\n";
        if std::env::var_os("UPDATE_OPENAPI").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "sync-server/openapi.json is not what the types give: run `UPDATE_OPENAPI=1 cargo test -p sync-server \
             openapi` and commit the file"
        );
    }

    #[test]
    fn the_schemas_follow_the_types() {
        // Fields the hand-kept schemas had lost (case, sync request, sync health, dictionary) are there.
        let schemas = super::schemas();
        let fields = |name: &str| -> Vec<String> {
            let props = schemas[name]["properties"].as_object().unwrap_or_else(|| panic!("{name}: {}", schemas[name]));
            props.keys().cloned().collect()
        };
        for (name, field) in [
            ("CaseView", "category_name"),
            ("CaseView", "tasks"),
            ("SyncRequest", "backlog"),
            ("SyncRequest", "dictionary_version"),
            ("SyncHealth", "devices"),
            ("Dictionary", "routes"),
        ] {
            assert!(fields(name).iter().any(|f| f == field), "{name} lacks {field}: {:?}", fields(name));
        }
    }

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
            if path == "/" || line.contains("open311::") {
                continue; // the redirect to the console, and Open311 (described by its own standard), not this API
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
