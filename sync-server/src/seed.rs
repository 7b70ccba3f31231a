//! What every store starts with: the default dictionary of domain.md (production data, not a demo).

use chrono::Utc;
use protocol::Dictionary;

use crate::db::Store;
use crate::error::AppResult;

/// The default dictionary (domain.md): 47 categories, 11 departments, the ten big classes.
pub fn default_dictionary() -> Dictionary {
    serde_json::from_str(include_str!("default_dictionary.json")).expect("the bundled dictionary is valid JSON")
}

/// Every store starts with the default dictionary, so that users of a department can be added at once.
pub fn ensure_dictionary(store: &dyn Store) -> AppResult<()> {
    if store.dictionary()?.is_none() {
        store.first_dictionary(default_dictionary(), Utc::now())?;
    }
    Ok(())
}
