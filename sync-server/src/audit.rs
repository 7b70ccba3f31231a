//! An entry of the audit log, as the handlers make it (`Principal::audit`) and the store keeps it (`db::audit`).

/// One entry to record.
#[derive(Debug, Clone, Default)]
pub struct AuditEntry {
    /// The username acting (or attempted, for a failed sign-in); none for the system.
    pub actor: Option<String>,
    pub role: Option<String>,
    /// `sign_in`, `device.register`, `device.revoke`, `user.add`, `user.change`, `team.add`,
    /// `dictionary.import`, `grids.import`, `basemap.upload`, `basemap.delete`, `campaign.save`, `export`.
    pub action: &'static str,
    pub target: Option<String>,
    pub detail: Option<String>,
    pub address: Option<String>,
    /// `ok`, `refused` (wrong password, policy) or `throttled`.
    pub outcome: &'static str,
}
