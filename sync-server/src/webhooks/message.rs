//! What a delivery sends: the signed JSON body of a system endpoint, and the short Chinese message a
//! department's group robot posts (企业微信 markdown; 钉钉 markdown with its signed URL, 加签).

use base64::Engine;
use chrono::{DateTime, FixedOffset, Utc};
use ring::hmac;
use serde_json::{Value, json};

use crate::domain::webhooks::{Event, Format};

/// The header that carries a system delivery's signature.
pub const SIGNATURE_HEADER: &str = "X-Tiejiaoban-Signature";

/// `sha256=` and the lowercase hex HMAC-SHA256 of `body` under `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    format!("sha256={}", hex::encode(hmac::sign(&key, body).as_ref()))
}

/// The body of a system delivery: `{"id", "event", "at", "data"}`.
pub fn envelope(id: uuid::Uuid, event: Event, at: DateTime<FixedOffset>, data: &Value) -> Vec<u8> {
    serde_json::to_vec(&json!({ "id": id, "event": event.as_str(), "at": at, "data": data }))
        .unwrap_or_else(|_| b"{}".to_vec())
}

/// A DingTalk robot's URL with its signature (加签): `timestamp` in milliseconds and `sign`, the Base64 of
/// HMAC-SHA256 over `timestamp + "\n" + secret` keyed by the secret, URL-encoded.
pub fn dingtalk_signed_url(url: &str, secret: &str, now: DateTime<Utc>) -> Result<String, url::ParseError> {
    let mut url = url::Url::parse(url)?;
    if secret.is_empty() {
        return Ok(url.into());
    }
    let timestamp = now.timestamp_millis().to_string();
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let mac = hmac::sign(&key, format!("{timestamp}\n{secret}").as_bytes());
    let sign = base64::engine::general_purpose::STANDARD.encode(mac.as_ref());
    url.query_pairs_mut().append_pair("timestamp", &timestamp).append_pair("sign", &sign);
    Ok(url.into())
}

/// What a robot's message says about a case, read from the data a case event carries.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseNotice {
    /// 派遣, 督办 or 超期.
    pub headline: &'static str,
    pub case_no: String,
    pub category: String,
    pub place: String,
    pub deadline: Option<String>,
    /// The 督办's note.
    pub note: Option<String>,
    pub link: Option<String>,
}

/// The notice of a case event for a department's group; `None` for what robots do not tell of.
pub fn case_notice(event: Event, data: &Value, console_url: Option<&str>) -> Option<CaseNotice> {
    let change = data.get("change");
    let action = change.and_then(|c| c.get("action")).and_then(Value::as_str);
    let headline = match (event, action) {
        (Event::CaseChanged, Some("dispatch")) => "新派遣案件",
        (Event::CaseChanged, Some("supervise")) => "督办",
        (Event::CaseOverdue, _) => "案件超期",
        _ => return None,
    };
    let text =
        |v: Option<&Value>| v.and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let case_no = text(data.get("case_no"))?;
    let category = match (text(data.get("category_name")), text(data.get("category"))) {
        (Some(name), Some(code)) => format!("{name}（{code}）"),
        (name, code) => name.or(code).unwrap_or_default(),
    };
    let place = match (text(data.get("address")), text(data.get("grid"))) {
        (Some(a), Some(g)) => format!("{a}（网格 {g}）"),
        (Some(a), None) => a,
        (None, Some(g)) => format!("网格 {g}"),
        (None, None) => match (data.pointer("/location/lat"), data.pointer("/location/lon")) {
            (Some(lat), Some(lon)) => format!("{lat}, {lon}"),
            _ => String::new(),
        },
    };
    let deadline = text(data.get("due_at")).map(|d| {
        // "2026-12-04T18:00:00+08:00" → "2026-12-04 18:00"
        d.parse::<DateTime<FixedOffset>>().map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or(d)
    });
    let note = if action == Some("supervise") { text(change.and_then(|c| c.get("note"))) } else { None };
    let link = console_url.map(|base| format!("{}/console/#/department?case={case_no}", base.trim_end_matches('/')));
    Some(CaseNotice { headline, case_no, category, place, deadline, note, link })
}

impl CaseNotice {
    /// The message as markdown lines (both robots read this subset).
    pub fn markdown(&self) -> String {
        let mut lines = vec![format!("### 【{}】案件 {}", self.headline, self.case_no)];
        lines.push(format!("> 类别：{}", self.category));
        if !self.place.is_empty() {
            lines.push(format!("> 位置：{}", self.place));
        }
        if let Some(d) = &self.deadline {
            lines.push(format!("> 处置时限：{d}"));
        }
        if let Some(n) = &self.note {
            lines.push(format!("> 督办意见：{n}"));
        }
        if let Some(link) = &self.link {
            lines.push(format!("[在控制台查看]({link})"));
        }
        lines.join("\n")
    }

    pub fn title(&self) -> String {
        format!("【{}】{}", self.headline, self.case_no)
    }
}

/// A robot's test message.
pub fn ping_text() -> &'static str {
    "### 铁脚板 测试消息\n> 群机器人已接通：派遣、督办和超期案件将发到本群。"
}

/// The body a robot is posted. WeCom takes markdown up to 4,096 bytes: a longer message is cut at a
/// character boundary.
pub fn robot_body(format: Format, title: &str, markdown: &str) -> Value {
    match format {
        Format::Wecom => json!({ "msgtype": "markdown", "markdown": { "content": truncate(markdown, 4096) } }),
        _ => json!({ "msgtype": "markdown", "markdown": { "title": title, "text": markdown } }),
    }
}

fn truncate(s: &str, max_bytes: usize) -> &str {
    if s.len() <= max_bytes {
        return s;
    }
    let mut end = max_bytes;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Whether a robot's answer says the message was taken: both services answer 200 with `errcode` 0, and a
/// refusal (a wrong key, a bad signature, too many messages) as 200 with another code.
pub fn robot_accepted(answer: &str) -> Result<(), String> {
    let v: Value = serde_json::from_str(answer).map_err(|_| "the robot's answer is not JSON".to_owned())?;
    match v.get("errcode").and_then(Value::as_i64) {
        Some(0) => Ok(()),
        Some(code) => Err(format!("errcode {code}: {}", v.get("errmsg").and_then(Value::as_str).unwrap_or(""))),
        None => Err("the robot's answer has no errcode".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delivery_is_signed_with_hmac_sha256_of_its_body() {
        // RFC 4231, test case 2.
        let sig = signature("Jefe", b"what do ya want for nothing?");
        assert_eq!(sig, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    #[test]
    fn a_dingtalk_url_is_signed_as_dingtalk_documents() {
        let now = DateTime::from_timestamp_millis(1_700_000_000_123).unwrap();
        let url = dingtalk_signed_url("https://oapi.dingtalk.com/robot/send?access_token=abc", "SECxyz", now).unwrap();
        let parsed = url::Url::parse(&url).unwrap();
        let pairs: std::collections::HashMap<_, _> = parsed.query_pairs().into_owned().collect();
        assert_eq!(pairs["access_token"], "abc");
        assert_eq!(pairs["timestamp"], "1700000000123");
        let key = hmac::Key::new(hmac::HMAC_SHA256, b"SECxyz");
        let expected =
            base64::engine::general_purpose::STANDARD.encode(hmac::sign(&key, b"1700000000123\nSECxyz").as_ref());
        assert_eq!(pairs["sign"], expected);
        // No secret: the URL as given (a robot secured by keywords or addresses).
        let plain = dingtalk_signed_url("https://oapi.dingtalk.com/robot/send?access_token=abc", "", now).unwrap();
        assert_eq!(plain, "https://oapi.dingtalk.com/robot/send?access_token=abc");
    }

    fn case_data(action: &str) -> Value {
        json!({
            "case_no": "202612040001", "category": "C0102", "category_name": "暴露垃圾",
            "address": "中山路", "grid": "210103001", "due_at": "2026-12-04T18:00:00+08:00",
            "location": { "lat": 41.8, "lon": 123.4 },
            "change": { "action": action, "note": "今天下班前处理完" },
        })
    }

    #[test]
    fn a_robot_tells_of_a_dispatch_a_supervision_and_an_overdue_case_in_chinese() {
        let n = case_notice(Event::CaseChanged, &case_data("dispatch"), Some("https://cg.example.cn/")).unwrap();
        let text = n.markdown();
        assert!(text.starts_with("### 【新派遣案件】案件 202612040001"), "{text}");
        assert!(text.contains("> 类别：暴露垃圾（C0102）"), "{text}");
        assert!(text.contains("> 位置：中山路（网格 210103001）"), "{text}");
        assert!(text.contains("> 处置时限：2026-12-04 18:00"), "{text}");
        assert!(!text.contains("督办意见"), "{text}");
        assert!(text.contains("(https://cg.example.cn/console/#/department?case=202612040001)"), "{text}");
        let s = case_notice(Event::CaseChanged, &case_data("supervise"), None).unwrap();
        assert!(s.markdown().contains("> 督办意见：今天下班前处理完"));
        assert!(!s.markdown().contains("控制台"));
        assert_eq!(case_notice(Event::CaseOverdue, &case_data("overdue"), None).unwrap().headline, "案件超期");
        assert!(case_notice(Event::CaseChanged, &case_data("accept"), None).is_none());
        assert!(case_notice(Event::CaseFiled, &case_data("file"), None).is_none());
    }

    #[test]
    fn robot_bodies_follow_each_service() {
        let w = robot_body(Format::Wecom, "t", "x");
        assert_eq!(w, json!({ "msgtype": "markdown", "markdown": { "content": "x" } }));
        let d = robot_body(Format::Dingtalk, "t", "x");
        assert_eq!(d, json!({ "msgtype": "markdown", "markdown": { "title": "t", "text": "x" } }));
        let long = "案".repeat(2000);
        let w = robot_body(Format::Wecom, "t", &long);
        let content = w["markdown"]["content"].as_str().unwrap();
        assert!(content.len() <= 4096 && content.len() > 4090);
        assert!(robot_accepted(r#"{"errcode":0,"errmsg":"ok"}"#).is_ok());
        assert_eq!(
            robot_accepted(r#"{"errcode":310000,"errmsg":"sign not match"}"#).unwrap_err(),
            "errcode 310000: sign not match"
        );
        assert!(robot_accepted("<html>").is_err());
    }
}
