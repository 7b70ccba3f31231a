//! Campaigns (每月一主题): a themed month on some categories (cables, shopfront duties), in some grids or all;
//! the phones show the campaign's categories first while it runs, the indicators filter by it.

use serde::{Deserialize, Serialize};

use crate::FieldError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Campaign {
    /// Chosen by whoever defines it: 1 to 64 of a-z, 0-9, `-` and `_`.
    pub id: String,
    pub name: String,
    /// Category codes of the dictionary.
    pub categories: Vec<String>,
    /// First and last day, `YYYY-MM-DD`, both included.
    pub from: String,
    pub to: String,
    /// Grid codes; none: everywhere.
    #[serde(default)]
    pub grids: Vec<String>,
}

/// Whether `id` names a campaign: 1 to 64 of a-z, 0-9, `-` and `_`.
pub fn is_campaign_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

impl Campaign {
    /// The first and last day.
    pub fn days(&self) -> Option<(chrono::NaiveDate, chrono::NaiveDate)> {
        let day = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        Some((day(&self.from)?, day(&self.to)?))
    }

    /// Whether the campaign runs on `day`.
    pub fn runs_on(&self, day: chrono::NaiveDate) -> bool {
        self.days().is_some_and(|(from, to)| from <= day && day <= to)
    }

    /// Its own rules (the dictionary's codes are the server's to check): an id, a name, categories, a period.
    pub fn validate(&self) -> Result<(), FieldError> {
        if !is_campaign_id(&self.id) {
            return Err(FieldError::new("id", "a campaign's id is 1 to 64 of a-z, 0-9, - and _"));
        }
        if self.name.trim().is_empty() || self.name.chars().count() > 100 {
            return Err(FieldError::new("name", "a campaign needs a name of at most 100 characters"));
        }
        if self.categories.is_empty() {
            return Err(FieldError::new("categories", "a campaign names at least one category"));
        }
        let Some((from, to)) = self.days() else {
            return Err(FieldError::new("from", "from and to are YYYY-MM-DD"));
        };
        if to < from {
            return Err(FieldError::new("to", "to is before from"));
        }
        Ok(())
    }
}
