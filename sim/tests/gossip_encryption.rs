//! An encrypted pool forms and gossips normally; a node with the wrong key cannot join.

use std::cell::Cell;
use synod_core::gossip::{Config, Event, Keyring};
use synod_core::time::Duration;
use synod_sim::gossip::{Cluster, NetConfig};

#[test]
fn encrypted_pool_works_and_wrong_key_cannot_join() {
    let n = 4;
    let key = Keyring::new(&[0x42; 32], &[]).expect("32-byte key");
    let mut c = Cluster::new(71, NetConfig::default());
    let delivered = Cell::new(0);
    let mut observe = |_, _, e: &Event| {
        if let Event::UserEvent(_) = e {
            delivered.set(delivered.get() + 1);
        }
    };
    assert!(c.form_pool(
        n,
        &Config::lan(),
        Some(&key),
        Duration::from_secs(30),
        &mut observe
    ));
    c.user_event(1, "deploy", b"v2", &mut observe)
        .expect("small event fits");
    c.run_for(Duration::from_secs(3), &mut observe);
    assert_eq!(delivered.get(), n);

    let wrong = Keyring::new(&[0x43; 32], &[]).expect("32-byte key");
    let intruder = c.add_node(Config::lan(), Some(wrong));
    c.join(intruder, &[0], &mut observe);
    c.run_for(Duration::from_secs(30), &mut observe);
    for o in 0..n {
        assert_eq!(c.view(o, intruder), None, "{o} let the intruder in");
        assert_eq!(c.live_members(o), n);
    }
    assert!(
        c.rejected_packets(0) > 0,
        "the seed counted the undecryptable join"
    );
    assert_eq!(c.live_members(intruder), 1);
}
