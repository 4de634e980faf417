//! Backup codes: ten single-use codes of ten characters (`xxxxx-xxxxx`, 50 bits each), shown
//! once and stored as MACs under the server key, bound to their user.

use crate::secret_key::ServerKeys;
use rand::Rng as _;
use rand::rngs::OsRng;

/// Codes in a set.
pub const COUNT: usize = 10;
/// Characters in a code, the dash aside.
const LENGTH: usize = 10;
/// Lower-case letters and digits without the look-alikes `0`, `1`, `l` and `o`: 32 symbols,
/// 5 bits each.
const ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";
/// What the MAC of a backup code is for.
const PURPOSE: &str = "backup_code";

/// A new set of codes, as shown to the user.
#[must_use]
pub fn generate() -> Vec<String> {
    (0..COUNT)
        .map(|_| {
            let chars: String = (0..LENGTH)
                .map(|_| char::from(ALPHABET[OsRng.gen_range(0..ALPHABET.len())]))
                .collect();
            format!("{}-{}", &chars[..LENGTH / 2], &chars[LENGTH / 2..])
        })
        .collect()
}

/// A code as typed: case, spaces and dashes ignored; `None` when it is not ten characters of
/// the alphabet.
#[must_use]
pub fn normalize(code: &str) -> Option<String> {
    let chars: String = code
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (chars.len() == LENGTH && chars.bytes().all(|b| ALPHABET.contains(&b))).then_some(chars)
}

/// The stored form of a (normalised) code under the current key.
#[must_use]
pub fn mac(keys: &ServerKeys, user_id: &str, normalized: &str) -> String {
    keys.code_mac(PURPOSE, user_id, normalized)
}

/// The forms a stored code may have: under the current key and, during a rotation, the
/// previous one.
#[must_use]
pub fn candidate_macs(keys: &ServerKeys, user_id: &str, normalized: &str) -> Vec<String> {
    let mut macs = vec![keys.current.code_mac(PURPOSE, user_id, normalized)];
    if let Some(previous) = &keys.previous {
        macs.push(previous.code_mac(PURPOSE, user_id, normalized));
    }
    macs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_ten_distinct_and_read_back() {
        let codes = generate();
        assert_eq!(codes.len(), COUNT);
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), COUNT);
        for code in &codes {
            assert_eq!(code.len(), 11);
            assert_eq!(normalize(code).unwrap(), code.replace('-', ""));
            assert_eq!(
                normalize(&format!(" {} ", code.to_uppercase())),
                normalize(code)
            );
        }
        assert_eq!(normalize("abcde-1234"), None);
        assert_eq!(normalize("abcde-1234o"), None);
        assert_eq!(normalize("123456"), None);
    }
}
