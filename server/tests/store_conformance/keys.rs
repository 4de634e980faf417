//! [`KeyStore`](torii_server::store::KeyStore): JWT signing keys and their rotation.

use super::*;

async fn jwt_keys_are_kept_per_environment_and_retired_keys_lose_their_private_half(db: TestDb) {
    let at = now();
    let key = |kid: &str, env: &str, at: OffsetDateTime| JwtKeyRecord {
        kid: kid.to_owned(),
        environment_id: env.to_owned(),
        private_key: format!("v1:sealed-{kid}"),
        public_key: format!("public-{kid}"),
        created_at: at,
        retired_at: None,
    };
    db.store
        .rotate_jwt_key(&key("key_a1", "env_a", at))
        .await
        .unwrap();
    db.store
        .rotate_jwt_key(&key("key_b1", "env_b", at))
        .await
        .unwrap();
    let later = at + Duration::minutes(1);
    db.store
        .rotate_jwt_key(&key("key_a2", "env_a", later))
        .await
        .unwrap();
    let keys = db.store.list_jwt_keys().await.unwrap();
    let find = |kid: &str| keys.iter().find(|k| k.kid == kid).unwrap().clone();
    assert_eq!(keys.len(), 3);
    let a1 = find("key_a1");
    assert_eq!(a1.environment_id, "env_a");
    assert_eq!(a1.retired_at, Some(later));
    assert_eq!(a1.private_key, "", "a retired key's private half is erased");
    assert_eq!(a1.public_key, "public-key_a1", "it still verifies");
    let b1 = find("key_b1");
    assert_eq!(
        b1.retired_at, None,
        "another environment's key is untouched"
    );
    assert_eq!(b1.private_key, "v1:sealed-key_b1");
    assert_eq!(find("key_a2").retired_at, None);
}

conformance!(jwt_keys_are_kept_per_environment_and_retired_keys_lose_their_private_half,);
