//! What the replicated catalog itself costs, without Raft, HTTP or the shell: applies
//! `services × 3` registrations (one passing check each, shaped like `catalog_bench`'s) to a
//! fresh `State` and prints the RSS growth per instance, then how long one full clone of that
//! state takes (what publishing a read view by cloning costs per apply).
//!
//! `cargo run --release -p synod-tests --bin catalog_memory [-- SERVICES]` (default 10000).

use std::time::Instant;

use synod_core::state::State;
use synod_core::state::catalog::types::{
    CatalogCommand, Check, HealthStatus, Node, Registration, Service,
};

const INSTANCES: usize = 3;
const NODES: usize = 100;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn registration(n: usize) -> CatalogCommand {
    let (service, instance, node) = (n / INSTANCES, n % INSTANCES, n % NODES);
    let id = format!("svc-{service}-{instance}");
    CatalogCommand::Register(Box::new(Registration {
        node: Node {
            node: format!("node-{node}"),
            address: format!("10.0.{}.{}", node / 250, node % 250 + 1),
            datacenter: "dc1".into(),
            ..Node::default()
        },
        skip_node_update: false,
        service: Some(Service {
            id: id.clone(),
            service: format!("svc-{service}"),
            tags: vec!["v1".into()],
            port: 8000 + instance as u16,
            ..Service::default()
        }),
        checks: vec![Check {
            check_id: id.clone(),
            name: "alive".into(),
            status: HealthStatus::Passing,
            service_id: id,
            ..Check::default()
        }],
    }))
}

fn main() {
    let services: usize = std::env::args()
        .nth(1)
        .map_or(Some(10_000), |a| a.parse().ok())
        .unwrap_or_else(|| {
            eprintln!("usage: catalog_memory [SERVICES]");
            std::process::exit(2)
        });
    let total = services * INSTANCES;
    let before = rss_kib();
    let mut state = State::new();
    for n in 0..total {
        state.apply(n as u64 + 2, &registration(n).into());
    }
    let after = rss_kib();
    println!(
        "catalog state: {total} instances, RSS +{} KiB, {:.0} bytes per instance with one check",
        after.saturating_sub(before),
        after.saturating_sub(before) as f64 * 1024.0 / total as f64
    );
    let started = Instant::now();
    let copy = state.clone();
    let took = started.elapsed();
    println!(
        "one full State clone at {total} instances: {:.1} ms (index {})",
        took.as_secs_f64() * 1e3,
        copy.index()
    );
}
