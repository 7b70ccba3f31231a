//! Two-factor sign-in with time-based one-time passwords (TOTP, RFC 6238: HMAC-SHA1, 6 digits, 30-second
//! steps), which every authenticator app (腾讯身份验证器, Google Authenticator, 1Password …) reads from an
//! `otpauth://` link or its QR code. Pure: the store keeps the secret and the last step taken.

use totp_rs::{Algorithm, Secret, TOTP};

/// Seconds a code is good for.
const STEP_SECONDS: u64 = 30;
/// The name the authenticator app shows above the code.
const ISSUER: &str = "Tiejiaoban";

fn totp(secret_base32: &str, username: &str) -> Option<TOTP> {
    let bytes = Secret::Encoded(secret_base32.to_owned()).to_bytes().ok()?;
    // The account label may not hold a colon; the username is shown as the user knows it otherwise.
    TOTP::new(Algorithm::SHA1, 6, 0, STEP_SECONDS, bytes, Some(ISSUER.into()), username.replace(':', "_")).ok()
}

/// A new secret (160 random bits), in base32 as apps take it typed in.
pub fn new_secret() -> String {
    Secret::generate_secret().to_encoded().to_string()
}

/// The `otpauth://totp/…` link an app reads from a QR code.
pub fn otpauth_url(secret_base32: &str, username: &str) -> Option<String> {
    totp(secret_base32, username).map(|t| t.get_url())
}

/// The time step whose code `code` is, when it is the code of the step of `unix_seconds` or of the step
/// before or after (a phone clock half a minute off still signs in); `None` otherwise. Compared in constant
/// time by the library.
pub fn step_of(secret_base32: &str, username: &str, code: &str, unix_seconds: u64) -> Option<i64> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let totp = totp(secret_base32, username)?;
    let now = unix_seconds / STEP_SECONDS;
    [now.saturating_sub(1), now, now + 1]
        .into_iter()
        .find(|step| totp.check(code, step * STEP_SECONDS))
        .and_then(|step| i64::try_from(step).ok())
}

/// `step_of` at the present moment.
pub fn step_now(secret_base32: &str, username: &str, code: &str) -> Option<i64> {
    let now = u64::try_from(chrono::Utc::now().timestamp()).ok()?;
    step_of(secret_base32, username, code, now)
}

/// The code of the step of `unix_seconds`, as an authenticator app shows it.
#[cfg(test)]
fn code_at(secret_base32: &str, username: &str, unix_seconds: u64) -> Option<String> {
    totp(secret_base32, username).map(|t| t.generate(unix_seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_6238_vector_and_the_window() {
        // RFC 6238 appendix B: the ASCII secret "12345678901234567890", SHA-1, at 59 s → 94287082 (8 digits;
        // its last six are the 6-digit code).
        let secret = Secret::Raw(b"12345678901234567890".to_vec()).to_encoded().to_string();
        assert_eq!(code_at(&secret, "admin", 59).unwrap(), "287082");
        assert_eq!(step_of(&secret, "admin", "287082", 59), Some(1));
        // The step before and after are taken; two steps away is not.
        assert_eq!(step_of(&secret, "admin", "287082", 89), Some(1));
        assert_eq!(step_of(&secret, "admin", "287082", 29), Some(1));
        assert_eq!(step_of(&secret, "admin", "287082", 119), None);
        for bad in ["", "28708", "2870820", "28708a", "０１２３４５"] {
            assert_eq!(step_of(&secret, "admin", bad, 59), None, "{bad}");
        }
    }

    #[test]
    fn a_new_secret_makes_a_link_apps_read() {
        let secret = new_secret();
        assert_eq!(secret.len(), 32, "160 bits in base32");
        let url = otpauth_url(&secret, "admin").unwrap();
        assert!(url.starts_with("otpauth://totp/Tiejiaoban:admin?"), "{url}");
        assert!(url.contains(&format!("secret={secret}")) && url.contains("issuer=Tiejiaoban"), "{url}");
        assert!(otpauth_url(&secret, "a:b").is_some());
    }
}
