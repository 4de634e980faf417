//! [`CeremonyStore`](torii_server::store::CeremonyStore): ceremonies taken back once.

use super::*;

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

conformance!(ceremonies_are_taken_once_by_their_kind_until_they_expire,);
