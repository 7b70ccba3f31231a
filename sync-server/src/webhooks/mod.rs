//! Sends the outbox: every delivery due is taken (leased, so that a process that dies leaves it to be tried
//! again), sent, and its answer recorded; a failure is tried again later (`domain::webhooks::next_try`) for
//! at least 24 hours, across restarts, since the outbox is in the store. Sending runs apart from the
//! requests: a slow or dead receiver holds only its own deliveries (each try ends after `TIMEOUT`), and at
//! most `PER_ENDPOINT` of them at once. Once a minute the cases past their deadline are looked for (超期).

pub mod message;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::Value;
use tokio::sync::Semaphore;
use uuid::Uuid;

use crate::db::{AttemptOutcome, Claim, DueDelivery, Store};
use crate::domain::webhooks::{Event, Format, next_try};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// One try's limit: connecting, sending and reading the answer.
const TIMEOUT: Duration = Duration::from_secs(10);
/// How long a taken delivery is left to its sender before another may take it (a try ends within `TIMEOUT`).
const LEASE: chrono::Duration = chrono::Duration::seconds(30);
/// Tries under way at once, over all endpoints, and for one endpoint.
const IN_FLIGHT: usize = 32;
const PER_ENDPOINT: usize = 4;
/// How much of a receiver's answer is kept with the try.
const ANSWER_KEPT: usize = 500;
/// How often the outbox is looked at when nothing is due.
const POLL: Duration = Duration::from_millis(500);
const OVERDUE_EVERY: Duration = Duration::from_secs(60);

/// Starts sending (for the life of the runtime).
pub fn start(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(run(state))
}

async fn run(state: AppState) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = match reqwest013::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .redirect(reqwest013::redirect::Policy::none())
        .user_agent(concat!("Tiejiaoban-Webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("webhooks: no HTTP client ({e}); nothing will be delivered");
            return;
        }
    };
    let all = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut endpoints: HashMap<Uuid, Arc<Semaphore>> = HashMap::new();
    let mut overdue_at = Instant::now();
    loop {
        if overdue_at <= Instant::now() {
            overdue_at = Instant::now() + OVERDUE_EVERY;
            match state.blocking(|s| s.notice_overdue(Utc::now())).await {
                Ok(0) => {}
                Ok(n) => tracing::info!("webhooks: {n} case(s) passed their deadline"),
                Err(e) => tracing::warn!("webhooks: looking for overdue cases failed: {e}"),
            }
        }
        let claim = Claim {
            limit: all.available_permits(),
            per_endpoint: PER_ENDPOINT,
            // An endpoint with as many tries under way as it may have: none of its deliveries is taken (and
            // leased) to wait here meanwhile.
            busy: endpoints.iter().filter(|(_, lane)| lane.available_permits() == 0).map(|(id, _)| *id).collect(),
        };
        let due = if claim.limit == 0 {
            Vec::new()
        } else {
            match state.blocking(move |s| s.claim_deliveries(Utc::now(), LEASE, &claim)).await {
                Ok(due) => due,
                Err(e) => {
                    tracing::warn!("webhooks: reading the outbox failed: {e}");
                    Vec::new()
                }
            }
        };
        if due.is_empty() {
            tokio::time::sleep(POLL).await;
            continue;
        }
        for delivery in due {
            let Ok(permit) = all.clone().acquire_owned().await else { return };
            let lane = endpoints.entry(delivery.endpoint.id).or_insert_with(|| Arc::new(Semaphore::new(PER_ENDPOINT)));
            // At most `PER_ENDPOINT` were taken of an endpoint that had a free lane: they wait for a lane at most
            // a try's length each.
            let lane = lane.clone();
            let (state, client) = (state.clone(), client.clone());
            tokio::spawn(async move {
                let Ok(_lane) = lane.acquire_owned().await else { return };
                let id = delivery.id;
                if let Err(e) = deliver(&state, &client, delivery).await {
                    tracing::warn!("webhooks: delivery {id} could not be recorded: {e}");
                }
                drop(permit);
            });
        }
    }
}

/// One try of one delivery, recorded.
async fn deliver(state: &AppState, client: &reqwest013::Client, d: DueDelivery) -> AppResult<()> {
    let data = match &d.event.data {
        Some(data) => data.clone(),
        None => {
            let built = event_data(state, &d).await?;
            let id = d.event.id;
            state.blocking(move |s| s.freeze_event_data(id, &built)).await?
        }
    };
    let started = Instant::now();
    let mut outcome = send(client, state, &d, &data).await;
    outcome.millis = started.elapsed().as_millis() as u64;
    let now = Utc::now();
    let next = if outcome.delivered {
        None
    } else {
        let first =
            chrono::Duration::from_std(state.config.webhook_first_retry).unwrap_or(chrono::Duration::seconds(10));
        next_try(d.attempts + 1, first, d.window_from, now, rand::random::<f64>())
    };
    if !outcome.delivered {
        tracing::info!(
            "webhooks: {} to {} failed (try {}): {}",
            d.event.event.as_str(),
            d.endpoint.url,
            d.attempts + 1,
            outcome.error.as_deref().unwrap_or("?")
        );
    }
    state.blocking(move |s| s.record_attempt((d.id, d.claim), &outcome, next, now)).await
}

async fn send(client: &reqwest013::Client, state: &AppState, d: &DueDelivery, data: &Value) -> AttemptOutcome {
    let at = state.config.zone.at(d.event.at);
    let request = match d.endpoint.format {
        Format::Json => {
            let body = message::envelope(d.event.id, d.event.event, at, data);
            client
                .post(&d.endpoint.url)
                .header("content-type", "application/json")
                .header(message::SIGNATURE_HEADER, message::signature(&d.endpoint.secret, &body))
                .header("X-Tiejiaoban-Event", d.event.event.as_str())
                .header("X-Tiejiaoban-Delivery", d.id.to_string())
                .body(body)
        }
        format => {
            let (title, text) = if d.event.event == Event::Ping {
                ("铁脚板 测试消息".to_owned(), message::ping_text().to_owned())
            } else {
                match message::case_notice(d.event.event, data, state.config.public_url.as_deref()) {
                    Some(n) => (n.title(), n.markdown()),
                    None => {
                        return AttemptOutcome {
                            delivered: true,
                            error: Some("nothing for a group robot to tell".into()),
                            ..Default::default()
                        };
                    }
                }
            };
            let url = if format == Format::Dingtalk {
                match message::dingtalk_signed_url(&d.endpoint.url, &d.endpoint.secret, Utc::now()) {
                    Ok(u) => u,
                    Err(e) => return failed(None, format!("the robot's URL: {e}")),
                }
            } else {
                d.endpoint.url.clone()
            };
            let body = serde_json::to_vec(&message::robot_body(format, &title, &text)).unwrap_or_default();
            client.post(url).header("content-type", "application/json").body(body)
        }
    };
    let response = match request.send().await {
        Ok(r) => r,
        Err(e) => return failed(None, describe(&e)),
    };
    let status = response.status();
    let answer = match response.text().await {
        Ok(t) => t,
        Err(e) => return failed(Some(status.as_u16()), describe(&e)),
    };
    let kept = Some(answer.chars().take(ANSWER_KEPT).collect::<String>()).filter(|a| !a.is_empty());
    let verdict = if !status.is_success() {
        Err(format!("answered {status}"))
    } else if d.endpoint.format.is_robot() {
        message::robot_accepted(&answer)
    } else {
        Ok(())
    };
    match verdict {
        Ok(()) => AttemptOutcome { status: Some(status.as_u16()), answer: kept, delivered: true, ..Default::default() },
        Err(e) => AttemptOutcome { status: Some(status.as_u16()), answer: kept, error: Some(e), ..Default::default() },
    }
}

fn failed(status: Option<u16>, error: String) -> AttemptOutcome {
    AttemptOutcome { status, error: Some(error), ..Default::default() }
}

fn describe(e: &reqwest013::Error) -> String {
    if e.is_timeout() {
        format!("no answer within {} s", TIMEOUT.as_secs())
    } else if e.is_connect() {
        "no connection to the receiver".to_owned()
    } else {
        let mut text = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            text = format!("{text}: {s}");
            source = s.source();
        }
        text
    }
}

/// The record an event carries, read when it is first sent: the case (as `GET /cases/{case_no}` answers it),
/// the report (without the caller's contact), the task's result or the finding; with `change`, what happened.
async fn event_data(state: &AppState, d: &DueDelivery) -> AppResult<Value> {
    let subject = d.event.subject.clone();
    let mut data = match d.event.event {
        Event::CaseFiled | Event::CaseChanged | Event::CaseOverdue => {
            let case = state.blocking(move |s| s.case_detail(&subject, Utc::now())).await?;
            let mut v = serde_json::to_value(case).map_err(|e| AppError::internal(e.to_string()))?;
            if let Some(o) = v.as_object_mut() {
                o.remove("allowed_actions");
            }
            v
        }
        Event::ReportChanged => {
            let id = Uuid::parse_str(&subject).map_err(|e| AppError::internal(e.to_string()))?;
            let report = state.blocking(move |s| s.report(id)).await?.map(|mut r| {
                r.contact = None;
                r
            });
            serde_json::to_value(report).map_err(|e| AppError::internal(e.to_string()))?
        }
        Event::TaskCompleted => serde_json::json!({ "task_id": subject }),
        Event::FindingRejected => {
            let id = Uuid::parse_str(&subject).map_err(|e| AppError::internal(e.to_string()))?;
            let found = state.blocking(move |s: &dyn Store| s.finding(id)).await?;
            serde_json::to_value(found).map_err(|e| AppError::internal(e.to_string()))?
        }
        Event::Ping => serde_json::json!({ "message": "a test delivery from Tiejiaoban" }),
    };
    if !data.is_object() {
        data = serde_json::json!({ "id": d.event.subject });
    }
    if let Some(o) = data.as_object_mut() {
        o.insert("change".into(), d.event.change.clone());
    }
    Ok(data)
}
