//! The store contract, written once and run against SQLite, PostgreSQL and MariaDB. Each test
//! gets its own database, so the suite runs in parallel and leaves nothing behind.

mod common;

use common::db::{Backend, TestDb};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};
use torii_server::session::{SessionToken, new_id};
use torii_server::store::{
    AttemptReservation, AttemptVerdict, CodeSend, CompleteSignUp, JwtKeyRecord, MethodRemoval,
    PasskeyRecord, SessionRecord, SignInMethodRef, SignUpRecord, Store, StoreError,
    StoredEnvironment, UserCodeRecord, UserRecord,
};

fn now() -> OffsetDateTime {
    // Millisecond precision, as stored.
    torii_server::clock::from_millis(torii_server::clock::to_millis(OffsetDateTime::now_utc()))
}

fn sign_up(env: &str, email: &str, at: OffsetDateTime) -> SignUpRecord {
    SignUpRecord {
        id: new_id("sgu"),
        environment_id: env.to_owned(),
        email: email.to_owned(),
        email_canonical: email.to_lowercase(),
        name: Some("Ada".to_owned()),
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned()),
        legal_accepted_at: Some(at),
        legal_version: Some("v1".to_owned()),
        code_hash: "c0de".repeat(16),
        code_expires_at: at + Duration::minutes(10),
        attempts: 0,
        resend_available_at: at + Duration::seconds(30),
        created_at: at,
    }
}

fn user_for(s: &SignUpRecord, at: OffsetDateTime) -> UserRecord {
    UserRecord {
        id: new_id("usr"),
        environment_id: s.environment_id.clone(),
        email: s.email.clone(),
        email_canonical: s.email_canonical.clone(),
        name: s.name.clone(),
        email_verified: true,
        legal_version: s.legal_version.clone(),
        created_at: at,
        updated_at: at,
    }
}

fn session_for(user: &UserRecord, at: OffsetDateTime) -> (SessionRecord, SessionToken) {
    let token = SessionToken::generate();
    (
        SessionRecord {
            id: new_id("ses"),
            environment_id: user.environment_id.clone(),
            user_id: user.id.clone(),
            token_hash: token.hash(),
            created_at: at,
            expires_at: at + Duration::days(30),
            last_active_at: at,
            authenticated_at: at,
            user_agent: Some("test-agent".to_owned()),
            ip: Some("127.0.0.1".to_owned()),
        },
        token,
    )
}

/// Creates a user (with a session) through the sign-up path.
async fn create_user(store: &dyn Store, env: &str, email: &str) -> (UserRecord, SessionRecord) {
    let at = now();
    let s = sign_up(env, email, at);
    store.insert_sign_up(&s).await.unwrap();
    let user = user_for(&s, at);
    let (session, _) = session_for(&user, at);
    let done = store
        .complete_sign_up(&s.id, &user, s.password_hash.as_deref(), &session)
        .await
        .unwrap();
    assert_eq!(done, CompleteSignUp::Created(user.clone()));
    (user, session)
}

async fn migrations_are_idempotent(db: TestDb) {
    db.store.migrate().await.unwrap();
    db.store.migrate().await.unwrap();
    db.store.ping().await.unwrap();
}

async fn environments_round_trip(db: TestDb) {
    let env = StoredEnvironment {
        id: new_id("env"),
        name: "Stored".into(),
        mode: "test".into(),
        publishable_key: format!("pk_test_{}", new_id("k")),
        secret_key_hash: "ab".repeat(32),
        created_at: now(),
    };
    db.store.insert_environment(&env).await.unwrap();
    assert_eq!(
        db.store.list_environments().await.unwrap(),
        vec![env.clone()]
    );
    let mut same_key = env.clone();
    same_key.id = new_id("env");
    assert!(matches!(
        db.store.insert_environment(&same_key).await,
        Err(StoreError::Conflict(_))
    ));
}

async fn users_are_found_by_canonical_email_and_id(db: TestDb) {
    let (user, _) = create_user(db.store.as_ref(), "env_a", "Ada@Example.com").await;
    let found = db
        .store
        .find_user_by_email("env_a", "ada@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, user);
    assert_eq!(found.email, "Ada@Example.com");
    assert!(found.email_verified);
    assert_eq!(
        db.store.get_user(&user.id).await.unwrap(),
        Some(user.clone())
    );
    assert!(
        db.store
            .find_user_by_email("env_b", "ada@example.com")
            .await
            .unwrap()
            .is_none()
    );
    assert!(db.store.get_user("usr_missing").await.unwrap().is_none());
    let hash = db.store.password_hash(&user.id).await.unwrap().unwrap();
    assert!(hash.starts_with("$argon2id$"));
}

async fn email_uniqueness_ignores_case_within_an_environment(db: TestDb) {
    create_user(db.store.as_ref(), "env_a", "Grace@Example.com").await;
    let at = now();
    let again = sign_up("env_a", "GRACE@example.COM", at);
    db.store.insert_sign_up(&again).await.unwrap();
    let user = user_for(&again, at);
    let (session, _) = session_for(&user, at);
    assert_eq!(
        db.store
            .complete_sign_up(&again.id, &user, None, &session)
            .await
            .unwrap(),
        CompleteSignUp::EmailTaken
    );
    assert!(
        db.store
            .session_by_token_hash(&session.token_hash)
            .await
            .unwrap()
            .is_none()
    );
    // Another environment may have the same address.
    create_user(db.store.as_ref(), "env_b", "grace@example.com").await;
}

async fn sign_up_attempts_are_counted_and_capped(db: TestDb) {
    let at = now();
    let s = sign_up("env_a", "tries@example.com", at);
    db.store.insert_sign_up(&s).await.unwrap();
    for used in 1..=5 {
        assert_eq!(
            db.store
                .reserve_sign_up_attempt(&s.id, 5, at)
                .await
                .unwrap(),
            AttemptReservation::Reserved(used)
        );
    }
    assert_eq!(
        db.store
            .reserve_sign_up_attempt(&s.id, 5, at)
            .await
            .unwrap(),
        AttemptReservation::Exhausted
    );
    assert_eq!(
        db.store
            .reserve_sign_up_attempt("sgu_missing", 5, at)
            .await
            .unwrap(),
        AttemptReservation::NotFound
    );
}

async fn expired_codes_are_dead(db: TestDb) {
    let at = now();
    let s = sign_up("env_a", "late@example.com", at);
    db.store.insert_sign_up(&s).await.unwrap();
    assert_eq!(
        db.store
            .reserve_sign_up_attempt(&s.id, 5, at + Duration::minutes(10))
            .await
            .unwrap(),
        AttemptReservation::Expired
    );
}

async fn resend_respects_the_cooldown_and_keeps_the_tries(db: TestDb) {
    let at = now();
    let s = sign_up("env_a", "resend@example.com", at);
    db.store.insert_sign_up(&s).await.unwrap();
    db.store
        .reserve_sign_up_attempt(&s.id, 5, at)
        .await
        .unwrap();
    let later = at + Duration::minutes(1);
    assert_eq!(
        db.store
            .replace_sign_up_code(&s.id, "new", later, later, 5, at)
            .await
            .unwrap(),
        CodeSend::Cooldown(s.resend_available_at)
    );
    assert_eq!(
        db.store
            .replace_sign_up_code(&s.id, "new", later + Duration::minutes(10), later, 5, later)
            .await
            .unwrap(),
        CodeSend::Sent
    );
    let stored = db.store.get_sign_up("env_a", &s.id).await.unwrap().unwrap();
    assert_eq!(stored.code_hash, "new");
    assert_eq!(stored.attempts, 1, "a resend keeps the tries used");
    assert!(
        db.store
            .get_sign_up("env_other", &s.id)
            .await
            .unwrap()
            .is_none()
    );
    // Used up: no resend revives the sign-up, and its new code takes no tries.
    for _ in 0..4 {
        db.store
            .reserve_sign_up_attempt(&s.id, 5, later)
            .await
            .unwrap();
    }
    let much_later = later + Duration::minutes(5);
    assert_eq!(
        db.store
            .replace_sign_up_code(
                &s.id,
                "newer",
                much_later + Duration::minutes(10),
                much_later,
                5,
                much_later
            )
            .await
            .unwrap(),
        CodeSend::Exhausted
    );
    assert_eq!(
        db.store
            .reserve_sign_up_attempt(&s.id, 5, much_later)
            .await
            .unwrap(),
        AttemptReservation::Exhausted
    );
    assert_eq!(
        db.store
            .replace_sign_up_code("sgu_missing", "x", much_later, much_later, 5, much_later)
            .await
            .unwrap(),
        CodeSend::NotFound
    );
}

async fn concurrent_guesses_and_resends_never_exceed_the_ceremony_cap(db: TestDb) {
    let at = now();
    let s = sign_up("env_a", "race@example.com", at);
    let s = SignUpRecord {
        resend_available_at: at,
        ..s
    };
    db.store.insert_sign_up(&s).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..30 {
        let store = Arc::clone(&db.store);
        let id = s.id.clone();
        tasks.push(tokio::spawn(async move {
            if i % 3 == 0 {
                // Resends racing the guesses (each with its cooldown already over).
                store
                    .replace_sign_up_code(
                        &id,
                        &format!("{i:064}"),
                        at + Duration::minutes(10),
                        at,
                        10,
                        at,
                    )
                    .await
                    .unwrap();
                None
            } else {
                Some(store.reserve_sign_up_attempt(&id, 10, at).await.unwrap())
            }
        }));
    }
    let mut reserved = 0;
    for task in tasks {
        if let Some(AttemptReservation::Reserved(_)) = task.await.unwrap() {
            reserved += 1;
        }
    }
    assert_eq!(reserved, 10);
    let stored = db.store.get_sign_up("env_a", &s.id).await.unwrap().unwrap();
    assert_eq!(stored.attempts, 10);
}

async fn a_sign_up_completes_once(db: TestDb) {
    let at = now();
    let s = sign_up("env_a", "once@example.com", at);
    db.store.insert_sign_up(&s).await.unwrap();
    let user = user_for(&s, at);
    let (session, _) = session_for(&user, at);
    assert!(matches!(
        db.store
            .complete_sign_up(&s.id, &user, None, &session)
            .await
            .unwrap(),
        CompleteSignUp::Created(_)
    ));
    let user2 = user_for(&s, at);
    let (session2, _) = session_for(&user2, at);
    assert_eq!(
        db.store
            .complete_sign_up(&s.id, &user2, None, &session2)
            .await
            .unwrap(),
        CompleteSignUp::AlreadyConsumed
    );
    assert!(
        db.store
            .get_sign_up("env_a", &s.id)
            .await
            .unwrap()
            .is_none()
    );
}

async fn concurrent_completions_have_one_winner(db: TestDb) {
    let at = now();
    let s = sign_up("env_a", "race@example.com", at);
    db.store.insert_sign_up(&s).await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let store = Arc::clone(&db.store);
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let user = user_for(&s, at);
            let (session, _) = session_for(&user, at);
            store.complete_sign_up(&s.id, &user, None, &session).await
        }));
    }
    let mut created = 0;
    for task in tasks {
        match task.await.unwrap().unwrap() {
            CompleteSignUp::Created(_) => created += 1,
            CompleteSignUp::AlreadyConsumed => {}
            CompleteSignUp::EmailTaken => panic!("one sign-up cannot conflict with itself"),
        }
    }
    assert_eq!(created, 1);
}

async fn concurrent_sign_ups_of_one_email_make_one_user(db: TestDb) {
    let at = now();
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let store = Arc::clone(&db.store);
        tasks.push(tokio::spawn(async move {
            let s = sign_up("env_a", "twin@example.com", at);
            store.insert_sign_up(&s).await.unwrap();
            let user = user_for(&s, at);
            let (session, _) = session_for(&user, at);
            store.complete_sign_up(&s.id, &user, None, &session).await
        }));
    }
    let mut created = 0;
    for task in tasks {
        match task.await.unwrap().unwrap() {
            CompleteSignUp::Created(_) => created += 1,
            CompleteSignUp::EmailTaken => {}
            CompleteSignUp::AlreadyConsumed => panic!("each sign-up is distinct"),
        }
    }
    assert_eq!(created, 1);
}

async fn concurrent_attempts_never_exceed_the_cap(db: TestDb) {
    let at = now();
    let s = sign_up("env_a", "guess@example.com", at);
    db.store.insert_sign_up(&s).await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let store = Arc::clone(&db.store);
        let id = s.id.clone();
        tasks.push(tokio::spawn(async move {
            store.reserve_sign_up_attempt(&id, 5, at).await
        }));
    }
    let mut reserved = 0;
    for task in tasks {
        if let AttemptReservation::Reserved(_) = task.await.unwrap().unwrap() {
            reserved += 1;
        }
    }
    assert_eq!(reserved, 5);
}

async fn sessions_are_found_by_token_hash_with_their_user(db: TestDb) {
    let (user, session) = create_user(db.store.as_ref(), "env_a", "sess@example.com").await;
    let (found, found_user) = db
        .store
        .session_by_token_hash(&session.token_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, session);
    assert_eq!(found_user, user);
    let (extra, _) = session_for(&user, now());
    db.store.insert_session(&extra).await.unwrap();
    assert!(matches!(
        db.store.insert_session(&extra).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(db.store.delete_session(&extra.id).await.unwrap());
    assert!(!db.store.delete_session(&extra.id).await.unwrap());
    assert!(
        db.store
            .session_by_token_hash(&extra.token_hash)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        db.store
            .session_by_token_hash("0".repeat(64).as_str())
            .await
            .unwrap()
            .is_none()
    );
}

/// The batched lookup behind every request: each padded size (1, 2, 4 … 64) and a list longer
/// than one query, with unknown hashes among the known ones, and gates flagged per session.
async fn sessions_are_found_in_batches_of_every_size(db: TestDb) {
    let store = db.store.as_ref();
    let mut known = Vec::new();
    for i in 0..70 {
        let (user, session) = create_user(store, "env_a", &format!("batch{i}@example.com")).await;
        known.push((user, session));
    }
    store
        .require_gate(
            torii_server::store::GateTarget::Session(&known[3].1.id),
            "mfa_enrollment",
            now(),
        )
        .await
        .unwrap();
    for size in [0, 1, 2, 3, 5, 16, 33, 64, 65, 70] {
        let mut hashes: Vec<String> = known[..size]
            .iter()
            .map(|(_, session)| session.token_hash.clone())
            .collect();
        hashes.push(format!("{size:064}"));
        let found = store.sessions_for_requests(&hashes).await.unwrap();
        assert_eq!(found.len(), size, "batch of {}", hashes.len());
        for (user, session) in &known[..size] {
            let (s, u, gated) = found
                .iter()
                .find(|(s, _, _)| s.token_hash == session.token_hash)
                .unwrap_or_else(|| panic!("{} missing from a batch of {size}", session.id));
            assert_eq!(s, session);
            assert_eq!(u, user);
            assert_eq!(*gated, session.id == known[3].1.id);
        }
    }
    assert!(store.sessions_for_requests(&[]).await.unwrap().is_empty());
}

async fn touching_a_session_is_throttled(db: TestDb) {
    let (_, session) = create_user(db.store.as_ref(), "env_a", "touch@example.com").await;
    let soon = session.last_active_at + Duration::seconds(30);
    db.store
        .touch_session(&session.id, soon, soon - Duration::minutes(1))
        .await
        .unwrap();
    let (unchanged, _) = db
        .store
        .session_by_token_hash(&session.token_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(unchanged.last_active_at, session.last_active_at);
    let later = session.last_active_at + Duration::minutes(2);
    db.store
        .touch_session(&session.id, later, later - Duration::minutes(1))
        .await
        .unwrap();
    let (touched, _) = db
        .store
        .session_by_token_hash(&session.token_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(touched.last_active_at, later);
}

async fn deleting_a_user_cascades(db: TestDb) {
    let (user, session) = create_user(db.store.as_ref(), "env_a", "gone@example.com").await;
    assert!(db.store.delete_user(&user.id).await.unwrap());
    assert!(db.store.get_user(&user.id).await.unwrap().is_none());
    assert!(db.store.password_hash(&user.id).await.unwrap().is_none());
    assert!(
        db.store
            .session_by_token_hash(&session.token_hash)
            .await
            .unwrap()
            .is_none()
    );
    assert!(!db.store.delete_user(&user.id).await.unwrap());
    // The address is free again.
    create_user(db.store.as_ref(), "env_a", "gone@example.com").await;
}

async fn old_sign_ups_are_purged(db: TestDb) {
    let at = now();
    let old = sign_up("env_a", "old@example.com", at - Duration::days(2));
    let fresh = sign_up("env_a", "fresh@example.com", at);
    db.store.insert_sign_up(&old).await.unwrap();
    db.store.insert_sign_up(&fresh).await.unwrap();
    assert_eq!(
        db.store
            .purge_sign_ups(at - Duration::days(1))
            .await
            .unwrap(),
        1
    );
    assert!(
        db.store
            .get_sign_up("env_a", &old.id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        db.store
            .get_sign_up("env_a", &fresh.id)
            .await
            .unwrap()
            .is_some()
    );
}

async fn a_second_node_sees_the_first_nodes_writes(db: TestDb) {
    let other = db.second_store().await;
    let (user, session) = create_user(db.store.as_ref(), "env_a", "nodes@example.com").await;
    let (found, _) = other
        .session_by_token_hash(&session.token_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.user_id, user.id);
    assert!(other.delete_session(&session.id).await.unwrap());
    assert!(
        db.store
            .session_by_token_hash(&session.token_hash)
            .await
            .unwrap()
            .is_none()
    );
}

async fn gates_are_kept_per_user_and_session_and_cascade(db: TestDb) {
    use torii_server::store::GateTarget;
    let (user, session) = create_user(db.store.as_ref(), "env_a", "gates@example.com").await;
    let at = now();
    // The request lookup says, in the same query, whether any gate is stored.
    let flag = |store: Arc<dyn Store>, hash: String| async move {
        let (found, owner, has_gates) = store
            .session_for_request(&hash)
            .await
            .unwrap()
            .expect("the session");
        assert_eq!(owner.email, "gates@example.com");
        (found, has_gates)
    };
    let hash = session.token_hash.clone();
    assert_eq!(
        flag(Arc::clone(&db.store), hash.clone()).await,
        (session.clone(), false)
    );
    db.store
        .require_gate(GateTarget::Session(&session.id), "mfa_enrollment", at)
        .await
        .unwrap();
    assert!(
        flag(Arc::clone(&db.store), hash.clone()).await.1,
        "session gate"
    );
    db.store
        .clear_gate(GateTarget::Session(&session.id), "mfa_enrollment")
        .await
        .unwrap();
    db.store
        .require_gate(GateTarget::User(&user.id), "legal_acceptance", at)
        .await
        .unwrap();
    assert!(
        flag(Arc::clone(&db.store), hash.clone()).await.1,
        "user gate"
    );
    db.store
        .clear_gate(GateTarget::User(&user.id), "legal_acceptance")
        .await
        .unwrap();
    assert!(!flag(Arc::clone(&db.store), hash).await.1, "cleared");
    assert!(
        db.store
            .session_for_request(&"f".repeat(64))
            .await
            .unwrap()
            .is_none()
    );
    db.store
        .require_gate(GateTarget::User(&user.id), "legal_acceptance", at)
        .await
        .unwrap();
    db.store
        .require_gate(GateTarget::User(&user.id), "legal_acceptance", at)
        .await
        .unwrap();
    db.store
        .require_gate(GateTarget::Session(&session.id), "mfa_enrollment", at)
        .await
        .unwrap();
    let mut keys: Vec<String> = db
        .store
        .gates(&user.id, &session.id)
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.key)
        .collect();
    keys.sort();
    assert_eq!(keys, ["legal_acceptance", "mfa_enrollment"]);
    assert_eq!(
        db.store.gates(&user.id, "ses_other").await.unwrap().len(),
        1
    );
    assert!(
        db.store
            .clear_gate(GateTarget::User(&user.id), "legal_acceptance")
            .await
            .unwrap()
    );
    assert!(
        !db.store
            .clear_gate(GateTarget::User(&user.id), "legal_acceptance")
            .await
            .unwrap()
    );
    assert_eq!(
        db.store.get_session(&session.id).await.unwrap(),
        Some(session.clone())
    );
    assert!(db.store.delete_session(&session.id).await.unwrap());
    assert!(
        db.store
            .gates(&user.id, &session.id)
            .await
            .unwrap()
            .is_empty()
    );
    db.store
        .require_gate(GateTarget::User(&user.id), "mfa_enrollment", at)
        .await
        .unwrap();
    assert!(db.store.delete_user(&user.id).await.unwrap());
    assert!(
        db.store
            .gates(&user.id, &session.id)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn users_can_be_created_directly_and_updated(db: TestDb) {
    let at = now();
    let user = UserRecord {
        id: new_id("usr"),
        environment_id: "env_a".into(),
        email: "direct@example.com".into(),
        email_canonical: "direct@example.com".into(),
        name: None,
        email_verified: false,
        legal_version: None,
        created_at: at,
        updated_at: at,
    };
    db.store
        .insert_user(&user, Some("$argon2id$hash"))
        .await
        .unwrap();
    assert!(matches!(
        db.store
            .insert_user(
                &UserRecord {
                    id: new_id("usr"),
                    ..user.clone()
                },
                None
            )
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        db.store.password_hash(&user.id).await.unwrap().as_deref(),
        Some("$argon2id$hash")
    );
    let later = at + Duration::minutes(1);
    db.store
        .set_legal_version(&user.id, "2026-06", later)
        .await
        .unwrap();
    db.store.set_email_verified(&user.id, later).await.unwrap();
    let updated = db.store.get_user(&user.id).await.unwrap().unwrap();
    assert_eq!(updated.legal_version.as_deref(), Some("2026-06"));
    assert!(updated.email_verified);
    assert_eq!(updated.updated_at, later);
}

async fn user_codes_have_a_cooldown_counted_tries_and_one_consumer(db: TestDb) {
    let (user, _) = create_user(db.store.as_ref(), "env_a", "codes@example.com").await;
    let at = now();
    let code = |id: &str, at: OffsetDateTime| UserCodeRecord {
        id: id.to_owned(),
        user_id: user.id.clone(),
        purpose: "email_verification".into(),
        target: None,
        code_hash: "h".repeat(64),
        expires_at: at + Duration::minutes(10),
        attempts: 0,
        resend_available_at: at + Duration::seconds(30),
        created_at: at,
        ceremony_expires_at: at + Duration::hours(1),
    };
    assert_eq!(
        db.store
            .put_user_code(&code("cod_1", at), 5, at)
            .await
            .unwrap(),
        CodeSend::Sent
    );
    assert_eq!(
        db.store
            .put_user_code(&code("cod_2", at), 5, at)
            .await
            .unwrap(),
        CodeSend::Cooldown(at + Duration::seconds(30)),
        "cooldown"
    );
    let later = at + Duration::seconds(31);
    assert_eq!(
        db.store
            .put_user_code(&code("cod_3", later), 5, later)
            .await
            .unwrap(),
        CodeSend::Sent
    );
    let live = db
        .store
        .get_user_code(&user.id, "email_verification")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(live.id, "cod_3");
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let store = Arc::clone(&db.store);
        tasks.push(tokio::spawn(async move {
            store.reserve_user_code_attempt("cod_3", 5, later).await
        }));
    }
    let mut reserved = 0;
    for task in tasks {
        if let AttemptReservation::Reserved(_) = task.await.unwrap().unwrap() {
            reserved += 1;
        }
    }
    assert_eq!(reserved, 5);
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let store = Arc::clone(&db.store);
        tasks.push(tokio::spawn(async move {
            store.consume_user_code("cod_3").await
        }));
    }
    let mut consumed = 0;
    for task in tasks {
        if task.await.unwrap().unwrap() {
            consumed += 1;
        }
    }
    assert_eq!(consumed, 1);
    assert!(
        db.store
            .get_user_code(&user.id, "email_verification")
            .await
            .unwrap()
            .is_none()
    );
}

async fn user_code_ceremonies_keep_their_tries_across_resends_until_they_end(db: TestDb) {
    let (user, _) = create_user(db.store.as_ref(), "env_a", "ceremony@example.com").await;
    let at = now();
    let code = |id: &str, at: OffsetDateTime| UserCodeRecord {
        id: id.to_owned(),
        user_id: user.id.clone(),
        purpose: "password_reset".into(),
        target: None,
        code_hash: format!("{id:0>64}"),
        expires_at: at + Duration::minutes(10),
        attempts: 0,
        resend_available_at: at + Duration::seconds(30),
        created_at: at,
        ceremony_expires_at: at + Duration::hours(1),
    };
    let put = |id: &'static str, at: OffsetDateTime| {
        let store = Arc::clone(&db.store);
        let record = code(id, at);
        async move { store.put_user_code(&record, 3, at).await.unwrap() }
    };
    assert_eq!(put("cod_a", at).await, CodeSend::Sent);
    assert!(matches!(
        db.store
            .reserve_user_code_attempt("cod_a", 3, at)
            .await
            .unwrap(),
        AttemptReservation::Reserved(1)
    ));
    let t1 = at + Duration::minutes(1);
    assert_eq!(put("cod_b", t1).await, CodeSend::Sent);
    let live = db
        .store
        .get_user_code(&user.id, "password_reset")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(live.id, "cod_b");
    assert_eq!(live.code_hash, format!("{:0>64}", "cod_b"));
    assert_eq!(live.attempts, 1, "a resend keeps the tries used");
    assert_eq!(live.ceremony_expires_at, at + Duration::hours(1));
    assert_eq!(
        db.store
            .reserve_user_code_attempt("cod_a", 3, t1)
            .await
            .unwrap(),
        AttemptReservation::NotFound,
        "the replaced code takes no tries"
    );
    for _ in 0..2 {
        db.store
            .reserve_user_code_attempt("cod_b", 3, t1)
            .await
            .unwrap();
    }
    assert_eq!(
        db.store
            .reserve_user_code_attempt("cod_b", 3, t1)
            .await
            .unwrap(),
        AttemptReservation::Exhausted
    );
    let t2 = at + Duration::minutes(2);
    assert_eq!(
        put("cod_c", t2).await,
        CodeSend::Exhausted,
        "dead until it ends"
    );
    assert_eq!(
        db.store
            .reserve_user_code_attempt("cod_b", 3, t2 + Duration::minutes(20))
            .await
            .unwrap(),
        AttemptReservation::Exhausted
    );
    // Once the ceremony has ended, a new one starts from zero.
    let t3 = at + Duration::hours(1);
    assert_eq!(put("cod_d", t3).await, CodeSend::Sent);
    let fresh = db
        .store
        .get_user_code(&user.id, "password_reset")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((fresh.id.as_str(), fresh.attempts), ("cod_d", 0));
    assert_eq!(fresh.ceremony_expires_at, t3 + Duration::hours(1));
}

async fn jwt_keys_are_kept_per_environment_and_retired_keys_lose_their_private_half(db: TestDb) {
    let at = now();
    let key = |kid: &str, env: &str, at: OffsetDateTime| JwtKeyRecord {
        kid: kid.to_owned(),
        environment_id: env.to_owned(),
        private_key: format!("v1:sealed-{kid}"),
        public_key: format!("public-{kid}"),
        created_at: at,
        retired_at: None,
    };
    db.store
        .rotate_jwt_key(&key("key_a1", "env_a", at))
        .await
        .unwrap();
    db.store
        .rotate_jwt_key(&key("key_b1", "env_b", at))
        .await
        .unwrap();
    let later = at + Duration::minutes(1);
    db.store
        .rotate_jwt_key(&key("key_a2", "env_a", later))
        .await
        .unwrap();
    let keys = db.store.list_jwt_keys().await.unwrap();
    let find = |kid: &str| keys.iter().find(|k| k.kid == kid).unwrap().clone();
    assert_eq!(keys.len(), 3);
    let a1 = find("key_a1");
    assert_eq!(a1.environment_id, "env_a");
    assert_eq!(a1.retired_at, Some(later));
    assert_eq!(a1.private_key, "", "a retired key's private half is erased");
    assert_eq!(a1.public_key, "public-key_a1", "it still verifies");
    let b1 = find("key_b1");
    assert_eq!(
        b1.retired_at, None,
        "another environment's key is untouched"
    );
    assert_eq!(b1.private_key, "v1:sealed-key_b1");
    assert_eq!(find("key_a2").retired_at, None);
}

async fn magic_links_are_single_use_and_replace_older_ones(db: TestDb) {
    use torii_server::store::MagicLinkRecord;
    let (user, _) = create_user(db.store.as_ref(), "env_a", "links@example.com").await;
    let at = now();
    let link = |hash: &str| MagicLinkRecord {
        id: new_id("mlk"),
        environment_id: "env_a".into(),
        user_id: user.id.clone(),
        token_hash: hash.repeat(64),
        redirect_url: Some("http://localhost:3000/".into()),
        expires_at: at + Duration::minutes(10),
        created_at: at,
    };
    db.store.insert_magic_link(&link("a")).await.unwrap();
    db.store.insert_magic_link(&link("b")).await.unwrap();
    assert!(
        db.store
            .consume_magic_link(&"a".repeat(64), at)
            .await
            .unwrap()
            .is_none(),
        "replaced"
    );
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let store = Arc::clone(&db.store);
        tasks.push(tokio::spawn(async move {
            store.consume_magic_link(&"b".repeat(64), at).await
        }));
    }
    let mut won = 0;
    for task in tasks {
        if let Some(found) = task.await.unwrap().unwrap() {
            assert_eq!(
                found.redirect_url.as_deref(),
                Some("http://localhost:3000/")
            );
            won += 1;
        }
    }
    assert_eq!(won, 1);
    db.store.insert_magic_link(&link("c")).await.unwrap();
    assert!(
        db.store
            .consume_magic_link(&"c".repeat(64), at + Duration::minutes(10))
            .await
            .unwrap()
            .is_none(),
        "expired"
    );
}

async fn ceremonies_are_taken_once_by_their_kind_until_they_expire(db: TestDb) {
    use torii_server::store::CeremonyRecord;
    let at = now();
    let ceremony = |hash: &str, kind: &str| CeremonyRecord {
        id_hash: hash.repeat(64),
        kind: kind.into(),
        environment_id: "env_a".into(),
        payload: format!("{{\"state\":\"{}\"}}", "x".repeat(4000)),
        expires_at: at + Duration::minutes(5),
        created_at: at,
    };
    db.store
        .insert_ceremony(&ceremony("a", "oauth"))
        .await
        .unwrap();
    // Another kind, another environment: nothing is taken, nothing consumed.
    let take = |kind: &'static str, env: &'static str, hash: &'static str, when| {
        let store = Arc::clone(&db.store);
        async move {
            store
                .take_ceremony(kind, env, &hash.repeat(64), when)
                .await
                .unwrap()
        }
    };
    assert!(take("passkey_sign_in", "env_a", "a", at).await.is_none());
    assert!(take("oauth", "env_b", "a", at).await.is_none());
    let mut tasks = Vec::new();
    for _ in 0..20 {
        tasks.push(tokio::spawn(take("oauth", "env_a", "a", at)));
    }
    let mut won = 0;
    for task in tasks {
        if let Some(found) = task.await.unwrap() {
            assert_eq!(found, ceremony("a", "oauth"));
            won += 1;
        }
    }
    assert_eq!(won, 1, "exactly one concurrent taker");
    assert!(
        take("oauth", "env_a", "a", at).await.is_none(),
        "single use"
    );

    db.store
        .insert_ceremony(&ceremony("b", "oauth"))
        .await
        .unwrap();
    assert!(
        take("oauth", "env_a", "b", at + Duration::minutes(5))
            .await
            .is_none(),
        "expired"
    );
    assert!(
        take("oauth", "env_a", "b", at).await.is_none(),
        "an expired take consumes"
    );

    db.store
        .insert_ceremony(&ceremony("c", "oauth"))
        .await
        .unwrap();
    db.store
        .insert_ceremony(&ceremony("d", "oauth"))
        .await
        .unwrap();
    assert_eq!(
        db.store
            .purge_ceremonies(at + Duration::minutes(6))
            .await
            .unwrap(),
        2
    );
    assert!(take("oauth", "env_a", "c", at).await.is_none(), "purged");
}

async fn oauth_identities_are_keyed_by_subject_and_created_with_their_user(db: TestDb) {
    use torii_server::store::{CreateOAuthUser, OAuthIdentityRecord};
    let at = now();
    let identity = |user_id: &str, provider: &str, subject: &str| OAuthIdentityRecord {
        id: new_id("oid"),
        user_id: user_id.to_owned(),
        environment_id: "env_a".to_owned(),
        provider: provider.to_owned(),
        subject: subject.to_owned(),
        email: Some("Social@Example.com".to_owned()),
        created_at: at,
    };
    let user = UserRecord {
        id: new_id("usr"),
        environment_id: "env_a".to_owned(),
        email: "Social@Example.com".to_owned(),
        email_canonical: "social@example.com".to_owned(),
        name: None,
        email_verified: false,
        legal_version: None,
        created_at: at,
        updated_at: at,
    };
    let (session, token) = session_for(&user, at);
    let first = identity(&user.id, "google", "sub-1");
    assert_eq!(
        db.store
            .create_oauth_user(&user, &first, &session)
            .await
            .unwrap(),
        CreateOAuthUser::Created
    );
    let (found_session, found_user) = db
        .store
        .session_by_token_hash(&token.hash())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((found_session, found_user), (session.clone(), user.clone()));
    assert_eq!(
        db.store
            .find_oauth_identity("env_a", "google", "sub-1")
            .await
            .unwrap(),
        Some(first.clone())
    );
    // Same subject at another provider or in another environment is another identity.
    assert!(
        db.store
            .find_oauth_identity("env_b", "google", "sub-1")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        db.store
            .find_oauth_identity("env_a", "github", "sub-1")
            .await
            .unwrap()
            .is_none()
    );

    // A second user with the same email, or the same provider account again: nothing is
    // created, not even the user.
    let mut twin = user.clone();
    twin.id = new_id("usr");
    let (twin_session, _) = session_for(&twin, at);
    assert_eq!(
        db.store
            .create_oauth_user(&twin, &identity(&twin.id, "github", "x"), &twin_session)
            .await
            .unwrap(),
        CreateOAuthUser::EmailTaken
    );
    let mut other = twin.clone();
    other.email = "other@example.com".to_owned();
    other.email_canonical = "other@example.com".to_owned();
    assert_eq!(
        db.store
            .create_oauth_user(
                &other,
                &identity(&other.id, "google", "sub-1"),
                &twin_session
            )
            .await
            .unwrap(),
        CreateOAuthUser::IdentityTaken
    );
    assert!(db.store.get_user(&other.id).await.unwrap().is_none());

    // Linking: a second provider for the same user; the same account twice conflicts.
    let second = identity(&user.id, "github", "42");
    db.store.insert_oauth_identity(&second).await.unwrap();
    assert!(matches!(
        db.store
            .insert_oauth_identity(&identity(&user.id, "github", "42"))
            .await,
        Err(StoreError::Conflict(_))
    ));
    let listed = db.store.list_oauth_identities(&user.id).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.contains(&first) && listed.contains(&second));

    // Unlinking is by owner; deleting the user takes the rest.
    let unlink = |user_id: String, id: String| {
        let store = Arc::clone(&db.store);
        async move {
            store
                .remove_sign_in_method(&user_id, SignInMethodRef::OAuthIdentity(&id))
                .await
                .unwrap()
        }
    };
    let someone_else = "usr_someone_else".to_owned();
    assert_eq!(
        unlink(someone_else, first.id.clone()).await,
        MethodRemoval::NotFound
    );
    assert_eq!(
        unlink(user.id.clone(), first.id.clone()).await,
        MethodRemoval::Removed
    );
    assert_eq!(
        unlink(user.id.clone(), first.id.clone()).await,
        MethodRemoval::NotFound
    );
    assert_eq!(
        unlink(user.id.clone(), second.id.clone()).await,
        MethodRemoval::LastMethod,
        "the last way to sign in stays"
    );
    assert!(db.store.delete_user(&user.id).await.unwrap());
    assert!(
        db.store
            .find_oauth_identity("env_a", "github", "42")
            .await
            .unwrap()
            .is_none()
    );
}

async fn passwords_are_replaced_and_sessions_revoked_together(db: TestDb) {
    let (user, session) = create_user(db.store.as_ref(), "env_a", "pw@example.com").await;
    let (other, _) = session_for(&user, now());
    db.store.insert_session(&other).await.unwrap();
    db.store
        .set_password(&user.id, "$argon2id$new", now())
        .await
        .unwrap();
    assert_eq!(
        db.store.password_hash(&user.id).await.unwrap().as_deref(),
        Some("$argon2id$new")
    );
    assert_eq!(db.store.delete_user_sessions(&user.id).await.unwrap(), 2);
    assert!(
        db.store
            .session_by_token_hash(&session.token_hash)
            .await
            .unwrap()
            .is_none()
    );
}

async fn rate_limit_hits_are_counted_once_each_under_concurrency(db: TestDb) {
    let at = now();
    let mut tasks = Vec::new();
    for _ in 0..30 {
        let store = Arc::clone(&db.store);
        tasks.push(tokio::spawn(async move {
            store
                .hit_rate_limit("env_a:test:bucket", Duration::minutes(5), at)
                .await
        }));
    }
    let mut counts = Vec::new();
    for task in tasks {
        counts.push(task.await.unwrap().unwrap().0);
    }
    counts.sort_unstable();
    assert_eq!(
        counts,
        (1..=30).collect::<Vec<u32>>(),
        "every hit counted exactly once"
    );
    let (after_window, started) = db
        .store
        .hit_rate_limit(
            "env_a:test:bucket",
            Duration::minutes(5),
            at + Duration::minutes(5),
        )
        .await
        .unwrap();
    assert_eq!(after_window, 1, "a new window starts from one");
    assert_eq!(started, at + Duration::minutes(5));
}

async fn attempt_delays_hold_under_concurrency_and_clear_on_success(db: TestDb) {
    let at = now();
    let bucket = "env_a:password_account:bucket";
    let forget = at - Duration::hours(1);
    // Three attempts free, then ten seconds between attempts.
    fn delay(failures: u32) -> Duration {
        if failures >= 3 {
            Duration::seconds(10)
        } else {
            Duration::ZERO
        }
    }
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let store = Arc::clone(&db.store);
        tasks.push(tokio::spawn(async move {
            store.reserve_attempt(bucket, at, forget, &delay).await
        }));
    }
    let mut counted = Vec::new();
    let mut waits = 0;
    for task in tasks {
        match task.await.unwrap().unwrap() {
            AttemptVerdict::Counted(n) => counted.push(n),
            AttemptVerdict::Wait(until) => {
                assert_eq!(until, at + Duration::seconds(10));
                waits += 1;
            }
        }
    }
    counted.sort_unstable();
    assert_eq!(counted, [1, 2, 3], "none slipped past the delay");
    assert_eq!(waits, 9);
    // The delay runs out; the next attempt counts on.
    let later = at + Duration::seconds(10);
    let verdict = db
        .store
        .reserve_attempt(bucket, later, forget, &delay)
        .await;
    assert_eq!(verdict.unwrap(), AttemptVerdict::Counted(4));
    // A success clears the bucket.
    db.store.clear_attempts(bucket).await.unwrap();
    let verdict = db
        .store
        .reserve_attempt(bucket, later, forget, &delay)
        .await;
    assert_eq!(verdict.unwrap(), AttemptVerdict::Counted(1));
    // Old failures are forgotten.
    for _ in 0..2 {
        db.store
            .reserve_attempt(bucket, later, forget, &delay)
            .await
            .unwrap();
    }
    let much_later = later + Duration::hours(2);
    let verdict = db
        .store
        .reserve_attempt(bucket, much_later, much_later - Duration::hours(1), &delay)
        .await;
    assert_eq!(verdict.unwrap(), AttemptVerdict::Counted(1));
    // Stale counters are swept.
    db.store
        .hit_rate_limit("env_a:test:window", Duration::minutes(5), at)
        .await
        .unwrap();
    let purged = db
        .store
        .purge_counters(much_later, much_later + Duration::hours(2))
        .await
        .unwrap();
    assert_eq!(purged, 2);
    let verdict = db
        .store
        .reserve_attempt(bucket, much_later, forget, &delay)
        .await;
    assert_eq!(
        verdict.unwrap(),
        AttemptVerdict::Counted(1),
        "a fresh bucket"
    );
}

async fn concurrent_removals_never_take_the_last_way_to_sign_in(db: TestDb) {
    let at = now();
    let mut s = sign_up("env_a", "two-keys@example.com", at);
    s.password_hash = None;
    db.store.insert_sign_up(&s).await.unwrap();
    let user = user_for(&s, at);
    let (session, _) = session_for(&user, at);
    db.store
        .complete_sign_up(&s.id, &user, None, &session)
        .await
        .unwrap();
    let mut ids = Vec::new();
    for credential in ["cred-one", "cred-two"] {
        let id = new_id("pky");
        db.store
            .insert_passkey(&PasskeyRecord {
                id: id.clone(),
                user_id: user.id.clone(),
                environment_id: "env_a".to_owned(),
                credential_id: credential.to_owned(),
                credential: "{}".to_owned(),
                sign_count: 0,
                name: "Key".to_owned(),
                created_at: at,
                last_used_at: None,
            })
            .await
            .unwrap();
        ids.push(id);
    }
    let mut tasks = Vec::new();
    for round in 0..8 {
        let store = Arc::clone(&db.store);
        let (user_id, id) = (user.id.clone(), ids[round % 2].clone());
        tasks.push(tokio::spawn(async move {
            store
                .remove_sign_in_method(&user_id, SignInMethodRef::Passkey(&id))
                .await
                .unwrap()
        }));
    }
    let mut removed = 0;
    for task in tasks {
        let outcome = task.await.unwrap();
        removed += usize::from(outcome == MethodRemoval::Removed);
    }
    assert_eq!(removed, 1, "one of the two went, the other stays");
    assert_eq!(db.store.count_passkeys(&user.id).await.unwrap(), 1);
}

async fn proving_an_address_removes_what_was_added_while_it_was_unverified(db: TestDb) {
    use torii_server::store::{CreateOAuthUser, GateTarget, OAuthIdentityRecord};
    let at = now();
    let user = UserRecord {
        id: new_id("usr"),
        environment_id: "env_a".to_owned(),
        email: "claimed@example.com".to_owned(),
        email_canonical: "claimed@example.com".to_owned(),
        name: None,
        email_verified: false,
        legal_version: None,
        created_at: at,
        updated_at: at,
    };
    let (session, _) = session_for(&user, at);
    let identity = OAuthIdentityRecord {
        id: new_id("oid"),
        user_id: user.id.clone(),
        environment_id: "env_a".to_owned(),
        provider: "idp".to_owned(),
        subject: "squatter".to_owned(),
        email: Some("claimed@example.com".to_owned()),
        created_at: at,
    };
    assert_eq!(
        db.store
            .create_oauth_user(&user, &identity, &session)
            .await
            .unwrap(),
        CreateOAuthUser::Created
    );
    db.store
        .insert_passkey(&PasskeyRecord {
            id: new_id("pky"),
            user_id: user.id.clone(),
            environment_id: "env_a".to_owned(),
            credential_id: "cred-squatter".to_owned(),
            credential: "{}".to_owned(),
            sign_count: 0,
            name: "Squatter's key".to_owned(),
            created_at: at,
            last_used_at: None,
        })
        .await
        .unwrap();
    db.store
        .require_gate(GateTarget::User(&user.id), "email_verification", at)
        .await
        .unwrap();
    // Someone else, verified, is never touched.
    let (other, other_session) =
        create_user(db.store.as_ref(), "env_a", "bystander@example.com").await;

    // Concurrent proofs: exactly one removes, the others find the address verified.
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let store = Arc::clone(&db.store);
        let id = user.id.clone();
        tasks.push(tokio::spawn(async move {
            store.prove_email(&id, at).await.unwrap()
        }));
    }
    let mut claimed = Vec::new();
    for task in tasks {
        if let Some(done) = task.await.unwrap() {
            claimed.push(done);
        }
    }
    assert_eq!(claimed.len(), 1, "one proof removes, once");
    let claimed = &claimed[0];
    assert_eq!(claimed.identities.len(), 1);
    assert_eq!(claimed.identities[0].subject, "squatter");
    assert_eq!(claimed.passkeys.len(), 1);
    assert_eq!(claimed.passkeys[0].name, "Squatter's key");
    assert_eq!(claimed.sessions, 1);

    let now_user = db.store.get_user(&user.id).await.unwrap().unwrap();
    assert!(now_user.email_verified);
    assert!(
        db.store
            .list_oauth_identities(&user.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(db.store.count_passkeys(&user.id).await.unwrap(), 0);
    assert_eq!(db.store.get_session(&session.id).await.unwrap(), None);
    assert!(
        db.store
            .gates(&user.id, "ses_none")
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(db.store.prove_email(&other.id, at).await.unwrap(), None);
    assert!(
        db.store
            .get_session(&other_session.id)
            .await
            .unwrap()
            .is_some()
    );
}

async fn passkeys_are_unique_owned_and_move_their_counter_forward_only(db: TestDb) {
    let (ada, _) = create_user(db.store.as_ref(), "env_a", "keys@example.com").await;
    let (bob, _) = create_user(db.store.as_ref(), "env_a", "keys2@example.com").await;
    let at = now();
    let passkey = |id: &str, user: &UserRecord, credential_id: &str, count: u32| PasskeyRecord {
        id: id.to_owned(),
        user_id: user.id.clone(),
        environment_id: "env_a".to_owned(),
        credential_id: credential_id.to_owned(),
        credential: format!("{{\"counter\":{count}}}"),
        sign_count: count,
        name: "Laptop".to_owned(),
        created_at: at,
        last_used_at: None,
    };
    let first = passkey(&new_id("pky"), &ada, &"A".repeat(1364), 3);
    db.store.insert_passkey(&first).await.unwrap();
    let mut zero = passkey(&new_id("pky"), &ada, "zero-counter", 0);
    // Listed oldest first.
    zero.created_at = at + Duration::seconds(1);
    db.store.insert_passkey(&zero).await.unwrap();
    // A credential id belongs to one user, whoever asks.
    assert!(matches!(
        db.store
            .insert_passkey(&passkey(&new_id("pky"), &bob, &first.credential_id, 0))
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        db.store.list_passkeys(&ada.id).await.unwrap(),
        [first.clone(), zero.clone()]
    );
    assert_eq!(db.store.count_passkeys(&ada.id).await.unwrap(), 2);
    assert_eq!(db.store.count_passkeys(&bob.id).await.unwrap(), 0);
    assert_eq!(
        db.store
            .find_passkey_by_credential_id("env_a", &first.credential_id)
            .await
            .unwrap(),
        Some(first.clone())
    );
    assert!(
        db.store
            .find_passkey_by_credential_id("env_b", &first.credential_id)
            .await
            .unwrap()
            .is_none()
    );

    // The counter only moves forward; 0 stays acceptable for authenticators without one.
    let later = at + Duration::minutes(1);
    assert!(
        !db.store
            .record_passkey_use(&first.id, "{}", 3, later)
            .await
            .unwrap()
    );
    assert!(
        !db.store
            .record_passkey_use(&first.id, "{}", 2, later)
            .await
            .unwrap()
    );
    assert!(
        db.store
            .record_passkey_use(&first.id, "{\"counter\":4}", 4, later)
            .await
            .unwrap()
    );
    assert!(
        db.store
            .record_passkey_use(&zero.id, "{}", 0, later)
            .await
            .unwrap()
    );
    let stored = db
        .store
        .find_passkey_by_credential_id("env_a", &first.credential_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.sign_count, 4);
    assert_eq!(stored.credential, "{\"counter\":4}");
    assert_eq!(stored.last_used_at, Some(later));

    // Concurrent sign-ins with one counter value: one wins.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = Arc::clone(&db.store);
        let id = first.id.clone();
        tasks.push(tokio::spawn(async move {
            store.record_passkey_use(&id, "{}", 5, later).await.unwrap()
        }));
    }
    let mut winners = 0;
    for task in tasks {
        winners += usize::from(task.await.unwrap());
    }
    assert_eq!(winners, 1);

    // Renames and deletes only touch the owner's.
    assert!(
        !db.store
            .rename_passkey(&bob.id, &first.id, "Mine")
            .await
            .unwrap()
    );
    assert!(
        db.store
            .rename_passkey(&ada.id, &first.id, "Phone")
            .await
            .unwrap()
    );
    assert!(
        db.store
            .rename_passkey(&ada.id, &first.id, "Phone")
            .await
            .unwrap(),
        "same name"
    );
    let remove = |user_id: &str, id: &str| {
        let (store, user_id, id) = (Arc::clone(&db.store), user_id.to_owned(), id.to_owned());
        async move {
            store
                .remove_sign_in_method(&user_id, SignInMethodRef::Passkey(&id))
                .await
                .unwrap()
        }
    };
    assert_eq!(remove(&bob.id, &first.id).await, MethodRemoval::NotFound);
    assert_eq!(remove(&ada.id, &first.id).await, MethodRemoval::Removed);
    assert_eq!(remove(&ada.id, &first.id).await, MethodRemoval::NotFound);
    assert_eq!(
        db.store.list_passkeys(&ada.id).await.unwrap()[0].name,
        "Laptop"
    );
    // Deleting the user takes their passkeys along.
    assert!(db.store.delete_user(&ada.id).await.unwrap());
    assert!(
        db.store
            .find_passkey_by_credential_id("env_a", &zero.credential_id)
            .await
            .unwrap()
            .is_none()
    );
}

async fn a_users_sessions_are_listed_and_revoked_only_by_their_owner(db: TestDb) {
    let store = db.store.as_ref();
    let (user, current) = create_user(store, "env_a", "owner@example.com").await;
    let (stranger, strangers) = create_user(store, "env_a", "stranger@example.com").await;
    let at = now();
    let (mut older, _) = session_for(&user, at - Duration::hours(2));
    older.authenticated_at = at - Duration::hours(1);
    store.insert_session(&older).await.unwrap();
    let (newest, _) = session_for(&user, at + Duration::minutes(1));
    store.insert_session(&newest).await.unwrap();

    let listed = store.list_user_sessions(&user.id).await.unwrap();
    let ids: Vec<&str> = listed.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [newest.id.as_str(), current.id.as_str(), older.id.as_str()]
    );
    assert_eq!(
        listed[2], older,
        "every column round-trips, authenticated_at included"
    );

    assert!(
        !store
            .delete_user_session(&user.id, &strangers.id)
            .await
            .unwrap(),
        "another user's session is not the caller's to revoke"
    );
    assert!(store.get_session(&strangers.id).await.unwrap().is_some());
    assert!(
        store
            .delete_user_session(&user.id, &older.id)
            .await
            .unwrap()
    );
    assert!(
        !store
            .delete_user_session(&user.id, &older.id)
            .await
            .unwrap()
    );

    assert_eq!(
        store
            .delete_other_sessions(&user.id, &current.id)
            .await
            .unwrap(),
        1
    );
    let left = store.list_user_sessions(&user.id).await.unwrap();
    assert_eq!(left, vec![current.clone()]);
    assert_eq!(
        store.list_user_sessions(&stranger.id).await.unwrap().len(),
        1
    );

    let later = at + Duration::minutes(30);
    assert!(
        store
            .set_session_authenticated(&current.id, later)
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .get_session(&current.id)
            .await
            .unwrap()
            .unwrap()
            .authenticated_at,
        later
    );
    assert!(
        !store
            .set_session_authenticated("ses_missing", later)
            .await
            .unwrap()
    );
    let (by_token, _, _) = store
        .session_for_request(&current.token_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        by_token.authenticated_at, later,
        "the per-request lookup reads it too"
    );
    let (by_hash, _) = store
        .session_by_token_hash(&current.token_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_hash.authenticated_at, later);
}

async fn names_and_emails_are_changed_and_emails_stay_unique(db: TestDb) {
    let store = db.store.as_ref();
    let (user, _) = create_user(store, "env_a", "first@example.com").await;
    let (other, _) = create_user(store, "env_a", "taken@example.com").await;
    let at = now() + Duration::minutes(5);
    store
        .set_user_name(&user.id, Some("Grace"), at)
        .await
        .unwrap();
    let renamed = store.get_user(&user.id).await.unwrap().unwrap();
    assert_eq!(renamed.name.as_deref(), Some("Grace"));
    assert_eq!(renamed.updated_at, at);
    store.set_user_name(&user.id, None, at).await.unwrap();
    assert_eq!(store.get_user(&user.id).await.unwrap().unwrap().name, None);

    assert!(matches!(
        store
            .set_user_email(&user.id, "Taken@example.com", "taken@example.com", at)
            .await,
        Err(StoreError::Conflict(_))
    ));
    store
        .set_user_email(&user.id, "Second@example.com", "second@example.com", at)
        .await
        .unwrap();
    let moved = store
        .find_user_by_email("env_a", "second@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(moved.id, user.id);
    assert_eq!(moved.email, "Second@example.com");
    assert!(moved.email_verified);
    assert!(
        store
            .find_user_by_email("env_a", "first@example.com")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store.get_user(&other.id).await.unwrap().unwrap().email,
        "taken@example.com"
    );

    let code = UserCodeRecord {
        id: new_id("cod"),
        user_id: user.id.clone(),
        purpose: "email_change".into(),
        target: Some("Third@example.com".into()),
        code_hash: "h".repeat(64),
        expires_at: at + Duration::minutes(10),
        attempts: 0,
        resend_available_at: at + Duration::seconds(30),
        created_at: at,
        ceremony_expires_at: at + Duration::hours(1),
    };
    assert_eq!(
        store.put_user_code(&code, 10, at).await.unwrap(),
        CodeSend::Sent
    );
    assert_eq!(
        store
            .get_user_code(&user.id, "email_change")
            .await
            .unwrap()
            .unwrap()
            .target
            .as_deref(),
        Some("Third@example.com")
    );
}

macro_rules! conformance {
    ($backend:ident, $kind:expr) => {
        mod $backend {
            use super::*;
            conformance!(@tests $kind;
                migrations_are_idempotent,
                environments_round_trip,
                users_are_found_by_canonical_email_and_id,
                email_uniqueness_ignores_case_within_an_environment,
                sign_up_attempts_are_counted_and_capped,
                expired_codes_are_dead,
                resend_respects_the_cooldown_and_keeps_the_tries,
                concurrent_guesses_and_resends_never_exceed_the_ceremony_cap,
                user_code_ceremonies_keep_their_tries_across_resends_until_they_end,
                jwt_keys_are_kept_per_environment_and_retired_keys_lose_their_private_half,
                a_sign_up_completes_once,
                concurrent_completions_have_one_winner,
                concurrent_sign_ups_of_one_email_make_one_user,
                concurrent_attempts_never_exceed_the_cap,
                sessions_are_found_by_token_hash_with_their_user,
                sessions_are_found_in_batches_of_every_size,
                touching_a_session_is_throttled,
                deleting_a_user_cascades,
                old_sign_ups_are_purged,
                a_second_node_sees_the_first_nodes_writes,
                gates_are_kept_per_user_and_session_and_cascade,
                users_can_be_created_directly_and_updated,
                user_codes_have_a_cooldown_counted_tries_and_one_consumer,
                magic_links_are_single_use_and_replace_older_ones,
                ceremonies_are_taken_once_by_their_kind_until_they_expire,
                oauth_identities_are_keyed_by_subject_and_created_with_their_user,
                passwords_are_replaced_and_sessions_revoked_together,
                rate_limit_hits_are_counted_once_each_under_concurrency,
                attempt_delays_hold_under_concurrency_and_clear_on_success,
                concurrent_removals_never_take_the_last_way_to_sign_in,
                proving_an_address_removes_what_was_added_while_it_was_unverified,
                passkeys_are_unique_owned_and_move_their_counter_forward_only,
                a_users_sessions_are_listed_and_revoked_only_by_their_owner,
                names_and_emails_are_changed_and_emails_stay_unique,
            );
        }
    };
    (@tests $kind:expr; $($test:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $test() {
                super::$test(TestDb::new($kind).await).await;
            }
        )*
    };
}

conformance!(sqlite, Backend::Sqlite);
conformance!(postgres, Backend::Postgres);
conformance!(mysql, Backend::MySql);

#[tokio::test]
async fn an_unreachable_store_reports_unavailable_quickly() {
    use torii_server::store::{MySqlStore, PostgresStore};
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let pg =
        PostgresStore::connect_lazy(&format!("postgres://postgres@127.0.0.1:{port}/x"), 2).unwrap();
    let my = MySqlStore::connect_lazy(&format!("mysql://root@127.0.0.1:{port}/x"), 2).unwrap();
    let started = std::time::Instant::now();
    assert!(matches!(pg.ping().await, Err(StoreError::Unavailable(_))));
    assert!(matches!(my.ping().await, Err(StoreError::Unavailable(_))));
    // Bounded by the pool's acquire timeout, never a hang.
    assert!(started.elapsed() < torii_server::store::ACQUIRE_TIMEOUT * 3);
}
