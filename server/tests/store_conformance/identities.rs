//! [`IdentityStore`](torii_server::store::IdentityStore): linked OAuth identities.

use super::*;

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

conformance!(oauth_identities_are_keyed_by_subject_and_created_with_their_user,);
