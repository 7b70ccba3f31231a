//! The evidence format pinned by fixed vectors: RFC 8032's first Ed25519 vector (the key pair and signature
//! an independent implementation gives), the canonical JSON of an op (RFC 8785: keys sorted, no whitespace,
//! ECMAScript number forms, minimal string escapes), its link, and a signature over it that verifies — and
//! fails for any other bytes, key or signature.

use protocol::evidence::{self, SigningKey};
use serde_json::json;

fn hex32(s: &str) -> [u8; 32] {
    hex::decode(s).unwrap().try_into().unwrap()
}

#[test]
fn rfc_8032_test_1() {
    let key =
        SigningKey::from_seed(&hex32("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")).unwrap();
    let public = base64_decode(&key.public_key());
    assert_eq!(hex::encode(public), "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    let sig = base64_decode(&key.sign(b""));
    assert_eq!(
        hex::encode(sig),
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    );
    assert!(evidence::verify(&key.public_key(), b"", &key.sign(b"")));
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

#[test]
fn an_ops_canonical_json_link_and_signature() {
    let device = "0190f5a4-7c1e-7000-8000-0000000000aa".parse().unwrap();
    let body = json!({"z": 1e30, "a": "€\n\u{000f}", "m": [4.50, 0.002, -0.0, 1e-7], "中": true});
    let signed = evidence::signed_bytes(device, 41, "finding.create", &body, Some("ab"));
    assert_eq!(
        String::from_utf8(signed.clone()).unwrap(),
        r#"{"body":{"a":"€\n\u000f","m":[4.5,0.002,0,1e-7],"z":1e+30,"中":true},"device_id":"0190f5a4-7c1e-7000-8000-0000000000aa","kind":"finding.create","prev":"ab","seq":41}"#
    );
    // The first op of a chain links to nothing: `prev` is there, null.
    let first = evidence::signed_bytes(device, 1, "patrol.start", &json!({}), None);
    assert_eq!(
        String::from_utf8(first.clone()).unwrap(),
        r#"{"body":{},"device_id":"0190f5a4-7c1e-7000-8000-0000000000aa","kind":"patrol.start","prev":null,"seq":1}"#
    );
    assert_eq!(evidence::link(&first), protocol::digest::sha256_hex(&first));

    let key = SigningKey::from_seed(&[7u8; 32]).unwrap();
    let sig = key.sign(&signed);
    assert!(evidence::verify(&key.public_key(), &signed, &sig));
    // Ed25519 is deterministic: the signature is pinned.
    assert_eq!(sig, "7akwc7zNi7mu7EnCKaot7bNZs7opMmdt3DxlTGFU6QfGyjjAPcBI9Opbi2LiU0HePs2aMtUR3CgOrQHy68K3Cw==");
    let other = SigningKey::from_seed(&[8u8; 32]).unwrap();
    assert!(!evidence::verify(&other.public_key(), &signed, &sig), "another device's key");
    assert!(!evidence::verify(&key.public_key(), &first, &sig), "other bytes");
    let mut flipped = base64_decode(&sig);
    flipped[10] ^= 1;
    use base64::Engine;
    let flipped = base64::engine::general_purpose::STANDARD.encode(flipped);
    assert!(!evidence::verify(&key.public_key(), &signed, &flipped), "a changed signature");
    assert!(!evidence::verify("not base64!", &signed, &sig));
    assert!(evidence::is_public_key(&key.public_key()) && !evidence::is_public_key("AAAA"));
    assert!(
        evidence::public_key_pem(&key.public_key())
            .unwrap()
            .starts_with("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA")
    );
}
