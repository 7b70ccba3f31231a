//! `GET /api/v1/audit` (admin): the audit log, filtered by period, action and actor; CSV on `Accept: text/csv`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::extract::Query;
use super::{Period, limit, period, text};
use crate::db::{AuditFilter, AuditRecord};
use crate::domain::csv_text as field;
use crate::error::AppResult;
use crate::policy::{Target, Verb};
use crate::principal::Principal;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    from: Option<String>,
    to: Option<String>,
    action: Option<String>,
    actor: Option<String>,
    limit: Option<u32>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct AuditList {
    entries: Vec<AuditRecord>,
}

fn to_csv(entries: &[AuditRecord]) -> String {
    let mut out = String::from("at,actor,role,action,target,detail,address,outcome\n");
    for e in entries {
        let cells = [
            e.at.to_rfc3339(),
            e.actor.clone().unwrap_or_default(),
            e.role.clone().unwrap_or_default(),
            e.action.clone(),
            e.target.clone().unwrap_or_default(),
            e.detail.clone().unwrap_or_default(),
            e.address.clone().unwrap_or_default(),
            e.outcome.clone(),
        ];
        out.push_str(&cells.iter().map(|c| field(c)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}

pub async fn audit(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Query(q): Query<AuditQuery>,
) -> AppResult<Response> {
    principal.may(Verb::SeeAuditLog, &Target::Server)?;
    let (start, end) = match (&q.from, &q.to) {
        (None, None) => (None, None),
        _ => {
            let Period { start, end, .. } = period(&q.from, &q.to, &state.config.zone)?;
            (Some(start), Some(end))
        }
    };
    let limit = limit(q.limit, 1000, 10_000)?;
    let filter = AuditFilter { from: start, to: end, action: text(&q.action), actor: text(&q.actor), limit };
    let entries = state.blocking(move |s| s.audit_log(&filter)).await?;
    let wants_csv = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/csv"));
    if wants_csv {
        let mut entry = principal.audit("export", "audit log CSV");
        entry.detail = Some(format!("{} rows", entries.len()));
        state.audit(entry).await;
        let mut r = to_csv(&entries).into_response();
        r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
        return Ok(r);
    }
    Ok(Json(AuditList { entries }).into_response())
}

#[cfg(test)]
mod tests {
    #[test]
    fn formulas_stay_text_and_commas_quotes() {
        assert_eq!(super::field("=HYPERLINK(\"http://x\")"), "\"'=HYPERLINK(\"\"http://x\"\")\"");
        assert_eq!(super::field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(super::field("a,b"), "\"a,b\"");
        assert_eq!(super::field("chief1"), "chief1");
    }
}
