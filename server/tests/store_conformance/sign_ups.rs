//! [`SignUpStore`](torii_server::store::SignUpStore): pending sign-ups, their codes and tries, and
//! completing one exactly once.

use super::*;

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

conformance!(
    sign_up_attempts_are_counted_and_capped,
    expired_codes_are_dead,
    resend_respects_the_cooldown_and_keeps_the_tries,
    concurrent_guesses_and_resends_never_exceed_the_ceremony_cap,
    a_sign_up_completes_once,
    concurrent_completions_have_one_winner,
    concurrent_sign_ups_of_one_email_make_one_user,
    concurrent_attempts_never_exceed_the_cap,
    old_sign_ups_are_purged,
);
