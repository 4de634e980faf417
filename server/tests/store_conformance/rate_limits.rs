//! [`RateLimitStore`](torii_server::store::RateLimitStore): rate-limit windows and attempt delays.

use super::*;

async fn rate_limit_hits_are_counted_once_each_under_concurrency(db: TestDb) {
    let at = now();
    let mut tasks = Vec::new();
    for _ in 0..30 {
        let store = Arc::clone(&db.store);
        tasks.push(tokio::spawn(async move {
            store
                .hit_rate_limit("env_a:test:bucket", Duration::minutes(5), at)
                .await
        }));
    }
    let mut counts = Vec::new();
    for task in tasks {
        counts.push(task.await.unwrap().unwrap().0);
    }
    counts.sort_unstable();
    assert_eq!(
        counts,
        (1..=30).collect::<Vec<u32>>(),
        "every hit counted exactly once"
    );
    let (after_window, started) = db
        .store
        .hit_rate_limit(
            "env_a:test:bucket",
            Duration::minutes(5),
            at + Duration::minutes(5),
        )
        .await
        .unwrap();
    assert_eq!(after_window, 1, "a new window starts from one");
    assert_eq!(started, at + Duration::minutes(5));
}

async fn attempt_delays_hold_under_concurrency_and_clear_on_success(db: TestDb) {
    let at = now();
    let bucket = "env_a:password_account:bucket";
    let forget = at - Duration::hours(1);
    // Three attempts free, then ten seconds between attempts.
    fn delay(failures: u32) -> Duration {
        if failures >= 3 {
            Duration::seconds(10)
        } else {
            Duration::ZERO
        }
    }
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let store = Arc::clone(&db.store);
        tasks.push(tokio::spawn(async move {
            store.reserve_attempt(bucket, at, forget, &delay).await
        }));
    }
    let mut counted = Vec::new();
    let mut waits = 0;
    for task in tasks {
        match task.await.unwrap().unwrap() {
            AttemptVerdict::Counted(n) => counted.push(n),
            AttemptVerdict::Wait(until) => {
                assert_eq!(until, at + Duration::seconds(10));
                waits += 1;
            }
        }
    }
    counted.sort_unstable();
    assert_eq!(counted, [1, 2, 3], "none slipped past the delay");
    assert_eq!(waits, 9);
    // The delay runs out; the next attempt counts on.
    let later = at + Duration::seconds(10);
    let verdict = db
        .store
        .reserve_attempt(bucket, later, forget, &delay)
        .await;
    assert_eq!(verdict.unwrap(), AttemptVerdict::Counted(4));
    // A success clears the bucket.
    db.store.clear_attempts(bucket).await.unwrap();
    let verdict = db
        .store
        .reserve_attempt(bucket, later, forget, &delay)
        .await;
    assert_eq!(verdict.unwrap(), AttemptVerdict::Counted(1));
    // Old failures are forgotten.
    for _ in 0..2 {
        db.store
            .reserve_attempt(bucket, later, forget, &delay)
            .await
            .unwrap();
    }
    let much_later = later + Duration::hours(2);
    let verdict = db
        .store
        .reserve_attempt(bucket, much_later, much_later - Duration::hours(1), &delay)
        .await;
    assert_eq!(verdict.unwrap(), AttemptVerdict::Counted(1));
    // Stale counters are swept.
    db.store
        .hit_rate_limit("env_a:test:window", Duration::minutes(5), at)
        .await
        .unwrap();
    let purged = db
        .store
        .purge_counters(much_later, much_later + Duration::hours(2))
        .await
        .unwrap();
    assert_eq!(purged, 2);
    let verdict = db
        .store
        .reserve_attempt(bucket, much_later, forget, &delay)
        .await;
    assert_eq!(
        verdict.unwrap(),
        AttemptVerdict::Counted(1),
        "a fresh bucket"
    );
}

conformance!(
    rate_limit_hits_are_counted_once_each_under_concurrency,
    attempt_delays_hold_under_concurrency_and_clear_on_success,
);
