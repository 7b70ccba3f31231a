//! `/api/v1/webhooks` (admin): endpoints of other systems and the departments' group robots, the events they
//! want, and every delivery with each try's answer ("send again" included).

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::extract::{Path, Query};
use super::{limit, read_json};
use crate::db::{Delivery, Webhook};
use crate::domain::webhooks::NewWebhook;
use crate::error::{AppError, AppResult};
use crate::policy::{Target, Verb};
use crate::principal::Principal;
use crate::state::AppState;

fn webhook_id(id: &str) -> AppResult<Uuid> {
    Uuid::parse_str(id).map_err(|_| AppError::not_found("no such webhook"))
}

/// `POST /api/v1/webhooks` → 201 the endpoint (its `id` first).
pub async fn add(State(state): State<AppState>, principal: Principal, body: Body) -> AppResult<Response> {
    principal.may(Verb::ManageIntegrations, &Target::Server)?;
    let mut hook: NewWebhook = read_json(body).await?;
    hook.validate()?;
    if let Some(department) = hook.department.clone() {
        let known = state.blocking(|s| s.departments()).await?;
        if !known.iter().any(|d| d.code == department) {
            return Err(AppError::invalid(
                "department",
                format!("`{department}` is not a department of the dictionary"),
            ));
        }
    }
    let by = principal.user.username.clone();
    let saved = state.blocking(move |s| s.add_webhook(&hook, &by, Utc::now())).await?;
    state.audit(principal.audit("webhook.add", saved.url.clone())).await;
    Ok((StatusCode::CREATED, Json(saved)).into_response())
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct WebhookList {
    webhooks: Vec<Webhook>,
}

/// `GET /api/v1/webhooks`: the active ones first, with counts of their deliveries.
pub async fn list(State(state): State<AppState>, principal: Principal) -> AppResult<Json<WebhookList>> {
    principal.may(Verb::ManageIntegrations, &Target::Server)?;
    Ok(Json(WebhookList { webhooks: state.blocking(|s| s.webhooks()).await? }))
}

/// `GET /api/v1/webhooks/{id}`.
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> AppResult<Json<Webhook>> {
    principal.may(Verb::ManageIntegrations, &Target::Server)?;
    let id = webhook_id(&id)?;
    let hook = state.blocking(move |s| s.webhook(id)).await?;
    Ok(Json(hook.ok_or_else(|| AppError::not_found("no such webhook"))?))
}

/// `DELETE /api/v1/webhooks/{id}`: nothing more is sent; what waited is cancelled; the deliveries stay listed.
pub async fn remove(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    principal.may(Verb::ManageIntegrations, &Target::Server)?;
    let id = webhook_id(&id)?;
    if !state.blocking(move |s| s.remove_webhook(id)).await? {
        return Err(AppError::not_found("no such active webhook"));
    }
    state.audit(principal.audit("webhook.remove", id.to_string())).await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Queued {
    /// The delivery, as `GET /webhooks/{id}/deliveries` lists it.
    delivery_id: i64,
}

/// `POST /api/v1/webhooks/{id}/ping` → 202: a test event (`ping`) to this endpoint only.
pub async fn ping(State(state): State<AppState>, principal: Principal, Path(id): Path<String>) -> AppResult<Response> {
    principal.may(Verb::ManageIntegrations, &Target::Server)?;
    let id = webhook_id(&id)?;
    let by = principal.user.username.clone();
    let delivery = state.blocking(move |s| s.ping_webhook(id, &by, Utc::now())).await?;
    let delivery_id = delivery.ok_or_else(|| AppError::not_found("no such active webhook"))?;
    Ok((StatusCode::ACCEPTED, Json(Queued { delivery_id })).into_response())
}

#[derive(Debug, Deserialize)]
pub struct DeliveriesQuery {
    state: Option<String>,
    limit: Option<u32>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct DeliveryList {
    deliveries: Vec<Delivery>,
}

/// `GET /api/v1/webhooks/{id}/deliveries?state=pending|delivered|failed|cancelled&limit=`: the newest first,
/// each with every try and its answer.
pub async fn deliveries(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Query(q): Query<DeliveriesQuery>,
) -> AppResult<Json<DeliveryList>> {
    principal.may(Verb::ManageIntegrations, &Target::Server)?;
    let id = webhook_id(&id)?;
    let wanted = q.state.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    if let Some(s) = &wanted
        && !["pending", "delivered", "failed", "cancelled"].contains(&s.as_str())
    {
        return Err(AppError::invalid("state", format!("`{s}` is not pending, delivered, failed or cancelled")));
    }
    let limit = limit(q.limit, 100, 1000)?;
    let found = state.blocking(move |s| s.webhook(id)).await?;
    if found.is_none() {
        return Err(AppError::not_found("no such webhook"));
    }
    let deliveries = state.blocking(move |s| s.deliveries(id, wanted.as_deref(), limit)).await?;
    Ok(Json(DeliveryList { deliveries }))
}

/// `POST /api/v1/webhooks/{id}/deliveries/{delivery}/retry` → 202: "send again", now, with a new day of
/// retries; 409 for a delivery of a stopped endpoint.
pub async fn retry(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, delivery)): Path<(String, i64)>,
) -> AppResult<Response> {
    principal.may(Verb::ManageIntegrations, &Target::Server)?;
    let id = webhook_id(&id)?;
    if state.blocking(move |s| s.delivery_webhook(delivery)).await? != Some(id) {
        return Err(AppError::not_found("no such delivery of this webhook"));
    }
    if !state.blocking(move |s| s.redeliver(delivery, Utc::now())).await? {
        return Err(AppError::conflict("the webhook is stopped: its deliveries are not sent again"));
    }
    state.audit(principal.audit("webhook.redeliver", format!("{id}/{delivery}"))).await;
    Ok((StatusCode::ACCEPTED, Json(Queued { delivery_id: delivery })).into_response())
}
