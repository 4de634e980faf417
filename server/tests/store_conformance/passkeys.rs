//! [`PasskeyStore`](torii_server::store::PasskeyStore): passkeys and their counters.

use super::*;

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

conformance!(passkeys_are_unique_owned_and_move_their_counter_forward_only,);
