//! The server key: 32 random bytes that protect secrets at rest. Emailed codes are stored as
//! HMAC-SHA-256 under it (a copy of the database gives away no live code), and JWT signing
//! keys are sealed with AES-256-GCM under it. Each use has its own sub-key, derived with
//! HMAC-SHA-256 under a fixed label, so one use can never be turned against another.
//!
//! The key file holds the key as 64 hexadecimal characters (surrounding whitespace, such as a
//! trailing newline, is ignored); anything else is refused. During a rotation a previous key
//! is accepted for checking codes (live for minutes) and for opening sealed JWT keys, which
//! are then replaced by keys sealed under the current one.

use aes_gcm::aead::{Aead as _, KeyInit as _, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac as _};
use rand::RngCore as _;
use rand::rngs::OsRng;
use sha2::Sha256;
use std::fmt;
use std::path::Path;

/// Bytes in a server key.
pub const KEY_BYTES: usize = 32;

/// The prefix of a sealed value, naming the format (AES-256-GCM, 96-bit random nonce).
const SEALED_PREFIX: &str = "v1:";
const NONCE_BYTES: usize = 12;

/// A server key. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerKey([u8; KEY_BYTES]);

impl fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ServerKey([redacted])")
    }
}

/// Why a key file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFileError {
    /// The file could not be read or written.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// What failed.
        message: String,
    },
    /// The file does not hold 64 hexadecimal characters.
    #[error(
        "{path}: expected 64 hexadecimal characters (32 random bytes), e.g. from `openssl rand -hex 32`"
    )]
    Format {
        /// The file.
        path: String,
    },
}

/// A sealed value could not be opened: the wrong server key, or the value was altered.
#[derive(Debug, thiserror::Error)]
#[error("sealed value cannot be opened with the server key")]
pub struct OpenError;

fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC takes keys of any length, so `new_from_slice` cannot fail here.
    let mut mac =
        <Hmac<Sha256> as hmac::Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable_hmac());
    for part in parts {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

fn unreachable_hmac() -> Hmac<Sha256> {
    // Only reached if HMAC refused a key, which it never does; a fixed key keeps the type.
    <Hmac<Sha256> as hmac::Mac>::new(&Default::default())
}

impl ServerKey {
    /// A key from its 32 bytes.
    #[must_use]
    pub const fn from_bytes(bytes: [u8; KEY_BYTES]) -> Self {
        Self(bytes)
    }

    /// A new random key from the OS CSPRNG.
    #[must_use]
    pub fn generate() -> Self {
        let mut bytes = [0; KEY_BYTES];
        OsRng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// Parses the file format: 64 hexadecimal characters, surrounding whitespace ignored.
    #[must_use]
    pub fn from_hex(text: &str) -> Option<Self> {
        let text = text.trim();
        if text.len() != KEY_BYTES * 2 {
            return None;
        }
        let mut bytes = [0; KEY_BYTES];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(text.get(i * 2..i * 2 + 2)?, 16).ok()?;
        }
        Some(Self(bytes))
    }

    /// The file format of this key.
    #[must_use]
    pub fn to_hex(&self) -> String {
        use fmt::Write as _;
        self.0.iter().fold(String::new(), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
    }

    /// Reads a key file.
    ///
    /// # Errors
    /// An unreadable file, or one that does not hold exactly one key.
    pub fn read(path: &Path) -> Result<Self, KeyFileError> {
        let text = std::fs::read_to_string(path).map_err(|e| KeyFileError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::from_hex(&text).ok_or_else(|| KeyFileError::Format {
            path: path.display().to_string(),
        })
    }

    /// Reads the key file at `path`, or creates it with a new key (readable by its owner only)
    /// when there is none. The flag tells whether it was created.
    ///
    /// # Errors
    /// An unreadable or malformed file, or one that cannot be created.
    pub fn read_or_create(path: &Path) -> Result<(Self, bool), KeyFileError> {
        use std::io::Write as _;
        let io = |e: std::io::Error| KeyFileError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        if path.exists() {
            return Ok((Self::read(path)?, false));
        }
        // Written whole under a temporary name, then linked into place: a second node starting
        // at the same moment either finds the complete file or loses the race to link it.
        let key = Self::generate();
        let temporary = path.with_extension(format!("tmp-{}", crate::session::new_id("k")));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let written = options.open(&temporary).and_then(|mut file| {
            file.write_all(format!("{}\n", key.to_hex()).as_bytes())?;
            file.sync_all()
        });
        let linked = written.and_then(|()| std::fs::hard_link(&temporary, path));
        let _ = std::fs::remove_file(&temporary);
        match linked {
            Ok(()) => Ok((key, true)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Ok((Self::read(path)?, false))
            }
            Err(e) => Err(io(e)),
        }
    }

    fn sub_key(&self, label: &str) -> [u8; 32] {
        hmac_sha256(&self.0, &[label.as_bytes()])
    }

    /// The stored form of an emailed code: HMAC-SHA-256 under the code sub-key, over the
    /// code's purpose, the record it belongs to and the code, hex.
    #[must_use]
    pub fn code_mac(&self, purpose: &str, record_id: &str, code: &str) -> String {
        let mac = hmac_sha256(
            &self.sub_key("torii code mac v1"),
            &[purpose.as_bytes(), record_id.as_bytes(), code.as_bytes()],
        );
        mac.iter().fold(String::with_capacity(64), |mut out, b| {
            use fmt::Write as _;
            let _ = write!(out, "{b:02x}");
            out
        })
    }

    /// Seals `plaintext` bound to `associated` (which must be given again to open it).
    #[must_use]
    pub fn seal(&self, plaintext: &[u8], associated: &[u8]) -> String {
        let cipher = Aes256Gcm::new(&self.sub_key("torii seal v1").into());
        let mut nonce = [0; NONCE_BYTES];
        OsRng.fill_bytes(&mut nonce);
        // Encryption into a Vec fails only past GCM's length limit (64 GiB): not for a key.
        let sealed = cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: associated,
                },
            )
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{SEALED_PREFIX}{}", STANDARD.encode(out))
    }

    /// Opens what [`ServerKey::seal`] made with the same key and associated data.
    ///
    /// # Errors
    /// [`OpenError`] for another key, other associated data, or an altered value.
    pub fn open(&self, sealed: &str, associated: &[u8]) -> Result<Vec<u8>, OpenError> {
        let encoded = sealed.strip_prefix(SEALED_PREFIX).ok_or(OpenError)?;
        let bytes = STANDARD.decode(encoded).map_err(|_| OpenError)?;
        if bytes.len() < NONCE_BYTES {
            return Err(OpenError);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| OpenError)?;
        let cipher = Aes256Gcm::new(&self.sub_key("torii seal v1").into());
        cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: associated,
                },
            )
            .map_err(|_| OpenError)
    }
}

/// The server key in use and, during a rotation, the one before it.
#[derive(Debug, Clone)]
pub struct ServerKeys {
    /// Seals and MACs everything new.
    pub current: ServerKey,
    /// Still accepted for opening and checking, during a rotation.
    pub previous: Option<ServerKey>,
    /// Whether `current` was made up for this process (no key configured): what it protects
    /// does not survive a restart.
    pub ephemeral: bool,
}

impl ServerKeys {
    /// The stored form of a code under the current key.
    #[must_use]
    pub fn code_mac(&self, purpose: &str, record_id: &str, code: &str) -> String {
        self.current.code_mac(purpose, record_id, code)
    }

    /// Whether `code` matches `stored` under the current or the previous key, in constant time
    /// per comparison.
    #[must_use]
    pub fn code_matches(&self, stored: &str, purpose: &str, record_id: &str, code: &str) -> bool {
        use subtle::ConstantTimeEq as _;
        let check = |key: &ServerKey| {
            bool::from(
                key.code_mac(purpose, record_id, code)
                    .as_bytes()
                    .ct_eq(stored.as_bytes()),
            )
        };
        check(&self.current) || self.previous.as_ref().is_some_and(check)
    }

    /// Opens a sealed value with the current key, else the previous one. The flag tells
    /// whether the previous key was needed (the value should be sealed again).
    ///
    /// # Errors
    /// Neither key opens it.
    pub fn open(&self, sealed: &str, associated: &[u8]) -> Result<(Vec<u8>, bool), OpenError> {
        if let Ok(plain) = self.current.open(sealed, associated) {
            return Ok((plain, false));
        }
        match &self.previous {
            Some(previous) => previous.open(sealed, associated).map(|plain| (plain, true)),
            None => Err(OpenError),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_format_is_64_hex_characters() {
        let key = ServerKey::generate();
        assert_eq!(
            ServerKey::from_hex(&format!("{}\n", key.to_hex())),
            Some(key)
        );
        assert_eq!(ServerKey::from_hex("00"), None);
        assert_eq!(ServerKey::from_hex(&"g".repeat(64)), None);
        assert_eq!(ServerKey::from_hex(&"0".repeat(65)), None);
        assert_eq!(ServerKey::from_hex(&"é".repeat(32)), None);
        assert!(format!("{:?}", ServerKey::generate()).contains("redacted"));
    }

    #[test]
    fn code_macs_depend_on_the_key_and_every_part() {
        let a = ServerKey::from_bytes([1; 32]);
        let b = ServerKey::from_bytes([2; 32]);
        let mac = a.code_mac("sign_up", "sgu_1", "123456");
        assert_eq!(mac.len(), 64);
        assert_eq!(mac, a.code_mac("sign_up", "sgu_1", "123456"));
        assert_ne!(mac, b.code_mac("sign_up", "sgu_1", "123456"));
        assert_ne!(mac, a.code_mac("password_reset", "sgu_1", "123456"));
        assert_ne!(mac, a.code_mac("sign_up", "sgu_2", "123456"));
        assert_ne!(mac, a.code_mac("sign_up", "sgu_1", "123457"));
    }

    #[test]
    fn sealed_values_open_only_with_the_key_and_associated_data() {
        let a = ServerKey::from_bytes([1; 32]);
        let b = ServerKey::from_bytes([2; 32]);
        let sealed = a.seal(b"private", b"kid:env");
        assert!(!sealed.contains("private"));
        assert_eq!(a.open(&sealed, b"kid:env").unwrap(), b"private");
        assert!(a.open(&sealed, b"kid:other").is_err());
        assert!(b.open(&sealed, b"kid:env").is_err());
        let keys = ServerKeys {
            current: b.clone(),
            previous: Some(a.clone()),
            ephemeral: false,
        };
        assert_eq!(
            keys.open(&sealed, b"kid:env").unwrap(),
            (b"private".to_vec(), true)
        );
        let mac = a.code_mac("p", "r", "111111");
        assert!(keys.code_matches(&mac, "p", "r", "111111"));
        assert!(!keys.code_matches(&mac, "p", "r", "111112"));
    }

    #[test]
    fn a_key_file_is_created_once_then_reused() {
        let dir = std::env::temp_dir().join(format!("torii-key-{}", crate::session::new_id("t")));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("torii.db.key");
        let (first, created) = ServerKey::read_or_create(&path).unwrap();
        assert!(created);
        let (again, created) = ServerKey::read_or_create(&path).unwrap();
        assert!(!created);
        assert_eq!(first, again);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "short").unwrap();
        let error = ServerKey::read(&path).unwrap_err().to_string();
        assert!(error.contains("64 hexadecimal"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
