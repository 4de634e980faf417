//! Session gates: the `SessionInfo` shape of the `/me` payload, exactly as the session-gates
//! product page defines it (`status`, `gates: [{key}]`, `currentGate`).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Whether protected UI may render for a session.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    /// No gate is outstanding: protected UI may render.
    Active,
    /// At least one gate is outstanding: protected UI must not render.
    Pending,
}

/// The key of a gate. Torii's own keys keep their exact wire form; any other string is an
/// application-defined gate, carried as is so that old clients survive new gates.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GateKey {
    /// `legal_acceptance`: the user must accept the current Terms.
    LegalAcceptance,
    /// `email_verification`: the user must verify their email address.
    EmailVerification,
    /// `second_factor`: the user signed in with a first factor and has a second one, which
    /// they must verify (`POST /v1/session/second-factor`).
    SecondFactor,
    /// `setup_mfa`: the environment requires a second factor the user lacks; they must enrol
    /// one (`POST /v1/me/mfa/totp`, then `.../confirm`).
    SetupMfa,
    /// Any other key, defined by the application.
    Custom(String),
}

impl GateKey {
    /// The wire form of the key.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::LegalAcceptance => "legal_acceptance",
            Self::EmailVerification => "email_verification",
            Self::SecondFactor => "second_factor",
            Self::SetupMfa => "setup_mfa",
            Self::Custom(key) => key,
        }
    }

    /// Parses a wire key; never fails, unknown keys become [`GateKey::Custom`].
    #[must_use]
    pub fn parse(key: &str) -> Self {
        match key {
            "legal_acceptance" => Self::LegalAcceptance,
            "email_verification" => Self::EmailVerification,
            "second_factor" => Self::SecondFactor,
            "setup_mfa" => Self::SetupMfa,
            other => Self::Custom(other.to_owned()),
        }
    }
}

impl fmt::Display for GateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for GateKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for GateKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let key = String::deserialize(deserializer)?;
        Ok(Self::parse(&key))
    }
}

/// One outstanding gate on a session.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gate {
    /// Which gate: `legal_acceptance`, `email_verification`, or a key the application
    /// defines (1 to 64 of a-z, 0-9 and `_`).
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "legal_acceptance"))]
    pub key: GateKey,
}

/// The session state the provider reads from `/me`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionInfo {
    /// `active` when `gates` is empty, else `pending`.
    pub status: SessionStatus,
    /// Outstanding gates in server-defined order.
    pub gates: Vec<Gate>,
    /// `gates[0]`, or `null` when active.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub current_gate: Option<Gate>,
}

impl SessionInfo {
    /// Builds the info from the outstanding gates, keeping their order.
    #[must_use]
    pub fn from_gates(gates: Vec<Gate>) -> Self {
        let current_gate = gates.first().cloned();
        let status = if gates.is_empty() {
            SessionStatus::Active
        } else {
            SessionStatus::Pending
        };
        Self {
            status,
            gates,
            current_gate,
        }
    }

    /// True when no gate is outstanding.
    #[must_use]
    pub fn is_active(&self) -> bool {
        self.status == SessionStatus::Active
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn active_session_info_has_the_product_page_shape() {
        let info = SessionInfo::from_gates(vec![]);
        assert_eq!(
            serde_json::to_value(&info).unwrap(),
            json!({"status": "active", "gates": [], "currentGate": null})
        );
    }

    #[test]
    fn pending_session_info_names_the_first_gate_current() {
        let info = SessionInfo::from_gates(vec![
            Gate {
                key: GateKey::LegalAcceptance,
            },
            Gate {
                key: GateKey::EmailVerification,
            },
        ]);
        assert_eq!(
            serde_json::to_value(&info).unwrap(),
            json!({
                "status": "pending",
                "gates": [{"key": "legal_acceptance"}, {"key": "email_verification"}],
                "currentGate": {"key": "legal_acceptance"}
            })
        );
    }

    #[test]
    fn unknown_gate_keys_deserialise_and_round_trip() {
        let info: SessionInfo = serde_json::from_value(json!({
            "status": "pending",
            "gates": [{"key": "mfa_enrollment"}],
            "currentGate": {"key": "mfa_enrollment"}
        }))
        .unwrap();
        assert_eq!(info.gates[0].key, GateKey::Custom("mfa_enrollment".into()));
        assert_eq!(
            serde_json::to_value(&info).unwrap()["currentGate"]["key"],
            "mfa_enrollment"
        );
    }

    #[test]
    fn fixed_gate_keys_parse_to_their_variants() {
        assert_eq!(GateKey::parse("legal_acceptance"), GateKey::LegalAcceptance);
        assert_eq!(
            GateKey::parse("email_verification"),
            GateKey::EmailVerification
        );
        assert_eq!(GateKey::parse("second_factor"), GateKey::SecondFactor);
        assert_eq!(GateKey::parse("setup_mfa"), GateKey::SetupMfa);
        for key in [GateKey::SecondFactor, GateKey::SetupMfa] {
            assert_eq!(GateKey::parse(key.as_str()), key);
            assert_eq!(
                serde_json::to_value(Gate { key: key.clone() }).unwrap(),
                json!({"key": key.as_str()})
            );
        }
    }
}
