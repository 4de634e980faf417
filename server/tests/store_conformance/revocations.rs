//! [`RevocationStore`](torii_server::store::RevocationStore): the log every revoking write
//! appends to, in order and without gaps, and the observers and listeners told of it.

use super::*;
use std::sync::Mutex;
use torii_server::store::{GateTarget, RevocationObserver, RevocationScope};

#[derive(Default)]
struct Seen(Mutex<Vec<RevocationScope>>);

impl RevocationObserver for Seen {
    fn revoked(&self, scopes: &[RevocationScope]) {
        self.0.lock().unwrap().extend_from_slice(scopes);
    }
}

async fn scopes_after(store: &dyn Store, after: i64) -> Vec<(i64, RevocationScope)> {
    store
        .revocations_after(after, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.id, r.scope))
        .collect()
}

async fn every_revoking_write_appends_its_entry_and_tells_the_observers(db: TestDb) {
    let store = db.store.as_ref();
    let (user, session) = create_user(store, "env_a", "log@example.com").await;
    let (second, _) = session_for(&user, now());
    store.insert_session(&second).await.unwrap();
    let seen = Arc::new(Seen::default());
    let observer: Arc<dyn RevocationObserver> = Arc::<Seen>::clone(&seen);
    store.observe_revocations(Arc::downgrade(&observer));
    let start = store.last_revocation_id().await.unwrap();
    let at = now();
    let u = || RevocationScope::User(user.id.clone());
    let s = |id: &str| RevocationScope::Session(id.to_owned());

    store
        .set_user_name(&user.id, Some("Ada"), at)
        .await
        .unwrap();
    store.set_email_verified(&user.id, at).await.unwrap();
    store
        .set_user_email(&user.id, "new@example.com", "new@example.com", at)
        .await
        .unwrap();
    store.set_legal_version(&user.id, "v2", at).await.unwrap();
    store
        .set_password(&user.id, "$argon2id$x", at)
        .await
        .unwrap();
    store
        .require_gate(GateTarget::User(&user.id), "mfa_enrollment", at)
        .await
        .unwrap();
    store
        .require_gate(GateTarget::Session(&session.id), "custom", at)
        .await
        .unwrap();
    assert!(
        store
            .clear_gate(GateTarget::Session(&session.id), "custom")
            .await
            .unwrap()
    );
    assert!(
        store
            .set_session_authenticated(&session.id, at + Duration::seconds(1))
            .await
            .unwrap()
    );
    assert!(
        store
            .reauthenticate_session(&session.id, at + Duration::seconds(2), &"f".repeat(64))
            .await
            .unwrap()
    );
    assert!(store.delete_session(&second.id).await.unwrap());
    let expected = vec![
        u(),
        u(),
        u(),
        u(),
        u(),
        u(),
        s(&session.id),
        s(&session.id),
        s(&session.id),
        s(&session.id),
        s(&second.id),
    ];
    // Writes that change nothing append nothing.
    assert!(!store.delete_session(&second.id).await.unwrap());
    assert!(
        !store
            .clear_gate(GateTarget::Session(&session.id), "custom")
            .await
            .unwrap()
    );
    store
        .require_gate(GateTarget::User(&user.id), "mfa_enrollment", at)
        .await
        .unwrap();

    let log = scopes_after(store, start).await;
    let ids: Vec<i64> = log.iter().map(|(id, _)| *id).collect();
    let scopes: Vec<RevocationScope> = log.into_iter().map(|(_, scope)| scope).collect();
    assert_eq!(scopes, expected);
    assert_eq!(
        ids,
        (start + 1..=start + i64::try_from(expected.len()).unwrap()).collect::<Vec<_>>(),
        "ids are gap-free"
    );
    assert_eq!(*seen.0.lock().unwrap(), expected);
    assert_eq!(
        store.last_revocation_id().await.unwrap(),
        *ids.last().unwrap()
    );

    // The ways every session of a user ends.
    let mark = store.last_revocation_id().await.unwrap();
    let (third, _) = session_for(&user, now());
    store.insert_session(&third).await.unwrap();
    assert_eq!(
        store
            .delete_other_sessions(&user.id, &session.id)
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.delete_user_sessions(&user.id).await.unwrap(), 1);
    assert!(store.delete_user(&user.id).await.unwrap());
    assert_eq!(
        scopes_after(store, mark).await,
        vec![(mark + 1, u()), (mark + 2, u()), (mark + 3, u())]
    );
}

async fn proving_an_address_appends_an_entry(db: TestDb) {
    let store = db.store.as_ref();
    let at = now();
    let user = UserRecord {
        email_verified: false,
        ..user_for(&sign_up("env_a", "unproven@example.com", at), at)
    };
    store.insert_user(&user, None).await.unwrap();
    let start = store.last_revocation_id().await.unwrap();
    assert!(store.prove_email(&user.id, at).await.unwrap().is_some());
    // Proven already: nothing changes, nothing is appended.
    assert!(store.prove_email(&user.id, at).await.unwrap().is_none());
    assert_eq!(
        scopes_after(store, start).await,
        vec![(start + 1, RevocationScope::User(user.id.clone()))]
    );
}

async fn concurrent_appends_from_two_nodes_get_gap_free_ids(db: TestDb) {
    let other = db.second_store().await;
    let (user, _) = create_user(db.store.as_ref(), "env_a", "many@example.com").await;
    let start = db.store.last_revocation_id().await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..16 {
        let store = if i % 2 == 0 {
            Arc::clone(&db.store)
        } else {
            Arc::clone(&other)
        };
        let id = user.id.clone();
        tasks.push(tokio::spawn(async move {
            store
                .set_user_name(&id, Some(&format!("name {i}")), now())
                .await
                .unwrap();
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let ids: Vec<i64> = scopes_after(other.as_ref(), start)
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(ids, (start + 1..=start + 16).collect::<Vec<_>>());
    // Read in pages.
    let page = db.store.revocations_after(start, 5).await.unwrap();
    assert_eq!(page.len(), 5);
    assert_eq!(page[0].id, start + 1);
}

async fn old_entries_are_pruned_and_ids_go_on(db: TestDb) {
    let store = db.store.as_ref();
    let (user, _) = create_user(store, "env_a", "pruned@example.com").await;
    let start = store.last_revocation_id().await.unwrap();
    store
        .set_user_name(&user.id, Some("A"), now())
        .await
        .unwrap();
    store
        .set_user_name(&user.id, Some("B"), now())
        .await
        .unwrap();
    let past = OffsetDateTime::now_utc() - Duration::hours(1);
    assert_eq!(store.prune_revocations(past).await.unwrap(), 0);
    assert_eq!(scopes_after(store, start).await.len(), 2);
    let future = OffsetDateTime::now_utc() + Duration::minutes(1);
    assert!(store.prune_revocations(future).await.unwrap() >= 2);
    assert!(scopes_after(store, start).await.is_empty());
    // The ids continue after a prune, so a reader sees the gap.
    store
        .set_user_name(&user.id, Some("C"), now())
        .await
        .unwrap();
    let after = scopes_after(store, start).await;
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].0, start + 3);
}

async fn only_postgres_pushes_commits_to_a_listener(db: TestDb) {
    let listener = db
        .store
        .revocation_listener("torii-conformance")
        .await
        .unwrap();
    if db.backend != Backend::Postgres {
        assert!(listener.is_none(), "polled, not pushed");
        return;
    }
    let mut listener = listener.expect("a PostgreSQL listener");
    let (user, _) = create_user(db.store.as_ref(), "env_a", "pushed@example.com").await;
    let other = db.second_store().await;
    other
        .set_user_name(&user.id, Some("Ada"), now())
        .await
        .unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(10), listener.wait())
        .await
        .expect("the commit was pushed")
        .unwrap();
}

conformance!(
    every_revoking_write_appends_its_entry_and_tells_the_observers,
    proving_an_address_appends_an_entry,
    concurrent_appends_from_two_nodes_get_gap_free_ids,
    old_entries_are_pruned_and_ids_go_on,
    only_postgres_pushes_commits_to_a_listener,
);
