//! Exports of cases and findings (CSV, XLSX, GeoJSON, with the photos as a ZIP on request): what may be
//! asked for, and the columns. Pure; the writing is `exports.rs`, the jobs' rows `db/exports.rs`.

use chrono::{DateTime, NaiveDate, Utc};
use protocol::{FieldError, Timestamp};
use serde::{Deserialize, Serialize};

use super::csv_text;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, strum::EnumString)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ExportKind {
    /// Cases filed in the period.
    Cases,
    /// Findings observed in the period.
    Findings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema, strum::EnumString)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ExportFormat {
    Csv,
    Xlsx,
    /// A FeatureCollection of points (`[lon, lat]`, WGS-84) with every column as a property.
    Geojson,
}

impl ExportFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Xlsx => "xlsx",
            ExportFormat::Geojson => "geojson",
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ExportFormat::Geojson => "application/geo+json",
        }
    }
}

/// `POST /api/v1/exports`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ExportRequest {
    pub kind: ExportKind,
    pub format: ExportFormat,
    /// First and last day (the server's zone), both included.
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Only this state (a case's or a finding's).
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    /// Cases of this department only.
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub grid: Option<String>,
    /// The photos too: the answer is then a ZIP of the file and `photos/<sha256>.jpg`.
    #[serde(default)]
    pub photos: bool,
}

/// The longest period one export covers.
pub const MAX_DAYS: i64 = 366;

impl ExportRequest {
    pub fn validate(&mut self) -> Result<(), FieldError> {
        if self.to < self.from {
            return Err(FieldError::new("to", "the period ends before it begins"));
        }
        if (self.to - self.from).num_days() >= MAX_DAYS {
            return Err(FieldError::new("to", format!("an export covers at most {MAX_DAYS} days")));
        }
        for (name, value) in [
            ("state", &mut self.state),
            ("category", &mut self.category),
            ("department", &mut self.department),
            ("grid", &mut self.grid),
        ] {
            *value = value.take().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
            if value.as_deref().is_some_and(|v| v.chars().count() > 64) {
                return Err(FieldError::new(name, "at most 64 characters"));
            }
        }
        if self.kind == ExportKind::Cases {
            if let Some(s) = &self.state
                && protocol::CaseState::parse(s).is_none()
            {
                return Err(FieldError::new("state", format!("`{s}` is not a case state")));
            }
        } else {
            if let Some(s) = &self.state
                && protocol::FindingState::parse(s).is_none()
            {
                return Err(FieldError::new("state", format!("`{s}` is not a finding state")));
            }
            if self.department.is_some() {
                return Err(FieldError::new("department", "findings are not a department's: filter cases"));
            }
        }
        Ok(())
    }

    /// The file's name: `cases-2026-12-01-2026-12-31.csv`, or `.zip` with photos.
    pub fn file_name(&self) -> String {
        let kind = match self.kind {
            ExportKind::Cases => "cases",
            ExportKind::Findings => "findings",
        };
        let ext = if self.photos { "zip" } else { self.format.extension() };
        format!("{kind}-{}-{}.{ext}", self.from, self.to)
    }
}

/// What storage is asked for: the period as instants, and the filters.
#[derive(Debug, Clone, Default)]
pub struct ExportFilter {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub state: Option<String>,
    pub category: Option<String>,
    pub department: Option<String>,
    pub grid: Option<String>,
}

/// An export as the console follows it.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ExportJob {
    pub id: uuid::Uuid,
    pub request: ExportRequest,
    /// Who asked (only they, and the admin, see it).
    pub username: String,
    /// `running`, `done` or `failed`.
    pub state: String,
    /// Rows written so far, of `total` (counted when the export began).
    pub rows: u64,
    pub total: u64,
    /// Photos added so far (an export with photos).
    pub photos: u64,
    pub bytes: u64,
    pub error: Option<String>,
    pub file_name: String,
    pub created_at: Timestamp,
    pub finished_at: Option<Timestamp>,
}

/// One cell of an exported row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
    Empty,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        let s = s.into();
        if s.is_empty() { Cell::Empty } else { Cell::Text(s) }
    }

    pub fn opt(s: Option<impl Into<String>>) -> Cell {
        s.map(Cell::text).unwrap_or(Cell::Empty)
    }

    /// The cell in a CSV line.
    pub fn csv(&self) -> String {
        match self {
            Cell::Text(s) => csv_text(s),
            Cell::Number(n) => n.to_string(),
            Cell::Empty => String::new(),
        }
    }

    pub fn json(&self) -> serde_json::Value {
        match self {
            Cell::Text(s) => serde_json::Value::String(s.clone()),
            Cell::Number(n) => serde_json::json!(n),
            Cell::Empty => serde_json::Value::Null,
        }
    }
}

pub const FINDING_COLUMNS: [&str; 18] = [
    "id",
    "observed_at",
    "category",
    "category_name",
    "description",
    "state",
    "reporter",
    "team",
    "grid",
    "road",
    "address",
    "lat",
    "lon",
    "case_no",
    "reason",
    "urgent",
    "signed",
    "photos",
];

pub const CASE_COLUMNS: [&str; 19] = [
    "case_no",
    "state",
    "category",
    "category_name",
    "department",
    "team",
    "grid",
    "address",
    "description",
    "lat",
    "lon",
    "filed_at",
    "due_at",
    "closed_at",
    "light",
    "overdue",
    "supervisions",
    "urgent",
    "photos",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> ExportRequest {
        ExportRequest {
            kind: ExportKind::Findings,
            format: ExportFormat::Csv,
            from: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            to: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
            state: None,
            category: None,
            department: None,
            grid: None,
            photos: false,
        }
    }

    #[test]
    fn a_request_names_its_wrong_field() {
        let mut r = request();
        r.to = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        assert_eq!(r.validate().unwrap_err().field, "to");
        let mut r = request();
        r.to = NaiveDate::from_ymd_opt(2028, 1, 1).unwrap();
        assert_eq!(r.validate().unwrap_err().field, "to");
        let mut r = request();
        r.state = Some("dispatched".into());
        assert_eq!(r.validate().unwrap_err().field, "state", "a case's state is not a finding's");
        let mut r = request();
        r.department = Some("SW".into());
        assert_eq!(r.validate().unwrap_err().field, "department");
        let mut r = request();
        r.kind = ExportKind::Cases;
        r.state = Some(" dispatched ".into());
        r.grid = Some("  ".into());
        r.validate().unwrap();
        assert_eq!((r.state.as_deref(), r.grid.as_deref()), (Some("dispatched"), None));
        assert_eq!(r.file_name(), "cases-2026-12-01-2026-12-31.csv");
        r.photos = true;
        assert_eq!(r.file_name(), "cases-2026-12-01-2026-12-31.zip");
    }

    #[test]
    fn text_a_spreadsheet_would_run_is_kept_as_text() {
        assert_eq!(Cell::text("=HYPERLINK(\"x\")").csv(), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(Cell::text("-5").csv(), "'-5");
        assert_eq!(Cell::Number(-5.0).csv(), "-5");
        assert_eq!(Cell::text("井盖, 缺失").csv(), "\"井盖, 缺失\"");
        assert_eq!(Cell::text("").csv(), "");
    }
}
