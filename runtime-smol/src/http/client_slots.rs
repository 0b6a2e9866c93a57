//! Connections open per client address, capped (Consul's `limits.http_max_conns_per_client`),
//! so one client cannot take every slot of the server-wide cap.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

/// What a client over its cap is told before its connection closes (Consul answers 429).
pub const OVER_LIMIT_RESPONSE: &[u8] =
    b"HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

/// Open connections per client address.
#[derive(Debug)]
pub struct ClientSlots {
    limit: usize,
    open: Mutex<BTreeMap<IpAddr, usize>>,
}

/// One open connection of a client; dropping it frees the slot.
#[derive(Debug)]
pub struct ClientSlot {
    slots: Arc<ClientSlots>,
    ip: IpAddr,
}

impl ClientSlots {
    /// At most `limit` connections per address; 0 means no limit.
    pub fn new(limit: usize) -> Arc<Self> {
        Arc::new(ClientSlots {
            limit,
            open: Mutex::new(BTreeMap::new()),
        })
    }

    /// A slot for a connection from `ip`, or `None` when that address is at its limit.
    pub fn try_acquire(self: &Arc<Self>, ip: IpAddr) -> Option<ClientSlot> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(ip).or_insert(0);
        if self.limit != 0 && *count >= self.limit {
            return None;
        }
        *count += 1;
        Some(ClientSlot {
            slots: Arc::clone(self),
            ip,
        })
    }

    /// Connections open from `ip`.
    pub fn open(&self, ip: IpAddr) -> usize {
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.get(&ip).copied().unwrap_or(0)
    }
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut open = self
            .slots
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_gets_its_own_limit_and_dropping_frees_a_slot() {
        let slots = ClientSlots::new(2);
        let a: IpAddr = "10.0.0.1".parse().expect("ip");
        let b: IpAddr = "10.0.0.2".parse().expect("ip");
        let first = slots.try_acquire(a).expect("first");
        let _second = slots.try_acquire(a).expect("second");
        assert!(slots.try_acquire(a).is_none());
        assert!(slots.try_acquire(b).is_some());
        drop(first);
        assert_eq!(slots.open(a), 1);
        assert!(slots.try_acquire(a).is_some());
    }

    #[test]
    fn zero_means_unlimited() {
        let slots = ClientSlots::new(0);
        let ip: IpAddr = "::1".parse().expect("ip");
        let held: Vec<_> = (0..500).filter_map(|_| slots.try_acquire(ip)).collect();
        assert_eq!(held.len(), 500);
    }
}
