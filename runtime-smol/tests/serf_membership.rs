//! Gossip drivers on real loopback sockets: joining, failure detection, graceful leave and
//! user events.

mod serf_support;

use std::time::Duration;

use serf_support::{form_pool, run, start_node, wait_for};
use synod_core::gossip::{Event, MemberStatus};

#[test]
fn three_drivers_join_and_all_see_three_alive() {
    run(Duration::from_secs(8), |ex| async move {
        let nodes = form_pool(&ex, &["a", "b", "c"], None).await;
        // The pool forms over TCP push-pull; probes and gossip then flow over UDP.
        let probing = wait_for(Duration::from_secs(2), || {
            nodes.iter().all(|n| {
                let s = n.handle.stats();
                s.packets_sent > 0 && s.packets_received > 0
            })
        })
        .await;
        assert!(probing.is_some(), "no UDP traffic");
        for node in &nodes {
            let members = node.handle.members();
            let names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
            assert_eq!(names, ["a", "b", "c"]);
            assert!(members.iter().all(|m| m.status == MemberStatus::Alive));
            let stats = node.handle.stats();
            assert_eq!((stats.decode_errors, stats.decrypt_failures), (0, 0));
        }
        assert!(nodes[0].handle.stats().streams_received >= 2);
    });
}

#[test]
fn killed_driver_is_marked_failed_by_the_others() {
    run(Duration::from_secs(9), |ex| async move {
        let mut nodes = form_pool(&ex, &["a", "b", "c"], None).await;
        let events = nodes[0].handle.events();
        nodes[2].kill();
        // Scaled timings: 100 ms probes, 400 ms minimum suspicion for three members, so the
        // failure must show within a couple of seconds even on a loaded machine.
        let detected = wait_for(Duration::from_secs(5), || {
            nodes[..2]
                .iter()
                .all(|n| n.status_of("c") == Some(MemberStatus::Failed))
        })
        .await;
        assert!(detected.is_some(), "c was not marked failed by both others");
        assert_eq!(nodes[0].status_of("b"), Some(MemberStatus::Alive));
        assert_eq!(nodes[1].status_of("a"), Some(MemberStatus::Alive));
        let mut failed = Vec::new();
        while let Ok(event) = events.try_recv() {
            if let Event::MemberFailed(m) = event {
                failed.push(m.name);
            }
        }
        assert_eq!(failed, ["c"]);
    });
}

#[test]
fn graceful_leave_shows_left_everywhere() {
    run(Duration::from_secs(8), |ex| async move {
        let nodes = form_pool(&ex, &["a", "b", "c"], None).await;
        nodes[1].handle.leave().await.expect("driver running");
        assert_eq!(nodes[1].status_of("b"), Some(MemberStatus::Left));
        let seen = wait_for(Duration::from_secs(3), || {
            [&nodes[0], &nodes[2]]
                .iter()
                .all(|n| n.status_of("b") == Some(MemberStatus::Left))
        })
        .await;
        assert!(seen.is_some(), "the others did not see b leave");
        // A left member is never re-accused: it stays left, not failed.
        async_io::Timer::after(Duration::from_millis(800)).await;
        assert_eq!(nodes[0].status_of("b"), Some(MemberStatus::Left));
    });
}

#[test]
fn user_event_reaches_every_member() {
    run(Duration::from_secs(8), |ex| async move {
        let nodes = form_pool(&ex, &["a", "b", "c"], None).await;
        let receivers: Vec<_> = nodes.iter().map(|n| n.handle.events()).collect();
        nodes[0]
            .handle
            .user_event("deploy", b"v2", false)
            .await
            .expect("small event accepted");
        for events in &receivers {
            let event = loop {
                match events.recv().await.expect("driver running") {
                    Event::UserEvent(e) => break e,
                    _ => continue,
                }
            };
            assert_eq!(
                (event.name.as_str(), event.payload.as_slice()),
                ("deploy", &b"v2"[..])
            );
        }
    });
}

#[test]
fn join_to_an_unreachable_address_fails() {
    run(Duration::from_secs(5), |ex| async move {
        let node = start_node(&ex, "lonely", None);
        // Bind then drop a listener so the port is known to be closed.
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("loopback");
        assert_eq!(
            node.handle.join(&[closed]).await,
            Err(synod_runtime_smol::serf::SerfError::JoinFailed)
        );
        assert_eq!(node.live_count(), 1);
    });
}

#[test]
fn force_leave_turns_a_failed_member_left_everywhere() {
    run(Duration::from_secs(9), |ex| async move {
        let mut nodes = form_pool(&ex, &["a", "b", "c"], None).await;
        assert_eq!(nodes[0].handle.force_leave("c", false).await, Ok(false));
        nodes[2].kill();
        let failed = wait_for(Duration::from_secs(5), || {
            nodes[0].status_of("c") == Some(MemberStatus::Failed)
        })
        .await;
        assert!(failed.is_some(), "c was not marked failed");
        assert_eq!(nodes[0].handle.force_leave("c", false).await, Ok(true));
        let left = wait_for(Duration::from_secs(3), || {
            nodes[..2]
                .iter()
                .all(|n| n.status_of("c") == Some(MemberStatus::Left))
        })
        .await;
        assert!(left.is_some(), "the force-leave did not spread");
    });
}

#[test]
fn force_leave_with_prune_removes_a_failed_member_from_every_list() {
    run(Duration::from_secs(9), |ex| async move {
        let mut nodes = form_pool(&ex, &["a", "b", "c"], None).await;
        nodes[2].kill();
        let failed = wait_for(Duration::from_secs(5), || {
            nodes[..2]
                .iter()
                .all(|n| n.status_of("c") == Some(MemberStatus::Failed))
        })
        .await;
        assert!(failed.is_some(), "c was not marked failed");
        assert_eq!(nodes[1].handle.force_leave("c", true).await, Ok(true));
        assert_eq!(nodes[1].status_of("c"), None, "pruned locally at once");
        let pruned = wait_for(Duration::from_secs(2), || nodes[0].status_of("c").is_none()).await;
        assert!(pruned.is_some(), "the prune did not spread");
    });
}
