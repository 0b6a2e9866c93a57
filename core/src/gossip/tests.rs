//! Single-machine behaviour tests: drive one `Gossip` by hand and assert what it emits.

use super::*;

fn addr(i: u8) -> Addr {
    Addr::from(([10, 0, 0, i], 8301))
}

fn name(i: u8) -> String {
    format!("n{i}")
}

fn at(ms: u64) -> Instant {
    Instant::from_millis(ms)
}

fn node(config: Config) -> Gossip {
    let local = LocalNode {
        name: name(1),
        addr: addr(1),
        tags: Tags::new(),
    };
    Gossip::new(at(0), local, config, Rng::new(42))
}

fn alive(i: u8, incarnation: Incarnation) -> Message {
    Message::Alive(AliveMessage {
        name: name(i),
        addr: addr(i),
        incarnation,
        tags: Tags::new(),
    })
}

/// Node n1 that knows n2..=n{peers+1} as alive, with nothing queued or pending.
fn node_with_peers(config: Config, peers: u8) -> Gossip {
    let mut g = node(config);
    for i in 2..=peers + 1 {
        deliver(&mut g, at(0), i, &[alive(i, 0)]);
    }
    settle(&mut g);
    g
}

fn settle(g: &mut Gossip) {
    g.broadcasts = BroadcastQueue::default();
    while g.poll_action().is_some() {}
}

fn deliver(g: &mut Gossip, now: Instant, from: u8, msgs: &[Message]) {
    let encoded: Vec<Vec<u8>> = msgs.iter().map(encode_message).collect();
    let res = g.handle_datagram(now, addr(from), &encode_compound(&encoded));
    assert_eq!(res, Ok(()));
}

/// Drains the actions, decoding datagrams back into messages.
#[derive(Debug, PartialEq)]
enum Out {
    Datagram(Addr, Vec<Message>),
    Stream(Addr, StreamMessage),
    Event(Event),
}

fn drain(g: &mut Gossip) -> Vec<Out> {
    std::iter::from_fn(|| g.poll_action())
        .map(|a| match a {
            Action::SendDatagram { to, bytes } => {
                Out::Datagram(to, decode_packet(&bytes).expect("own packets decode"))
            }
            Action::SendStream { to, bytes } => {
                Out::Stream(to, decode_stream(&bytes).expect("own streams decode"))
            }
            Action::Event(e) => Out::Event(e),
        })
        .collect()
}

fn probe_target(out: &[Out]) -> String {
    match out {
        [Out::Datagram(_, msgs)] => match &msgs[0] {
            Message::Ping { target, .. } => target.clone(),
            other => panic!("expected a ping, got {other:?}"),
        },
        other => panic!("expected one datagram, got {other:?}"),
    }
}

fn addr_of(n: &str) -> Addr {
    let i: u8 = n[1..].parse().expect("test names are n<digit>");
    addr(i)
}

#[test]
fn probe_tick_pings_exactly_the_next_member_of_the_shuffled_round() {
    let mut g = node_with_peers(Config::lan(), 3);
    let mut seen = Vec::new();
    for round in 0..3u32 {
        let now = g.next_probe;
        g.handle_timeout(now);
        let out = drain(&mut g);
        let target = probe_target(&out);
        assert_eq!(
            out,
            vec![Out::Datagram(
                addr_of(&target),
                vec![Message::Ping {
                    seq: round + 1,
                    target: target.clone()
                }]
            )]
        );
        // Answer so the next round starts clean.
        deliver(&mut g, now, 2, &[Message::Ack { seq: round + 1 }]);
        seen.push(target);
    }
    seen.sort();
    assert_eq!(seen, vec![name(2), name(3), name(4)]);
}

#[test]
fn missing_ack_after_probe_timeout_sends_k_indirect_pings_with_nack_and_a_stream_ping() {
    let mut g = node_with_peers(Config::lan(), 5);
    let start = g.next_probe;
    g.handle_timeout(start);
    let target = probe_target(&drain(&mut g));
    g.handle_timeout(start + Duration::from_millis(499));
    assert_eq!(drain(&mut g), vec![]);
    g.handle_timeout(start + Duration::from_millis(500));
    let mut out = drain(&mut g);
    assert_eq!(out.len(), 4);
    assert_eq!(
        out.pop(),
        Some(Out::Stream(
            addr_of(&target),
            StreamMessage::Ping {
                seq: 1,
                target: target.clone(),
                from_addr: addr(1),
            }
        ))
    );
    let mut relays = Vec::new();
    for o in &out {
        let Out::Datagram(to, msgs) = o else {
            panic!("expected datagrams, got {o:?}");
        };
        assert_eq!(
            msgs,
            &vec![Message::IndirectPing {
                seq: 1,
                target: target.clone(),
                target_addr: addr_of(&target),
                nack: true
            }]
        );
        assert_ne!(*to, addr_of(&target));
        relays.push(*to);
    }
    relays.sort();
    relays.dedup();
    assert_eq!(relays.len(), 3);
}

#[test]
fn ack_ends_the_probe_and_lowers_awareness() {
    let mut g = node_with_peers(Config::lan(), 3);
    g.awareness.apply_delta(2);
    let start = g.next_probe;
    g.handle_timeout(start);
    drain(&mut g);
    deliver(
        &mut g,
        start + Duration::from_millis(10),
        2,
        &[Message::Ack { seq: 1 }],
    );
    assert_eq!(g.awareness_score(), 1);
    assert!(g.probe.is_none());
    // The probe started at awareness 2, so the next one waits 3 × the interval.
    assert_eq!(g.next_probe, start + Duration::from_secs(3));
}

#[test]
fn failed_probe_suspects_target_and_raises_awareness_by_missing_nacks() {
    let mut g = node_with_peers(Config::lan(), 5);
    let start = g.next_probe;
    g.handle_timeout(start);
    let target = probe_target(&drain(&mut g));
    g.handle_timeout(start + Duration::from_millis(500));
    drain(&mut g);
    deliver(
        &mut g,
        start + Duration::from_millis(600),
        3,
        &[Message::Nack { seq: 1 }],
    );
    g.handle_timeout(start + Duration::from_secs(1));
    assert_eq!(
        g.member(&target).map(|m| m.status),
        Some(MemberStatus::Suspect)
    );
    // Three relays asked, one nacked: +2.
    assert_eq!(g.awareness_score(), 2);
    let suspicion = g.suspicion(&target).expect("suspicion started");
    // N = 6: min = 4 s, max = 24 s, timer starts at max.
    assert_eq!(suspicion.timeout(), Duration::from_secs(24));
}

#[test]
fn suspicion_timeout_shrinks_with_independent_confirmations() {
    let mut g = node_with_peers(Config::lan(), 5);
    let t0 = at(100);
    let suspect = |from: u8| Message::Suspect {
        name: name(2),
        incarnation: 0,
        from: name(from),
    };
    deliver(&mut g, t0, 3, &[suspect(3)]);
    assert_eq!(
        g.suspicion(&name(2)).map(|s| s.deadline()),
        Some(t0 + Duration::from_secs(24))
    );
    deliver(&mut g, t0, 4, &[suspect(4)]);
    let one = g
        .suspicion(&name(2))
        .map(|s| s.deadline())
        .expect("still suspected");
    assert!(one < t0 + Duration::from_secs(24) && one > t0 + Duration::from_secs(4));
    deliver(&mut g, t0, 5, &[suspect(5)]);
    assert_eq!(
        g.suspicion(&name(2)).map(|s| s.deadline()),
        Some(t0 + Duration::from_secs(4))
    );
    drain(&mut g);
    g.handle_timeout(t0 + Duration::from_secs(4));
    let failed: Vec<Out> = drain(&mut g)
        .into_iter()
        .filter(|o| matches!(o, Out::Event(_)))
        .collect();
    let mut expected = g.member(&name(2)).cloned().expect("still listed");
    expected.status = MemberStatus::Failed;
    assert_eq!(failed, vec![Out::Event(Event::MemberFailed(expected))]);
}

#[test]
fn without_lifeguard_suspicion_uses_fixed_timeout_and_no_nacks() {
    let config = Config {
        lifeguard: false,
        ..Config::lan()
    };
    let mut g = node_with_peers(config, 5);
    deliver(
        &mut g,
        at(0),
        3,
        &[Message::Suspect {
            name: name(2),
            incarnation: 0,
            from: name(3),
        }],
    );
    assert_eq!(
        g.suspicion(&name(2)).map(|s| s.timeout()),
        Some(Duration::from_secs(4))
    );
    drain(&mut g);
    let start = g.next_probe;
    g.handle_timeout(start);
    drain(&mut g);
    g.handle_timeout(start + Duration::from_millis(500));
    for o in drain(&mut g) {
        if let Out::Datagram(_, msgs) = o {
            assert!(matches!(msgs[0], Message::IndirectPing { nack: false, .. }));
        }
    }
    g.handle_timeout(start + Duration::from_secs(1));
    assert_eq!(g.awareness_score(), 0);
}

#[test]
fn accused_node_refutes_with_incarnation_plus_one() {
    let mut g = node_with_peers(Config::lan(), 3);
    deliver(
        &mut g,
        at(5),
        2,
        &[Message::Suspect {
            name: name(1),
            incarnation: 0,
            from: name(2),
        }],
    );
    assert_eq!(g.local().incarnation, 1);
    assert_eq!(g.awareness_score(), 1);
    assert_eq!(
        g.broadcasts.take(1400, 0, 10),
        vec![encode_message(&alive(1, 1))]
    );
}

#[test]
fn relay_forwards_ack_or_nacks_after_probe_timeout() {
    let mut g = node_with_peers(Config::lan(), 3);
    // Keep our own probing out of the way: only the relay is under test.
    g.next_probe = at(60_000);
    let ping = |nack| Message::IndirectPing {
        seq: 77,
        target: name(3),
        target_addr: addr(3),
        nack,
    };
    deliver(&mut g, at(10), 2, &[ping(true)]);
    assert_eq!(
        drain(&mut g),
        vec![Out::Datagram(
            addr(3),
            vec![Message::Ping {
                seq: 1,
                target: name(3)
            }]
        )]
    );
    g.handle_timeout(at(510));
    assert_eq!(
        drain(&mut g),
        vec![Out::Datagram(addr(2), vec![Message::Nack { seq: 77 }])]
    );
    deliver(&mut g, at(600), 2, &[ping(false)]);
    drain(&mut g);
    deliver(&mut g, at(610), 3, &[Message::Ack { seq: 2 }]);
    assert_eq!(
        drain(&mut g),
        vec![Out::Datagram(addr(2), vec![Message::Ack { seq: 77 }])]
    );
}

#[test]
fn ping_for_another_name_is_ignored_and_ours_is_acked() {
    let mut g = node_with_peers(Config::lan(), 1);
    deliver(
        &mut g,
        at(1),
        2,
        &[Message::Ping {
            seq: 9,
            target: name(7),
        }],
    );
    assert_eq!(drain(&mut g), vec![]);
    deliver(
        &mut g,
        at(1),
        2,
        &[Message::Ping {
            seq: 9,
            target: name(1),
        }],
    );
    assert_eq!(
        drain(&mut g),
        vec![Out::Datagram(addr(2), vec![Message::Ack { seq: 9 }])]
    );
}

#[test]
fn dead_from_itself_is_a_leave_and_from_another_is_a_failure() {
    let mut g = node_with_peers(Config::lan(), 3);
    let dead = |n: u8, from: u8| Message::Dead {
        name: name(n),
        incarnation: 0,
        from: name(from),
    };
    deliver(&mut g, at(1), 2, &[dead(2, 2), dead(3, 4)]);
    let statuses: Vec<MemberStatus> = g.members().map(|m| m.status).collect();
    assert_eq!(
        statuses,
        vec![
            MemberStatus::Alive,
            MemberStatus::Left,
            MemberStatus::Failed,
            MemberStatus::Alive
        ]
    );
    let events: Vec<Out> = drain(&mut g);
    assert!(matches!(&events[0], Out::Event(Event::MemberLeft(m)) if m.name == name(2)));
    assert!(matches!(&events[1], Out::Event(Event::MemberFailed(m)) if m.name == name(3)));
}

#[test]
fn older_incarnation_news_is_ignored_and_newer_alive_revives() {
    let mut g = node_with_peers(Config::lan(), 2);
    deliver(&mut g, at(1), 2, &[alive(2, 5)]);
    deliver(
        &mut g,
        at(2),
        3,
        &[Message::Dead {
            name: name(2),
            incarnation: 4,
            from: name(3),
        }],
    );
    assert_eq!(
        g.member(&name(2)).map(|m| m.status),
        Some(MemberStatus::Alive)
    );
    deliver(
        &mut g,
        at(3),
        3,
        &[Message::Dead {
            name: name(2),
            incarnation: 5,
            from: name(3),
        }],
    );
    assert_eq!(
        g.member(&name(2)).map(|m| m.status),
        Some(MemberStatus::Failed)
    );
    drain(&mut g);
    deliver(&mut g, at(4), 2, &[alive(2, 6)]);
    let up = g.member(&name(2)).cloned().expect("listed");
    assert_eq!(up.status, MemberStatus::Alive);
    assert_eq!(drain(&mut g), vec![Out::Event(Event::MemberUp(up))]);
}

#[test]
fn failed_member_is_reaped_after_reconnect_timeout_and_tombstoned() {
    let config = Config {
        reconnect_timeout: Duration::from_secs(10),
        tombstone_timeout: Duration::from_secs(5),
        ..Config::lan()
    };
    let mut g = node_with_peers(config, 2);
    deliver(
        &mut g,
        at(0),
        3,
        &[Message::Dead {
            name: name(2),
            incarnation: 0,
            from: name(3),
        }],
    );
    drain(&mut g);
    let mut reaped = None;
    for s in 1..=11u64 {
        g.handle_timeout(at(s * 1000));
        for o in drain(&mut g) {
            if let Out::Event(Event::MemberReaped(m)) = o {
                reaped = Some((s, m.name));
            }
        }
    }
    assert_eq!(reaped, Some((10, name(2))));
    // A stale alive cannot resurrect it while the tombstone lasts; a newer incarnation can.
    deliver(&mut g, at(11_500), 3, &[alive(2, 0)]);
    assert!(g.member(&name(2)).is_none());
    deliver(&mut g, at(11_600), 2, &[alive(2, 1)]);
    assert_eq!(
        g.member(&name(2)).map(|m| m.status),
        Some(MemberStatus::Alive)
    );
}

#[test]
fn live_member_keeps_its_name_against_another_address() {
    let mut g = node_with_peers(Config::lan(), 2);
    let impostor = Message::Alive(AliveMessage {
        name: name(2),
        addr: addr(9),
        incarnation: 3,
        tags: Tags::new(),
    });
    deliver(&mut g, at(1), 9, std::slice::from_ref(&impostor));
    let existing = g.member(&name(2)).cloned().expect("listed");
    assert_eq!(existing.addr, addr(2));
    assert_eq!(
        drain(&mut g),
        vec![Out::Event(Event::NameConflict {
            existing,
            other_addr: addr(9)
        })]
    );
    // Once the original has left, the new address takes the name over.
    deliver(
        &mut g,
        at(2),
        2,
        &[Message::Dead {
            name: name(2),
            incarnation: 0,
            from: name(2),
        }],
    );
    deliver(&mut g, at(3), 9, &[impostor]);
    assert_eq!(g.member(&name(2)).map(|m| m.addr), Some(addr(9)));
}

#[test]
fn tag_update_bumps_incarnation_and_peers_see_member_updated() {
    let mut a = node_with_peers(Config::lan(), 1);
    let tags = Tags::from([("role".to_owned(), "server".to_owned())]);
    a.set_tags(at(1), tags.clone());
    assert_eq!(a.local().incarnation, 1);
    let update = a.broadcasts.take(1400, 0, 10);
    let local = LocalNode {
        name: name(2),
        addr: addr(2),
        tags: Tags::new(),
    };
    let mut b = Gossip::new(at(0), local, Config::lan(), Rng::new(7));
    deliver(&mut b, at(0), 1, &[alive(1, 0)]);
    drain(&mut b);
    b.handle_datagram(at(2), addr(1), &encode_compound(&update))
        .expect("decodes");
    let updated = b.member(&name(1)).cloned().expect("listed");
    assert_eq!(updated.tags, tags);
    assert_eq!(
        drain(&mut b),
        vec![Out::Event(Event::MemberUpdated(updated))]
    );
}

#[test]
fn user_event_is_delivered_once_and_piggybacked() {
    let mut g = node_with_peers(Config::lan(), 2);
    let ev = UserEvent {
        ltime: 4,
        name: "deploy".into(),
        payload: b"v2".to_vec(),
        coalesce: false,
    };
    deliver(&mut g, at(1), 2, &[Message::UserEvent(ev.clone())]);
    deliver(&mut g, at(2), 3, &[Message::UserEvent(ev.clone())]);
    assert_eq!(
        drain(&mut g),
        vec![Out::Event(Event::UserEvent(ev.clone()))]
    );
    assert_eq!(g.event_clock(), 5);
    let now = g.next_gossip;
    g.handle_timeout(now);
    let carried = drain(&mut g).into_iter().any(
        |o| matches!(o, Out::Datagram(_, msgs) if msgs.contains(&Message::UserEvent(ev.clone()))),
    );
    assert!(carried);
}

#[test]
fn oversized_user_event_is_refused() {
    let mut g = node(Config::lan());
    let err = g.user_event(at(1), "big", &[0u8; 600], false);
    assert!(matches!(
        err,
        Err(UserEventError::TooLarge { limit: 512, .. })
    ));
}

#[test]
fn join_sends_push_pull_and_the_reply_merges_members_and_reports_the_answer() {
    let mut g = node(Config::lan());
    g.join(at(1), &[addr(2)]);
    let out = drain(&mut g);
    assert!(matches!(
        &out[..],
        [Out::Stream(to, StreamMessage::PushPull { join: true, reply: false, .. })] if *to == addr(2)
    ));
    let reply = StreamMessage::PushPull {
        from: name(2),
        from_addr: addr(2),
        reply: true,
        join: true,
        event_ltime: 9,
        states: vec![PushNodeState {
            name: name(2),
            addr: addr(2),
            incarnation: 0,
            status: MemberStatus::Alive,
            tags: Tags::new(),
        }],
    };
    g.handle_stream(at(2), addr(2), &encode_stream(&reply))
        .expect("decodes");
    let up = g.member(&name(2)).cloned().expect("merged");
    assert_eq!(
        drain(&mut g),
        vec![
            Out::Event(Event::MemberUp(up)),
            Out::Event(Event::JoinAnswered {
                name: name(2),
                addr: addr(2),
            }),
        ]
    );
    assert_eq!(g.event_clock(), 10);
}

#[test]
fn a_join_request_is_answered_as_a_join_and_a_periodic_one_is_not() {
    let mut g = node(Config::lan());
    for (join, at_ms) in [(true, 1), (false, 2)] {
        let request = StreamMessage::PushPull {
            from: name(2),
            from_addr: addr(2),
            reply: false,
            join,
            event_ltime: 0,
            states: Vec::new(),
        };
        g.handle_stream(at(at_ms), addr(2), &encode_stream(&request))
            .expect("decodes");
        let out = drain(&mut g);
        assert!(
            matches!(
                &out[..],
                [Out::Stream(to, StreamMessage::PushPull { reply: true, join: echoed, .. })]
                    if *to == addr(2) && *echoed == join
            ),
            "{out:?}"
        );
    }
}

#[test]
fn gossip_datagrams_stay_within_the_packet_budget() {
    let mut g = node_with_peers(Config::lan(), 3);
    for i in 0..200u32 {
        g.broadcasts
            .push(BroadcastKey::Member(format!("m{i}")), vec![0u8; 40]);
    }
    g.handle_timeout(g.next_gossip);
    let sizes: Vec<usize> = std::iter::from_fn(|| g.poll_action())
        .filter_map(|a| match a {
            Action::SendDatagram { bytes, .. } => Some(bytes.len()),
            _ => None,
        })
        .collect();
    assert_eq!(sizes.len(), 3);
    assert!(sizes.iter().all(|s| *s <= 1400 && *s > 1300), "{sizes:?}");
}

#[test]
fn encrypted_node_drops_plaintext_and_wrong_key_packets() {
    let key = [3u8; KEY_LEN];
    let mut g = node(Config::lan()).with_keyring(Keyring::new(&key, &[]).expect("valid key"));
    let plain = encode_compound(&[encode_message(&alive(2, 0))]);
    assert!(matches!(
        g.handle_datagram(at(1), addr(2), &plain),
        Err(GossipError::Keyring(_))
    ));
    let other = Keyring::new(&[4u8; KEY_LEN], &[]).expect("valid key");
    let wrong = other.encrypt(&plain, &mut Rng::new(1));
    assert_eq!(
        g.handle_datagram(at(1), addr(2), &wrong),
        Err(GossipError::Keyring(KeyringError::NoKeyMatched))
    );
    let right = Keyring::new(&key, &[])
        .expect("valid key")
        .encrypt(&plain, &mut Rng::new(1));
    assert_eq!(g.handle_datagram(at(1), addr(2), &right), Ok(()));
    assert!(g.member(&name(2)).is_some());
}

#[test]
fn leave_broadcasts_left_at_current_incarnation_and_stops_probing() {
    let mut g = node_with_peers(Config::lan(), 2);
    g.leave(at(1));
    assert_eq!(
        g.broadcasts.take(1400, 0, 10),
        vec![encode_message(&Message::Dead {
            name: name(1),
            incarnation: 0,
            from: name(1)
        })]
    );
    g.handle_timeout(g.next_probe);
    assert!(g.probe.is_none());
    // Being declared dead while leaving is not refuted.
    deliver(
        &mut g,
        at(2000),
        2,
        &[Message::Suspect {
            name: name(1),
            incarnation: 0,
            from: name(2),
        }],
    );
    assert_eq!(g.local().incarnation, 0);
}

#[test]
fn stale_accusation_respreads_current_alive_without_new_incarnation() {
    let mut g = node_with_peers(Config::lan(), 3);
    let suspect = |incarnation| Message::Suspect {
        name: name(1),
        incarnation,
        from: name(2),
    };
    deliver(&mut g, at(5), 2, &[suspect(0)]);
    settle(&mut g);
    deliver(&mut g, at(6), 3, &[suspect(0)]);
    assert_eq!(g.local().incarnation, 1);
    assert_eq!(
        g.broadcasts.take(1400, 0, 10),
        vec![encode_message(&alive(1, 1))]
    );
}

#[test]
fn suspicion_at_newer_incarnation_restarts_the_timer() {
    let mut g = node_with_peers(Config::lan(), 5);
    let suspect = |incarnation, from| Message::Suspect {
        name: name(2),
        incarnation,
        from: name(from),
    };
    deliver(&mut g, at(0), 3, &[suspect(1, 3)]);
    deliver(&mut g, at(30_000), 4, &[suspect(2, 4)]);
    let s = g.suspicion(&name(2)).expect("suspected");
    // A fresh 24 s timer from the newer suspicion, not the old one shortened by a confirmation.
    assert_eq!((s.confirmations(), s.deadline()), (0, at(54_000)));
    assert_eq!(g.member(&name(2)).map(|m| m.incarnation), Some(2));
}

#[test]
fn push_pull_echo_of_our_suspicion_is_not_a_confirmation() {
    let mut g = node_with_peers(Config::lan(), 5);
    let start = g.next_probe;
    g.handle_timeout(start);
    let target = probe_target(&drain(&mut g));
    g.handle_timeout(start + Duration::from_secs(1));
    assert_eq!(g.suspicion(&target).map(|s| s.confirmations()), Some(0));
    let echo = StreamMessage::PushPull {
        from: name(2),
        from_addr: addr(2),
        reply: true,
        join: false,
        event_ltime: 0,
        states: vec![PushNodeState {
            name: target.clone(),
            addr: addr_of(&target),
            incarnation: 0,
            status: MemberStatus::Suspect,
            tags: Tags::new(),
        }],
    };
    g.handle_stream(
        start + Duration::from_secs(2),
        addr(2),
        &encode_stream(&echo),
    )
    .expect("decodes");
    assert_eq!(g.suspicion(&target).map(|s| s.confirmations()), Some(0));
}

#[test]
fn push_pull_suspicion_starts_a_local_timer_without_gossiping_it() {
    let mut g = node_with_peers(Config::lan(), 5);
    let state = StreamMessage::PushPull {
        from: name(2),
        from_addr: addr(2),
        reply: true,
        join: false,
        event_ltime: 0,
        states: vec![PushNodeState {
            name: name(3),
            addr: addr(3),
            incarnation: 0,
            status: MemberStatus::Failed,
            tags: Tags::new(),
        }],
    };
    g.handle_stream(at(10), addr(2), &encode_stream(&state))
        .expect("decodes");
    assert_eq!(
        g.member(&name(3)).map(|m| m.status),
        Some(MemberStatus::Suspect)
    );
    assert_eq!(
        g.suspicion(&name(3)).map(|s| s.deadline()),
        Some(at(10) + Duration::from_secs(24))
    );
    assert_eq!(g.pending_broadcasts(), 0);
}

#[test]
fn probing_a_suspect_tells_it_first_and_its_ack_carries_the_refutation() {
    let mut prober = node_with_peers(Config::lan(), 1);
    deliver(
        &mut prober,
        at(0),
        2,
        &[Message::Suspect {
            name: name(2),
            incarnation: 0,
            from: name(3),
        }],
    );
    settle(&mut prober);
    prober.handle_timeout(prober.next_probe);
    let Some(Action::SendDatagram { to, bytes }) = prober.poll_action() else {
        panic!("expected the probe datagram");
    };
    assert_eq!(to, addr(2));
    assert_eq!(
        decode_packet(&bytes),
        Ok(vec![
            Message::Suspect {
                name: name(2),
                incarnation: 0,
                from: name(1)
            },
            Message::Ping {
                seq: 1,
                target: name(2)
            },
        ])
    );
    let local = LocalNode {
        name: name(2),
        addr: addr(2),
        tags: Tags::new(),
    };
    let mut suspect = Gossip::new(at(0), local, Config::lan(), Rng::new(9));
    suspect
        .handle_datagram(at(1), addr(1), &bytes)
        .expect("decodes");
    let out = drain(&mut suspect);
    let ack = out.iter().find_map(|o| match o {
        Out::Datagram(to, msgs) if *to == addr(1) && msgs[0] == Message::Ack { seq: 1 } => {
            Some(msgs.clone())
        }
        _ => None,
    });
    let refutation = Message::Alive(AliveMessage {
        name: name(2),
        addr: addr(2),
        incarnation: 1,
        tags: Tags::new(),
    });
    assert!(ack.is_some_and(|msgs| msgs.contains(&refutation)));
}

#[test]
fn force_leave_turns_a_failed_member_left_and_gossips_it() {
    let mut g = node_with_peers(Config::lan(), 2);
    assert!(
        !g.force_leave(at(1), &name(2), false),
        "an alive member is not forced out"
    );
    assert!(!g.force_leave(at(1), "stranger", false));
    deliver(
        &mut g,
        at(1),
        3,
        &[Message::Dead {
            name: name(2),
            incarnation: 0,
            from: name(3),
        }],
    );
    settle(&mut g);
    assert!(g.force_leave(at(2), &name(2), false));
    let left = g.member(&name(2)).cloned().expect("listed");
    assert_eq!(left.status, MemberStatus::Left);
    let leave = Message::Dead {
        name: name(2),
        incarnation: 0,
        from: name(2),
    };
    assert_eq!(
        drain(&mut g),
        vec![
            Out::Event(Event::MemberLeft(left)),
            Out::Datagram(addr(3), vec![leave.clone()]),
        ]
    );
    assert_eq!(
        g.broadcasts.take(usize::MAX, 0, 1),
        vec![encode_message(&leave)]
    );
    assert!(!g.force_leave(at(3), &name(2), false), "already left");
}

#[test]
fn late_leave_about_a_failed_member_marks_it_left() {
    let mut g = node_with_peers(Config::lan(), 2);
    let dead = |from: u8| Message::Dead {
        name: name(2),
        incarnation: 0,
        from: name(from),
    };
    deliver(&mut g, at(1), 3, &[dead(3)]);
    drain(&mut g);
    deliver(&mut g, at(2), 3, &[dead(2)]);
    let left = g.member(&name(2)).cloned().expect("listed");
    assert_eq!(left.status, MemberStatus::Left);
    assert_eq!(drain(&mut g), vec![Out::Event(Event::MemberLeft(left))]);
}

#[test]
fn force_leave_with_prune_forgets_a_failed_member_at_once_and_gossips_the_prune() {
    let mut g = node_with_peers(Config::lan(), 2);
    assert!(
        !g.force_leave(at(1), &name(2), true),
        "an alive member is not pruned"
    );
    assert!(!g.force_leave(at(1), &name(1), true), "nor are we");
    let dead = Message::Dead {
        name: name(2),
        incarnation: 0,
        from: name(3),
    };
    deliver(&mut g, at(1), 3, &[dead]);
    settle(&mut g);
    assert!(g.force_leave(at(2), &name(2), true));
    assert_eq!(g.member(&name(2)), None, "pruned at once");
    let left = Member {
        status: MemberStatus::Left,
        status_since: at(2),
        ..member_view(2)
    };
    let prune = Message::Prune {
        name: name(2),
        incarnation: 0,
    };
    let leave = Message::Dead {
        name: name(2),
        incarnation: 0,
        from: name(2),
    };
    assert_eq!(
        drain(&mut g),
        vec![
            Out::Event(Event::MemberLeft(left.clone())),
            Out::Event(Event::MemberReaped(left)),
            Out::Datagram(addr(3), vec![leave, prune.clone()]),
        ]
    );
    assert_eq!(
        g.broadcasts.take(usize::MAX, 0, 1),
        vec![encode_message(&prune)]
    );
}

#[test]
fn a_gossiped_prune_removes_the_member_and_stale_alive_news_cannot_bring_it_back() {
    let mut g = node_with_peers(Config::lan(), 2);
    let prune = Message::Prune {
        name: name(2),
        incarnation: 0,
    };
    deliver(&mut g, at(1), 3, std::slice::from_ref(&prune));
    assert_eq!(g.member(&name(2)), None);
    assert_eq!(
        drain(&mut g),
        vec![Out::Event(Event::MemberReaped(member_view(2)))]
    );
    assert_eq!(
        g.broadcasts.take(usize::MAX, 0, 1),
        vec![encode_message(&prune)]
    );
    deliver(&mut g, at(2), 3, &[alive(2, 0)]);
    assert_eq!(g.member(&name(2)), None, "stale alive ignored");
    deliver(&mut g, at(3), 2, &[alive(2, 1)]);
    assert_eq!(
        g.member(&name(2)).map(|m| m.status),
        Some(MemberStatus::Alive),
        "a newer incarnation rejoins"
    );
}

#[test]
fn a_prune_about_ourselves_is_refuted() {
    let mut g = node_with_peers(Config::lan(), 2);
    deliver(
        &mut g,
        at(1),
        3,
        &[Message::Prune {
            name: name(1),
            incarnation: 0,
        }],
    );
    assert_eq!(g.local().incarnation, 1);
    assert_eq!(g.local().status, MemberStatus::Alive);
}

/// Member `i` as `node_with_peers` learnt it: alive at incarnation 0 since time zero.
fn member_view(i: u8) -> Member {
    Member {
        name: name(i),
        addr: addr(i),
        tags: Tags::new(),
        incarnation: 0,
        status: MemberStatus::Alive,
        status_since: at(0),
    }
}

#[test]
fn a_stream_ping_is_answered_by_a_stream_ack_that_settles_the_probe_without_awareness_change() {
    let mut g = node_with_peers(Config::lan(), 5);
    let ping = StreamMessage::Ping {
        seq: 7,
        target: name(1),
        from_addr: addr(2),
    };
    g.handle_stream(at(1), addr(2), &encode_stream(&ping))
        .expect("decodes");
    assert_eq!(
        drain(&mut g),
        vec![Out::Stream(addr(2), StreamMessage::Ack { seq: 7 })]
    );
    let misdirected = StreamMessage::Ping {
        seq: 8,
        target: name(3),
        from_addr: addr(2),
    };
    g.handle_stream(at(1), addr(2), &encode_stream(&misdirected))
        .expect("decodes");
    assert_eq!(drain(&mut g), vec![]);

    g.awareness.apply_delta(2);
    let start = g.next_probe;
    g.handle_timeout(start);
    let target = probe_target(&drain(&mut g));
    g.handle_timeout(start + Duration::from_millis(500));
    drain(&mut g);
    g.handle_stream(
        start + Duration::from_millis(600),
        addr_of(&target),
        &encode_stream(&StreamMessage::Ack { seq: 1 }),
    )
    .expect("decodes");
    assert!(g.probe.is_none());
    assert_eq!(g.awareness_score(), 2);
    assert_eq!(
        g.member(&target).map(|m| m.status),
        Some(MemberStatus::Alive)
    );
}
