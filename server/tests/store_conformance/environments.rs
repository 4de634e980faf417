//! [`EnvironmentStore`](torii_server::store::EnvironmentStore): environments the server created.

use super::*;

async fn environments_round_trip(db: TestDb) {
    let env = StoredEnvironment {
        id: new_id("env"),
        name: "Stored".into(),
        mode: "test".into(),
        publishable_key: format!("pk_test_{}", new_id("k")),
        secret_key_hash: "ab".repeat(32),
        created_at: now(),
    };
    db.store.insert_environment(&env).await.unwrap();
    assert_eq!(
        db.store.list_environments().await.unwrap(),
        vec![env.clone()]
    );
    let mut same_key = env.clone();
    same_key.id = new_id("env");
    assert!(matches!(
        db.store.insert_environment(&same_key).await,
        Err(StoreError::Conflict(_))
    ));
}

conformance!(environments_round_trip,);
