//! Session gates: a signed-in session may be `pending` until its gates are cleared. A gate is
//! required on a user (all of their sessions, present and future) or on one session; the
//! server is authoritative and answers gates in a fixed order: `second_factor`, then
//! `legal_acceptance`, then `email_verification`, then `setup_mfa`, then application-defined
//! keys in the order they were required.

use crate::store::{GateRecord, GateTarget, StoreError, UserRecord};
use crate::{Environment, Torii};
use time::OffsetDateTime;
use torii_shared::{Gate, GateKey, SessionInfo};

/// Why a gate operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GateError {
    /// No such user or session in this environment.
    #[error("not found")]
    NotFound,
    /// The key is not 1–64 characters of `a-z`, `0-9` and `_`.
    #[error("invalid gate key")]
    InvalidKey,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks an application-defined key's shape (the fixed keys pass too).
#[must_use]
pub fn valid_key(key: &str) -> bool {
    (1..=64).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Gates derived from the user by the environment's optional producers.
#[must_use]
pub fn produced_gates(env: &Environment, user: &UserRecord) -> Vec<GateKey> {
    let mut keys = Vec::new();
    if let Some(current) = &env.terms_version
        && user.legal_version.as_deref() != Some(current.as_str())
    {
        keys.push(GateKey::LegalAcceptance);
    }
    if env.require_email_verification && !user.email_verified {
        keys.push(GateKey::EmailVerification);
    }
    keys
}

fn rank(key: &GateKey) -> u8 {
    match key {
        // The sign-in is not finished until the second factor is given: nothing else first.
        GateKey::SecondFactor => 0,
        GateKey::LegalAcceptance => 1,
        GateKey::EmailVerification => 2,
        GateKey::SetupMfa => 3,
        GateKey::Custom(_) => 4,
    }
}

/// Orders stored gates the server's way and drops duplicates (a key required on both the
/// user and the session counts once).
#[must_use]
pub fn session_info(mut records: Vec<GateRecord>) -> SessionInfo {
    records.sort_by(|a, b| {
        let (ka, kb) = (GateKey::parse(&a.key), GateKey::parse(&b.key));
        rank(&ka)
            .cmp(&rank(&kb))
            .then(a.created_at.cmp(&b.created_at))
            .then(a.key.cmp(&b.key))
    });
    let mut gates: Vec<Gate> = Vec::with_capacity(records.len());
    for record in records {
        let key = GateKey::parse(&record.key);
        if !gates.iter().any(|g| g.key == key) {
            gates.push(Gate { key });
        }
    }
    SessionInfo::from_gates(gates)
}

impl Torii {
    async fn check_target(
        &self,
        env: &Environment,
        target: GateTarget<'_>,
        key: &GateKey,
    ) -> Result<(), GateError> {
        if !valid_key(key.as_str()) {
            return Err(GateError::InvalidKey);
        }
        let environment_id = match target {
            GateTarget::User(id) => self.store().get_user(id).await?.map(|u| u.environment_id),
            GateTarget::Session(id) => self
                .store()
                .get_session(id)
                .await?
                .map(|s| s.environment_id),
        };
        match environment_id {
            Some(found) if found == env.id => Ok(()),
            _ => Err(GateError::NotFound),
        }
    }

    /// Requires a gate on a user or a session of this environment; idempotent.
    ///
    /// # Errors
    /// Unknown user or session, an invalid key, a store failure.
    pub async fn require_gate(
        &self,
        env: &Environment,
        target: GateTarget<'_>,
        key: &GateKey,
    ) -> Result<(), GateError> {
        self.check_target(env, target, key).await?;
        self.store()
            .require_gate(target, key.as_str(), self.now())
            .await?;
        Ok(())
    }

    /// Clears a gate; clearing one that is not required is not an error.
    ///
    /// # Errors
    /// Unknown user or session, an invalid key, a store failure.
    pub async fn clear_gate(
        &self,
        env: &Environment,
        target: GateTarget<'_>,
        key: &GateKey,
    ) -> Result<(), GateError> {
        self.check_target(env, target, key).await?;
        self.store().clear_gate(target, key.as_str()).await?;
        Ok(())
    }

    /// The gates outstanding on a session (its user's, its own, and those the environment's
    /// producers derive from the user), in server order.
    ///
    /// # Errors
    /// A store failure.
    pub async fn session_gates(
        &self,
        env: &Environment,
        user: &UserRecord,
        session_id: &str,
    ) -> Result<SessionInfo, StoreError> {
        self.session_gates_if_stored(env, user, session_id, true)
            .await
    }

    /// [`Torii::session_gates`], skipping the store when the caller already knows that no
    /// gate is stored on the session or its user (`stored` false).
    pub(crate) async fn session_gates_if_stored(
        &self,
        env: &Environment,
        user: &UserRecord,
        session_id: &str,
        stored: bool,
    ) -> Result<SessionInfo, StoreError> {
        let mut records = if stored {
            self.store().gates(&user.id, session_id).await?
        } else {
            Vec::new()
        };
        for key in produced_gates(env, user) {
            records.push(GateRecord {
                key: key.as_str().to_owned(),
                created_at: OffsetDateTime::UNIX_EPOCH,
            });
        }
        Ok(session_info(records))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(key: &str, secs: i64) -> GateRecord {
        GateRecord {
            key: key.to_owned(),
            created_at: OffsetDateTime::from_unix_timestamp(secs).unwrap(),
        }
    }

    #[test]
    fn gates_come_in_server_order() {
        let info = session_info(vec![
            record("mfa_enrollment", 1),
            record("email_verification", 5),
            record("zz_custom", 0),
            record("legal_acceptance", 9),
            record("email_verification", 2),
        ]);
        let keys: Vec<&str> = info.gates.iter().map(|g| g.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "legal_acceptance",
                "email_verification",
                "zz_custom",
                "mfa_enrollment"
            ]
        );
        assert_eq!(info.current_gate.unwrap().key, GateKey::LegalAcceptance);
    }

    #[test]
    fn second_factors_come_first_and_their_setup_after_the_built_in_gates() {
        let info = session_info(vec![
            record("zz_custom", 0),
            record("setup_mfa", 1),
            record("legal_acceptance", 2),
            record("second_factor", 3),
        ]);
        let keys: Vec<&str> = info.gates.iter().map(|g| g.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "second_factor",
                "legal_acceptance",
                "setup_mfa",
                "zz_custom"
            ]
        );
    }

    #[test]
    fn no_gates_is_active() {
        assert!(session_info(vec![]).is_active());
    }

    #[test]
    fn keys_are_checked() {
        assert!(valid_key("mfa_enrollment"));
        assert!(valid_key("legal_acceptance"));
        assert!(!valid_key(""));
        assert!(!valid_key("Bad-Key"));
        assert!(!valid_key(&"a".repeat(65)));
    }
}
