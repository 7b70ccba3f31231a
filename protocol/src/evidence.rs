//! Evidence that holds up: a device signs every op it creates with its Ed25519 key, over the op's canonical
//! JSON (RFC 8785, the JSON Canonicalization Scheme) of `{"device_id", "seq", "kind", "body", "prev"}`, where
//! `prev` chains each op to the device's previous signed op (the lowercase hex SHA-256 of that op's canonical
//! JSON; null for its first). Defined once here for the phone, the server and the offline verifier, and pinned
//! by fixed vectors (`protocol/tests/evidence.rs`). The cryptography is ring's; keys and signatures travel in
//! standard base64.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::digest::sha256_hex;

/// The bytes a device signs for one op.
pub fn signed_bytes(device_id: Uuid, seq: u64, kind: &str, body: &Value, prev: Option<&str>) -> Vec<u8> {
    let op = json!({"device_id": device_id, "seq": seq, "kind": kind, "body": body, "prev": prev});
    // A `Value` of strings, numbers, booleans, nulls, arrays and objects always canonicalises.
    serde_json_canonicalizer::to_vec(&op).unwrap_or_default()
}

/// The link to an op from the next one: the SHA-256 of the bytes it was signed over.
pub fn link(signed: &[u8]) -> String {
    sha256_hex(signed)
}

/// A device's key pair, kept by the device as its PKCS#8 document (base64).
pub struct SigningKey(Ed25519KeyPair);

impl SigningKey {
    /// A new key pair and its PKCS#8 document, to be kept.
    pub fn generate() -> Result<(SigningKey, String), String> {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| "no key could be made".to_owned())?;
        let key = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).map_err(|e| e.to_string())?;
        Ok((SigningKey(key), B64.encode(pkcs8.as_ref())))
    }

    /// The key pair of a 32-byte seed (RFC 8032's "secret key"): for fixed test vectors, never for a device.
    pub fn from_seed(seed: &[u8; 32]) -> Result<SigningKey, String> {
        Ed25519KeyPair::from_seed_unchecked(seed).map(SigningKey).map_err(|e| e.to_string())
    }

    /// A key from its kept PKCS#8 document.
    pub fn from_pkcs8(document: &str) -> Result<SigningKey, String> {
        let bytes = B64.decode(document).map_err(|e| e.to_string())?;
        Ed25519KeyPair::from_pkcs8_maybe_unchecked(&bytes).map(SigningKey).map_err(|e| e.to_string())
    }

    /// The public key, as registered (base64 of its 32 bytes).
    pub fn public_key(&self) -> String {
        B64.encode(self.0.public_key().as_ref())
    }

    /// The signature of `bytes` (base64 of its 64 bytes).
    pub fn sign(&self, bytes: &[u8]) -> String {
        B64.encode(self.0.sign(bytes).as_ref())
    }
}

/// Whether `signature` (base64) is the signature of `bytes` by `public_key` (base64).
pub fn verify(public_key: &str, bytes: &[u8], signature: &str) -> bool {
    let (Ok(key), Ok(sig)) = (B64.decode(public_key), B64.decode(signature)) else { return false };
    key.len() == 32 && UnparsedPublicKey::new(&ED25519, key).verify(bytes, &sig).is_ok()
}

/// Whether a registered public key is one: base64 of 32 bytes.
pub fn is_public_key(s: &str) -> bool {
    B64.decode(s).is_ok_and(|k| k.len() == 32)
}

/// A public key as PEM (SubjectPublicKeyInfo), the form `openssl pkeyutl -verify` reads.
pub fn public_key_pem(public_key: &str) -> Option<String> {
    let key = B64.decode(public_key).ok().filter(|k| k.len() == 32)?;
    // The DER of an Ed25519 SubjectPublicKeyInfo (RFC 8410): a fixed 12-byte header, then the key.
    let mut der = vec![0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];
    der.extend(key);
    Some(format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n", B64.encode(der)))
}
