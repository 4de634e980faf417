//! Sign-up with a 6-digit emailed code. The codes sent to a signed-in user's account (email
//! verification, password reset, email change) are issued and redeemed by [`crate::codes`],
//! whose format, lifetimes and bound on tries a sign-up shares.
//!
//! Guesses are bounded per *ceremony*, not per code: a sign-up allows [`MAX_ATTEMPTS`] tries
//! in all, across every resend, each counted atomically in the store before the code is
//! compared. Once the tries are used up the sign-up is dead: even the right code and every
//! resend answer `code_attempts_exhausted`; a new sign-up is subject to the per-address email
//! limits. Its code is stored as HMAC-SHA-256 under the server key, bound to its purpose and
//! record.
//!
//! Transitions of a pending sign-up:
//! - `start`: the form is valid (and consent given when the environment has Terms/Privacy) →
//!   a pending sign-up is stored with the code's MAC, expiring in 10 minutes, and the code is
//!   emailed. When the address already has an account the answer is identical, but the owner
//!   gets a notice instead of a code, so nobody learns which addresses have accounts.
//!   With `passkey` set (and passkeys enabled) the password may be left out: the user creates
//!   a passkey once `verify` has signed them in.
//! - `verify`: each try is first counted; a wrong code answers with the tries left; an expired
//!   code refuses even the right digits (a resend brings a new one); a sign-up whose tries are
//!   used up is dead. The right code consumes the sign-up and creates the user (email
//!   verified), their password and a session in one transaction: exactly one concurrent
//!   verifier wins.
//! - `resend`: after a cooldown, a new code replaces the old one; the tries used stay used.

pub use crate::codes::{CODE_TTL, MAX_ATTEMPTS, RESEND_COOLDOWN, USER_CODE_CEREMONY_TTL};

use crate::codes::{cooldown, new_code, normalize_code};
use crate::guard::Guarded;
use crate::mail;
use crate::rate_limit::{IpKey, RateBucket, account_key};
use crate::session::new_id;
use crate::store::{AttemptReservation, CodeSend, CompleteSignUp, SignUpRecord, UserRecord};
use crate::validate::{self, FieldErrors};
use crate::{AuthenticatedSessionWithToken, ClientInfo, Environment, Torii};
use time::Duration;
use torii_shared::{
    CODE_DIGITS, ResendAccepted, Secret, SignInMethod, SignUpCreated, SignUpRequest, SignUpStatus,
};

/// The purpose a sign-up code's MAC is bound to.
const SIGN_UP_PURPOSE: &str = "sign_up";
/// Pending sign-ups older than this are purged.
pub const SIGN_UP_TTL: Duration = Duration::hours(24);

pub use crate::codes::SignUpError;

impl Torii {
    /// Starts a sign-up: validates the form, stores the pending sign-up and emails a code.
    /// Limited per client address (sign-ups and emails) and per address emailed.
    ///
    /// # Errors
    /// A rate limit; invalid fields, missing consent, a mail or store failure.
    pub async fn start_sign_up(
        &self,
        env: &Environment,
        request: &SignUpRequest,
        client: &ClientInfo,
    ) -> Result<SignUpCreated, Guarded<SignUpError>> {
        let address = account_key(&request.email);
        let [email_ip, email_address] = RateBucket::email(client, &address);
        let buckets = [
            RateBucket::SignUpIp(IpKey::of(client)),
            email_ip,
            email_address,
        ];
        self.guarded(env, None, &buckets, self.create_sign_up(env, request))
            .await
    }

    async fn create_sign_up(
        &self,
        env: &Environment,
        request: &SignUpRequest,
    ) -> Result<SignUpCreated, SignUpError> {
        let mut fields = FieldErrors::new();
        let email = validate::email(&request.email)
            .map_err(|msg| fields.insert("email".to_owned(), msg.to_owned()))
            .ok();
        // A passkey instead of a password: created by the user right after the code, once
        // they are signed in, so no passkey is ever bound to an address nobody verified.
        let passkey_instead = request.passkey
            && request.password.is_none()
            && env.methods.contains(&SignInMethod::Passkey);
        match &request.password {
            None if passkey_instead => {}
            None => {
                fields.insert("password".to_owned(), "Choose a password.".to_owned());
            }
            Some(password) => {
                if let Err(msg) = validate::new_password(password.expose()) {
                    fields.insert("password".to_owned(), msg.to_string());
                }
            }
        }
        let name = validate::name(request.name.as_deref())
            .map_err(|msg| fields.insert("name".to_owned(), msg))
            .ok()
            .flatten();
        let consent_missing = env.legal_required() && request.legal_accepted != Some(true);
        if !fields.is_empty() {
            if consent_missing {
                fields.insert(
                    "legalAccepted".to_owned(),
                    "Accept the Terms of Service and Privacy Policy to continue.".to_owned(),
                );
            }
            return Err(SignUpError::Validation(fields));
        }
        if consent_missing {
            return Err(SignUpError::ConsentRequired);
        }
        let Some(email) = email else {
            return Err(SignUpError::Validation(fields));
        };
        if let Some(password) = &request.password {
            self.check_password_not_breached(password).await?;
        }
        let password_hash = match request.password.as_ref() {
            Some(password) => Some(self.hasher().hash(password).await?),
            None => None,
        };
        let now = self.now();
        let id = new_id("sgu");
        let code = new_code();
        let record = SignUpRecord {
            id: id.clone(),
            environment_id: env.id.clone(),
            email: email.display.clone(),
            email_canonical: email.canonical.clone(),
            name,
            password_hash,
            legal_accepted_at: env.legal_required().then_some(now),
            legal_version: env
                .legal_required()
                .then(|| env.terms_version.clone())
                .flatten(),
            code_hash: self.server_keys().code_mac(SIGN_UP_PURPOSE, &id, &code),
            code_expires_at: now + CODE_TTL,
            attempts: 0,
            resend_available_at: now + RESEND_COOLDOWN,
            created_at: now,
        };
        self.store().insert_sign_up(&record).await?;
        // Opportunistic cleanup keeps the table small without a background task.
        self.store().purge_sign_ups(now - SIGN_UP_TTL).await?;
        self.send_sign_up_email(env, &record, &code).await?;
        Ok(SignUpCreated {
            sign_up_id: id,
            status: SignUpStatus::NeedsVerification,
            code_expires_at: record.code_expires_at,
            resend_available_at: record.resend_available_at,
        })
    }

    async fn send_sign_up_email(
        &self,
        env: &Environment,
        record: &SignUpRecord,
        code: &str,
    ) -> Result<(), SignUpError> {
        let existing = self
            .store()
            .find_user_by_email(&env.id, &record.email_canonical)
            .await?;
        let email = if existing.is_some() {
            mail::sign_up_existing_account(&env.name, &record.email, self.public_url().as_str())?
        } else {
            mail::sign_up_code(&env.name, &record.email, code, CODE_TTL.whole_minutes())?
        };
        self.mailer().send(&email).await.map_err(|error| {
            tracing::warn!(
                sign_up = %record.id,
                error = %crate::log::escaped(&error),
                "sign-up email not sent"
            );
            SignUpError::Mail(error)
        })
    }

    /// Sends a new code for a pending sign-up once the cooldown has passed. Limited per
    /// client address.
    ///
    /// # Errors
    /// A rate limit; unknown sign-up, cooldown, mail or store failure.
    pub async fn resend_sign_up_code(
        &self,
        env: &Environment,
        sign_up_id: &str,
        client: &ClientInfo,
    ) -> Result<ResendAccepted, Guarded<SignUpError>> {
        let buckets = [RateBucket::EmailIp(IpKey::of(client))];
        let work = self.replace_sign_up_code(env, sign_up_id);
        self.guarded(env, None, &buckets, work).await
    }

    async fn replace_sign_up_code(
        &self,
        env: &Environment,
        sign_up_id: &str,
    ) -> Result<ResendAccepted, SignUpError> {
        let record = self
            .store()
            .get_sign_up(&env.id, sign_up_id)
            .await?
            .ok_or(SignUpError::NotFound)?;
        let now = self.now();
        let code = new_code();
        let code_expires_at = now + CODE_TTL;
        let resend_available_at = now + RESEND_COOLDOWN;
        let sent = self
            .store()
            .replace_sign_up_code(
                &record.id,
                &self
                    .server_keys()
                    .code_mac(SIGN_UP_PURPOSE, &record.id, &code),
                code_expires_at,
                resend_available_at,
                MAX_ATTEMPTS,
                now,
            )
            .await?;
        match sent {
            CodeSend::Sent => {}
            CodeSend::Cooldown(until) => return Err(cooldown(until - now)),
            CodeSend::Exhausted => return Err(SignUpError::TooManyAttempts),
            CodeSend::NotFound => return Err(SignUpError::NotFound),
        }
        self.send_sign_up_email(env, &record, &code).await?;
        Ok(ResendAccepted {
            code_expires_at,
            resend_available_at,
        })
    }

    /// Checks the emailed code; the right one creates the user and a session. Limited per
    /// client address.
    ///
    /// # Errors
    /// A rate limit; malformed, wrong, expired or exhausted code; unknown sign-up; email
    /// taken meanwhile.
    pub async fn verify_sign_up(
        &self,
        env: &Environment,
        sign_up_id: &str,
        code: &Secret,
        client: &ClientInfo,
    ) -> Result<AuthenticatedSessionWithToken, Guarded<SignUpError>> {
        let buckets = [RateBucket::VerifyIp(IpKey::of(client))];
        let work = self.redeem_sign_up_code(env, sign_up_id, code, client);
        self.guarded(env, None, &buckets, work).await
    }

    async fn redeem_sign_up_code(
        &self,
        env: &Environment,
        sign_up_id: &str,
        code: &Secret,
        client: &ClientInfo,
    ) -> Result<AuthenticatedSessionWithToken, SignUpError> {
        let Some(code) = normalize_code(code.expose()) else {
            return Err(SignUpError::Validation(FieldErrors::from([(
                "code".to_owned(),
                format!("Enter the {CODE_DIGITS}-digit code from the email."),
            )])));
        };
        let record = self
            .store()
            .get_sign_up(&env.id, sign_up_id)
            .await?
            .ok_or(SignUpError::NotFound)?;
        let now = self.now();
        let used = match self
            .store()
            .reserve_sign_up_attempt(&record.id, MAX_ATTEMPTS, now)
            .await?
        {
            AttemptReservation::Reserved(used) => used,
            AttemptReservation::NotFound => return Err(SignUpError::NotFound),
            AttemptReservation::Expired => return Err(SignUpError::CodeExpired),
            AttemptReservation::Exhausted => return Err(SignUpError::TooManyAttempts),
        };
        // Re-read so that a resend between the two reads is honoured.
        let current = self
            .store()
            .get_sign_up(&env.id, sign_up_id)
            .await?
            .ok_or(SignUpError::AlreadyUsed)?;
        let matches = self.server_keys().code_matches(
            &current.code_hash,
            SIGN_UP_PURPOSE,
            &current.id,
            &code,
        );
        if !matches {
            return Err(SignUpError::InvalidCode {
                tries_left: MAX_ATTEMPTS.saturating_sub(used),
            });
        }
        let user = UserRecord {
            id: new_id("usr"),
            environment_id: env.id.clone(),
            email: current.email.clone(),
            email_canonical: current.email_canonical.clone(),
            name: current.name.clone(),
            email_verified: true,
            legal_version: current.legal_version.clone(),
            created_at: now,
            updated_at: now,
        };
        let (session, token) = self.new_session_record(env, &user.id, client);
        match self
            .store()
            .complete_sign_up(
                &current.id,
                &user,
                current.password_hash.as_deref(),
                &session,
            )
            .await?
        {
            CompleteSignUp::Created(user) => {
                self.apply_sign_in_factors(env, &user, &session.id, crate::FirstFactor::EmailCode)
                    .await?;
                let info = self.session_gates(env, &user, &session.id).await?;
                Ok(self.finish_sign_in(env, session, user, info, token)?)
            }
            CompleteSignUp::AlreadyConsumed => Err(SignUpError::AlreadyUsed),
            CompleteSignUp::EmailTaken => Err(SignUpError::EmailTaken),
        }
    }
}
