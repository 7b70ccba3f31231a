//! Sign-in throttling: after a few wrong passwords for a username, or many from one address, sign-in and
//! device registration are refused for a while (429 with `Retry-After`), the wait doubling with each further
//! failure up to a cap. A username that does not exist is throttled exactly as one that does, so the answers
//! tell nothing about which exist. A right password ends the username's count (not the address's).
//!
//! Kept in the process's memory: a restart forgets the counts, and each process of several counts its own.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures of one username allowed before the first wait.
pub const USER_FAILURES: u32 = 5;
/// Failures from one address allowed before the first wait (several users may share an office's address).
pub const ADDRESS_FAILURES: u32 = 20;
/// The first wait; each further failure doubles it.
const FIRST_WAIT: Duration = Duration::from_secs(60);
const LONGEST_WAIT: Duration = Duration::from_secs(15 * 60);
/// A count with no failure for this long starts again from nothing.
const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);
/// Entries kept at most; the stalest are dropped first.
const MAX_ENTRIES: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Count {
    failures: u32,
    /// Checks admitted and not yet settled: counted as failures until they end, so that guesses sent all at
    /// once get no more tries than guesses sent one by one.
    in_flight: u32,
    last: Instant,
    locked_until: Option<Instant>,
}

#[derive(Default)]
pub struct SignInGuard {
    counts: Mutex<HashMap<String, Count>>,
}

fn keys(username: &str, address: Option<IpAddr>) -> [(Option<String>, u32); 2] {
    [
        (Some(format!("user:{}", username.trim().to_lowercase())), USER_FAILURES),
        (address.map(|a| format!("addr:{a}")), ADDRESS_FAILURES),
    ]
}

impl SignInGuard {
    /// How long the caller must wait before trying again, if they must.
    pub fn wait(&self, username: &str, address: Option<IpAddr>, now: Instant) -> Option<Duration> {
        let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        keys(username, address)
            .into_iter()
            .filter_map(|(key, _)| counts.get(&key?)?.locked_until)
            .filter(|until| *until > now)
            .map(|until| until - now)
            .max()
    }

    /// Admits one password check, or says how long to wait. An admitted check must be settled with `failed`
    /// or `succeeded`; while it runs it counts against the free tries.
    pub fn admit(&self, username: &str, address: Option<IpAddr>, now: Instant) -> Result<(), Duration> {
        if let Some(wait) = self.wait(username, address, now) {
            return Err(wait);
        }
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let keys = keys(username, address);
        let busy = keys.iter().any(|(key, free)| {
            key.as_ref()
                .and_then(|k| counts.get(k))
                .is_some_and(|c| now.duration_since(c.last) < FORGET_AFTER && c.failures + c.in_flight >= *free)
        });
        if busy {
            // The last free tries are being checked right now: a moment, and the answer is known.
            return Err(Duration::from_secs(1));
        }
        for (key, _) in keys {
            let Some(key) = key else { continue };
            let fresh = Count { failures: 0, in_flight: 0, last: now, locked_until: None };
            counts.entry(key).or_insert(fresh).in_flight += 1;
        }
        Ok(())
    }

    fn settle(counts: &mut HashMap<String, Count>, key: &str) {
        if let Some(c) = counts.get_mut(key) {
            c.in_flight = c.in_flight.saturating_sub(1);
        }
    }

    /// Counts a wrong password (or an unknown user); locks what has failed too often.
    pub fn failed(&self, username: &str, address: Option<IpAddr>, now: Instant) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        if counts.len() >= MAX_ENTRIES {
            counts.retain(|_, c| now.duration_since(c.last) < FORGET_AFTER);
        }
        if counts.len() >= MAX_ENTRIES {
            // Still full within the hour: keep what is locked or being checked, forget the rest.
            counts.retain(|_, c| c.in_flight > 0 || c.locked_until.is_some_and(|u| u > now));
        }
        for (key, free) in keys(username, address) {
            let Some(key) = key else { continue };
            Self::settle(&mut counts, &key);
            let fresh = Count { failures: 0, in_flight: 0, last: now, locked_until: None };
            let count = counts.entry(key).or_insert(fresh);
            if now.duration_since(count.last) >= FORGET_AFTER {
                *count = fresh;
            }
            count.failures += 1;
            count.last = now;
            if count.failures >= free {
                let doublings = (count.failures - free).min(10);
                count.locked_until = Some(now + (FIRST_WAIT * 2u32.pow(doublings)).min(LONGEST_WAIT));
            }
        }
    }

    /// A right password: the username's count ends (the address's check is settled, not forgiven).
    pub fn succeeded(&self, username: &str, address: Option<IpAddr>) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let [(user, _), (addr, _)] = keys(username, address);
        if let Some(user) = user {
            counts.remove(&user);
        }
        if let Some(addr) = addr {
            Self::settle(&mut counts, &addr);
        }
    }

    /// A check that ended without an answer on the password (the store failed): settled, not counted.
    pub fn abandoned(&self, username: &str, address: Option<IpAddr>) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        for (key, _) in keys(username, address) {
            if let Some(key) = key {
                Self::settle(&mut counts, &key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_username_is_locked_after_five_failures_and_the_wait_doubles_up_to_the_cap() {
        let guard = SignInGuard::default();
        let t0 = Instant::now();
        for i in 0..4 {
            guard.failed("Chief1", None, t0 + Duration::from_secs(i));
            assert_eq!(guard.wait("chief1", None, t0 + Duration::from_secs(i)), None, "failure {}", i + 1);
        }
        let t = t0 + Duration::from_secs(10);
        guard.failed("chief1 ", None, t);
        assert_eq!(guard.wait("CHIEF1", None, t), Some(FIRST_WAIT), "the same name, however written");
        assert_eq!(guard.wait("chief1", None, t + FIRST_WAIT), None, "over once the wait has passed");
        guard.failed("chief1", None, t + FIRST_WAIT);
        assert_eq!(guard.wait("chief1", None, t + FIRST_WAIT), Some(FIRST_WAIT * 2));
        for _ in 0..20 {
            guard.failed("chief1", None, t + FIRST_WAIT);
        }
        assert_eq!(guard.wait("chief1", None, t + FIRST_WAIT), Some(LONGEST_WAIT));
        assert_eq!(guard.wait("chief2", None, t), None, "another name is not touched");
    }

    #[test]
    fn a_right_password_ends_the_count_and_an_hour_of_quiet_forgets_it() {
        let guard = SignInGuard::default();
        let t0 = Instant::now();
        for _ in 0..4 {
            guard.failed("admin", None, t0);
        }
        guard.succeeded("admin", None);
        guard.failed("admin", None, t0);
        assert_eq!(guard.wait("admin", None, t0), None);
        for _ in 0..3 {
            guard.failed("admin", None, t0);
        }
        guard.failed("admin", None, t0 + FORGET_AFTER);
        assert_eq!(guard.wait("admin", None, t0 + FORGET_AFTER), None, "the old failures were forgotten");
    }

    #[test]
    fn guesses_sent_at_once_get_no_more_tries_than_guesses_sent_one_by_one() {
        let guard = SignInGuard::default();
        let t0 = Instant::now();
        let admitted = (0..50).filter(|_| guard.admit("chief1", None, t0).is_ok()).count();
        assert_eq!(admitted as u32, USER_FAILURES, "five checks at once, the rest wait");
        for _ in 0..admitted {
            guard.failed("chief1", None, t0);
        }
        assert_eq!(guard.admit("chief1", None, t0), Err(FIRST_WAIT));
        // A right password among them settles its check and ends the count.
        let other = SignInGuard::default();
        other.admit("admin", None, t0).unwrap();
        other.succeeded("admin", None);
        assert!(other.admit("admin", None, t0).is_ok());
    }

    #[test]
    fn an_address_trying_many_names_is_locked_for_every_name() {
        let guard = SignInGuard::default();
        let t0 = Instant::now();
        let from: IpAddr = "203.0.113.7".parse().unwrap();
        for i in 0..ADDRESS_FAILURES {
            guard.failed(&format!("user{i}"), Some(from), t0);
        }
        assert_eq!(guard.wait("someone-else", Some(from), t0), Some(FIRST_WAIT));
        assert_eq!(guard.wait("someone-else", Some("203.0.113.8".parse().unwrap()), t0), None);
    }
}
