//! The fleet's workload: a few worker threads running sign-ups (verified with the emailed code),
//! password sign-ins, `/me`, sign-outs and sign-in links through the balancer, recording every
//! request and what the workload believes the store now holds.
//!
//! The nodes run without SMTP, so each email is in the log of the node that sent it; a worker
//! reads its code or link from the logs of every node.

use std::fs;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::bench::{Response, http_at};

/// Every account's password: the workload signs in, it does not guess.
pub const PASSWORD: &str = "fleet horse battery staple";
/// The pause of a worker after a failed request.
const BACKOFF: Duration = Duration::from_millis(200);
/// How long an email may take to reach a node's log.
const EMAIL_DEADLINE: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    SignUp,
    VerifySignUp,
    SignIn,
    Me,
    SignOut,
    MagicLink,
    VerifyLink,
}

impl Kind {
    pub const ALL: [Self; 7] = [
        Self::SignUp,
        Self::VerifySignUp,
        Self::SignIn,
        Self::Me,
        Self::SignOut,
        Self::MagicLink,
        Self::VerifyLink,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::SignUp => "POST /v1/sign-ups",
            Self::VerifySignUp => "POST /v1/sign-ups/{id}/verify",
            Self::SignIn => "POST /v1/sign-in/password",
            Self::Me => "GET /me",
            Self::SignOut => "POST /v1/sign-out",
            Self::MagicLink => "POST /v1/magic-links",
            Self::VerifyLink => "POST /v1/magic-links/verify",
        }
    }
}

/// Why a request did not get the answer it should have.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Failure {
    /// The connection was refused, reset or closed without an answer.
    Transport,
    /// An answer of the balancer itself (502, 503 or 504, not a Torii error body).
    Balancer(u16),
    /// Torii's `503 store_unavailable`.
    StoreUnavailable,
    /// Anything else: a status or body that is simply wrong. Never allowed.
    Wrong(String),
}

impl Failure {
    pub fn cause(&self) -> String {
        match self {
            Self::Transport => "connection reset or closed".to_owned(),
            Self::Balancer(status) => format!("{status} from HAProxy"),
            Self::StoreUnavailable => "503 store_unavailable".to_owned(),
            Self::Wrong(_) => "wrong answer".to_owned(),
        }
    }
}

/// One request: what, when (since the workload started), and how it failed, if it did.
/// How long after a sign-out another node may still answer the session as signed in: the
/// nodes' revocation bound (`TORII_REVOCATION_BOUND_MS`, 1 s by default), plus slack for the
/// request that asks.
pub const STALE_FOR: Duration = Duration::from_millis(1500);

#[derive(Debug, Clone)]
pub struct Record {
    pub kind: Kind,
    pub start: Duration,
    pub end: Duration,
    pub failure: Option<Failure>,
}

/// What the workload holds at the end, for the checks against the store and the nodes.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Addresses whose sign-up was verified (200).
    pub completed_sign_ups: Vec<String>,
    /// Addresses whose sign-up failed part-way: either outcome is fine, never both.
    pub uncertain_sign_ups: Vec<String>,
    /// Sessions (token, address) the workload keeps.
    pub held: Vec<(String, String)>,
    /// Tokens of sessions signed out (204).
    pub signed_out: Vec<String>,
    /// Addresses whose sign-in link was used (200).
    pub links_used: Vec<String>,
    /// Emails that never reached a log, with when they were asked for.
    pub lost_emails: Vec<(Duration, String)>,
}

#[derive(Debug)]
struct User {
    /// The worker that signed it up: only it signs in as this user, so that no two password
    /// checks of one account ever run at once (each counts as a failure until it succeeds).
    worker: usize,
    email: String,
    link_sent: bool,
}

#[derive(Debug)]
pub struct Workload {
    balancer: SocketAddr,
    origin: String,
    logs: Vec<PathBuf>,
    pub epoch: Instant,
    pub sent: AtomicUsize,
    pub stop: AtomicBool,
    records: Mutex<Vec<Record>>,
    outcome: Mutex<Outcome>,
    users: Mutex<Vec<User>>,
    next_user: AtomicUsize,
}

impl Workload {
    pub fn new(balancer: SocketAddr, logs: Vec<PathBuf>) -> Self {
        Self {
            balancer,
            origin: format!("http://{balancer}"),
            logs,
            epoch: Instant::now(),
            sent: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            records: Mutex::new(Vec::new()),
            outcome: Mutex::new(Outcome::default()),
            users: Mutex::new(Vec::new()),
            next_user: AtomicUsize::new(0),
        }
    }

    pub fn now(&self) -> Duration {
        self.epoch.elapsed()
    }

    /// Runs journeys until told to stop: sign-up, sign-in, sign-in link, sign-in, …
    pub fn worker(&self, worker: usize) {
        let mut seq = 0_usize;
        while !self.stop.load(Ordering::SeqCst) {
            match seq % 4 {
                0 => self.sign_up(worker, seq),
                2 => self.magic_link(worker, seq),
                _ => self.sign_in(worker, seq),
            }
            seq += 1;
        }
    }

    pub fn into_results(self) -> (Vec<Record>, Outcome) {
        let records = self.records.into_inner().unwrap_or_else(|e| e.into_inner());
        let outcome = self.outcome.into_inner().unwrap_or_else(|e| e.into_inner());
        (records, outcome)
    }

    fn outcome(&self) -> std::sync::MutexGuard<'_, Outcome> {
        self.outcome.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One request (`route`: method and path) through the balancer, recorded; the answer when
    /// it is the `expected` status and passes `check`.
    fn call(
        &self,
        kind: Kind,
        route: &str,
        token: Option<&str>,
        body: Option<&str>,
        expected: u16,
        check: impl Fn(&Response) -> Result<(), String>,
    ) -> Option<Response> {
        let bearer = token.map(|t| format!("Bearer {t}"));
        let mut headers = vec![("Origin", self.origin.as_str())];
        if let Some(bearer) = &bearer {
            headers.push(("Authorization", bearer.as_str()));
        }
        let (method, path) = route.split_once(' ').unwrap_or(("GET", route));
        self.sent.fetch_add(1, Ordering::SeqCst);
        let start = self.now();
        let result = http_at(self.balancer, method, path, &headers, body);
        let end = self.now();
        let outcome = match result {
            Err(_) => Err(Failure::Transport),
            Ok(response) if response.status == expected => match check(&response) {
                Ok(()) => Ok(response),
                Err(why) => Err(Failure::Wrong(format!("{}: {why}", kind.label()))),
            },
            Ok(response) => Err(classify(kind, &response)),
        };
        let failure = outcome.as_ref().err().cloned();
        if failure.is_some() {
            // A client backs off after a failure (Torii's 503s say `Retry-After`), rather
            // than hammering a balancer with no node in rotation.
            thread::sleep(BACKOFF);
        }
        self.records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Record {
                kind,
                start,
                end,
                failure,
            });
        outcome.ok()
    }

    fn sign_up(&self, worker: usize, seq: usize) {
        let email = format!("w{worker}-{seq}@fleet.test");
        let body = format!(r#"{{"email":"{email}","password":"{PASSWORD}"}}"#);
        let created = self.call(
            Kind::SignUp,
            "POST /v1/sign-ups",
            None,
            Some(&body),
            201,
            |r| {
                json_str(&r.body, "signUpId")
                    .map(drop)
                    .ok_or_else(|| r.body.clone())
            },
        );
        let Some(id) = created.and_then(|r| json_str(&r.body, "signUpId")) else {
            self.outcome().uncertain_sign_ups.push(email);
            return;
        };
        let asked = self.now();
        let Some(code) = self
            .email(&email, "Your verification code is ")
            .map(|text| {
                text.chars()
                    .filter(char::is_ascii_digit)
                    .take(6)
                    .collect::<String>()
            })
        else {
            let mut outcome = self.outcome();
            outcome.lost_emails.push((asked, email.clone()));
            outcome.uncertain_sign_ups.push(email);
            return;
        };
        let verified = self.call(
            Kind::VerifySignUp,
            &format!("POST /v1/sign-ups/{id}/verify"),
            None,
            Some(&format!(r#"{{"code":"{code}"}}"#)),
            200,
            |r| has_user(r, &email),
        );
        let Some(token) = verified.as_ref().and_then(session_token) else {
            self.outcome().uncertain_sign_ups.push(email);
            return;
        };
        self.outcome().completed_sign_ups.push(email.clone());
        self.users
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(User {
                worker,
                email: email.clone(),
                link_sent: false,
            });
        if self
            .call(Kind::Me, "GET /me", Some(&token), None, 200, |r| {
                has_user(r, &email)
            })
            .is_some()
        {
            self.outcome().held.push((token, email));
        }
    }

    /// A password sign-in, `/me`, a sign-out, and `/me` again (signed out).
    fn sign_in(&self, worker: usize, seq: usize) {
        let email = {
            let users = self.users.lock().unwrap_or_else(|e| e.into_inner());
            let own: Vec<&User> = users.iter().filter(|u| u.worker == worker).collect();
            if own.is_empty() {
                None
            } else {
                let i = self.next_user.fetch_add(1, Ordering::SeqCst) % own.len();
                Some(own[i].email.clone())
            }
        };
        let Some(email) = email else {
            return self.sign_up(worker, seq);
        };
        let body = format!(r#"{{"email":"{email}","password":"{PASSWORD}"}}"#);
        let signed_in = self.call(
            Kind::SignIn,
            "POST /v1/sign-in/password",
            None,
            Some(&body),
            200,
            |r| has_user(r, &email),
        );
        let Some(token) = signed_in.as_ref().and_then(session_token) else {
            return;
        };
        self.call(Kind::Me, "GET /me", Some(&token), None, 200, |r| {
            has_user(r, &email)
        });
        if self
            .call(
                Kind::SignOut,
                "POST /v1/sign-out",
                Some(&token),
                None,
                204,
                |_| Ok(()),
            )
            .is_none()
        {
            // Signed out or not: the checks leave this session alone.
            return;
        }
        self.outcome().signed_out.push(token.clone());
        self.expect_signed_out(&token);
    }

    /// `/me` through the balancer after a sign-out, until it answers signed out. A node other
    /// than the one that signed out may answer from its session cache until the revocation
    /// bound has passed since the sign-out committed; past [`STALE_FOR`] an active answer is
    /// wrong.
    fn expect_signed_out(&self, token: &str) {
        let answered = self.now();
        loop {
            let within_bound = self.now().saturating_sub(answered) < STALE_FOR;
            let seen = self.call(
                Kind::Me,
                "GET /me",
                Some(token),
                None,
                200,
                |r| match signed_out(r) {
                    Ok(()) => Ok(()),
                    Err(_) if within_bound => Ok(()),
                    Err(why) => Err(format!(
                        "still signed in {:.2}s after the sign-out was answered: {why}",
                        self.now().saturating_sub(answered).as_secs_f64()
                    )),
                },
            );
            match seen {
                Some(response) if signed_out(&response).is_err() => {
                    thread::sleep(Duration::from_millis(50));
                }
                _ => return,
            }
        }
    }

    /// A sign-in link for a user who never had one, used through the balancer, then `/me`.
    fn magic_link(&self, worker: usize, seq: usize) {
        let email = {
            let mut users = self.users.lock().unwrap_or_else(|e| e.into_inner());
            users
                .iter_mut()
                .find(|u| u.worker == worker && !u.link_sent)
                .map(|user| {
                    user.link_sent = true;
                    user.email.clone()
                })
        };
        let Some(email) = email else {
            return self.sign_in(worker, seq);
        };
        let body = format!(r#"{{"email":"{email}"}}"#);
        let asked = self.now();
        if self
            .call(
                Kind::MagicLink,
                "POST /v1/magic-links",
                None,
                Some(&body),
                202,
                |_| Ok(()),
            )
            .is_none()
        {
            return;
        }
        let Some(link_token) = self.email(&email, "magic-links/verify?token=").map(|rest| {
            rest.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect::<String>()
        }) else {
            self.outcome().lost_emails.push((asked, email));
            return;
        };
        let body = format!(r#"{{"token":"{link_token}"}}"#);
        let verified = self.call(
            Kind::VerifyLink,
            "POST /v1/magic-links/verify",
            None,
            Some(&body),
            200,
            |r| has_user(r, &email),
        );
        let Some(token) = verified.as_ref().and_then(session_token) else {
            return;
        };
        self.outcome().links_used.push(email.clone());
        if self
            .call(Kind::Me, "GET /me", Some(&token), None, 200, |r| {
                has_user(r, &email)
            })
            .is_some()
        {
            self.outcome().held.push((token, email));
        }
    }

    /// The text following `marker` in the email to `to`, from whichever node's log has it,
    /// waiting up to `EMAIL_DEADLINE` for it to be written.
    fn email(&self, to: &str, marker: &str) -> Option<String> {
        let deadline = Instant::now() + EMAIL_DEADLINE;
        let addressee = format!(" to={to} ");
        loop {
            for log in &self.logs {
                let text = fs::read_to_string(log).unwrap_or_default();
                if let Some(found) = find_email(&text, &addressee, marker) {
                    return Some(found);
                }
            }
            if Instant::now() > deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(25));
        }
    }
}

/// In a log written by the log mailer (a header line, the body's lines indented with `    |`,
/// then ` to=… subject=…` on the last one), the text after `marker` in an email whose last line
/// names `addressee`.
fn find_email(log: &str, addressee: &str, marker: &str) -> Option<String> {
    let mut event = String::new();
    for line in log.lines() {
        if !line.starts_with("    |") {
            event.clear();
        }
        event.push_str(line);
        event.push('\n');
        if line.starts_with("    |")
            && line.contains(addressee)
            && let Some((_, rest)) = event.split_once(marker)
        {
            return Some(rest.to_owned());
        }
    }
    None
}

/// How a request that did not get its expected status failed.
fn classify(kind: Kind, response: &Response) -> Failure {
    let torii_error = response.body.trim_start().starts_with('{');
    if response.status == 503 && response.body.contains("\"store_unavailable\"") {
        Failure::StoreUnavailable
    } else if matches!(response.status, 502..=504) && !torii_error {
        Failure::Balancer(response.status)
    } else {
        Failure::Wrong(format!(
            "{} answered {}: {:.200}",
            kind.label(),
            response.status,
            response.body
        ))
    }
}

/// A string field of a flat JSON object, found by name (the answers here are Torii's own).
pub fn json_str(body: &str, field: &str) -> Option<String> {
    let start = body.find(&format!("\"{field}\":\""))? + field.len() + 4;
    let len = body[start..].find('"')?;
    Some(body[start..start + len].to_owned())
}

/// The session token of a `Set-Cookie: torii_session=…` header.
pub fn session_token(response: &Response) -> Option<String> {
    let cookie = response.header("set-cookie")?;
    let value = cookie.split(';').next()?.strip_prefix("torii_session=")?;
    (!value.is_empty()).then(|| value.to_owned())
}

/// A `Me` answer naming the user `email`, with an active session.
pub fn has_user(response: &Response, email: &str) -> Result<(), String> {
    let named = json_str(&response.body, "email").is_some_and(|e| e == email);
    let active = response.body.contains(r#""status":"active""#);
    if named && active {
        Ok(())
    } else {
        Err(format!("expected {email}, active: {:.300}", response.body))
    }
}

/// A `Me` answer of nobody.
pub fn signed_out(response: &Response) -> Result<(), String> {
    if response.body.contains(r#""user":null"#) {
        Ok(())
    } else {
        Err(format!(
            "expected a signed-out answer: {:.300}",
            response.body
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_is_found_by_addressee_and_marker() {
        let log = "2026 INFO x: email (no SMTP configured):\n    | Your verification code is 123456\n    | bye to=a@fleet.test subject=123456 is\n2026 INFO other\n2026 INFO x: email (no SMTP configured):\n    | Your verification code is 654321\n    | bye to=b@fleet.test subject=654321 is\n";
        let found = find_email(log, " to=b@fleet.test ", "code is ").unwrap();
        assert!(found.starts_with("654321"), "{found}");
        assert!(find_email(log, " to=c@fleet.test ", "code is ").is_none());
    }

    #[test]
    fn json_strings_are_read_by_name() {
        let body = r#"{"signUpId":"sgu_1","status":"needs_verification"}"#;
        assert_eq!(json_str(body, "signUpId").as_deref(), Some("sgu_1"));
        assert_eq!(json_str(body, "missing"), None);
    }
}
