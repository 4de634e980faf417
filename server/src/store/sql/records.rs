//! What more than one aggregate's SQL shares: the column lists and row readers of users,
//! identities and passkeys, and the inserts that sign-ups and provider sign-ups reuse (a user,
//! a password, a session). Aggregate files use these and [`super::db`], never each other.

use super::db::{Exec, Param, Row};
use crate::store::{OAuthIdentityRecord, PasskeyRecord, SessionRecord, StoreError, UserRecord};

macro_rules! identity_columns {
    () => {
        "id, user_id, environment_id, provider, subject, email, created_at"
    };
}

/// The columns [`identity_from`] reads.
pub(super) const IDENTITY_COLUMNS: &str = identity_columns!();

/// A user's linked identities, oldest first (`$1`: the user id).
pub(super) const USER_IDENTITIES: &str = concat!(
    "SELECT ",
    identity_columns!(),
    " FROM oauth_identities WHERE user_id = $1 ORDER BY created_at, id"
);

/// A linked identity row.
pub(super) fn identity_from(row: &Row) -> Result<OAuthIdentityRecord, StoreError> {
    Ok(OAuthIdentityRecord {
        id: row.text("id")?,
        user_id: row.text("user_id")?,
        environment_id: row.text("environment_id")?,
        provider: row.text("provider")?,
        subject: row.text("subject")?,
        email: row.opt_text("email")?,
        created_at: row.time("created_at")?,
    })
}

macro_rules! passkey_columns {
    () => {
        "id, user_id, environment_id, credential_id, credential, sign_count, name, created_at, \
         last_used_at"
    };
}

/// The columns [`passkey_from`] reads.
pub(super) const PASSKEY_COLUMNS: &str = passkey_columns!();

/// A user's passkeys, oldest first (`$1`: the user id).
pub(super) const USER_PASSKEYS: &str = concat!(
    "SELECT ",
    passkey_columns!(),
    " FROM passkeys WHERE user_id = $1 ORDER BY created_at, id"
);

/// A passkey row.
pub(super) fn passkey_from(row: &Row) -> Result<PasskeyRecord, StoreError> {
    Ok(PasskeyRecord {
        id: row.text("id")?,
        user_id: row.text("user_id")?,
        environment_id: row.text("environment_id")?,
        credential_id: row.text("credential_id")?,
        credential: row.text("credential")?,
        sign_count: row.count("sign_count")?,
        name: row.text("name")?,
        created_at: row.time("created_at")?,
        last_used_at: row.opt_time("last_used_at")?,
    })
}

/// Inserts a session, inside the caller's transaction or on a pooled connection.
pub(super) async fn insert_session(
    exec: &mut Exec<'_>,
    s: &SessionRecord,
) -> Result<(), StoreError> {
    exec.run(
        "INSERT INTO sessions (id, environment_id, user_id, token_hash, created_at, expires_at,
            last_active_at, user_agent, ip, authenticated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[
            Param::Text(&s.id),
            Param::Text(&s.environment_id),
            Param::Text(&s.user_id),
            Param::Text(&s.token_hash),
            Param::Time(s.created_at),
            Param::Time(s.expires_at),
            Param::Time(s.last_active_at),
            Param::OptText(s.user_agent.as_deref()),
            Param::OptText(s.ip.as_deref()),
            Param::Time(s.authenticated_at),
        ],
    )
    .await
}

/// The columns of a user row, in [`user_from`]'s order.
pub(super) const USER_COLUMNS: &str = "id, environment_id, email, email_canonical, name, email_verified, legal_version, created_at, \
     updated_at";

/// The names [`user_from`] reads, selected plainly.
pub(super) const USER_NAMES: [&str; 9] = [
    "id",
    "environment_id",
    "email",
    "email_canonical",
    "name",
    "email_verified",
    "legal_version",
    "created_at",
    "updated_at",
];

/// A user row whose columns are named `names` (see [`USER_NAMES`]).
pub(super) fn user_from(row: &Row, names: &[&str; 9]) -> Result<UserRecord, StoreError> {
    let [
        id,
        environment_id,
        email,
        email_canonical,
        name,
        email_verified,
        legal_version,
        created_at,
        updated_at,
    ] = *names;
    Ok(UserRecord {
        id: row.text(id)?,
        environment_id: row.text(environment_id)?,
        email: row.text(email)?,
        email_canonical: row.text(email_canonical)?,
        name: row.opt_text(name)?,
        email_verified: row.bool(email_verified)?,
        legal_version: row.opt_text(legal_version)?,
        created_at: row.time(created_at)?,
        updated_at: row.time(updated_at)?,
    })
}

/// Inserts a user row, inside the caller's transaction.
pub(super) async fn insert_user(exec: &mut Exec<'_>, user: &UserRecord) -> Result<(), StoreError> {
    exec.run(
        "INSERT INTO users (id, environment_id, email, email_canonical, name, email_verified,
            legal_version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[
            Param::Text(&user.id),
            Param::Text(&user.environment_id),
            Param::Text(&user.email),
            Param::Text(&user.email_canonical),
            Param::OptText(user.name.as_deref()),
            Param::Bool(user.email_verified),
            Param::OptText(user.legal_version.as_deref()),
            Param::Time(user.created_at),
            Param::Time(user.updated_at),
        ],
    )
    .await
}

/// Stores a new user's password, inside the caller's transaction.
pub(super) async fn insert_password(
    exec: &mut Exec<'_>,
    user: &UserRecord,
    hash: &str,
) -> Result<(), StoreError> {
    exec.run(
        "INSERT INTO passwords (user_id, hash, updated_at) VALUES ($1, $2, $3)",
        &[
            Param::Text(&user.id),
            Param::Text(hash),
            Param::Time(user.created_at),
        ],
    )
    .await
}
