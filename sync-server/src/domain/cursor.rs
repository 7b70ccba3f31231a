//! Where a device is in the stream of changes meant for it, as an opaque string the server signs, so that a
//! cursor it did not issue is refused. Pure: the secret is the caller's.

use ring::hmac;

/// Where a device is in the stream of changes meant for it; travels as an opaque, signed string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub change_id: i64,
    pub dict_version: i64,
}

impl Cursor {
    /// `v1.<change id>.<dictionary version>.<HMAC-SHA256 of the rest, hex>`.
    pub fn encode(&self, secret: &[u8]) -> String {
        let payload = format!("v1.{}.{}", self.change_id, self.dict_version);
        let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, secret), payload.as_bytes());
        format!("{payload}.{}", hex::encode(tag.as_ref()))
    }

    /// `None` for anything this server did not issue. Signatures are checked in constant time; a cursor of
    /// the first form (a truncated SHA-256 of the secret and the payload, issued before HMAC) is still taken,
    /// so that devices holding one go on where they were.
    pub fn decode(s: &str, secret: &[u8]) -> Option<Cursor> {
        let (payload, sig) = s.rsplit_once('.')?;
        let sig = hex::decode(sig).ok()?;
        let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
        let genuine = if sig.len() == LEGACY_SIG_BYTES {
            // Compares the HMACs of the two, so that the time taken says nothing of the expected value.
            let expected = legacy_sig(secret, payload);
            hmac::verify(&key, &expected, hmac::sign(&key, &sig).as_ref()).is_ok()
        } else {
            hmac::verify(&key, payload.as_bytes(), &sig).is_ok()
        };
        if !genuine {
            return None;
        }
        let mut parts = payload.split('.');
        (parts.next()? == "v1").then_some(())?;
        let change_id = parts.next()?.parse().ok()?;
        let dict_version = parts.next()?.parse().ok()?;
        parts.next().is_none().then_some(Cursor { change_id, dict_version })
    }
}

/// Bytes of a first-form signature.
const LEGACY_SIG_BYTES: usize = 12;

fn legacy_sig(secret: &[u8], payload: &str) -> Vec<u8> {
    let mut h = protocol::digest::Sha256::new();
    h.update(secret);
    h.update(payload.as_bytes());
    h.finish()[..LEGACY_SIG_BYTES].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn a_cursor_comes_back_as_issued() {
        let c = Cursor { change_id: 42, dict_version: 3 };
        let s = c.encode(SECRET);
        assert_eq!(Cursor::decode(&s, SECRET), Some(c));
        // Another server's secret, or any changed character, is refused.
        assert_eq!(Cursor::decode(&s, b"another secret"), None);
        let tampered = s.replacen("v1.42.", "v1.43.", 1);
        assert_eq!(Cursor::decode(&tampered, SECRET), None);
        let (payload, sig) = s.rsplit_once('.').unwrap();
        let flipped = format!("{payload}.{}{}", if sig.starts_with('0') { '1' } else { '0' }, &sig[1..]);
        assert_eq!(Cursor::decode(&flipped, SECRET), None);
        assert_eq!(Cursor::decode(payload, SECRET), None);
        assert_eq!(Cursor::decode("", SECRET), None);
    }

    #[test]
    fn a_cursor_of_the_first_form_is_still_taken() {
        let payload = "v1.7.2";
        let old = format!("{payload}.{}", hex::encode(legacy_sig(SECRET, payload)));
        assert_eq!(old.len(), payload.len() + 1 + 2 * LEGACY_SIG_BYTES);
        assert_eq!(Cursor::decode(&old, SECRET), Some(Cursor { change_id: 7, dict_version: 2 }));
        assert_eq!(Cursor::decode(&old.replacen("v1.7.", "v1.8.", 1), SECRET), None);
        assert_eq!(Cursor::decode(&old, b"another secret"), None);
    }

    proptest::proptest! {
        /// Fuzzing: any text a device sends as its cursor is refused or read, never a panic.
        #[test]
        fn any_text_is_refused_or_read(s in ".{0,120}") {
            let _ = Cursor::decode(&s, SECRET);
        }

        /// Every cursor comes back as issued, and any one character changed makes it refused.
        #[test]
        fn every_cursor_comes_back_and_no_changed_one_does(change_id: i64, dict_version: i64,
                at: proptest::sample::Index, c in proptest::char::any()) {
            let cursor = Cursor { change_id, dict_version };
            let s = cursor.encode(SECRET);
            proptest::prop_assert_eq!(Cursor::decode(&s, SECRET), Some(cursor));
            let mut chars: Vec<char> = s.chars().collect();
            let i = at.index(chars.len());
            let changed = chars[i] != c && !(chars[i].is_ascii_hexdigit() && chars[i].eq_ignore_ascii_case(&c));
            chars[i] = c;
            if changed {
                let tampered: String = chars.into_iter().collect();
                proptest::prop_assert_eq!(Cursor::decode(&tampered, SECRET), None, "{}", tampered);
            }
        }
    }
}
