//! One UDP serving thread: blocking `recv_from` on a socket shared by all of them.

use std::net::UdpSocket;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use synod_core::api::dns::{Transport, Written};

use super::forward::{Forwarder, Job};
use super::responder::Responder;

/// The largest datagram a query can be.
const MAX_DATAGRAM: usize = 65_535;

/// Serves queries until `stop` is set (and a datagram wakes the thread).
pub(crate) fn serve(
    socket: Arc<UdpSocket>,
    mut responder: Responder,
    forwarder: Option<Forwarder>,
    transport: Transport,
    stop: Arc<AtomicBool>,
) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    // One reply buffer for the thread's lifetime: answers are written over it.
    let mut reply = Vec::with_capacity(usize::from(u16::MAX));
    loop {
        let received = socket.recv_from(&mut buf);
        if stop.load(Ordering::Acquire) {
            return;
        }
        // Errors on an unconnected UDP socket are transient (e.g. a signal); keep serving.
        let Ok((len, peer)) = received else { continue };
        let query = &buf[..len];
        match responder.answer(query, transport, &mut reply) {
            Written::Reply => {
                let _ = socket.send_to(&reply, peer);
            }
            Written::Forward => match &forwarder {
                Some(forwarder) => forwarder.submit(Job {
                    query: query.to_vec(),
                    servfail: reply.clone(),
                    socket: socket.clone(),
                    peer,
                }),
                None => {
                    let _ = socket.send_to(&reply, peer);
                }
            },
            Written::Drop => {}
        }
    }
}
