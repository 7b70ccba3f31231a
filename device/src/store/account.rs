//! The registration this device holds, its settings, and what the server last gave it (cursor, dictionary).

use protocol::Dictionary;
use rusqlite::OptionalExtension;
use uuid::Uuid;

use super::{Account, DeviceStore, Settings};
use crate::error::{DeviceError, DeviceResult};

impl DeviceStore {
    pub fn account(&self) -> DeviceResult<Option<Account>> {
        match self.meta("account")? {
            Some(json) => Ok(Some(serde_json::from_str(&json)?)),
            None => Ok(None),
        }
    }

    pub fn require_account(&self) -> DeviceResult<Account> {
        self.account()?.ok_or(DeviceError::NotRegistered)
    }

    /// The device id to register with: the current one, unless another user takes the phone over, which
    /// is allowed only when nothing waits to be sent.
    pub fn device_id_for(&self, username: &str) -> DeviceResult<Uuid> {
        match self.account()? {
            Some(a) if a.user.username == username => Ok(a.device_id),
            Some(a) => {
                let pending = self.pending_count()?;
                if pending > 0 {
                    return Err(DeviceError::Invalid(format!(
                        "{pending} ops of user {} are still waiting to be sent; sync them before another user registers",
                        a.user.username
                    )));
                }
                Ok(Uuid::now_v7())
            }
            None => Ok(self.meta("device_id")?.and_then(|s| Uuid::parse_str(&s).ok()).unwrap_or_else(Uuid::now_v7)),
        }
    }

    /// Stores a registration. A new user starts the change stream from the beginning.
    pub fn set_account(&mut self, account: &Account) -> DeviceResult<()> {
        let previous = self.account()?;
        let tx = self.conn.transaction()?;
        if previous.as_ref().is_none_or(|p| p.user.username != account.user.username) {
            tx.execute("DELETE FROM meta WHERE key = 'cursor'", [])?;
        }
        Self::set_meta(&tx, "account", &serde_json::to_string(account)?)?;
        Self::set_meta(&tx, "device_id", &account.device_id.to_string())?;
        // Ops queued before (by a release that did not sign) are signed in the same commit: no sync can
        // find the device registered with a key and its ops unsigned.
        Self::sign_unsigned(&tx)?;
        tx.commit()?;
        Ok(())
    }

    /// The app's settings, with defaults for what was never set.
    pub fn settings(&self) -> DeviceResult<Settings> {
        Ok(match self.meta("settings")? {
            Some(json) => serde_json::from_str(&json)?,
            None => Settings::default(),
        })
    }

    pub fn set_settings(&self, settings: &Settings) -> DeviceResult<()> {
        Self::set_meta(&self.conn, "settings", &serde_json::to_string(settings)?)
    }

    pub fn cursor(&self) -> DeviceResult<Option<String>> {
        self.meta("cursor")
    }

    /// The campaigns running on `day`, by name.
    pub fn campaigns_on(&self, day: chrono::NaiveDate) -> DeviceResult<Vec<protocol::Campaign>> {
        let mut stmt = self.conn.prepare("SELECT body FROM campaigns")?;
        let bodies = stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
        let mut running = Vec::new();
        for body in bodies {
            let c: protocol::Campaign = serde_json::from_str(&body)?;
            if c.runs_on(day) {
                running.push(c);
            }
        }
        running.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(running)
    }

    pub fn dictionary(&self) -> DeviceResult<Option<Dictionary>> {
        let body: Option<String> =
            self.conn.query_row("SELECT body FROM dictionary WHERE id = 1", [], |r| r.get(0)).optional()?;
        Ok(body.map(|b| serde_json::from_str(&b)).transpose()?)
    }
}
