//! The library's error for failures that are nobody's input and not the store's either:
//! ceremony or WebAuthn state that does not serialise, a URL or an HTTP client a library
//! refuses to build. It depends on no other module of the server, so that any of them can
//! return it; the HTTP layer answers it with an opaque 500 (see [`super::ApiError`]).

/// Where an [`InternalError`] came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InternalSource {
    /// Ceremony state that could not be written or read back as JSON.
    CeremonyState,
    /// WebAuthn (passkey) state of `webauthn-rs` that could not be written or read as JSON.
    WebAuthn,
    /// Signing or encoding a JWT.
    Jwt,
    /// A URL the server builds itself.
    Url,
    /// The HTTP client for calls to other services.
    HttpClient,
    /// Serialising a document the server publishes.
    Serialization,
    /// The coalesced session lookup, when the task carrying a request's query went away.
    SessionLookup,
    /// An authenticator app's secret: opening it under the server key, or the TOTP and QR
    /// code libraries.
    Totp,
}

impl InternalSource {
    /// A short name for logs.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CeremonyState => "ceremony state",
            Self::WebAuthn => "webauthn",
            Self::Jwt => "jwt",
            Self::Url => "url",
            Self::HttpClient => "http client",
            Self::Serialization => "serialization",
            Self::SessionLookup => "session lookup",
            Self::Totp => "totp",
        }
    }
}

impl std::fmt::Display for InternalSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failure that is nobody's input and not the store's: the server's own state or a library
/// it calls refused. Answered as an opaque 500 (`internal`); the log names its source.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} failure: {message}")]
pub struct InternalError {
    kind: InternalSource,
    message: String,
}

impl InternalError {
    /// A failure of `kind`, described by `cause`.
    #[must_use]
    pub fn new(kind: InternalSource, cause: impl std::fmt::Display) -> Self {
        Self {
            kind,
            message: cause.to_string(),
        }
    }

    /// Where it came from.
    #[must_use]
    pub fn kind(&self) -> InternalSource {
        self.kind
    }

    /// What went wrong, for the log.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }
}
