//! [`GateStore`](torii_server::store::GateStore): gates on users and sessions.

use super::*;

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

conformance!(gates_are_kept_per_user_and_session_and_cascade,);
