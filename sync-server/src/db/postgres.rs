//! The PostgreSQL store (issue S), as far as it goes: the accounts (`AccountStore`) — users, sessions, devices
//! and their keys, teams, the server's settings, the audit log and integration tokens — on the same promises as
//! the SQLite store, checked by the same conformance cases; the photos' rows and uploads (`PhotoStore`); and the feed of changes back to devices, read below
//! the oldest running transaction (`changes_after`). The other records of the work (findings, cases, tasks,
//! photos) are not on PostgreSQL yet, so `serve --database postgres://…` is refused for now.
//!
//! The trait is synchronous and every call already runs off the async workers (`AppState::blocking`), so each
//! method runs its queries on the store's own small runtime (`block_on`) through a pool (sqlx). The schema is
//! `migrations/postgres/*.sql`, embedded in the binary and run at connect under sqlx's advisory lock, so several
//! servers may start at once. A read-check-write runs in one transaction with the row locked (`FOR UPDATE`),
//! since PostgreSQL, unlike the single SQLite writer, lets two servers run them side by side.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use protocol::{DeviceInfo, Role};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::{Row, SqlSafeStr};
use uuid::Uuid;

use super::accounts::{NewSession, NewUser, SecondFactor, TeamView, UserUpdate, UserView};
use super::audit::{AuditEntry, AuditFilter, AuditRecord};
use super::blobs::UploadState;
use super::devices::RegisterOutcome;
use super::error::{StoreError, StoreResult};
use super::integrations::IntegrationToken;
use super::store::{AccountStore, PhotoStore};
use crate::blobs::{BlobMeta, PackPlace};
use crate::config::Zone;
use crate::principal::{Principal, User};

/// The schema, step by step; a released step is never edited.
const MIGRATIONS: [(i64, &str, &str); 3] = [
    (1, "accounts", include_str!("../../migrations/postgres/0001_accounts.sql")),
    (2, "changes", include_str!("../../migrations/postgres/0002_changes.sql")),
    (3, "photos", include_str!("../../migrations/postgres/0003_photos.sql")),
];

/// A place in the feed of changes: the transaction that wrote a change, and the change's id. A reader that has
/// read up to a position has read every change before it, and none can appear before it later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct FeedPosition {
    pub txid: u64,
    pub id: i64,
}

/// A page of the feed.
#[derive(Debug, Clone)]
pub struct FeedPage {
    pub changes: Vec<(FeedPosition, protocol::Change)>,
    /// Where the next page starts (where this one did, when it is empty).
    pub position: FeedPosition,
    pub more: bool,
}

pub struct PgStore {
    pool: PgPool,
    /// Drives the pool's connections; the trait's callers block on it.
    runtime: tokio::runtime::Runtime,
    zone: Zone,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").finish_non_exhaustive()
    }
}

fn pg_error(e: sqlx::Error) -> StoreError {
    if let Some(db) = e.as_database_error()
        && db.is_unique_violation()
    {
        return StoreError::conflict(db.message().to_owned());
    }
    StoreError::Backend(format!("PostgreSQL: {e}"))
}

fn role(r: &PgRow, column: &str) -> Result<Role, sqlx::Error> {
    let text: String = r.try_get(column)?;
    Role::parse(&text).ok_or_else(|| sqlx::Error::Decode(format!("stored role `{text}`").into()))
}

fn user(r: &PgRow) -> Result<User, sqlx::Error> {
    Ok(User {
        id: r.try_get("id")?,
        username: r.try_get("username")?,
        display_name: r.try_get("display_name")?,
        role: role(r, "role")?,
        team: r.try_get("team")?,
        department: r.try_get("department")?,
    })
}

fn user_view(r: &PgRow) -> Result<UserView, sqlx::Error> {
    Ok(UserView {
        id: r.try_get("id")?,
        username: r.try_get("username")?,
        display_name: r.try_get("display_name")?,
        role: role(r, "role")?,
        team: r.try_get("team")?,
        department: r.try_get("department")?,
        active: r.try_get("active")?,
        totp_enabled: r.try_get("totp_enabled")?,
    })
}

const USER_COLUMNS: &str = "u.id, u.username, u.display_name, u.role, u.team, u.department";

impl PgStore {
    /// Connects (retrying while the database does not answer, for up to `wait`), and brings the schema up to
    /// date.
    pub fn connect(url: &str, zone: Zone, wait: Duration) -> StoreResult<PgStore> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("postgres")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Backend(format!("a runtime for PostgreSQL: {e}")))?;
        let pool = runtime.block_on(async {
            let started = tokio::time::Instant::now();
            let mut pause = Duration::from_millis(100);
            loop {
                match PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect(url)
                    .await
                {
                    Ok(pool) => return Ok(pool),
                    Err(e) if started.elapsed() + pause < wait => {
                        tracing::warn!("PostgreSQL does not answer yet ({e}); trying again in {pause:?}");
                        tokio::time::sleep(pause).await;
                        pause = (pause * 2).min(Duration::from_secs(5));
                    }
                    Err(e) => return Err(pg_error(e)),
                }
            }
        })?;
        let migrations = MIGRATIONS
            .iter()
            .map(|(version, name, sql)| {
                Migration::new(*version, (*name).into(), MigrationType::Simple, sql.into_sql_str(), false)
            })
            .collect();
        runtime
            .block_on(Migrator::with_migrations(migrations).run(&pool))
            .map_err(|e| StoreError::Backend(format!("PostgreSQL schema: {e}")))?;
        Ok(PgStore { pool, runtime, zone })
    }

    fn run<T>(&self, work: impl Future<Output = Result<T, sqlx::Error>>) -> StoreResult<T> {
        self.runtime.block_on(work).map_err(pg_error)
    }

    /// The department codes of the newest dictionary.
    async fn knows_department(pool: &PgPool, code: &str) -> Result<bool, sqlx::Error> {
        let found: Option<bool> = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM jsonb_array_elements(body->'departments') d WHERE d->>'code' = $1)
             FROM dictionary_versions ORDER BY version DESC LIMIT 1",
        )
        .bind(code)
        .fetch_optional(pool)
        .await?;
        Ok(found.unwrap_or(false))
    }

    fn known_department(&self, code: &str) -> StoreResult<()> {
        if self.run(Self::knows_department(&self.pool, code))? {
            Ok(())
        } else {
            Err(StoreError::invalid("department", format!("department `{code}` is not a code of the dictionary")))
        }
    }

    /// Stores a dictionary as a new version (the accounts check departments against the newest).
    pub fn put_dictionary(&self, dictionary: &protocol::Dictionary, now: DateTime<Utc>) -> StoreResult<i64> {
        let body = serde_json::to_value(dictionary).map_err(|e| StoreError::internal(e.to_string()))?;
        self.run(async {
            sqlx::query_scalar(
                "INSERT INTO dictionary_versions (version, body, imported_at)
                 VALUES ((SELECT COALESCE(MAX(version), 0) + 1 FROM dictionary_versions), $1, $2) RETURNING version",
            )
            .bind(body)
            .bind(now)
            .fetch_one(&self.pool)
            .await
        })
    }
}

impl PgStore {
    /// Writes a change for a user, a team's devices, or everyone (neither), committed at once.
    pub fn put_change(
        &self,
        user: Option<Uuid>,
        team: Option<&str>,
        body: &protocol::ChangeBody,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let json = serde_json::to_value(body).map_err(|e| StoreError::internal(e.to_string()))?;
        self.run(async {
            sqlx::query("INSERT INTO changes (user_id, team, kind, body, at) VALUES ($1, $2, $3, $4, $5)")
                .bind(user)
                .bind(team)
                .bind(body.kind())
                .bind(json)
                .bind(now)
                .execute(&self.pool)
                .await?;
            Ok(())
        })
    }

    /// The changes meant for `user` (their own, everyone's, their team's) after `after`, at most `limit`, of
    /// transactions older than every transaction still running: a change written by a transaction that has
    /// not ended, or by one that began after it, waits for it, so that no reader moves past a change that
    /// becomes visible later.
    pub fn changes_after(&self, user: &User, after: FeedPosition, limit: usize) -> StoreResult<FeedPage> {
        let zone = self.zone;
        let rows = self.run(async {
            sqlx::query(
                "SELECT txid::text AS txid, id, body, at FROM changes
                 WHERE (txid, id) > ($1::text::xid8, $2)
                   AND txid < pg_snapshot_xmin(pg_current_snapshot())
                   AND (user_id = $3 OR (user_id IS NULL AND (team IS NULL OR team = $4)))
                 ORDER BY txid, id LIMIT $5",
            )
            .bind(after.txid.to_string())
            .bind(after.id)
            .bind(user.id)
            .bind(&user.team)
            .bind((limit + 1) as i64)
            .fetch_all(&self.pool)
            .await
        })?;
        let more = rows.len() > limit;
        let mut changes = Vec::with_capacity(rows.len().min(limit));
        let mut position = after;
        for r in rows.iter().take(limit) {
            let txid: String = r.try_get("txid").map_err(pg_error)?;
            let txid = txid.parse().map_err(|_| StoreError::corrupt(format!("a transaction id `{txid}`")))?;
            position = FeedPosition { txid, id: r.try_get("id").map_err(pg_error)? };
            let body: serde_json::Value = r.try_get("body").map_err(pg_error)?;
            let body = serde_json::from_value(body).map_err(|e| StoreError::corrupt(e.to_string()))?;
            let at: DateTime<Utc> = r.try_get("at").map_err(pg_error)?;
            changes.push((position, protocol::Change { at: zone.at(at), body }));
        }
        Ok(FeedPage { changes, position, more })
    }
}

impl AccountStore for PgStore {
    fn add_user(&self, new: NewUser, now: DateTime<Utc>) -> StoreResult<User> {
        if let Some(dep) = &new.department {
            self.known_department(dep)?;
        }
        let id = Uuid::now_v7();
        let inserted = self.run(async {
            let mut tx = self.pool.begin().await?;
            if let Some(team) = &new.team {
                sqlx::query("INSERT INTO teams (name, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                    .bind(team)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            let n = sqlx::query(
                "INSERT INTO users (id, username, password_hash, display_name, role, team, department, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (username) DO NOTHING",
            )
            .bind(id)
            .bind(&new.username)
            .bind(&new.password_hash)
            .bind(&new.display_name)
            .bind(new.role.as_str())
            .bind(&new.team)
            .bind(&new.department)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            Ok(n == 1)
        })?;
        if !inserted {
            return Err(StoreError::conflict(format!("user `{}` exists already", new.username)));
        }
        Ok(User {
            id,
            username: new.username,
            display_name: new.display_name,
            role: new.role,
            team: new.team,
            department: new.department,
        })
    }

    fn user_credentials(&self, username: &str) -> StoreResult<Option<(User, String)>> {
        self.run(async {
            let sql = format!("SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.username = $1 AND u.active");
            let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(username).fetch_optional(&self.pool).await?;
            row.map(|r| Ok((user(&r)?, r.try_get("password_hash")?))).transpose()
        })
    }

    fn register_device(
        &self,
        owner: &User,
        device: &DeviceInfo,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<RegisterOutcome> {
        self.run(async {
            let mut tx = self.pool.begin().await?;
            // The device's row locked, so that two servers registering it at once take turns.
            let existing: Option<(Uuid, Option<DateTime<Utc>>)> =
                sqlx::query_as("SELECT user_id, revoked_at FROM devices WHERE id = $1 FOR UPDATE")
                    .bind(device.id)
                    .fetch_optional(&mut *tx)
                    .await?;
            match existing {
                Some((o, _)) if o != owner.id => return Ok(RegisterOutcome::OtherUser),
                Some((_, Some(_))) => return Ok(RegisterOutcome::Revoked),
                _ => {}
            }
            let written = sqlx::query(
                "INSERT INTO devices (id, user_id, name, platform, app_version, token_hash, registered_at, public_key)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, platform = excluded.platform,
                     app_version = excluded.app_version, token_hash = excluded.token_hash,
                     registered_at = excluded.registered_at, public_key = excluded.public_key
                 WHERE devices.user_id = excluded.user_id AND devices.revoked_at IS NULL",
            )
            .bind(device.id)
            .bind(owner.id)
            .bind(&device.name)
            .bind(&device.platform)
            .bind(&device.app_version)
            .bind(token_hash)
            .bind(now)
            .bind(&device.public_key)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if written == 0 {
                // Another user's registration of a new device id came first, or a revocation: as it stands now.
                let (o, revoked): (Uuid, Option<DateTime<Utc>>) =
                    sqlx::query_as("SELECT user_id, revoked_at FROM devices WHERE id = $1")
                        .bind(device.id)
                        .fetch_one(&mut *tx)
                        .await?;
                return Ok(if o != owner.id { RegisterOutcome::OtherUser } else { debug_assert!(revoked.is_some()); RegisterOutcome::Revoked });
            }
            if let Some(key) = &device.public_key {
                sqlx::query(
                    "INSERT INTO device_keys (device_id, public_key, registered_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                )
                .bind(device.id)
                .bind(key)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(RegisterOutcome::Registered)
        })
    }

    fn create_session(&self, session: &NewSession) -> StoreResult<()> {
        self.run(async {
            sqlx::query("INSERT INTO sessions (token_hash, user_id, expires_at, enrol_only) VALUES ($1, $2, $3, $4)")
                .bind(&session.token_hash)
                .bind(session.user_id)
                .bind(session.expires_at)
                .bind(session.enrol_only)
                .execute(&self.pool)
                .await?;
            sqlx::query("DELETE FROM sessions WHERE expires_at < now()").execute(&self.pool).await?;
            Ok(())
        })
    }

    fn end_session(&self, token_hash: &str) -> StoreResult<()> {
        self.run(async {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&self.pool).await?;
            Ok(())
        })
    }

    fn principal_by_token(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<Principal>> {
        self.run(async {
            let device = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {USER_COLUMNS}, d.id AS device_id FROM devices d JOIN users u ON u.id = d.user_id
                 WHERE d.token_hash = $1 AND d.revoked_at IS NULL AND u.active"
            )))
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
            if let Some(r) = device {
                let device_id: Uuid = r.try_get("device_id")?;
                return Ok(Some(Principal {
                    user: user(&r)?,
                    device_id: Some(device_id),
                    address: None,
                    enrol_only: false,
                }));
            }
            let session = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {USER_COLUMNS}, s.enrol_only FROM sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active"
            )))
            .bind(token_hash)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
            if let Some(r) = session {
                let enrol_only: bool = r.try_get("enrol_only")?;
                return Ok(Some(Principal { user: user(&r)?, device_id: None, address: None, enrol_only }));
            }
            let integration = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {USER_COLUMNS} FROM integration_tokens i JOIN users u ON u.id = i.user_id
                 WHERE i.token_hash = $1 AND i.revoked_at IS NULL AND u.active AND u.role <> 'admin'"
            )))
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
            integration
                .map(|r| Ok(Principal { user: user(&r)?, device_id: None, address: None, enrol_only: false }))
                .transpose()
        })
    }

    fn second_factor(&self, user_id: Uuid) -> StoreResult<SecondFactor> {
        self.run(async {
            let row: Option<(Option<String>, bool)> =
                sqlx::query_as("SELECT totp_secret, totp_enabled FROM users WHERE id = $1")
                    .bind(user_id)
                    .fetch_optional(&self.pool)
                    .await?;
            Ok(row
                .map(|(secret, enabled)| SecondFactor { secret, enabled })
                .unwrap_or(SecondFactor { secret: None, enabled: false }))
        })
    }

    fn set_second_factor(&self, user_id: Uuid, factor: &SecondFactor) -> StoreResult<()> {
        self.run(async {
            sqlx::query(
                "UPDATE users SET totp_secret = $2, totp_enabled = $3,
                     totp_last_step = CASE WHEN totp_secret IS NOT DISTINCT FROM $2 THEN totp_last_step ELSE 0 END
                 WHERE id = $1",
            )
            .bind(user_id)
            .bind(&factor.secret)
            .bind(factor.enabled)
            .execute(&self.pool)
            .await?;
            Ok(())
        })
    }

    fn begin_second_factor(&self, user_id: Uuid, secret: &str) -> StoreResult<bool> {
        self.run(async {
            let n =
                sqlx::query("UPDATE users SET totp_secret = $2, totp_last_step = 0 WHERE id = $1 AND NOT totp_enabled")
                    .bind(user_id)
                    .bind(secret)
                    .execute(&self.pool)
                    .await?
                    .rows_affected();
            Ok(n == 1)
        })
    }

    fn second_factor_confirmed(&self, user_id: Uuid, token_hash: &str) -> StoreResult<()> {
        self.run(async {
            let mut tx = self.pool.begin().await?;
            sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND enrol_only AND token_hash <> $2")
                .bind(user_id)
                .bind(token_hash)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE sessions SET enrol_only = FALSE WHERE token_hash = $1")
                .bind(token_hash)
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        })
    }

    fn take_second_factor_step(&self, user_id: Uuid, step: i64) -> StoreResult<bool> {
        // One statement: of two servers taking the same code at once, one updates and the other finds it taken.
        self.run(async {
            let n = sqlx::query("UPDATE users SET totp_last_step = $2 WHERE id = $1 AND totp_last_step < $2")
                .bind(user_id)
                .bind(step)
                .execute(&self.pool)
                .await?
                .rows_affected();
            Ok(n == 1)
        })
    }

    fn device_public_key(&self, device_id: Uuid) -> StoreResult<Option<String>> {
        self.run(async {
            let key: Option<Option<String>> = sqlx::query_scalar("SELECT public_key FROM devices WHERE id = $1")
                .bind(device_id)
                .fetch_optional(&self.pool)
                .await?;
            Ok(key.flatten())
        })
    }

    fn device_keys(&self, device_id: &str) -> StoreResult<Vec<String>> {
        let Ok(id) = Uuid::parse_str(device_id) else { return Ok(Vec::new()) };
        self.run(async {
            sqlx::query_scalar("SELECT public_key FROM device_keys WHERE device_id = $1 ORDER BY registered_at")
                .bind(id)
                .fetch_all(&self.pool)
                .await
        })
    }

    fn setting_or_insert(&self, key: &str, value: &str) -> StoreResult<String> {
        // The first server to start makes the value; every other start reads it.
        self.run(async {
            sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
                .bind(key)
                .bind(value)
                .execute(&self.pool)
                .await?;
            sqlx::query_scalar("SELECT value FROM meta WHERE key = $1").bind(key).fetch_one(&self.pool).await
        })
    }

    fn users(&self) -> StoreResult<Vec<UserView>> {
        self.run(async {
            let rows = sqlx::query(
                "SELECT id, username, display_name, role, team, department, active, totp_enabled FROM users
                 ORDER BY role, team, username",
            )
            .fetch_all(&self.pool)
            .await?;
            rows.iter().map(user_view).collect()
        })
    }

    fn update_user(&self, username: &str, update: UserUpdate, now: DateTime<Utc>) -> StoreResult<Option<UserView>> {
        if let Some(Some(dep)) = &update.department {
            self.known_department(dep)?;
        }
        let outcome: Result<Option<UserView>, StoreError> = self.run(async {
            let mut tx = self.pool.begin().await?;
            let current = sqlx::query(
                "SELECT id, username, display_name, role, team, department, active, totp_enabled FROM users
                 WHERE username = $1 FOR UPDATE",
            )
            .bind(username)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(current) = current.as_ref().map(user_view).transpose()? else { return Ok(Ok(None)) };
            let team = update.team.clone().unwrap_or(current.team);
            let department = update.department.clone().unwrap_or(current.department);
            let role = update.role.unwrap_or(current.role);
            if role == Role::Department && department.is_none() {
                return Ok(Err(StoreError::invalid("department", "a department user needs a department")));
            }
            if let Some(team) = &team {
                sqlx::query("INSERT INTO teams (name, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                    .bind(team)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query(
                "UPDATE users SET display_name = $2, role = $3, team = $4, department = $5, active = $6,
                        password_hash = COALESCE($7, password_hash) WHERE username = $1",
            )
            .bind(username)
            .bind(update.display_name.as_deref().unwrap_or(&current.display_name))
            .bind(role.as_str())
            .bind(&team)
            .bind(&department)
            .bind(update.active.unwrap_or(current.active))
            .bind(&update.password_hash)
            .execute(&mut *tx)
            .await?;
            if update.active == Some(false) || update.password_hash.is_some() {
                sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(current.id).execute(&mut *tx).await?;
            }
            let after = sqlx::query(
                "SELECT id, username, display_name, role, team, department, active, totp_enabled FROM users
                 WHERE username = $1",
            )
            .bind(username)
            .fetch_one(&mut *tx)
            .await?;
            let view = user_view(&after)?;
            tx.commit().await?;
            Ok(Ok(Some(view)))
        })?;
        outcome
    }

    fn teams(&self) -> StoreResult<Vec<TeamView>> {
        let zone = self.zone;
        self.run(async {
            let rows: Vec<(String, Option<DateTime<Utc>>, i64)> = sqlx::query_as(
                "SELECT t.name, t.created_at, (SELECT COUNT(*) FROM users u WHERE u.team = t.name AND u.active)
                 FROM teams t ORDER BY t.name",
            )
            .fetch_all(&self.pool)
            .await?;
            Ok(rows
                .into_iter()
                .map(|(name, created_at, members)| TeamView {
                    name,
                    members,
                    created_at: created_at.map(|t| zone.at(t)),
                })
                .collect())
        })
    }

    fn add_team(&self, name: &str, now: DateTime<Utc>) -> StoreResult<TeamView> {
        let n = self.run(async {
            Ok(sqlx::query("INSERT INTO teams (name, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(name)
                .bind(now)
                .execute(&self.pool)
                .await?
                .rows_affected())
        })?;
        if n == 0 {
            return Err(StoreError::conflict(format!("team `{name}` exists already")));
        }
        Ok(TeamView { name: name.to_owned(), members: 0, created_at: Some(self.zone.at(now)) })
    }

    fn user_team(&self, username: &str) -> StoreResult<Option<Option<String>>> {
        self.run(async {
            sqlx::query_scalar("SELECT team FROM users WHERE username = $1")
                .bind(username)
                .fetch_optional(&self.pool)
                .await
        })
    }

    fn audit(&self, entry: &AuditEntry, now: DateTime<Utc>) -> StoreResult<()> {
        self.run(async {
            sqlx::query(
                "INSERT INTO audit_log (at, actor, role, action, target, detail, address, outcome)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(now)
            .bind(&entry.actor)
            .bind(&entry.role)
            .bind(entry.action)
            .bind(&entry.target)
            .bind(&entry.detail)
            .bind(&entry.address)
            .bind(entry.outcome)
            .execute(&self.pool)
            .await?;
            Ok(())
        })
    }

    fn audit_log(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditRecord>> {
        let zone = self.zone;
        self.run(async {
            let rows = sqlx::query(
                "SELECT id, at, actor, role, action, target, detail, address, outcome FROM audit_log
                 WHERE ($1::timestamptz IS NULL OR at >= $1) AND ($2::timestamptz IS NULL OR at < $2)
                   AND ($3::text IS NULL OR action = $3 OR action LIKE $3 || '.%') AND ($4::text IS NULL OR actor = $4)
                 ORDER BY id DESC LIMIT $5",
            )
            .bind(filter.from)
            .bind(filter.to)
            .bind(&filter.action)
            .bind(&filter.actor)
            .bind(i64::from(filter.limit.max(1)))
            .fetch_all(&self.pool)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(AuditRecord {
                        id: r.try_get("id")?,
                        at: zone.at(r.try_get("at")?),
                        actor: r.try_get("actor")?,
                        role: r.try_get("role")?,
                        action: r.try_get("action")?,
                        target: r.try_get("target")?,
                        detail: r.try_get("detail")?,
                        address: r.try_get("address")?,
                        outcome: r.try_get("outcome")?,
                    })
                })
                .collect()
        })
    }

    fn add_integration_token(
        &self,
        name: &str,
        username: &str,
        token_hash: &str,
        by: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<IntegrationToken>> {
        let id = Uuid::new_v4();
        let n = self.run(async {
            Ok(sqlx::query(
                "INSERT INTO integration_tokens (id, name, token_hash, user_id, created_by, created_at)
                 SELECT $1, $2, $3, u.id, $5, $6 FROM users u WHERE u.username = $4",
            )
            .bind(id)
            .bind(name)
            .bind(token_hash)
            .bind(username)
            .bind(by)
            .bind(now)
            .execute(&self.pool)
            .await?
            .rows_affected())
        })?;
        if n == 0 {
            return Ok(None);
        }
        Ok(self.integration_tokens()?.into_iter().find(|t| t.id == id))
    }

    fn integration_tokens(&self) -> StoreResult<Vec<IntegrationToken>> {
        let zone = self.zone;
        self.run(async {
            let rows = sqlx::query(
                "SELECT i.id, i.name, u.username, i.created_by, i.created_at, i.revoked_at
                 FROM integration_tokens i JOIN users u ON u.id = i.user_id
                 ORDER BY i.revoked_at IS NOT NULL, i.created_at DESC",
            )
            .fetch_all(&self.pool)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(IntegrationToken {
                        id: r.try_get("id")?,
                        name: r.try_get("name")?,
                        username: r.try_get("username")?,
                        created_by: r.try_get("created_by")?,
                        created_at: zone.at(r.try_get("created_at")?),
                        revoked_at: r.try_get::<Option<DateTime<Utc>>, _>("revoked_at")?.map(|t| zone.at(t)),
                    })
                })
                .collect()
        })
    }

    fn revoke_integration_token(&self, id: Uuid, now: DateTime<Utc>) -> StoreResult<bool> {
        self.run(async {
            let n = sqlx::query("UPDATE integration_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                .bind(id)
                .bind(now)
                .execute(&self.pool)
                .await?
                .rows_affected();
            Ok(n > 0)
        })
    }
}

/// A `blobs` row: sha256, bytes, content type, pack, place in the pack.
type BlobRow = (String, i64, String, Option<i32>, Option<i64>);

impl PhotoStore for PgStore {
    fn blob(&self, sha256: &str) -> StoreResult<Option<BlobMeta>> {
        self.run(async {
            let row: Option<BlobRow> = sqlx::query_as(
                "SELECT sha256, bytes, content_type, pack, pack_offset FROM blobs WHERE sha256 = $1 AND purged_at IS NULL",
            )
            .bind(sha256)
            .fetch_optional(&self.pool)
            .await?;
            Ok(row.map(|(sha256, bytes, content_type, pack, offset)| BlobMeta {
                sha256,
                bytes: bytes as u64,
                content_type,
                packed: pack.zip(offset).map(|(pack, offset)| PackPlace { pack: pack as u32, offset: offset as u64 }),
            }))
        })
    }

    fn record_blobs(&self, blobs: &[(BlobMeta, Uuid)], now: DateTime<Utc>) -> StoreResult<Vec<bool>> {
        self.run(async {
            let mut tx = self.pool.begin().await?;
            let mut created = Vec::with_capacity(blobs.len());
            for (meta, uploader) in blobs {
                // A photo purged by the retention rule and uploaded again is stored anew, in its new place.
                let n = sqlx::query(
                    "INSERT INTO blobs (sha256, bytes, content_type, uploaded_by, created_at, pack, pack_offset)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)
                     ON CONFLICT (sha256) DO UPDATE SET bytes = excluded.bytes, content_type = excluded.content_type,
                         pack = excluded.pack, pack_offset = excluded.pack_offset, purged_at = NULL
                     WHERE blobs.purged_at IS NOT NULL",
                )
                .bind(&meta.sha256)
                .bind(meta.bytes as i64)
                .bind(&meta.content_type)
                .bind(uploader)
                .bind(now)
                .bind(meta.packed.map(|p| p.pack as i32))
                .bind(meta.packed.map(|p| p.offset as i64))
                .execute(&mut *tx)
                .await?
                .rows_affected();
                sqlx::query("DELETE FROM uploads WHERE sha256 = $1").bind(&meta.sha256).execute(&mut *tx).await?;
                created.push(n == 1);
            }
            tx.commit().await?;
            Ok(created)
        })
    }

    fn upload(&self, sha256: &str) -> StoreResult<Option<UploadState>> {
        self.run(async {
            let row: Option<(i64, Uuid)> = sqlx::query_as("SELECT length, started_by FROM uploads WHERE sha256 = $1")
                .bind(sha256)
                .fetch_optional(&self.pool)
                .await?;
            Ok(row.map(|(length, started_by)| UploadState {
                sha256: sha256.to_owned(),
                length: length as u64,
                started_by,
            }))
        })
    }

    fn begin_upload(&self, sha256: &str, length: u64, by: Uuid, now: DateTime<Utc>) -> StoreResult<()> {
        self.run(async {
            sqlx::query(
                "INSERT INTO uploads (sha256, length, started_by, started_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (sha256) DO UPDATE SET length = excluded.length, started_by = excluded.started_by,
                     started_at = excluded.started_at",
            )
            .bind(sha256)
            .bind(length as i64)
            .bind(by)
            .bind(now)
            .execute(&self.pool)
            .await?;
            Ok(())
        })
    }

    fn end_upload(&self, sha256: &str) -> StoreResult<()> {
        self.run(async {
            sqlx::query("DELETE FROM uploads WHERE sha256 = $1").bind(sha256).execute(&self.pool).await?;
            Ok(())
        })
    }
}
