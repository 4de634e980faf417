//! [`SecondFactorStore`](torii_server::store::SecondFactorStore): authenticators, their used
//! time steps, backup codes, and a session's last second factor.

use super::*;
use torii_server::store::{TotpConfirmation, TotpRecord};

fn totp(user: &UserRecord, sealed: &str, at: OffsetDateTime) -> TotpRecord {
    TotpRecord {
        user_id: user.id.clone(),
        sealed_secret: sealed.to_owned(),
        created_at: at,
        confirmed_at: None,
        last_step: 0,
    }
}

fn macs(prefix: &str) -> Vec<String> {
    (0..10)
        .map(|i| format!("{prefix}{i:02}{}", "0".repeat(60)))
        .collect()
}

async fn an_authenticator_is_enrolled_confirmed_once_and_replaced_only_unconfirmed(db: TestDb) {
    let store = db.store.as_ref();
    let (ada, _) = create_user(store, "env_a", "totp@example.com").await;
    let at = now();
    assert!(store.totp(&ada.id).await.unwrap().is_none());
    // Nothing to confirm yet.
    assert_eq!(
        store
            .confirm_totp(&ada.id, 5, at, &macs("a"))
            .await
            .unwrap(),
        TotpConfirmation::NotPending
    );
    assert!(
        store
            .enroll_totp(&totp(&ada, "v1:first", at))
            .await
            .unwrap()
    );
    // An unconfirmed enrolment is replaced by a newer one.
    assert!(
        store
            .enroll_totp(&totp(&ada, "v1:second", at))
            .await
            .unwrap()
    );
    let stored = store.totp(&ada.id).await.unwrap().unwrap();
    assert_eq!(stored.sealed_secret, "v1:second");
    assert_eq!(stored.confirmed_at, None);
    assert_eq!(stored.last_step, 0);
    // Steps are accepted only once confirmed.
    assert!(!store.use_totp_step(&ada.id, 3).await.unwrap());

    let confirmed_at = at + Duration::seconds(5);
    assert_eq!(
        store
            .confirm_totp(&ada.id, 100, confirmed_at, &macs("a"))
            .await
            .unwrap(),
        TotpConfirmation::ConfirmedWithCodes
    );
    let stored = store.totp(&ada.id).await.unwrap().unwrap();
    assert_eq!(stored.confirmed_at, Some(confirmed_at));
    assert_eq!(stored.last_step, 100);
    assert_eq!(store.count_backup_codes(&ada.id).await.unwrap(), 10);
    // Confirmed once; a confirmed authenticator is not replaced.
    assert_eq!(
        store
            .confirm_totp(&ada.id, 101, at, &macs("b"))
            .await
            .unwrap(),
        TotpConfirmation::NotPending
    );
    assert!(
        !store
            .enroll_totp(&totp(&ada, "v1:third", at))
            .await
            .unwrap()
    );
    assert_eq!(
        store.totp(&ada.id).await.unwrap().unwrap().sealed_secret,
        "v1:second"
    );

    // Each step once, and only ever later ones.
    assert!(!store.use_totp_step(&ada.id, 100).await.unwrap());
    assert!(!store.use_totp_step(&ada.id, 99).await.unwrap());
    assert!(store.use_totp_step(&ada.id, 101).await.unwrap());
    assert!(!store.use_totp_step(&ada.id, 101).await.unwrap());

    // Removing it takes the backup codes along; then a new confirmation brings new codes.
    assert!(store.delete_totp(&ada.id).await.unwrap());
    assert!(!store.delete_totp(&ada.id).await.unwrap());
    assert_eq!(store.count_backup_codes(&ada.id).await.unwrap(), 0);
    assert!(
        store
            .enroll_totp(&totp(&ada, "v1:again", at))
            .await
            .unwrap()
    );
    store
        .replace_backup_codes(&ada.id, &macs("c"), at)
        .await
        .unwrap();
    // With codes left, a confirmation keeps them.
    assert_eq!(
        store
            .confirm_totp(&ada.id, 7, at, &macs("d"))
            .await
            .unwrap(),
        TotpConfirmation::Confirmed
    );
    assert!(
        store
            .use_backup_code(&ada.id, &[macs("c")[0].clone()], at)
            .await
            .unwrap()
    );

    // Deleting the user takes everything along.
    assert!(store.delete_user(&ada.id).await.unwrap());
    assert!(store.totp(&ada.id).await.unwrap().is_none());
    assert_eq!(store.count_backup_codes(&ada.id).await.unwrap(), 0);
}

async fn a_time_step_is_used_once_under_concurrency(db: TestDb) {
    let store = Arc::clone(&db.store);
    let (ada, _) = create_user(store.as_ref(), "env_a", "race@example.com").await;
    let at = now();
    assert!(store.enroll_totp(&totp(&ada, "v1:x", at)).await.unwrap());
    store.confirm_totp(&ada.id, 10, at, &[]).await.unwrap();
    let tries: Vec<_> = (0..8)
        .map(|_| {
            let store = Arc::clone(&store);
            let id = ada.id.clone();
            tokio::spawn(async move { store.use_totp_step(&id, 11).await.unwrap() })
        })
        .collect();
    let mut won = 0;
    for task in tries {
        won += usize::from(task.await.unwrap());
    }
    assert_eq!(won, 1);
}

async fn backup_codes_are_used_once_and_replaced_whole(db: TestDb) {
    let store = Arc::clone(&db.store);
    let (ada, _) = create_user(store.as_ref(), "env_a", "codes@example.com").await;
    let (bob, _) = create_user(store.as_ref(), "env_a", "codes2@example.com").await;
    let at = now();
    let first = macs("e");
    store
        .replace_backup_codes(&ada.id, &first, at)
        .await
        .unwrap();
    assert_eq!(store.count_backup_codes(&ada.id).await.unwrap(), 10);
    // Another user's code, an unknown one, or none at all use nothing.
    assert!(
        !store
            .use_backup_code(&bob.id, &[first[0].clone()], at)
            .await
            .unwrap()
    );
    assert!(
        !store
            .use_backup_code(&ada.id, &["f".repeat(64)], at)
            .await
            .unwrap()
    );
    assert!(!store.use_backup_code(&ada.id, &[], at).await.unwrap());
    // Any of the MACs given (current key, previous key) matches.
    assert!(
        store
            .use_backup_code(&ada.id, &["f".repeat(64), first[0].clone()], at)
            .await
            .unwrap()
    );
    assert!(
        !store
            .use_backup_code(&ada.id, &[first[0].clone()], at)
            .await
            .unwrap()
    );
    assert_eq!(store.count_backup_codes(&ada.id).await.unwrap(), 9);

    // Parallel uses of one code: exactly one wins.
    let tries: Vec<_> = (0..8)
        .map(|_| {
            let store = Arc::clone(&store);
            let id = ada.id.clone();
            let code = first[1].clone();
            tokio::spawn(async move { store.use_backup_code(&id, &[code], at).await.unwrap() })
        })
        .collect();
    let mut won = 0;
    for task in tries {
        won += usize::from(task.await.unwrap());
    }
    assert_eq!(won, 1);
    assert_eq!(store.count_backup_codes(&ada.id).await.unwrap(), 8);

    // A new set voids the old one, used or not.
    let second = macs("g");
    store
        .replace_backup_codes(&ada.id, &second, at)
        .await
        .unwrap();
    assert_eq!(store.count_backup_codes(&ada.id).await.unwrap(), 10);
    assert!(
        !store
            .use_backup_code(&ada.id, &[first[2].clone()], at)
            .await
            .unwrap()
    );
    assert!(
        store
            .use_backup_code(&ada.id, &[second[2].clone()], at)
            .await
            .unwrap()
    );

    // A reset removes authenticator and codes.
    assert!(store.enroll_totp(&totp(&ada, "v1:y", at)).await.unwrap());
    assert!(store.reset_second_factors(&ada.id).await.unwrap());
    assert!(!store.reset_second_factors(&ada.id).await.unwrap());
    assert!(store.totp(&ada.id).await.unwrap().is_none());
    assert_eq!(store.count_backup_codes(&ada.id).await.unwrap(), 0);
}

async fn a_session_records_its_last_second_factor(db: TestDb) {
    let store = db.store.as_ref();
    let (_, session) = create_user(store, "env_a", "step@example.com").await;
    assert_eq!(
        store.session_second_factor(&session.id).await.unwrap(),
        Some(None)
    );
    let at = now();
    assert!(
        store
            .set_session_second_factor(&session.id, at)
            .await
            .unwrap()
    );
    // The same time again is still a recorded session (MySQL counts no change).
    assert!(
        store
            .set_session_second_factor(&session.id, at)
            .await
            .unwrap()
    );
    assert_eq!(
        store.session_second_factor(&session.id).await.unwrap(),
        Some(Some(at))
    );
    assert!(
        !store
            .set_session_second_factor("ses_missing", at)
            .await
            .unwrap()
    );
    assert_eq!(
        store.session_second_factor("ses_missing").await.unwrap(),
        None
    );
}

async fn sealed_secrets_are_listed_and_replaced_only_while_unchanged(db: TestDb) {
    let store = db.store.as_ref();
    let (ada, _) = create_user(store, "env_a", "reseal@example.com").await;
    let at = now();
    assert!(store.totp_secrets().await.unwrap().is_empty());
    assert!(store.enroll_totp(&totp(&ada, "v1:old", at)).await.unwrap());
    assert_eq!(
        store.totp_secrets().await.unwrap(),
        [(ada.id.clone(), "v1:old".to_owned())]
    );
    assert!(
        !store
            .reseal_totp_secret(&ada.id, "v1:other", "v1:new")
            .await
            .unwrap()
    );
    assert!(
        store
            .reseal_totp_secret(&ada.id, "v1:old", "v1:new")
            .await
            .unwrap()
    );
    assert_eq!(
        store.totp(&ada.id).await.unwrap().unwrap().sealed_secret,
        "v1:new"
    );
}

conformance!(
    an_authenticator_is_enrolled_confirmed_once_and_replaced_only_unconfirmed,
    a_time_step_is_used_once_under_concurrency,
    backup_codes_are_used_once_and_replaced_whole,
    a_session_records_its_last_second_factor,
    sealed_secrets_are_listed_and_replaced_only_while_unchanged,
);
