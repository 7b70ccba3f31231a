//! Webhooks in storage: the endpoints, the outbox of events written in the transaction of the change that
//! makes them (so an event is kept exactly when its change is), one delivery per endpoint and event, and
//! every attempt with its answer. Deliveries are claimed with a lease, so a process that dies mid-send
//! leaves them to be tried again.

use super::conn::{Db, DbResult, OptionalExtension, Row, Stmt, params};
use chrono::{DateTime, Utc};
use protocol::Timestamp;
use serde::Serialize;
use uuid::Uuid;

use super::error::{StoreError, StoreResult};
use super::sql::{Sql, bad_data, json, ts};
use crate::config::Zone;
use crate::domain::lifecycle::deadline_applies;
use crate::domain::webhooks::{Event, Format, NewWebhook, wants};

/// An endpoint as the console shows it: never its secret.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Webhook {
    pub id: Uuid,
    pub url: String,
    pub events: Vec<Event>,
    pub format: Format,
    pub department: Option<String>,
    pub description: String,
    pub active: bool,
    /// Whether a secret is set (for a DingTalk robot, whether its URL is signed).
    pub signed: bool,
    pub created_by: String,
    pub created_at: Timestamp,
    /// Deliveries waiting for a (next) try.
    pub pending: i64,
    /// Deliveries given up after the retry window.
    pub failed: i64,
    pub delivered: i64,
}

/// One try of a delivery and the receiver's answer.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Attempt {
    pub at: Timestamp,
    /// The HTTP status, when the receiver answered.
    pub status: Option<i64>,
    /// What went wrong: no connection, a timeout, a status that is not 2xx, a robot's error code.
    pub error: Option<String>,
    /// The start of the receiver's answer.
    pub answer: Option<String>,
    pub millis: i64,
}

/// An event's delivery to one endpoint.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Delivery {
    pub id: i64,
    pub webhook_id: Uuid,
    /// The event's id, the same in every try (receivers drop what they have seen).
    pub event_id: Uuid,
    pub event: Event,
    /// The case number, report, task or finding id the event is about.
    pub subject: String,
    pub at: Timestamp,
    /// `pending`, `delivered`, `failed` (given up) or `cancelled` (the endpoint was removed).
    pub state: String,
    pub attempts: i64,
    pub next_at: Option<Timestamp>,
    pub delivered_at: Option<Timestamp>,
    pub tries: Vec<Attempt>,
}

/// Where and how a claimed delivery goes.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub id: Uuid,
    pub url: String,
    pub secret: String,
    pub format: Format,
}

/// An event of the outbox.
#[derive(Debug, Clone)]
pub struct OutboxEvent {
    pub id: Uuid,
    pub event: Event,
    pub subject: String,
    pub at: DateTime<Utc>,
    /// What happened: the action, who, the note.
    pub change: serde_json::Value,
    /// The record as first delivered (kept, so that every try sends the same body).
    pub data: Option<serde_json::Value>,
}

/// A delivery taken for a try.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    pub id: i64,
    /// The claim this try is made under (`record_attempt` is taken only on it).
    pub claim: i64,
    /// Tries before this one.
    pub attempts: u32,
    pub window_from: DateTime<Utc>,
    pub endpoint: Endpoint,
    pub event: OutboxEvent,
}

/// How a try went.
#[derive(Debug, Clone, Default)]
pub struct AttemptOutcome {
    pub status: Option<u16>,
    pub error: Option<String>,
    pub answer: Option<String>,
    pub millis: u64,
    pub delivered: bool,
}

/// An event as the change that makes it hands it to the outbox.
pub(super) struct Emit<'a> {
    pub event: Event,
    pub subject: &'a str,
    /// A case's action (for the robots, which tell of some actions only).
    pub action: Option<&'a str>,
    pub change: serde_json::Value,
    pub at: DateTime<Utc>,
}

/// Puts an event into the outbox for every active endpoint that wants it, in the caller's transaction; with
/// no endpoint registered (the usual case on a busy ingest) it costs one indexed look. `department` is read
/// only when an endpoint is limited to one.
pub(super) fn emit(
    tx: &impl Db,
    e: Emit<'_>,
    department: impl FnOnce() -> StoreResult<Option<String>>,
) -> StoreResult<()> {
    let endpoints = tx
        .prepare_cached("SELECT id, events, format, department FROM webhooks WHERE active = 1")?
        .query_map((), |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get(3)?)))?
        .collect::<Result<Vec<(String, String, String, Option<String>)>, _>>()?;
    if endpoints.is_empty() {
        return Ok(());
    }
    let event_department = if endpoints.iter().any(|(_, _, _, d)| d.is_some()) { department()? } else { None };
    let mut wanted = Vec::new();
    for (id, events, format, dept) in endpoints {
        let events: Vec<Event> = serde_json::from_str(&events).map_err(bad_data)?;
        let format: Format = format.parse().map_err(bad_data)?;
        if wants(format, &events, dept.as_deref(), e.event, e.action, event_department.as_deref()) {
            wanted.push(id);
        }
    }
    if wanted.is_empty() {
        return Ok(());
    }
    let event_id = insert_event(tx, e.event, e.subject, &e.change, e.at)?;
    for id in wanted {
        insert_delivery(tx, &id, &event_id, e.at)?;
    }
    Ok(())
}

fn insert_event(
    tx: &impl Db,
    event: Event,
    subject: &str,
    change: &serde_json::Value,
    at: DateTime<Utc>,
) -> StoreResult<String> {
    let id = Uuid::new_v4().to_string();
    tx.prepare_cached("INSERT INTO outbox_events (id, event, subject, at, change) VALUES (?1, ?2, ?3, ?4, ?5)")?
        .execute(params![id, event.as_str(), subject, ts(at), json(change)?])?;
    Ok(id)
}

/// The new delivery's id.
fn insert_delivery(tx: &impl Db, webhook: &str, event_id: &str, at: DateTime<Utc>) -> StoreResult<i64> {
    Ok(tx
        .prepare_cached(
            "INSERT INTO webhook_deliveries (webhook_id, event_id, state, next_ts, window_from_ts)
             VALUES (?1, ?2, 'pending', ?3, ?3) RETURNING id",
        )?
        .query_row(params![webhook, event_id, at.timestamp()], |r| r.get(0))?)
}

const WEBHOOK_COLUMNS: &str = "w.id, w.url, w.events, w.format, w.department, w.description, w.active, w.secret <> '',
    w.created_by, w.created_at,
    (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.state = 'pending'),
    (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.state = 'failed'),
    (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.state = 'delivered')";

fn webhook_row(zone: &Zone, r: &Row<'_>) -> DbResult<(Webhook, String, String)> {
    Ok((
        Webhook {
            id: r.get::<_, Sql<Uuid>>(0)?.0,
            url: r.get(1)?,
            events: Vec::new(),
            format: Format::Json,
            department: r.get(4)?,
            description: r.get(5)?,
            active: r.get(6)?,
            signed: r.get(7)?,
            created_by: r.get(8)?,
            created_at: zone.at(r.get::<_, Sql<DateTime<Utc>>>(9)?.0),
            pending: r.get(10)?,
            failed: r.get(11)?,
            delivered: r.get(12)?,
        },
        r.get(2)?,
        r.get(3)?,
    ))
}

fn finish((mut w, events, format): (Webhook, String, String)) -> StoreResult<Webhook> {
    w.events = serde_json::from_str(&events).map_err(bad_data)?;
    w.format = format.parse().map_err(bad_data)?;
    Ok(w)
}

pub(super) fn add(tx: &impl Db, zone: &Zone, hook: &NewWebhook, by: &str, now: DateTime<Utc>) -> StoreResult<Webhook> {
    let id = Uuid::new_v4();
    tx.execute(
        "INSERT INTO webhooks (id, url, events, secret, format, department, description, active, created_by, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8, ?9)",
        params![
            id.to_string(),
            hook.url,
            json(&hook.events)?,
            hook.secret,
            hook.format.as_str(),
            hook.department,
            hook.description,
            by,
            ts(now)
        ],
    )?;
    one(tx, zone, id)?.ok_or_else(|| StoreError::internal("the webhook just stored is gone"))
}

pub(super) fn all(conn: &impl Db, zone: &Zone) -> StoreResult<Vec<Webhook>> {
    let sql = format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks w ORDER BY w.active DESC, w.created_at DESC");
    let rows = conn.prepare(&sql)?.query_map((), |r| webhook_row(zone, r))?.collect::<Result<Vec<_>, _>>()?;
    rows.into_iter().map(finish).collect()
}

pub(super) fn one(conn: &impl Db, zone: &Zone, id: Uuid) -> StoreResult<Option<Webhook>> {
    let sql = format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks w WHERE w.id = ?1");
    conn.query_row(&sql, [id.to_string()], |r| webhook_row(zone, r)).optional()?.map(finish).transpose()
}

/// Stops an endpoint: nothing more is sent to it, and what was waiting is cancelled. False when unknown or
/// already stopped.
pub(super) fn remove(tx: &impl Db, id: Uuid) -> StoreResult<bool> {
    let changed = tx.execute("UPDATE webhooks SET active = 0 WHERE id = ?1 AND active = 1", [id.to_string()])?;
    tx.execute(
        "UPDATE webhook_deliveries SET state = 'cancelled' WHERE webhook_id = ?1 AND state = 'pending'",
        [id.to_string()],
    )?;
    Ok(changed > 0)
}

/// A test delivery to one active endpoint; its delivery's id, `None` for an unknown or stopped endpoint.
pub(super) fn ping(tx: &impl Db, id: Uuid, by: &str, now: DateTime<Utc>) -> StoreResult<Option<i64>> {
    let active: Option<bool> =
        tx.query_row("SELECT active FROM webhooks WHERE id = ?1", [id.to_string()], |r| r.get(0)).optional()?;
    if active != Some(true) {
        return Ok(None);
    }
    let change = serde_json::json!({ "action": "ping", "actor": by });
    let event_id = insert_event(tx, Event::Ping, &id.to_string(), &change, now)?;
    Ok(Some(insert_delivery(tx, &id.to_string(), &event_id, now)?))
}

/// Whether any delivery is due at `now` (looked at without the writer, which a busy ingest holds).
pub(super) fn any_due(conn: &impl Db, now: DateTime<Utc>) -> StoreResult<bool> {
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM webhook_deliveries WHERE state = 'pending' AND next_ts <= ?1)")?
        .query_row([now.timestamp()], |r| r.get(0))?)
}

/// Whether any case passed its deadline unnoticed.
pub(super) fn any_overdue(conn: &impl Db, now: DateTime<Utc>) -> StoreResult<bool> {
    Ok(conn
        .prepare_cached(&format!("SELECT EXISTS (SELECT 1 {OVERDUE_UNNOTICED})"))?
        .query_row([ts(now)], |r| r.get(0))?)
}

const OVERDUE_UNNOTICED: &str = "FROM cases
    WHERE overdue_noticed = 0 AND closed_at IS NULL AND due_at IS NOT NULL AND due_at < ?1
      AND state IN ('filed', 'dispatched', 'accepted')";

/// How many deliveries to take, and from which endpoints.
#[derive(Debug, Clone, Default)]
pub struct Claim {
    pub limit: usize,
    /// At most this many of one endpoint.
    pub per_endpoint: usize,
    /// Endpoints whose tries under way are as many as they may be: none of theirs is taken.
    pub busy: Vec<Uuid>,
}

/// Takes deliveries due at `now` (the longest waiting first, a few of each endpoint) and moves their next try
/// `lease` ahead, so that no other sender takes them meanwhile; a sender that dies leaves them due again when
/// the lease ends.
pub(super) fn claim(
    tx: &impl Db,
    now: DateTime<Utc>,
    lease: chrono::Duration,
    claim: &Claim,
) -> StoreResult<Vec<DueDelivery>> {
    let busy = json(&claim.busy.iter().map(Uuid::to_string).collect::<Vec<_>>())?;
    let busy_ids = tx.json_strings("?4");
    let mut stmt = tx.prepare_cached(&format!(
        "SELECT d.id, d.attempts, d.window_from_ts, w.id, w.url, w.secret, w.format,
                e.id, e.event, e.subject, e.at, e.change, e.data
         FROM (SELECT id, webhook_id, event_id, attempts, window_from_ts, next_ts,
                      ROW_NUMBER() OVER (PARTITION BY webhook_id ORDER BY next_ts, id) AS nth
               FROM webhook_deliveries
               WHERE state = 'pending' AND next_ts <= ?1 AND webhook_id NOT IN ({busy_ids})) d
         JOIN webhooks w ON w.id = d.webhook_id JOIN outbox_events e ON e.id = d.event_id
         WHERE d.nth <= ?3 ORDER BY d.next_ts, d.id LIMIT ?2"
    ))?;
    let rows = stmt
        .query_map(params![now.timestamp(), claim.limit as i64, claim.per_endpoint as i64, busy], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, u32>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Sql<Uuid>>(3)?.0,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, Sql<Uuid>>(7)?.0,
                r.get::<_, String>(8)?,
                r.get::<_, String>(9)?,
                r.get::<_, Sql<DateTime<Utc>>>(10)?.0,
                r.get::<_, String>(11)?,
                r.get::<_, Option<String>>(12)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let until = (now + lease).timestamp();
    let mut due = Vec::with_capacity(rows.len());
    for (id, attempts, window, hook, url, secret, format, event_id, event, subject, at, change, data) in rows {
        let claim: i64 = tx
            .prepare_cached(
                "UPDATE webhook_deliveries SET next_ts = ?2, claim = claim + 1 WHERE id = ?1 RETURNING claim",
            )?
            .query_row(params![id, until], |r| r.get(0))?;
        due.push(DueDelivery {
            id,
            claim,
            attempts,
            window_from: DateTime::from_timestamp(window, 0).unwrap_or(now),
            endpoint: Endpoint { id: hook, url, secret, format: format.parse().map_err(bad_data)? },
            event: OutboxEvent {
                id: event_id,
                event: event.parse().map_err(bad_data)?,
                subject,
                at,
                change: serde_json::from_str(&change).map_err(bad_data)?,
                data: data.map(|d| serde_json::from_str(&d)).transpose().map_err(bad_data)?,
            },
        });
    }
    Ok(due)
}

/// Keeps an event's data as first delivered; returns what is kept (another sender's, if it was first).
pub(super) fn freeze_data(tx: &impl Db, event_id: Uuid, data: &serde_json::Value) -> StoreResult<serde_json::Value> {
    tx.execute(
        "UPDATE outbox_events SET data = ?2 WHERE id = ?1 AND data IS NULL",
        params![event_id.to_string(), json(data)?],
    )?;
    let kept: String =
        tx.query_row("SELECT data FROM outbox_events WHERE id = ?1", [event_id.to_string()], |r| r.get(0))?;
    serde_json::from_str(&kept).map_err(bad_data)
}

/// Records a try: delivered, due again at `next`, or given up (`next` none). A delivery cancelled, sent again
/// on request or taken by another sender since this try's claim keeps its state; the try is recorded all the
/// same.
pub(super) fn record_attempt(
    tx: &impl Db,
    (delivery, claim): (i64, i64),
    outcome: &AttemptOutcome,
    next: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    tx.prepare_cached(
        "INSERT INTO webhook_attempts (delivery_id, at, status, error, answer, millis) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![delivery, ts(now), outcome.status, outcome.error, outcome.answer, outcome.millis as i64])?;
    let (state, next_ts) = match (outcome.delivered, next) {
        (true, _) => ("delivered", now.timestamp()),
        // Rounded up: never sooner than the rule says.
        (false, Some(at)) => ("pending", at.timestamp() + i64::from(at.timestamp_subsec_nanos() > 0)),
        (false, None) => ("failed", now.timestamp()),
    };
    tx.prepare_cached(
        "UPDATE webhook_deliveries SET state = ?2, next_ts = ?3, attempts = attempts + 1, last_status = ?4, last_error = ?5,
                delivered_at = CASE WHEN ?2 = 'delivered' THEN ?6 ELSE delivered_at END
         WHERE id = ?1 AND state = 'pending' AND claim = ?7",
    )?
    .execute(params![delivery, state, next_ts, outcome.status, outcome.error, ts(now), claim])?;
    Ok(())
}

/// "Send again": a delivery (in any state but cancelled) is due now, with a new retry window.
pub(super) fn redeliver(tx: &impl Db, delivery: i64, now: DateTime<Utc>) -> StoreResult<bool> {
    let changed = tx.execute(
        "UPDATE webhook_deliveries SET state = 'pending', next_ts = ?2, window_from_ts = ?2, claim = claim + 1
         WHERE id = ?1 AND state <> 'cancelled'
           AND (SELECT active FROM webhooks w WHERE w.id = webhook_id) = 1",
        params![delivery, now.timestamp()],
    )?;
    Ok(changed > 0)
}

/// An endpoint's deliveries, the newest first, each with its tries; `state` keeps one state only.
pub(super) fn deliveries(
    conn: &impl Db,
    zone: &Zone,
    webhook: Uuid,
    state: Option<&str>,
    limit: u32,
) -> StoreResult<Vec<Delivery>> {
    let mut stmt = conn.prepare_cached(
        "SELECT d.id, d.webhook_id, e.id, e.event, e.subject, e.at, d.state, d.attempts, d.next_ts, d.delivered_at
         FROM webhook_deliveries d JOIN outbox_events e ON e.id = d.event_id
         WHERE d.webhook_id = ?1 AND (?2 IS NULL OR d.state = ?2) ORDER BY d.id DESC LIMIT ?3",
    )?;
    let rows = stmt
        .query_map(params![webhook.to_string(), state, limit], |r| {
            let state: String = r.get(6)?;
            let next: i64 = r.get(8)?;
            Ok((
                Delivery {
                    id: r.get(0)?,
                    webhook_id: r.get::<_, Sql<Uuid>>(1)?.0,
                    event_id: r.get::<_, Sql<Uuid>>(2)?.0,
                    event: Event::Ping,
                    subject: r.get(4)?,
                    at: zone.at(r.get::<_, Sql<DateTime<Utc>>>(5)?.0),
                    next_at: (state == "pending")
                        .then(|| DateTime::from_timestamp(next, 0))
                        .flatten()
                        .map(|t| zone.at(t)),
                    state,
                    attempts: r.get(7)?,
                    delivered_at: r.get::<_, Option<Sql<DateTime<Utc>>>>(9)?.map(|t| zone.at(t.0)),
                    tries: Vec::new(),
                },
                r.get::<_, String>(3)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut tries = conn.prepare_cached(
        "SELECT at, status, error, answer, millis FROM webhook_attempts WHERE delivery_id = ?1 ORDER BY id",
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for (mut d, event) in rows {
        d.event = event.parse().map_err(bad_data)?;
        d.tries = tries
            .query_map([d.id], |r| {
                Ok(Attempt {
                    at: zone.at(r.get::<_, Sql<DateTime<Utc>>>(0)?.0),
                    status: r.get(1)?,
                    error: r.get(2)?,
                    answer: r.get(3)?,
                    millis: r.get(4)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        out.push(d);
    }
    Ok(out)
}

/// The endpoint a delivery belongs to.
pub(super) fn delivery_webhook(conn: &impl Db, delivery: i64) -> StoreResult<Option<Uuid>> {
    Ok(conn
        .query_row("SELECT webhook_id FROM webhook_deliveries WHERE id = ?1", [delivery], |r| r.get::<_, Sql<Uuid>>(0))
        .optional()?
        .map(|s| s.0))
}

/// Marks the cases that passed their deadline since the last look and puts a `case.overdue` event out for
/// each; how many were marked. A case whose deadline moves later is told of again when it passes that one.
pub(super) fn notice_overdue(tx: &impl Db, now: DateTime<Utc>) -> StoreResult<usize> {
    let rows = tx
        .prepare_cached(&format!("SELECT case_no, state, due_at, department {OVERDUE_UNNOTICED}"))?
        .query_map([ts(now)], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Sql<protocol::CaseState>>(1)?.0,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut told = 0;
    for (case_no, state, due_at, department) in rows {
        if !deadline_applies(state) {
            continue;
        }
        tx.prepare_cached("UPDATE cases SET overdue_noticed = 1 WHERE case_no = ?1")?.execute([&case_no])?;
        let change = serde_json::json!({ "action": "overdue", "actor": "system", "due_at": due_at });
        let e = Emit { event: Event::CaseOverdue, subject: &case_no, action: Some("overdue"), change, at: now };
        emit(tx, e, || Ok(department))?;
        told += 1;
    }
    Ok(told)
}
