//! [`CodeStore`](torii_server::store::CodeStore): codes emailed to users, and sign-in links.

use super::*;

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

conformance!(
    user_codes_have_a_cooldown_counted_tries_and_one_consumer,
    user_code_ceremonies_keep_their_tries_across_resends_until_they_end,
    magic_links_are_single_use_and_replace_older_ones,
);
