//! Hostile bytes on the gossip ports: garbage datagrams and streams are counted and dropped,
//! and the driver keeps working.

mod serf_support;

use std::io::Write;
use std::net::{TcpStream, UdpSocket};
use std::time::Duration;

use serf_support::{form_pool, run, start_node, wait_for};
use synod_core::gossip::Keyring;
use synod_core::wire::frame_payload;

fn send_garbage_datagrams(to: std::net::SocketAddr) {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("loopback");
    let packets: [&[u8]; 4] = [b"", b"\x01", b"\xff\xff\xff\xff garbage", &[0xee; 300]];
    for packet in packets {
        socket.send_to(packet, to).expect("loopback send");
    }
}

#[test]
fn garbage_datagrams_are_counted_and_ignored() {
    run(Duration::from_secs(8), |ex| async move {
        let nodes = form_pool(&ex, &["a", "b"], None).await;
        send_garbage_datagrams(nodes[0].addr());
        let counted = wait_for(Duration::from_secs(2), || {
            nodes[0].handle.stats().decode_errors >= 4
        })
        .await;
        assert!(counted.is_some(), "{:?}", nodes[0].handle.stats());
        assert_eq!(nodes[0].handle.stats().decrypt_failures, 0);
        // Still gossiping: a third node joins through the node that got the garbage.
        let c = start_node(&ex, "c", None);
        assert_eq!(c.handle.join(&[nodes[0].addr()]).await, Ok(1));
        let formed = wait_for(Duration::from_secs(3), || {
            nodes.iter().chain([&c]).all(|n| n.live_count() == 3)
        })
        .await;
        assert!(formed.is_some());
    });
}

#[test]
fn garbage_datagrams_to_an_encrypted_node_are_decrypt_failures() {
    run(Duration::from_secs(5), |ex| async move {
        let key = Keyring::new(&[3; 32], &[]).expect("32-byte key");
        let node = start_node(&ex, "a", Some(key));
        send_garbage_datagrams(node.addr());
        let counted = wait_for(Duration::from_secs(2), || {
            node.handle.stats().decrypt_failures >= 4
        })
        .await;
        assert!(counted.is_some(), "{:?}", node.handle.stats());
        assert_eq!(node.live_count(), 1);
    });
}

#[test]
fn garbage_streams_are_counted_and_ignored() {
    run(Duration::from_secs(8), |ex| async move {
        let node = start_node(&ex, "a", None);
        let to = node.addr();
        let bad_frames: [Vec<u8>; 3] = [
            // A frame whose body is not a push-pull.
            frame_payload(b"not a push-pull").to_vec(),
            // An unknown frame version.
            vec![0, 0, 0, 2, 9, 9],
            // A length far beyond the frame limit.
            vec![0xff, 0xff, 0xff, 0xff, 1],
        ];
        for frame in &bad_frames {
            let mut stream = TcpStream::connect(to).expect("loopback connect");
            stream.write_all(frame).expect("loopback write");
        }
        // A stream that ends halfway through its frame.
        let mut cut = TcpStream::connect(to).expect("loopback connect");
        cut.write_all(&[0, 0, 0, 50, 1, 2]).expect("loopback write");
        drop(cut);
        let counted = wait_for(Duration::from_secs(3), || {
            let s = node.handle.stats();
            s.decode_errors >= 3 && s.stream_failures >= 1
        })
        .await;
        assert!(counted.is_some(), "{:?}", node.handle.stats());
        assert_eq!(node.live_count(), 1);
        // A real peer can still join.
        let b = start_node(&ex, "b", None);
        assert_eq!(b.handle.join(&[to]).await, Ok(1));
        assert!(
            wait_for(Duration::from_secs(3), || node.live_count() == 2)
                .await
                .is_some()
        );
    });
}
