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

    /// Counts a wrong password (or an unknown user); locks what has failed too often.
    pub fn failed(&self, username: &str, address: Option<IpAddr>, now: Instant) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        if counts.len() >= MAX_ENTRIES {
            counts.retain(|_, c| now.duration_since(c.last) < FORGET_AFTER);
        }
        for (key, free) in keys(username, address) {
            let Some(key) = key else { continue };
            let fresh = Count { failures: 0, last: now, locked_until: None };
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

    /// A right password: the username's count ends.
    pub fn succeeded(&self, username: &str) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        counts.remove(&format!("user:{}", username.trim().to_lowercase()));
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
        guard.succeeded("admin");
        guard.failed("admin", None, t0);
        assert_eq!(guard.wait("admin", None, t0), None);
        for _ in 0..3 {
            guard.failed("admin", None, t0);
        }
        guard.failed("admin", None, t0 + FORGET_AFTER);
        assert_eq!(guard.wait("admin", None, t0 + FORGET_AFTER), None, "the old failures were forgotten");
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
