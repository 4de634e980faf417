//! [`SessionStore`](torii_server::store::SessionStore): the per-request lookup and revocation.

use super::*;

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

conformance!(
    sessions_are_found_by_token_hash_with_their_user,
    sessions_are_found_in_batches_of_every_size,
    touching_a_session_is_throttled,
    a_users_sessions_are_listed_and_revoked_only_by_their_owner,
);
