//! The fleet's workload: a few worker threads running sign-ups (verified with the emailed code),
//! password sign-ins, `/me`, sign-outs, sign-in links and sign-ins through the OpenID provider
//! (`oauth.rs`) through the balancer, recording every request and what the workload believes
//! the store now holds.
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

mod answers;
mod oauth;

use answers::{classify, find_email};
pub use answers::{cookie, has_user, json_str, session_token, signed_out};
pub use oauth::IdpLink;

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
    OAuthStart,
    /// A step at the OpenID provider itself, not through the balancer: never a fault's.
    Provider,
    OAuthCallback,
}

impl Kind {
    pub const ALL: [Self; 10] = [
        Self::SignUp,
        Self::VerifySignUp,
        Self::SignIn,
        Self::Me,
        Self::SignOut,
        Self::MagicLink,
        Self::VerifyLink,
        Self::OAuthStart,
        Self::Provider,
        Self::OAuthCallback,
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
            Self::OAuthStart => "GET /v1/oauth/oidc/start",
            Self::Provider => "OpenID provider (login, consent)",
            Self::OAuthCallback => "GET /v1/oauth/oidc/callback",
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
    /// Addresses signed up through the OpenID provider (the callback answered a session).
    pub provider_sign_ups: Vec<String>,
    /// Addresses whose provider sign-in failed at the callback: an account or none.
    pub uncertain_provider_sign_ups: Vec<String>,
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
    idp: Option<IdpLink>,
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
    pub fn new(balancer: SocketAddr, logs: Vec<PathBuf>, idp: Option<IdpLink>) -> Self {
        Self {
            balancer,
            origin: format!("http://{balancer}"),
            idp,
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

    /// Runs journeys until told to stop: sign-up, sign-in, sign-in link, sign-in, provider
    /// sign-in, …
    pub fn worker(&self, worker: usize) {
        let mut seq = 0_usize;
        while !self.stop.load(Ordering::SeqCst) {
            match seq % 5 {
                0 => self.sign_up(worker, seq),
                2 => self.magic_link(worker, seq),
                4 => self.oauth(worker, seq),
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
        let mut headers = Vec::new();
        if let Some(bearer) = &bearer {
            headers.push(("Authorization", bearer.as_str()));
        }
        self.call_with(kind, route, &headers, body, expected, check)
    }

    /// [`Self::call`] with headers of the caller's (besides the workload's `Origin`).
    fn call_with(
        &self,
        kind: Kind,
        route: &str,
        extra: &[(&str, &str)],
        body: Option<&str>,
        expected: u16,
        check: impl Fn(&Response) -> Result<(), String>,
    ) -> Option<Response> {
        let mut headers = vec![("Origin", self.origin.as_str())];
        headers.extend_from_slice(extra);
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
        self.record(kind, start, end, outcome.as_ref().err().cloned());
        outcome.ok()
    }

    /// Records one request; after a failure the worker backs off (Torii's 503s say
    /// `Retry-After`) rather than hammering a balancer with no node in rotation.
    fn record(&self, kind: Kind, start: Duration, end: Duration, failure: Option<Failure>) {
        if failure.is_some() {
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
        self.hold(token, email);
    }

    /// `/me` with a new session; the workload keeps it when it names `email`.
    fn hold(&self, token: String, email: String) {
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
        self.hold(token, email);
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
