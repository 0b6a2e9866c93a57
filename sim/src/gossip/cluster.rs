//! The simulated pool: nodes, the event queue and the faults the scenarios inject.

use super::network::NetConfig;
use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BinaryHeap};
use synod_core::gossip::{
    Action, Addr, Config, Event, Gossip, Keyring, LocalNode, Member, MemberStatus, Tags,
    UserEventError,
};
use synod_core::rand::Rng;
use synod_core::time::{Duration, Instant};

/// Index of a node in the cluster.
pub type NodeId = usize;

struct SimNode {
    gossip: Gossip,
    addr: Addr,
    crashed: bool,
    /// Extra delay before this node handles anything it receives (a "slow" node).
    inbound_delay: Duration,
    group: u32,
    bytes_sent: u64,
    rejected_packets: u64,
    scheduled: Option<Instant>,
}

enum Pending {
    Timer(NodeId),
    Datagram {
        to: NodeId,
        from: Addr,
        bytes: Vec<u8>,
    },
    Stream {
        to: NodeId,
        from: Addr,
        bytes: Vec<u8>,
    },
}

struct Queued {
    at: Instant,
    seq: u64,
    what: Pending,
}

impl PartialEq for Queued {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Queued {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// A deterministic gossip pool: same seed, same run.
pub struct Cluster {
    now: Instant,
    seed: u64,
    rng: Rng,
    net: NetConfig,
    nodes: Vec<SimNode>,
    by_addr: BTreeMap<Addr, NodeId>,
    queue: BinaryHeap<Reverse<Queued>>,
    seq: u64,
}

impl Cluster {
    /// An empty pool on a network.
    pub fn new(seed: u64, net: NetConfig) -> Cluster {
        Cluster {
            now: Instant::ZERO,
            seed,
            rng: Rng::new(seed),
            net,
            nodes: Vec::new(),
            by_addr: BTreeMap::new(),
            queue: BinaryHeap::new(),
            seq: 0,
        }
    }

    /// Current simulated time.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Number of nodes ever added.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when no node was added.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The name node `i` gossips under.
    pub fn name(i: NodeId) -> String {
        format!("node-{i}")
    }

    /// Adds a node (not yet joined to anyone).
    pub fn add_node(&mut self, config: Config, keyring: Option<Keyring>) -> NodeId {
        let id = self.nodes.len();
        let [_, _, hi, lo] = (id as u32).to_be_bytes();
        let addr = Addr::from(([10, 1, hi, lo], 8301));
        let tags = Tags::from([("role".to_owned(), "node".to_owned())]);
        let local = LocalNode {
            name: Cluster::name(id),
            addr,
            tags,
        };
        let rng = Rng::for_node(self.seed, id as u64);
        let mut gossip = Gossip::new(self.now, local, config, rng);
        if let Some(k) = keyring {
            gossip = gossip.with_keyring(k);
        }
        self.by_addr.insert(addr, id);
        self.nodes.push(SimNode {
            gossip,
            addr,
            crashed: false,
            inbound_delay: Duration::ZERO,
            group: 0,
            bytes_sent: 0,
            rejected_packets: 0,
            scheduled: None,
        });
        self.reschedule(id);
        id
    }

    /// Adds `n` nodes joining one by one through node 0 (200 ms apart) and runs until every
    /// node sees all of them live, or `deadline` of simulated time passed. True when formed.
    pub fn form_pool(
        &mut self,
        n: usize,
        config: &Config,
        keyring: Option<&Keyring>,
        deadline: Duration,
        observe: &mut impl FnMut(Instant, NodeId, &Event),
    ) -> bool {
        let first = self.nodes.len();
        for k in 0..n {
            let i = self.add_node(config.clone(), keyring.cloned());
            if k > 0 {
                self.join(i, &[first], observe);
            }
            self.run_for(Duration::from_millis(200), observe);
        }
        let until = self.now + deadline;
        while self.now < until {
            self.run_for(Duration::from_millis(500), observe);
            if (first..first + n).all(|i| self.live_members(i) == n) {
                return true;
            }
        }
        false
    }

    /// Restarts node `i` from scratch (incarnation 0, empty member list, no keyring), joining
    /// via `seeds`.
    pub fn restart(
        &mut self,
        i: NodeId,
        config: Config,
        seeds: &[NodeId],
        observe: &mut impl FnMut(Instant, NodeId, &Event),
    ) {
        let node = &self.nodes[i];
        let local = LocalNode {
            name: Cluster::name(i),
            addr: node.addr,
            tags: node.gossip.local().tags.clone(),
        };
        let rng = Rng::for_node(self.seed ^ self.now.as_micros(), i as u64);
        self.nodes[i].gossip = Gossip::new(self.now, local, config, rng);
        self.nodes[i].crashed = false;
        self.nodes[i].scheduled = None;
        self.join(i, seeds, observe);
    }

    /// Node `i` joins through `seeds`.
    pub fn join(
        &mut self,
        i: NodeId,
        seeds: &[NodeId],
        observe: &mut impl FnMut(Instant, NodeId, &Event),
    ) {
        let addrs: Vec<Addr> = seeds.iter().map(|s| self.nodes[*s].addr).collect();
        let now = self.now;
        self.nodes[i].gossip.join(now, &addrs);
        self.flush(i, observe);
    }

    /// Node `i` leaves gracefully (and keeps gossiping so the news spreads).
    pub fn leave(&mut self, i: NodeId, observe: &mut impl FnMut(Instant, NodeId, &Event)) {
        let now = self.now;
        self.nodes[i].gossip.leave(now);
        self.flush(i, observe);
    }

    /// Node `i` sends a user event.
    pub fn user_event(
        &mut self,
        i: NodeId,
        name: &str,
        payload: &[u8],
        observe: &mut impl FnMut(Instant, NodeId, &Event),
    ) -> Result<(), UserEventError> {
        let now = self.now;
        let sent = self.nodes[i].gossip.user_event(now, name, payload, false);
        self.flush(i, observe);
        sent
    }

    /// Node `i` stops: it sends and receives nothing from now on.
    pub fn crash(&mut self, i: NodeId) {
        self.nodes[i].crashed = true;
    }

    /// True when node `i` was crashed.
    pub fn is_crashed(&self, i: NodeId) -> bool {
        self.nodes[i].crashed
    }

    /// Node `i` handles everything it receives `delay` late (0 restores it).
    pub fn set_inbound_delay(&mut self, i: NodeId, delay: Duration) {
        self.nodes[i].inbound_delay = delay;
    }

    /// Splits the network: nodes talk only within their group (`groups[i]` for node `i`).
    pub fn partition(&mut self, groups: &[u32]) {
        for (n, g) in self.nodes.iter_mut().zip(groups) {
            n.group = *g;
        }
    }

    /// Removes every partition.
    pub fn heal(&mut self) {
        for n in &mut self.nodes {
            n.group = 0;
        }
    }

    /// Node `i`'s machine, for inspection.
    pub fn gossip(&self, i: NodeId) -> &Gossip {
        &self.nodes[i].gossip
    }

    /// How node `observer` sees node `subject`.
    pub fn view(&self, observer: NodeId, subject: NodeId) -> Option<&Member> {
        self.nodes[observer].gossip.member(&Cluster::name(subject))
    }

    /// Status of `subject` as `observer` sees it.
    pub fn status(&self, observer: NodeId, subject: NodeId) -> Option<MemberStatus> {
        self.view(observer, subject).map(|m| m.status)
    }

    /// Bytes node `i` has sent so far (datagrams and streams).
    pub fn bytes_sent(&self, i: NodeId) -> u64 {
        self.nodes[i].bytes_sent
    }

    /// Packets node `i` dropped because they failed to decrypt or decode.
    pub fn rejected_packets(&self, i: NodeId) -> u64 {
        self.nodes[i].rejected_packets
    }

    /// Number of members node `i` sees as alive or suspect (itself included).
    pub fn live_members(&self, i: NodeId) -> usize {
        self.nodes[i]
            .gossip
            .members()
            .filter(|m| m.status.is_live())
            .count()
    }

    /// Runs the simulation until `until`, reporting every event to `observe`.
    pub fn run_until(&mut self, until: Instant, observe: &mut impl FnMut(Instant, NodeId, &Event)) {
        while let Some(Reverse(next)) = self.queue.peek() {
            if next.at > until {
                break;
            }
            let Some(Reverse(q)) = self.queue.pop() else {
                break;
            };
            self.now = self.now.max(q.at);
            self.dispatch(q.what, observe);
        }
        self.now = self.now.max(until);
    }

    /// Runs for `d` more simulated time.
    pub fn run_for(&mut self, d: Duration, observe: &mut impl FnMut(Instant, NodeId, &Event)) {
        let until = self.now + d;
        self.run_until(until, observe);
    }

    fn dispatch(&mut self, what: Pending, observe: &mut impl FnMut(Instant, NodeId, &Event)) {
        let now = self.now;
        let node = match what {
            Pending::Timer(i) => {
                if self.nodes[i].scheduled != Some(now) {
                    return; // superseded
                }
                self.nodes[i].scheduled = None;
                if self.nodes[i].crashed {
                    return;
                }
                self.nodes[i].gossip.handle_timeout(now);
                i
            }
            Pending::Datagram { to, from, bytes } => {
                if self.nodes[to].crashed {
                    return;
                }
                if self.nodes[to]
                    .gossip
                    .handle_datagram(now, from, &bytes)
                    .is_err()
                {
                    self.nodes[to].rejected_packets += 1;
                }
                to
            }
            Pending::Stream { to, from, bytes } => {
                if self.nodes[to].crashed {
                    return;
                }
                if self.nodes[to]
                    .gossip
                    .handle_stream(now, from, &bytes)
                    .is_err()
                {
                    self.nodes[to].rejected_packets += 1;
                }
                to
            }
        };
        self.flush(node, observe);
    }

    /// Carries out node `i`'s pending actions and re-arms its timer.
    fn flush(&mut self, i: NodeId, observe: &mut impl FnMut(Instant, NodeId, &Event)) {
        while let Some(action) = self.nodes[i].gossip.poll_action() {
            match action {
                Action::SendDatagram { to, bytes } => self.send(i, to, bytes, false),
                Action::SendStream { to, bytes } => self.send(i, to, bytes, true),
                Action::Event(e) => observe(self.now, i, &e),
            }
        }
        self.reschedule(i);
    }

    fn send(&mut self, from: NodeId, to: Addr, bytes: Vec<u8>, stream: bool) {
        self.nodes[from].bytes_sent += bytes.len() as u64;
        let Some(&dest) = self.by_addr.get(&to) else {
            return;
        };
        let (src, dst) = (&self.nodes[from], &self.nodes[dest]);
        if src.crashed || dst.crashed || src.group != dst.group {
            return;
        }
        if !stream && self.net.drops(&mut self.rng) {
            return;
        }
        let at = self.now + self.net.delay(&mut self.rng) + dst.inbound_delay;
        let from_addr = src.addr;
        let what = if stream {
            Pending::Stream {
                to: dest,
                from: from_addr,
                bytes,
            }
        } else {
            Pending::Datagram {
                to: dest,
                from: from_addr,
                bytes,
            }
        };
        self.push(at, what);
    }

    fn reschedule(&mut self, i: NodeId) {
        let Some(at) = self.nodes[i].gossip.poll_timeout() else {
            return;
        };
        let at = at.max(self.now);
        if self.nodes[i].scheduled == Some(at) {
            return;
        }
        self.nodes[i].scheduled = Some(at);
        self.push(at, Pending::Timer(i));
    }

    fn push(&mut self, at: Instant, what: Pending) {
        self.seq += 1;
        self.queue.push(Reverse(Queued {
            at,
            seq: self.seq,
            what,
        }));
    }
}
