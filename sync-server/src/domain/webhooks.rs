//! Webhooks and the departments' group robots (企业微信 / 钉钉 群机器人): which events exist, which endpoint
//! wants which, how a new endpoint is checked, and when a failed delivery is tried again. Pure rules; the
//! outbox is `db/outbox.rs`, the sending `webhooks/`.

use chrono::{DateTime, Duration, Utc};
use protocol::FieldError;
use serde::{Deserialize, Serialize};

/// What happened, as a receiver subscribes to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema, strum::EnumString)]
pub enum Event {
    /// A case was filed (立案).
    #[serde(rename = "case.filed")]
    #[strum(serialize = "case.filed")]
    CaseFiled,
    /// Any later step of a case: dispatched, accepted, handled, verified, closed, supervised, extended ...
    #[serde(rename = "case.changed")]
    #[strum(serialize = "case.changed")]
    CaseChanged,
    /// A case passed its deadline (超期), told once until the deadline moves.
    #[serde(rename = "case.overdue")]
    #[strum(serialize = "case.overdue")]
    CaseOverdue,
    /// A report from another channel was received, filed, or not confirmed on site.
    #[serde(rename = "report.changed")]
    #[strum(serialize = "report.changed")]
    ReportChanged,
    /// An inspector completed a task (核查, 核实, 抽查 / 交办).
    #[serde(rename = "task.completed")]
    #[strum(serialize = "task.completed")]
    TaskCompleted,
    /// A section chief rejected a finding.
    #[serde(rename = "finding.rejected")]
    #[strum(serialize = "finding.rejected")]
    FindingRejected,
    /// A test delivery the admin asked for; sent to that one endpoint only.
    #[serde(rename = "ping")]
    #[strum(serialize = "ping")]
    Ping,
}

impl Event {
    /// The events an endpoint may subscribe to.
    pub const SUBSCRIBABLE: [Event; 6] = [
        Event::CaseFiled,
        Event::CaseChanged,
        Event::CaseOverdue,
        Event::ReportChanged,
        Event::TaskCompleted,
        Event::FindingRejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Event::CaseFiled => "case.filed",
            Event::CaseChanged => "case.changed",
            Event::CaseOverdue => "case.overdue",
            Event::ReportChanged => "report.changed",
            Event::TaskCompleted => "task.completed",
            Event::FindingRejected => "finding.rejected",
            Event::Ping => "ping",
        }
    }
}

/// How a delivery is written.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema, strum::EnumString,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Format {
    /// `{"id", "event", "at", "data"}`, signed with `X-Tiejiaoban-Signature` (HMAC-SHA256).
    #[default]
    Json,
    /// A 企业微信 (WeCom) group robot: a markdown message; the key is in the URL.
    Wecom,
    /// A 钉钉 (DingTalk) group robot: a markdown message; with a secret, the URL is signed (加签).
    Dingtalk,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Wecom => "wecom",
            Format::Dingtalk => "dingtalk",
        }
    }

    /// A group robot posts a short message for people rather than data for a system.
    pub fn is_robot(self) -> bool {
        self != Format::Json
    }
}

/// The case actions a department's group robot tells of, besides an overdue case: the case sent to the
/// department (派遣), and the centre's supervision (督办).
pub const ROBOT_ACTIONS: [&str; 2] = ["dispatch", "supervise"];

/// An endpoint as the admin registers it (`POST /api/v1/webhooks`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NewWebhook {
    /// Where deliveries are posted: http or https.
    pub url: String,
    /// What it wants; a group robot of a department gets the dispatches to it, the 督办 and the overdue
    /// cases whatever this says.
    #[serde(default)]
    pub events: Vec<Event>,
    /// The HMAC key of `X-Tiejiaoban-Signature`; for a DingTalk robot, its signing secret (`SEC…`), if set.
    #[serde(default)]
    pub secret: String,
    #[serde(default)]
    pub format: Format,
    /// A group robot's department (the dictionary's department code, e.g. `SW`).
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub description: String,
}

const MAX_URL: usize = 2048;
const MAX_SECRET: usize = 256;

impl NewWebhook {
    /// Checks what needs no storage; the department against the dictionary is the caller's.
    pub fn validate(&mut self) -> Result<(), FieldError> {
        self.url = self.url.trim().to_owned();
        let url = url::Url::parse(&self.url)
            .map_err(|e| FieldError::new("url", format!("`{}` is not a URL: {e}", self.url)))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
            return Err(FieldError::new("url", "a webhook is delivered over http or https to a host"));
        }
        if self.url.len() > MAX_URL {
            return Err(FieldError::new("url", format!("at most {MAX_URL} characters")));
        }
        if self.secret.len() > MAX_SECRET {
            return Err(FieldError::new("secret", format!("at most {MAX_SECRET} characters")));
        }
        if self.description.chars().count() > 200 {
            return Err(FieldError::new("description", "at most 200 characters"));
        }
        self.department = self.department.take().map(|d| d.trim().to_owned()).filter(|d| !d.is_empty());
        if let Some(i) = self.events.iter().position(|e| *e == Event::Ping) {
            return Err(FieldError::new(format!("events[{i}]"), "ping is sent on request, not subscribed to"));
        }
        self.events.dedup();
        match self.format {
            Format::Json => {
                if self.secret.is_empty() {
                    return Err(FieldError::new("secret", "deliveries are signed with a secret; give one"));
                }
                if self.events.is_empty() {
                    return Err(FieldError::new("events", "name at least one event"));
                }
            }
            Format::Wecom | Format::Dingtalk => {
                if self.department.is_none() {
                    return Err(FieldError::new("department", "a group robot belongs to a department's group"));
                }
            }
        }
        Ok(())
    }
}

/// Whether an endpoint wants an event: a system endpoint by its subscription, a department's robot for the
/// dispatches to its department, the 督办 and the overdue cases of its department.
pub fn wants(
    format: Format,
    events: &[Event],
    department: Option<&str>,
    event: Event,
    action: Option<&str>,
    event_department: Option<&str>,
) -> bool {
    if format.is_robot() {
        let told = match event {
            Event::CaseChanged => action.is_some_and(|a| ROBOT_ACTIONS.contains(&a)),
            Event::CaseOverdue => true,
            _ => false,
        };
        return told && department.is_some() && department == event_department;
    }
    events.contains(&event) && department.is_none_or(|d| Some(d) == event_department)
}

/// The longest wait between two tries.
pub const MAX_BACKOFF: Duration = Duration::hours(1);
/// How long a delivery is tried before it is given up.
pub const RETRY_WINDOW: Duration = Duration::hours(25);

/// When a delivery that failed `attempts` times (one or more) is tried next: `first` after the first failure,
/// three times longer after each next one, at most an hour apart; `None` once the retry window that began at
/// `window_from` is over. `jitter` in [0, 1) spreads retries of many deliveries by up to a fifth, never
/// later than the step's own length.
pub fn next_try(
    attempts: u32,
    first: Duration,
    window_from: DateTime<Utc>,
    now: DateTime<Utc>,
    jitter: f64,
) -> Option<DateTime<Utc>> {
    let mut wait = first;
    for _ in 1..attempts.min(20) {
        wait = (wait * 3).min(MAX_BACKOFF);
    }
    let wait = wait - Duration::milliseconds((wait.num_milliseconds() as f64 * 0.2 * jitter.clamp(0.0, 1.0)) as i64);
    let at = now + wait;
    (at <= window_from + RETRY_WINDOW).then_some(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(url: &str, format: Format) -> NewWebhook {
        NewWebhook {
            url: url.into(),
            events: vec![Event::CaseFiled],
            secret: "s3cret".into(),
            format,
            department: None,
            description: String::new(),
        }
    }

    #[test]
    fn a_webhook_url_is_http_or_https_to_a_host() {
        for bad in ["ftp://example.org/x", "file:///etc/passwd", "example.org/hook", "http://", "javascript:alert(1)"] {
            let err = hook(bad, Format::Json).validate().unwrap_err();
            assert_eq!(err.field, "url", "{bad}");
        }
        hook("https://example.org/hook?a=1", Format::Json).validate().unwrap();
        hook("http://127.0.0.1:8080/", Format::Json).validate().unwrap();
    }

    #[test]
    fn a_system_endpoint_needs_a_secret_and_events_and_a_robot_needs_a_department() {
        let mut h = hook("https://example.org/", Format::Json);
        h.secret.clear();
        assert_eq!(h.validate().unwrap_err().field, "secret");
        let mut h = hook("https://example.org/", Format::Json);
        h.events.clear();
        assert_eq!(h.validate().unwrap_err().field, "events");
        let mut h = hook("https://example.org/", Format::Json);
        h.events = vec![Event::CaseFiled, Event::Ping];
        assert_eq!(h.validate().unwrap_err().field, "events[1]");
        let mut robot = hook("https://oapi.dingtalk.com/robot/send?access_token=x", Format::Dingtalk);
        robot.secret.clear();
        assert_eq!(robot.validate().unwrap_err().field, "department");
        robot.department = Some(" 市政 ".into());
        robot.validate().unwrap();
        assert_eq!(robot.department.as_deref(), Some("市政"));
    }

    #[test]
    fn events_are_named_as_the_contract_names_them() {
        for e in Event::SUBSCRIBABLE {
            assert_eq!(serde_json::to_value(e).unwrap(), e.as_str());
            assert_eq!(e.as_str().parse::<Event>().unwrap(), e);
        }
        assert!("case.deleted".parse::<Event>().is_err());
    }

    #[test]
    fn a_robot_tells_its_department_of_dispatches_supervision_and_overdue_cases_only() {
        let robot = |event, action, dept| wants(Format::Wecom, &[], Some("市政"), event, action, dept);
        assert!(robot(Event::CaseChanged, Some("dispatch"), Some("市政")));
        assert!(robot(Event::CaseChanged, Some("supervise"), Some("市政")));
        assert!(robot(Event::CaseOverdue, None, Some("市政")));
        assert!(!robot(Event::CaseChanged, Some("dispatch"), Some("环卫")), "another department's case");
        assert!(!robot(Event::CaseChanged, Some("accept"), Some("市政")));
        assert!(!robot(Event::CaseFiled, Some("file"), Some("市政")));
        assert!(!robot(Event::ReportChanged, None, Some("市政")));
        let system = |events: &[Event], dept: Option<&str>, event| wants(Format::Json, events, dept, event, None, None);
        assert!(system(&[Event::CaseFiled], None, Event::CaseFiled));
        assert!(!system(&[Event::CaseFiled], None, Event::CaseChanged));
        assert!(!system(&[Event::CaseFiled], Some("市政"), Event::CaseFiled), "limited to a department");
    }

    #[test]
    fn retries_come_sooner_than_thirty_seconds_first_then_further_apart_for_a_day() {
        let t0 = DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z").unwrap().to_utc();
        let first = Duration::seconds(10);
        let after = |n, now, jitter| next_try(n, first, t0, now, jitter).map(|t| t - now);
        assert_eq!(after(1, t0, 0.0), Some(Duration::seconds(10)));
        assert!(after(1, t0, 0.999).unwrap() >= Duration::seconds(8));
        assert_eq!(after(2, t0, 0.0), Some(Duration::seconds(30)));
        assert_eq!(after(3, t0, 0.0), Some(Duration::seconds(90)));
        assert_eq!(after(12, t0, 0.0), Some(MAX_BACKOFF));
        // Tries at the longest wait go on for 24 hours and more, then stop.
        let mut now = t0;
        let mut tries = 0;
        while let Some(next) = next_try(tries + 1, first, t0, now, 0.5) {
            now = next;
            tries += 1;
        }
        assert!(now - t0 >= Duration::hours(24), "{}", now - t0);
        assert!(tries > 24 && tries < 60, "{tries}");
    }
}
