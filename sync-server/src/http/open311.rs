//! Open311 GeoReport v2 at `/open311/v2/`: the categories as services, cases as service requests, and
//! citizens' reports posted by other systems (12345 adapters, city apps) as reports of channel `citizen`,
//! sent for 核实 like any other report. JSON only; errors are Open311's `[{"code", "description"}]`.
//!
//! A request posted is a report first: its `token` (the report's id) names it until it is filed, and
//! `requests/{token}.json` answers it as it is now (the case once filed). `GET` needs no key unless the
//! server was started with `--open311-require-key`; it never shows photos, callers or reporters.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, FixedOffset, Utc};
use protocol::{Branch, CaseState};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use uuid::Uuid;

use super::extract::{Path, Query};
use crate::auth::token_hash;
use crate::db::{CaseFilter, CaseView};
use crate::domain::GeoPoint;
use crate::domain::reports::{Channel, Contact, NewReport, Report, ReportState};
use crate::error::AppError;
use crate::policy::{Scope, Target, Verb};
use crate::principal::Principal;
use crate::state::AppState;

/// Open311's error answer.
pub struct Open311Error(StatusCode, String);

impl IntoResponse for Open311Error {
    fn into_response(self) -> Response {
        (self.0, Json(json!([{ "code": self.0.as_u16(), "description": self.1 }]))).into_response()
    }
}

impl From<AppError> for Open311Error {
    fn from(e: AppError) -> Self {
        let (api, _) = e.into_api();
        let status = match api.code {
            protocol::ErrorCode::Unauthorized | protocol::ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            protocol::ErrorCode::NotFound => StatusCode::NOT_FOUND,
            protocol::ErrorCode::Invalid | protocol::ErrorCode::Conflict => StatusCode::BAD_REQUEST,
            protocol::ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let field = api.details.as_ref().and_then(|d| d.get("field")).and_then(Value::as_str);
        let text = match field {
            Some(f) => format!("{f}: {}", api.message),
            None => api.message,
        };
        Open311Error(status, text)
    }
}

pub type Answer<T> = Result<T, Open311Error>;

fn bad(text: impl Into<String>) -> Open311Error {
    Open311Error(StatusCode::BAD_REQUEST, text.into())
}

/// `name.json` → `name`; another format is refused.
fn json_file(file: &str) -> Answer<&str> {
    match file.rsplit_once('.') {
        Some((name, "json")) => Ok(name),
        Some((_, format)) => Err(bad(format!("format `{format}` is not offered: ask for .json"))),
        None => Err(Open311Error(StatusCode::NOT_FOUND, "ask for .json".into())),
    }
}

/// The integration token an Open311 call carries (`api_key`), as the user it acts for.
async fn caller(state: &AppState, api_key: Option<&str>) -> Answer<Principal> {
    let key = api_key.map(str::trim).filter(|k| !k.is_empty()).ok_or_else(|| {
        Open311Error(StatusCode::FORBIDDEN, "api_key is required: an integration token issued by the admin".into())
    })?;
    let hash = token_hash(key);
    let principal = state
        .blocking(move |s| s.principal_by_token(&hash, Utc::now()))
        .await?
        .ok_or_else(|| Open311Error(StatusCode::FORBIDDEN, "api_key is not valid".into()))?;
    // A session that may only set up a second factor reaches nothing else, here neither.
    if principal.enrol_only {
        return Err(Open311Error(StatusCode::FORBIDDEN, "set up two-factor sign-in first".into()));
    }
    Ok(principal)
}

async fn may_read(state: &AppState, q: &HashMap<String, String>) -> Answer<()> {
    if state.config.open311_require_key {
        caller(state, q.get("api_key").map(String::as_str)).await?;
    }
    Ok(())
}

#[derive(Debug, Serialize)]
struct Service {
    service_code: String,
    service_name: String,
    description: String,
    metadata: bool,
    #[serde(rename = "type")]
    kind: &'static str,
    keywords: String,
    group: &'static str,
}

/// `GET /open311/v2/services.json`: the dictionary's categories.
pub async fn services(State(state): State<AppState>, Query(q): Query<HashMap<String, String>>) -> Answer<Response> {
    may_read(&state, &q).await?;
    let dictionary = state.blocking(|s| s.dictionary()).await?;
    let services: Vec<Service> = dictionary
        .iter()
        .flat_map(|d| d.categories.iter())
        .map(|c| Service {
            service_code: c.code.clone(),
            service_name: c.name.clone(),
            description: c.name_en.clone(),
            metadata: false,
            kind: "realtime",
            keywords: c.parent.clone().unwrap_or_default(),
            group: match c.branch {
                Branch::Component => "部件",
                Branch::Event => "事件",
            },
        })
        .collect();
    Ok(Json(services).into_response())
}

/// `GET /open311/v2/services/{code}.json`: no attributes are asked for beyond the standard fields.
pub async fn service(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Answer<Response> {
    may_read(&state, &q).await?;
    let code = json_file(&file)?.to_owned();
    let dictionary = state.blocking(|s| s.dictionary()).await?;
    if dictionary.as_ref().and_then(|d| d.category(&code)).is_none() {
        return Err(Open311Error(StatusCode::NOT_FOUND, format!("no service `{code}`")));
    }
    Ok(Json(json!({ "service_code": code, "attributes": [] })).into_response())
}

/// A service request as Open311 describes one.
#[derive(Debug, Serialize)]
struct ServiceRequest {
    service_request_id: String,
    status: &'static str,
    /// The case's state in the platform's words.
    status_notes: String,
    service_name: Option<String>,
    service_code: Option<String>,
    description: String,
    agency_responsible: Option<String>,
    service_notice: Option<String>,
    requested_datetime: DateTime<FixedOffset>,
    updated_datetime: Option<DateTime<FixedOffset>>,
    expected_datetime: Option<DateTime<FixedOffset>>,
    address: Option<String>,
    address_id: Option<String>,
    zipcode: Option<String>,
    lat: Option<f64>,
    long: Option<f64>,
    media_url: Option<String>,
    /// The report's id when the request came in through `POST requests.json`.
    token: Option<String>,
}

fn state_note(state: CaseState) -> &'static str {
    match state {
        CaseState::Filed => "已立案",
        CaseState::Dispatched => "已派遣",
        CaseState::Accepted => "处置中",
        CaseState::Handled => "已处置，待核查",
        CaseState::Closed => "已结案",
        CaseState::Suspended => "挂账",
        CaseState::Voided => "已作废",
    }
}

fn of_case(c: &CaseView, token: Option<String>) -> ServiceRequest {
    let updated = c.history.as_ref().and_then(|h| h.last()).map(|e| e.at);
    ServiceRequest {
        service_request_id: c.case_no.clone(),
        status: if c.state.is_open() { "open" } else { "closed" },
        status_notes: state_note(c.state).to_owned(),
        service_name: c.category_name.clone(),
        service_code: Some(c.category.clone()),
        description: c.description.clone(),
        agency_responsible: c.department.clone(),
        service_notice: None,
        requested_datetime: c.filed_at,
        updated_datetime: updated.or(c.closed_at).or(Some(c.filed_at)),
        expected_datetime: c.due_at,
        address: c.address.clone(),
        address_id: None,
        zipcode: None,
        lat: Some(c.location.lat),
        long: Some(c.location.lon),
        media_url: None,
        token,
    }
}

/// A report not (yet) a case: open while it is checked on site, closed when nothing was found.
fn of_report(r: &Report) -> ServiceRequest {
    let open = r.state == ReportState::Verifying;
    ServiceRequest {
        service_request_id: r.id.to_string(),
        status: if open { "open" } else { "closed" },
        status_notes: if open {
            "待现场核实".into()
        } else {
            format!("现场未发现: {}", r.note.clone().unwrap_or_default())
        },
        service_name: None,
        service_code: r.category.clone(),
        description: r.description.clone(),
        agency_responsible: None,
        service_notice: None,
        requested_datetime: r.received_at,
        updated_datetime: r.decided_at.or(Some(r.received_at)),
        expected_datetime: r.due_at,
        address: r.address.clone(),
        address_id: None,
        zipcode: None,
        lat: r.location.map(|p| p.lat),
        long: r.location.map(|p| p.lon),
        media_url: None,
        token: Some(r.id.to_string()),
    }
}

fn date(q: &HashMap<String, String>, key: &str) -> Answer<Option<DateTime<Utc>>> {
    match q.get(key).map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s
            .parse::<DateTime<FixedOffset>>()
            .map(|t| Some(t.to_utc()))
            .map_err(|_| bad(format!("{key}: `{s}` is not a w3 date-time (2026-12-04T08:00:00+08:00)"))),
    }
}

/// The longest period and the most requests one listing answers (Open311's own defaults).
const DEFAULT_DAYS: i64 = 90;
const MAX_REQUESTS: u32 = 1000;

/// `GET /open311/v2/requests.json?service_request_id=&service_code=&start_date=&end_date=&status=`: cases
/// filed in the period (the last 90 days by default), the newest first, at most 1,000.
pub async fn requests(State(state): State<AppState>, Query(q): Query<HashMap<String, String>>) -> Answer<Response> {
    may_read(&state, &q).await?;
    if let Some(ids) = q.get("service_request_id").filter(|s| !s.trim().is_empty()) {
        let mut out = Vec::new();
        for id in ids.split(',').map(str::trim).filter(|s| !s.is_empty()).take(MAX_REQUESTS as usize) {
            if let Some(r) = one(&state, id).await? {
                out.push(r);
            }
        }
        return Ok(Json(out).into_response());
    }
    let now = Utc::now();
    let end = date(&q, "end_date")?.unwrap_or(now);
    let start = date(&q, "start_date")?.unwrap_or(end - chrono::Duration::days(DEFAULT_DAYS));
    if start > end {
        return Err(bad("start_date is after end_date"));
    }
    let status = match q.get("status").map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) if s == "open" || s == "closed" => Some(s.to_owned()),
        Some(s) => return Err(bad(format!("status: `{s}` is neither open nor closed"))),
    };
    let codes: Vec<String> = q
        .get("service_code")
        .map(|s| s.split(',').map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()).collect())
        .unwrap_or_default();
    let filter = CaseFilter {
        filed: Some((start, end + chrono::Duration::milliseconds(1))),
        limit: Some(MAX_REQUESTS * 4),
        ..CaseFilter::all(Scope::All)
    };
    let cases = state.blocking(move |s| s.cases(&filter, now)).await?;
    let out: Vec<ServiceRequest> = cases
        .iter()
        .filter(|c| codes.is_empty() || codes.contains(&c.category))
        .filter(|c| status.as_deref().is_none_or(|s| (s == "open") == c.state.is_open()))
        .take(MAX_REQUESTS as usize)
        .map(|c| of_case(c, None))
        .collect();
    Ok(Json(out).into_response())
}

/// A case by its number, or a report posted here by its token (its case once filed).
async fn one(state: &AppState, id: &str) -> Answer<Option<ServiceRequest>> {
    if let Ok(report_id) = Uuid::parse_str(id) {
        let Some(report) = state.blocking(move |s| s.report(report_id)).await? else { return Ok(None) };
        if let Some(case_no) = report.case_no.clone() {
            let case = state.blocking(move |s| s.case_detail(&case_no, Utc::now())).await?;
            return Ok(case.map(|c| of_case(&c, Some(report.id.to_string()))));
        }
        return Ok(Some(of_report(&report)));
    }
    let case_no = id.to_owned();
    let case = state.blocking(move |s| s.case_detail(&case_no, Utc::now())).await?;
    Ok(case.map(|c| of_case(&c, None)))
}

/// `GET /open311/v2/requests/{id}.json`: one request, as a list of one.
pub async fn request(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Answer<Response> {
    may_read(&state, &q).await?;
    let id = json_file(&file)?;
    let found =
        one(&state, id).await?.ok_or_else(|| Open311Error(StatusCode::NOT_FOUND, format!("no request `{id}`")))?;
    Ok(Json(vec![found]).into_response())
}

/// `GET /open311/v2/tokens/{token}.json`: the request a posted report became (`service_request_id` null
/// while it is checked on site).
pub async fn token(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Answer<Response> {
    may_read(&state, &q).await?;
    let token = json_file(&file)?;
    let id = Uuid::parse_str(token).map_err(|_| Open311Error(StatusCode::NOT_FOUND, format!("no token `{token}`")))?;
    let report = state
        .blocking(move |s| s.report(id))
        .await?
        .ok_or_else(|| Open311Error(StatusCode::NOT_FOUND, format!("no token `{token}`")))?;
    Ok(Json(json!([{ "service_request_id": report.case_no, "token": token }])).into_response())
}

/// The fields of a posted request: form-encoded as Open311 says, or a JSON object.
fn fields(headers: &HeaderMap, body: &[u8]) -> Answer<HashMap<String, String>> {
    if super::content_type(headers).as_deref() == Some("application/json") {
        let v: HashMap<String, Value> = serde_json::from_slice(body).map_err(|e| bad(format!("the body: {e}")))?;
        return Ok(v
            .into_iter()
            .map(|(k, v)| (k, v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string())))
            .collect());
    }
    Ok(url::form_urlencoded::parse(body).into_owned().collect())
}

/// `POST /open311/v2/requests.json` with `api_key` (an integration token), `service_code`, `lat` and
/// `long` or `address_string`, `description`, and the citizen's `first_name`, `last_name`, `phone`: a report of
/// channel `citizen`, sent for 核实. The same post again answers the same token.
pub async fn post_request(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Answer<Response> {
    let body = super::read_body(body, super::MAX_JSON_BODY).await?;
    let mut f = fields(&headers, &body)?;
    for (k, v) in q {
        f.entry(k).or_insert(v);
    }
    let principal = caller(&state, f.get("api_key").map(String::as_str)).await?;
    principal.may(Verb::ReceiveReport, &Target::Server)?;
    let text = |k: &str| f.get(k).map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let code = text("service_code").ok_or_else(|| bad("service_code is required"))?;
    let number = |k: &str| -> Answer<Option<f64>> {
        text(k).map(|s| s.parse::<f64>().map_err(|_| bad(format!("{k}: `{s}` is not a number")))).transpose()
    };
    let location = match (number("lat")?, number("long")?) {
        (Some(lat), Some(lon)) => Some(GeoPoint { lat, lon }),
        (None, None) => None,
        _ => return Err(bad("lat and long come together")),
    };
    let address = text("address_string");
    if location.is_none() && address.is_none() {
        return Err(bad("a location is required: lat and long, or address_string"));
    }
    let mut description = text("description").unwrap_or_default();
    if let Some(media) = text("media_url") {
        description = format!("{description}\n附图: {media}").trim().to_owned();
    }
    let name = [text("last_name"), text("first_name")].into_iter().flatten().collect::<Vec<_>>().join("");
    let phone = text("phone").unwrap_or_default();
    let contact = (!name.is_empty() || !phone.is_empty()).then_some(Contact { name, phone });
    let external_ref = text("device_id").or_else(|| text("account_id")).or_else(|| text("email"));
    // The same post from the same system is the same report: its id is derived from both.
    let mut seed = principal.user.id.as_bytes().to_vec();
    let mut keys: Vec<_> = f.iter().filter(|(k, _)| k.as_str() != "api_key").collect();
    keys.sort();
    seed.extend(serde_json::to_vec(&keys).unwrap_or_default());
    let digest = ring::digest::digest(&ring::digest::SHA256, &seed);
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest.as_ref()[..16]);
    let id = uuid::Builder::from_custom_bytes(bytes).into_uuid();
    let input = NewReport {
        id,
        channel: Channel::Citizen,
        external_ref,
        category: Some(code),
        description,
        location,
        address,
        contact,
        photos: Vec::new(),
        verify: true,
        assignee: None,
    };
    input.validate().map_err(AppError::from)?;
    let actor = principal.user.clone();
    let (report, new) = state.blocking(move |s| s.receive_report(&actor, &input, Utc::now())).await?;
    if new {
        state.audit(principal.audit("open311.request", report.id.to_string())).await;
    }
    let notice = match report.state {
        ReportState::Verifying => "已受理，待现场核实",
        ReportState::Filed => "已立案",
        ReportState::NotConfirmed => "现场未发现",
    };
    let answer = match &report.case_no {
        Some(case_no) => {
            json!([{ "service_request_id": case_no, "token": report.id, "service_notice": notice, "account_id": null }])
        }
        None => json!([{ "token": report.id, "service_notice": notice, "account_id": null }]),
    };
    // A post sent again (the same fields from the same system) answers the same token, 200 instead of 201.
    Ok((if new { StatusCode::CREATED } else { StatusCode::OK }, Json(answer)).into_response())
}

/// Anything else under `/open311/v2/`: another format is refused by name, the rest is not there.
pub async fn fallback(uri: axum::http::Uri) -> Open311Error {
    match uri.path().rsplit_once('.') {
        Some((_, format)) if format != "json" && !format.contains('/') => {
            bad(format!("format `{format}` is not offered: ask for .json"))
        }
        _ => Open311Error(StatusCode::NOT_FOUND, format!("no such resource: {}", uri.path())),
    }
}

/// `GET /open311/v2/discovery.json`: where this endpoint is and what it speaks.
pub async fn discovery(State(state): State<AppState>) -> Response {
    let url = state.config.public_url.as_deref().map(|u| format!("{}/open311/v2", u.trim_end_matches('/')));
    Json(json!({
        "changeset": "2026-12-05T00:00:00Z",
        "contact": "城市管理指挥中心",
        "key_service": "an integration token issued by the admin (集成 → 接口令牌)",
        "endpoints": [{
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": url,
            "changeset": "2026-12-05T00:00:00Z",
            "type": "production",
            "formats": ["application/json"],
        }],
    }))
    .into_response()
}
