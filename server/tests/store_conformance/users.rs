//! [`UserStore`](torii_server::store::UserStore): users, passwords, proving an address, removing
//! sign-in methods, deleting an account.

use super::*;

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

conformance!(
    users_are_found_by_canonical_email_and_id,
    email_uniqueness_ignores_case_within_an_environment,
    deleting_a_user_cascades,
    users_can_be_created_directly_and_updated,
    passwords_are_replaced_and_sessions_revoked_together,
    concurrent_removals_never_take_the_last_way_to_sign_in,
    proving_an_address_removes_what_was_added_while_it_was_unverified,
    names_and_emails_are_changed_and_emails_stay_unique,
);
