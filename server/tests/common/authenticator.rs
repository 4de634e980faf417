//! A software passkey authenticator for HTTP tests: a P-256 key pair, a credential id, a
//! user handle and a signature counter, answering `navigator.credentials.create()` /
//! `get()` options with what a browser would send (`PublicKeyCredential.toJSON()`), "none"
//! attestation, user present and verified.

#![allow(dead_code, unreachable_pub)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{DerSignature, SigningKey};
use rand::RngCore as _;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

pub struct Authenticator {
    key: SigningKey,
    pub credential_id: Vec<u8>,
    pub user_handle: Option<Vec<u8>>,
    pub counter: u32,
    /// The origin the "browser" reports in clientDataJSON.
    pub origin: String,
    pub rp_id: String,
}

fn b64(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

fn unb64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).unwrap()
}

/// Minimal CBOR: the few major types an attestation object needs.
fn cbor_head(out: &mut Vec<u8>, major: u8, value: u64) {
    let major = major << 5;
    match value {
        0..=23 => out.push(major | u8::try_from(value).unwrap()),
        24..=0xff => {
            out.push(major | 24);
            out.push(u8::try_from(value).unwrap());
        }
        0x100..=0xffff => {
            out.push(major | 25);
            out.extend_from_slice(&u16::try_from(value).unwrap().to_be_bytes());
        }
        _ => {
            out.push(major | 26);
            out.extend_from_slice(&u32::try_from(value).unwrap().to_be_bytes());
        }
    }
}

fn cbor_int(out: &mut Vec<u8>, value: i64) {
    if value >= 0 {
        cbor_head(out, 0, value.unsigned_abs());
    } else {
        cbor_head(out, 1, (-1 - value).unsigned_abs());
    }
}

fn cbor_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    cbor_head(out, 2, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn cbor_text(out: &mut Vec<u8>, text: &str) {
    cbor_head(out, 3, text.len() as u64);
    out.extend_from_slice(text.as_bytes());
}

impl Authenticator {
    pub fn new(origin: &str) -> Self {
        let mut credential_id = vec![0_u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut credential_id);
        Self {
            key: SigningKey::random(&mut rand::rngs::OsRng),
            credential_id,
            user_handle: None,
            counter: 0,
            origin: origin.to_owned(),
            rp_id: "localhost".to_owned(),
        }
    }

    /// The same key and credential id (a clone of the authenticator), e.g. to replay a
    /// counter.
    pub fn clone_device(&self) -> Self {
        Self {
            key: self.key.clone(),
            credential_id: self.credential_id.clone(),
            user_handle: self.user_handle.clone(),
            counter: self.counter,
            origin: self.origin.clone(),
            rp_id: self.rp_id.clone(),
        }
    }

    fn client_data(&self, kind: &str, challenge: &str) -> Vec<u8> {
        json!({"type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": false})
            .to_string()
            .into_bytes()
    }

    fn auth_data(&self, attested: bool) -> Vec<u8> {
        let mut data = Sha256::digest(self.rp_id.as_bytes()).to_vec();
        // UP | UV, and AT when a credential is attached.
        let flags = 0x01 | 0x04 | if attested { 0x40 } else { 0 };
        data.push(flags);
        data.extend_from_slice(&self.counter.to_be_bytes());
        if attested {
            data.extend_from_slice(&[0_u8; 16]);
            data.extend_from_slice(
                &u16::try_from(self.credential_id.len())
                    .unwrap()
                    .to_be_bytes(),
            );
            data.extend_from_slice(&self.credential_id);
            let point = self.key.verifying_key().to_encoded_point(false);
            let mut cose = Vec::new();
            cbor_head(&mut cose, 5, 5);
            cbor_int(&mut cose, 1);
            cbor_int(&mut cose, 2); // kty: EC2
            cbor_int(&mut cose, 3);
            cbor_int(&mut cose, -7); // alg: ES256
            cbor_int(&mut cose, -1);
            cbor_int(&mut cose, 1); // crv: P-256
            cbor_int(&mut cose, -2);
            cbor_bytes(&mut cose, point.x().unwrap());
            cbor_int(&mut cose, -3);
            cbor_bytes(&mut cose, point.y().unwrap());
            data.extend_from_slice(&cose);
        }
        data
    }

    /// Answers registration options (`publicKey`) with a new credential.
    pub fn register(&mut self, public_key: &Value) -> Value {
        let challenge = public_key["challenge"].as_str().unwrap();
        self.user_handle = Some(unb64(public_key["user"]["id"].as_str().unwrap()));
        let client_data = self.client_data("webauthn.create", challenge);
        let auth_data = self.auth_data(true);
        let mut attestation = Vec::new();
        cbor_head(&mut attestation, 5, 3);
        cbor_text(&mut attestation, "fmt");
        cbor_text(&mut attestation, "none");
        cbor_text(&mut attestation, "attStmt");
        cbor_head(&mut attestation, 5, 0);
        cbor_text(&mut attestation, "authData");
        cbor_bytes(&mut attestation, &auth_data);
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64(&client_data),
                "attestationObject": b64(&attestation),
            },
            "clientExtensionResults": {},
        })
    }

    /// Answers sign-in options (`publicKey`) with an assertion; the counter moves on first.
    pub fn sign_in(&mut self, public_key: &Value) -> Value {
        self.counter += 1;
        self.assert_with_counter(public_key)
    }

    /// An assertion with the current counter as it is.
    pub fn assert_with_counter(&self, public_key: &Value) -> Value {
        let challenge = public_key["challenge"].as_str().unwrap();
        let client_data = self.client_data("webauthn.get", challenge);
        let auth_data = self.auth_data(false);
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&Sha256::digest(&client_data));
        let signature: DerSignature = self.key.sign(&signed);
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64(&client_data),
                "authenticatorData": b64(&auth_data),
                "signature": b64(signature.as_bytes()),
                "userHandle": self.user_handle.as_deref().map(b64),
            },
            "clientExtensionResults": {},
        })
    }
}
