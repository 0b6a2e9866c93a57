//! Encrypted gossip on real sockets: a pool sharing a key forms; a node with another key (or
//! none) never gets in, and every packet it sends is counted as a decrypt failure.

mod serf_support;

use std::time::Duration;

use serf_support::{form_pool, run, start_node};
use synod_core::gossip::Keyring;
use synod_runtime_smol::serf::SerfError;

/// What joining through one agent that cannot read us (or that we cannot read) gives.
const UNANSWERED: Result<usize, SerfError> = Err(SerfError::JoinUnanswered { contacted: 1 });

fn ring(byte: u8) -> Keyring {
    Keyring::new(&[byte; 32], &[]).expect("32-byte key")
}

#[test]
fn encrypted_pool_forms_and_a_wrong_key_never_joins() {
    run(Duration::from_secs(8), |ex| async move {
        let pool = form_pool(&ex, &["a", "b"], Some(ring(1))).await;
        let intruder = start_node(&ex, "intruder", Some(ring(2)));
        // The stream is delivered, but nobody can read it, so nobody answers.
        assert_eq!(intruder.handle.join(&[pool[0].addr()]).await, UNANSWERED);
        async_io::Timer::after(Duration::from_millis(700)).await;
        for node in &pool {
            assert_eq!(node.status_of("intruder"), None);
            assert_eq!(node.live_count(), 2);
        }
        assert_eq!(intruder.live_count(), 1);
        assert!(pool[0].handle.stats().decrypt_failures >= 1);
        assert_eq!(pool[1].handle.stats().decrypt_failures, 0);
    });
}

#[test]
fn plaintext_node_cannot_join_an_encrypted_pool() {
    run(Duration::from_secs(8), |ex| async move {
        let pool = form_pool(&ex, &["a", "b"], Some(ring(1))).await;
        let plain = start_node(&ex, "plain", None);
        assert_eq!(plain.handle.join(&[pool[1].addr()]).await, UNANSWERED);
        async_io::Timer::after(Duration::from_millis(700)).await;
        assert_eq!(pool[1].status_of("plain"), None);
        assert_eq!(plain.live_count(), 1);
        assert!(pool[1].handle.stats().decrypt_failures >= 1);
    });
}

#[test]
fn rotated_keyring_still_accepts_the_old_key() {
    run(Duration::from_secs(8), |ex| async move {
        let rotated = Keyring::new(&[2; 32], &[&[1; 32]]).expect("32-byte keys");
        let old = start_node(&ex, "old", Some(ring(1)));
        let new = start_node(&ex, "new", Some(rotated));
        // `new` reads `old`'s packets, but answers under its own primary, which `old` lacks:
        // the join is not answered as far as `old` can tell.
        assert_eq!(old.handle.join(&[new.addr()]).await, UNANSWERED);
        let seen =
            serf_support::wait_for(Duration::from_secs(2), || new.status_of("old").is_some()).await;
        assert!(seen.is_some(), "the secondary key did not decrypt the join");
        assert!(
            serf_support::wait_for(Duration::from_secs(2), || {
                old.handle.stats().decrypt_failures > 0
            })
            .await
            .is_some()
        );
    });
}
