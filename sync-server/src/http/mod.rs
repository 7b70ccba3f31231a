//! The HTTP API of protocol.md: routing, limits and the shared plumbing of the handlers.

mod accounts;
mod audit;
mod basemaps;
mod blobs;
mod campaigns;
mod cases;
mod coverage;
mod devices;
mod dictionary;
mod evidence;
mod exports;
mod extract;
mod integrations;
mod open311;
mod openapi;
mod patrols;
mod reports;
mod retention;
mod review;
mod second_factor;
mod stats;
mod sync;
mod teams;
mod users;
mod webhooks;

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::BytesMut;
use http_body::{Frame, SizeHint};
use http_body_util::BodyExt;
use protocol::ErrorCode;
use serde::de::DeserializeOwned;
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The whole server: API under `/api/v1`, the console under `/console/` when it was built.
pub fn app(state: AppState) -> Router {
    let api = Router::new()
        .route("/health", get(accounts::health))
        .route("/devices/register", post(accounts::register))
        .route("/sessions", post(accounts::sign_in))
        .route("/sessions/current", axum::routing::delete(accounts::sign_out))
        .route(
            "/blobs/{sha256}",
            get(blobs::get_blob).head(blobs::head_blob).put(blobs::put_blob).patch(blobs::patch_blob),
        )
        .route("/sync", post(sync::sync))
        .route("/review", get(review::review))
        .route("/findings/{id}/review", post(cases::review_finding))
        .route("/cases", get(cases::list_cases))
        .route("/cases/{case_no}", get(cases::get_case))
        .route("/cases/{case_no}/actions", post(cases::case_action))
        .route("/cases/{case_no}/evidence", get(evidence::package))
        .route("/stats", get(stats::stats))
        .route("/devices", get(devices::list_devices))
        .route("/devices/{id}/revoke", post(devices::revoke_device))
        .route("/me", get(users::me))
        .route("/me/totp", get(second_factor::status).post(second_factor::begin).delete(second_factor::turn_off))
        .route("/me/totp/confirm", post(second_factor::confirm))
        .route("/users/{username}/totp", axum::routing::delete(second_factor::reset))
        .route("/dictionary", get(dictionary::get_dictionary).post(dictionary::import_dictionary))
        .route("/grids", axum::routing::put(dictionary::import_grids))
        .route("/coverage", get(coverage::coverage))
        .route("/campaigns", get(campaigns::list).post(campaigns::save))
        .route("/heatmap", get(coverage::heatmap))
        .route("/users", get(users::list_users).post(users::add_user))
        .route("/users/{username}", axum::routing::patch(users::update_user))
        .route("/teams", get(teams::list_teams).post(teams::add_team))
        .route("/departments", get(teams::list_departments))
        .route("/reports", get(reports::list).post(reports::receive))
        .route("/reports/{id}", get(reports::get))
        .route("/tasks", get(reports::list_tasks).post(reports::create))
        .route("/tasks/{id}/reassign", post(cases::reassign_task))
        .route("/tasks/{id}/cancel", post(cases::cancel_task))
        .route("/patrols", get(patrols::patrols))
        .route("/sync-health", get(devices::sync_health))
        .route("/audit", get(audit::audit))
        .route("/retention/run", post(retention::run))
        .route("/webhooks", get(webhooks::list).post(webhooks::add))
        .route("/webhooks/{id}", get(webhooks::get).delete(webhooks::remove))
        .route("/webhooks/{id}/ping", post(webhooks::ping))
        .route("/webhooks/{id}/deliveries", get(webhooks::deliveries))
        .route("/webhooks/{id}/deliveries/{delivery}/retry", post(webhooks::retry))
        .route("/exports", get(exports::list).post(exports::begin))
        .route("/exports/{id}", get(exports::get))
        .route("/exports/{id}/file", get(exports::file))
        .route("/integrations", get(integrations::list).post(integrations::add))
        .route("/integrations/{id}", axum::routing::delete(integrations::revoke))
        .route("/basemaps", get(basemaps::list))
        .route("/basemaps/{name}", get(basemaps::download).put(basemaps::upload).delete(basemaps::delete))
        .route("/basemaps/{name}/tiles/{z}/{x}/{y}", get(basemaps::tile))
        .route("/openapi.json", get(openapi::openapi))
        .fallback(api_not_found)
        .method_not_allowed_fallback(method_not_allowed);

    // Open311 GeoReport v2, for 12345 adapters and Open311 clients: outside the API's own error shape.
    let open311 = Router::new()
        .route("/discovery.json", get(open311::discovery))
        .route("/services.json", get(open311::services))
        .route("/services/{file}", get(open311::service))
        .route("/requests.json", get(open311::requests).post(open311::post_request))
        .route("/requests/{file}", get(open311::request))
        .route("/tokens/{file}", get(open311::token))
        .fallback(open311::fallback);
    let mut router = Router::new().nest("/api/v1", api).nest("/open311/v2", open311);
    if let Some(dir) = state.config.console_dir.clone().filter(|d| d.join("index.html").is_file()) {
        let index = dir.join("index.html");
        router = router
            .nest_service(
                "/console",
                tower_http::services::ServeDir::new(dir).fallback(tower_http::services::ServeFile::new(index)),
            )
            .route("/", get(|| async { axum::response::Redirect::temporary("/console/") }));
    }
    let mut router = router
        .fallback(api_not_found)
        .layer(RequestDecompressionLayer::new().gzip(true).pass_through_unaccepted(false))
        .layer(axum::middleware::from_fn(check_body_headers));
    if state.config.tls {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        ));
    }
    for (name, value) in SECURITY_HEADERS {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        ));
    }
    router
        .layer(axum::middleware::from_fn(drain_unread))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        // Every request gets an id (a client's own `x-request-id` is kept), in the log's spans and in the
        // answer, so that a report from the field can be found in the server's log.
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// Sent with every answer: the console's scripts, styles and data only from this server (map tiles may come
/// from a configured tile server: images from anywhere), never inside another site's frame, no referrer
/// leaving, no guessing of content types. (Strict-Transport-Security belongs with TLS, at the proxy that ends it.)
const SECURITY_HEADERS: [(&str, &str); 4] = [
    (
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' blob: data: https: http:; \
         font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
         frame-ancestors 'none'",
    ),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
];

/// The log span of a request: method, path and request id.
fn request_span(req: &axum::http::Request<Body>) -> tracing::Span {
    let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
}

async fn api_not_found() -> AppError {
    AppError::not_found("no such endpoint")
}

async fn method_not_allowed() -> AppError {
    AppError::api(ErrorCode::MethodNotAllowed, "method not allowed on this endpoint")
}

/// Bytes of a body left unread by its handler that are read and thrown away before answering; a body larger
/// than that gets its answer and a closed connection.
const DRAIN_CAP: usize = 64 * 1024 * 1024;

/// Reads a request body up to `limit` bytes (after decompression); beyond that, 413.
pub(crate) async fn read_body(body: Body, limit: usize) -> AppResult<Bytes> {
    let mut body = body;
    // Room for the declared length (capped by the limit), so that a photo is not copied as the buffer grows.
    let declared = axum::body::HttpBody::size_hint(&body).exact().and_then(|n| usize::try_from(n).ok()).unwrap_or(0);
    let mut buf = BytesMut::with_capacity(declared.min(limit));
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| AppError::bad_request(format!("the body could not be read: {e}")))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        total += data.len();
        if total > limit {
            // The rest is read by `drain_unread` before the answer goes out.
            return Err(AppError::too_large(format!("the body is larger than {limit} bytes")));
        }
        buf.extend_from_slice(&data);
    }
    Ok(buf.freeze())
}

/// The request body, shared between the handler (which may read it or not) and [`drain_unread`].
struct SharedBody(Arc<Mutex<Option<Body>>>);

impl SharedBody {
    fn slot(&self) -> std::sync::MutexGuard<'_, Option<Body>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl HttpBody for SharedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let mut slot = self.slot();
        let Some(body) = slot.as_mut() else {
            return Poll::Ready(None);
        };
        let polled = Pin::new(body).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) {
            *slot = None;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.slot().as_ref().is_none_or(HttpBody::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.slot().as_ref().map_or_else(|| SizeHint::with_exact(0), HttpBody::size_hint)
    }
}

/// Reads whatever the handler left unread of the request body (up to [`DRAIN_CAP`]) before the answer goes
/// out. A client still sending would otherwise meet a closed connection instead of the answer: a phone whose
/// device was revoked, sending a photo, must read the 401 that tells it so; a resumable upload's 409 is only
/// useful if the offset it carries arrives.
async fn drain_unread(request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let slot = Arc::new(Mutex::new(Some(body)));
    let response = next.run(Request::from_parts(parts, Body::new(SharedBody(slot.clone())))).await;
    let left = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
    if let Some(mut body) = left {
        let mut read = 0;
        while read <= DRAIN_CAP {
            match body.frame().await {
                Some(Ok(frame)) => read += frame.data_ref().map_or(0, Bytes::len),
                _ => break,
            }
        }
    }
    response
}

/// Decodes a JSON body; not JSON → 400, wrong shape → 422 naming the field.
pub(crate) fn decode<'a, T: serde::Deserialize<'a>>(bytes: &'a [u8]) -> AppResult<T> {
    Ok(protocol::json::decode_slice(bytes)?)
}

/// A JSON body larger than any the API takes is refused before it is read.
pub(crate) const MAX_JSON_BODY: usize = 1024 * 1024;

pub(crate) async fn read_json<T: DeserializeOwned>(body: Body) -> AppResult<T> {
    decode(&read_body(body, MAX_JSON_BODY).await?)
}

/// The declared `Content-Type` without parameters, lowercased.
pub(crate) fn content_type(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    Some(v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
}

pub(crate) fn created<T: serde::Serialize>(value: T) -> axum::response::Response {
    (StatusCode::CREATED, axum::Json(value)).into_response()
}

/// The `from` and `to` days of a period (both required, `to` not before `from`), and its bounds in time: from
/// the start of `from` to the end of `to`, in the server's zone.
/// Whether a request's body is JSON: every write but photos, base map files and grid files.
fn takes_json(path: &str) -> bool {
    path.starts_with("/api/v1/")
        && !path.starts_with("/api/v1/blobs/")
        && !path.starts_with("/api/v1/basemaps/")
        && path != "/api/v1/grids"
}

/// Before any body is read: a Content-Encoding other than gzip (the one the server decodes) is 415, and so is a
/// JSON endpoint's body declared as something other than JSON (no Content-Type is taken as JSON). Both with
/// the contract's error body.
async fn check_body_headers(request: Request, next: Next) -> Response {
    let headers = request.headers();
    let value = |name| {
        headers.get(name).map(|v: &axum::http::HeaderValue| v.to_str().unwrap_or("?").trim().to_ascii_lowercase())
    };
    if let Some(encoding) = value(header::CONTENT_ENCODING)
        && !matches!(encoding.as_str(), "gzip" | "identity" | "")
    {
        return AppError::unsupported(format!("Content-Encoding `{encoding}` is not taken: send gzip or nothing"))
            .into_response();
    }
    let writes =
        matches!(*request.method(), axum::http::Method::POST | axum::http::Method::PUT | axum::http::Method::PATCH);
    if writes
        && takes_json(request.uri().path())
        && let Some(content_type) = value(header::CONTENT_TYPE)
    {
        let essence = content_type.split(';').next().unwrap_or_default().trim().to_owned();
        if essence != "application/json" && !essence.ends_with("+json") {
            return AppError::unsupported(format!("this endpoint takes application/json, not `{essence}`"))
                .into_response();
        }
    }
    next.run(request).await
}

/// A text parameter, trimmed; none when absent or blank.
pub(super) fn text(v: &Option<String>) -> Option<String> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// A list's `limit` parameter: `default` when absent, else 1 to `max`.
pub(super) fn limit(asked: Option<u32>, default: u32, max: u32) -> AppResult<u32> {
    match asked {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(_) => Err(AppError::invalid("limit", format!("limit is 1 to {max}"))),
    }
}

/// Refuses a stored text beyond its documented limit (README, "Limits"), counted in characters.
pub(super) fn at_most(field: &str, value: &str, max: usize) -> AppResult<()> {
    if value.chars().count() > max {
        return Err(AppError::invalid(field, format!("{field} is longer than {max} characters")));
    }
    Ok(())
}

/// The longest note, reason or description kept.
pub(super) const MAX_NOTE_CHARS: usize = protocol::finding::MAX_DESCRIPTION_CHARS;

pub(super) struct Period {
    pub from: chrono::NaiveDate,
    pub to: chrono::NaiveDate,
    pub start: chrono::DateTime<chrono::Utc>,
    pub end: chrono::DateTime<chrono::Utc>,
}

pub(super) fn period(from: &Option<String>, to: &Option<String>, zone: &crate::config::Zone) -> AppResult<Period> {
    let (from, to) = (date(from, "from")?, date(to, "to")?);
    if to < from {
        return Err(AppError::invalid("to", "to is before from"));
    }
    Ok(Period { from, to, start: zone.day_bounds(from).0, end: zone.day_bounds(to).1 })
}

/// A `YYYY-MM-DD` query parameter, required.
pub(super) fn date(v: &Option<String>, field: &str) -> AppResult<chrono::NaiveDate> {
    let s = v.as_deref().ok_or_else(|| AppError::invalid(field, format!("{field}=YYYY-MM-DD is required")))?;
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| AppError::invalid(field, format!("{field} must be YYYY-MM-DD")))
}
