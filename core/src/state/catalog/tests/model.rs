//! Model-based tests: the catalog against a naive model made of flat lists and full scans, over
//! random register/deregister sequences on a tiny alphabet (so names collide often).

use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

use crate::state::catalog::CatalogTarget;
use crate::state::catalog::types::{
    CatalogCommand, CatalogCommandResult, CatalogError, CatalogQuery, CatalogQueryResult, Check,
    CheckStateFilter, Deregistration, HealthStatus, Indexed, Node, NodeServices, Registration,
    Service, ServiceHealth, ServiceInstance,
};
use crate::state::watch::WatchId;
use crate::state::{Command, CommandResult, State, WatchStatus};

/// The naive reference: unsorted lists, every query a full scan.
#[derive(Default)]
struct Model {
    nodes: Vec<Indexed<Node>>,
    services: Vec<(String, Indexed<Service>)>,
    checks: Vec<Indexed<Check>>,
}

fn upsert<T: Clone + PartialEq>(
    rows: &mut Vec<Indexed<T>>,
    at: Option<usize>,
    index: u64,
    item: T,
) {
    match at {
        Some(i) if rows[i].item == item => {}
        Some(i) => {
            rows[i].item = item;
            rows[i].modify_index = index;
        }
        None => rows.push(Indexed {
            create_index: index,
            modify_index: index,
            item,
        }),
    }
}

impl Model {
    fn apply(&mut self, index: u64, cmd: &CatalogCommand) -> CatalogCommandResult {
        match cmd {
            CatalogCommand::Register(reg) => match self.register(index, reg) {
                Ok(()) => CatalogCommandResult::Done,
                Err(e) => CatalogCommandResult::Rejected(e),
            },
            CatalogCommand::Deregister(d) => {
                match (&d.service_id, &d.check_id) {
                    (None, None) => {
                        self.nodes.retain(|n| n.item.node != d.node);
                        self.services.retain(|(n, _)| *n != d.node);
                        self.checks.retain(|c| c.item.node != d.node);
                    }
                    (service_id, check_id) => {
                        if let Some(id) = service_id {
                            let exists = self.service_at(&d.node, id).is_some();
                            if exists {
                                self.checks.retain(|c| {
                                    !(c.item.node == d.node && c.item.service_id == *id)
                                });
                                self.services
                                    .retain(|(n, s)| !(*n == d.node && s.item.id == *id));
                            }
                        }
                        if let Some(id) = check_id {
                            self.checks
                                .retain(|c| !(c.item.node == d.node && c.item.check_id == *id));
                        }
                    }
                }
                CatalogCommandResult::Done
            }
        }
    }

    fn service_at(&self, node: &str, id: &str) -> Option<usize> {
        self.services
            .iter()
            .position(|(n, s)| n == node && s.item.id == id)
    }

    fn register(&mut self, index: u64, reg: &Registration) -> Result<(), CatalogError> {
        let name = reg.node.node.clone();
        if name.is_empty() {
            return Err(CatalogError::MissingNode);
        }
        if reg.node.address.is_empty() && !reg.skip_node_update {
            return Err(CatalogError::MissingAddress);
        }
        let mut service = reg.service.clone();
        if let Some(s) = &mut service {
            if s.service.is_empty() {
                return Err(CatalogError::MissingServiceName);
            }
            if s.id.is_empty() {
                s.id = s.service.clone();
            }
        }
        let mut checks = reg.checks.clone();
        for c in &mut checks {
            if c.node.is_empty() {
                c.node = name.clone();
            }
            if c.node != name {
                return Err(CatalogError::NodeMismatch {
                    check_node: c.node.clone(),
                });
            }
            if c.check_id.is_empty() {
                if c.name.is_empty() {
                    return Err(CatalogError::MissingCheckId);
                }
                c.check_id = c.name.clone();
            }
            let registered = service.as_ref().is_some_and(|s| s.id == c.service_id)
                || self.service_at(&name, &c.service_id).is_some();
            if !c.service_id.is_empty() && !registered {
                return Err(CatalogError::UnknownService {
                    check_id: c.check_id.clone(),
                    service_id: c.service_id.clone(),
                });
            }
        }
        // A check ID listed twice: only the last one counts.
        let checks: Vec<Check> = checks
            .iter()
            .enumerate()
            .filter(|(i, c)| {
                !checks[i + 1..]
                    .iter()
                    .any(|later| later.check_id == c.check_id)
            })
            .map(|(_, c)| c.clone())
            .collect();
        let at = self.nodes.iter().position(|n| n.item.node == name);
        if !(reg.skip_node_update && at.is_some()) {
            upsert(&mut self.nodes, at, index, reg.node.clone());
        }
        if let Some(s) = service {
            let mut rows: Vec<Indexed<Service>> =
                self.services.iter().map(|(_, s)| s.clone()).collect();
            let at = self.service_at(&name, &s.id);
            upsert(&mut rows, at, index, s);
            let row = match at {
                Some(i) => rows[i].clone(),
                None => rows[rows.len() - 1].clone(),
            };
            match at {
                Some(i) => self.services[i].1 = row,
                None => self.services.push((name.clone(), row)),
            }
        }
        for mut c in checks {
            match self
                .service_at(&name, &c.service_id)
                .filter(|_| !c.service_id.is_empty())
            {
                Some(i) => {
                    c.service_name = self.services[i].1.item.service.clone();
                    c.service_tags = self.services[i].1.item.tags.clone();
                }
                None => {
                    c.service_name.clear();
                    c.service_tags.clear();
                }
            }
            let at = self
                .checks
                .iter()
                .position(|x| x.item.node == c.node && x.item.check_id == c.check_id);
            upsert(&mut self.checks, at, index, c);
        }
        Ok(())
    }

    fn node(&self, name: &str) -> Option<&Indexed<Node>> {
        self.nodes.iter().find(|n| n.item.node == name)
    }

    fn meta_ok(&self, node: &str, filter: &[(String, String)]) -> bool {
        self.node(node)
            .is_some_and(|n| filter.iter().all(|(k, v)| n.item.meta.get(k) == Some(v)))
    }

    fn sorted_checks(&self, keep: impl Fn(&Check) -> bool) -> Vec<Indexed<Check>> {
        let mut found: Vec<_> = self
            .checks
            .iter()
            .filter(|c| keep(&c.item))
            .cloned()
            .collect();
        found.sort_by(|a, b| {
            (&a.item.node, &a.item.check_id).cmp(&(&b.item.node, &b.item.check_id))
        });
        found
    }

    fn instances(
        &self,
        name: &str,
        tags: &[String],
        meta: &[(String, String)],
    ) -> Vec<(Indexed<Node>, Indexed<Service>)> {
        let mut found: Vec<_> = self
            .services
            .iter()
            .filter(|(n, s)| {
                s.item.service == name
                    && self.meta_ok(n, meta)
                    && tags.iter().all(|t| {
                        s.item
                            .tags
                            .iter()
                            .any(|x| x.to_lowercase() == t.to_lowercase())
                    })
            })
            .filter_map(|(n, s)| Some((self.node(n)?.clone(), s.clone())))
            .collect();
        found.sort_by(|a, b| (&a.0.item.node, &a.1.item.id).cmp(&(&b.0.item.node, &b.1.item.id)));
        found
    }

    fn query(&self, query: &CatalogQuery) -> CatalogQueryResult {
        match query {
            CatalogQuery::Nodes { node_meta } => {
                let mut nodes: Vec<_> = self
                    .nodes
                    .iter()
                    .filter(|n| self.meta_ok(&n.item.node, node_meta))
                    .cloned()
                    .collect();
                nodes.sort_by(|a, b| a.item.node.cmp(&b.item.node));
                CatalogQueryResult::Nodes(nodes)
            }
            CatalogQuery::Services { node_meta } => {
                let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
                for (n, s) in &self.services {
                    if self.meta_ok(n, node_meta) {
                        map.entry(s.item.service.clone())
                            .or_default()
                            .extend(s.item.tags.clone());
                    }
                }
                CatalogQueryResult::Services(
                    map.into_iter()
                        .map(|(k, v)| (k, v.into_iter().collect()))
                        .collect(),
                )
            }
            CatalogQuery::ServiceNodes {
                service,
                tags,
                node_meta,
            } => CatalogQueryResult::ServiceNodes(
                self.instances(service, tags, node_meta)
                    .into_iter()
                    .map(|(node, service)| ServiceInstance { node, service })
                    .collect(),
            ),
            CatalogQuery::NodeServices { node } => {
                CatalogQueryResult::NodeServices(self.node(node).map(|n| {
                    let mut services: Vec<_> = self
                        .services
                        .iter()
                        .filter(|(x, _)| x == node)
                        .map(|(_, s)| s.clone())
                        .collect();
                    services.sort_by(|a, b| a.item.id.cmp(&b.item.id));
                    NodeServices {
                        node: n.clone(),
                        services,
                    }
                }))
            }
            CatalogQuery::NodeChecks { node } => {
                CatalogQueryResult::Checks(self.sorted_checks(|c| c.node == *node))
            }
            CatalogQuery::ServiceChecks { service, node_meta } => {
                let instances: BTreeSet<(String, String)> = self
                    .instances(service, &[], node_meta)
                    .into_iter()
                    .map(|(n, s)| (n.item.node, s.item.id))
                    .collect();
                CatalogQueryResult::Checks(self.sorted_checks(|c| {
                    !c.service_id.is_empty()
                        && instances.contains(&(c.node.clone(), c.service_id.clone()))
                }))
            }
            CatalogQuery::ChecksInState { state, node_meta } => {
                CatalogQueryResult::Checks(self.sorted_checks(|c| {
                    let status_ok = match state {
                        CheckStateFilter::Any => true,
                        CheckStateFilter::Only(s) => c.status == *s,
                    };
                    status_ok && self.meta_ok(&c.node, node_meta)
                }))
            }
            CatalogQuery::ServiceHealth {
                service,
                tags,
                node_meta,
                passing_only,
            } => CatalogQueryResult::ServiceHealth(
                self.instances(service, tags, node_meta)
                    .into_iter()
                    .map(|(node, service)| {
                        let checks = self.sorted_checks(|c| {
                            c.node == node.item.node
                                && (c.service_id.is_empty() || c.service_id == service.item.id)
                        });
                        ServiceHealth {
                            node,
                            service,
                            checks,
                        }
                    })
                    .filter(|e| {
                        !passing_only
                            || e.checks
                                .iter()
                                .all(|c| c.item.status == HealthStatus::Passing)
                    })
                    .collect(),
            ),
        }
    }
}

const NODES: [&str; 3] = ["a", "b", "z"];
const NAMES: [&str; 3] = ["web", "db", "nope"];

fn probe_queries() -> Vec<CatalogQuery> {
    let metas: Vec<Vec<(String, String)>> = vec![vec![], vec![("rack".into(), "r1".into())]];
    let tag_sets: Vec<Vec<String>> = vec![vec![], vec!["x".into()], vec!["x".into(), "Y".into()]];
    let mut all = Vec::new();
    for meta in &metas {
        all.push(CatalogQuery::Nodes {
            node_meta: meta.clone(),
        });
        all.push(CatalogQuery::Services {
            node_meta: meta.clone(),
        });
        for state in [
            CheckStateFilter::Any,
            CheckStateFilter::Only(HealthStatus::Passing),
            CheckStateFilter::Only(HealthStatus::Warning),
            CheckStateFilter::Only(HealthStatus::Critical),
        ] {
            all.push(CatalogQuery::ChecksInState {
                state,
                node_meta: meta.clone(),
            });
        }
        for name in NAMES {
            all.push(CatalogQuery::ServiceChecks {
                service: name.into(),
                node_meta: meta.clone(),
            });
            for tags in &tag_sets {
                all.push(CatalogQuery::ServiceNodes {
                    service: name.into(),
                    tags: tags.clone(),
                    node_meta: meta.clone(),
                });
                for passing_only in [false, true] {
                    all.push(CatalogQuery::ServiceHealth {
                        service: name.into(),
                        tags: tags.clone(),
                        node_meta: meta.clone(),
                        passing_only,
                    });
                }
            }
        }
    }
    for node in NODES {
        all.push(CatalogQuery::NodeServices { node: node.into() });
        all.push(CatalogQuery::NodeChecks { node: node.into() });
    }
    all
}

fn status() -> impl Strategy<Value = HealthStatus> {
    prop_oneof![
        Just(HealthStatus::Passing),
        Just(HealthStatus::Warning),
        Just(HealthStatus::Critical),
        Just(HealthStatus::Maintenance),
    ]
}

fn node_row() -> impl Strategy<Value = Node> {
    ("[ab]", "[12]?", proptest::option::of("r[12]")).prop_map(|(node, address, rack)| Node {
        node,
        address,
        meta: rack.into_iter().map(|r| ("rack".to_string(), r)).collect(),
        ..Node::default()
    })
}

fn service_row() -> impl Strategy<Value = Service> {
    (
        "(s[12])?",
        prop_oneof![Just("web"), Just("db"), Just("")],
        proptest::collection::vec("[xXyY]", 0..3),
        0u16..2,
    )
        .prop_map(|(id, name, tags, port)| Service {
            id,
            service: name.into(),
            tags,
            port,
            ..Service::default()
        })
}

fn check_row() -> impl Strategy<Value = Check> {
    (
        prop_oneof![Just(""), Just("c1"), Just("serfHealth")],
        prop_oneof![Just(""), Just("s1"), Just("web"), Just("db")],
        status(),
        "[o]?",
        prop_oneof![4 => Just(""), 1 => Just("b")],
    )
        .prop_map(|(id, service_id, status, output, node)| Check {
            check_id: id.into(),
            name: if id.is_empty() {
                "named".into()
            } else {
                String::new()
            },
            service_id: service_id.into(),
            status,
            output,
            node: node.into(),
            ..Check::default()
        })
}

fn command() -> impl Strategy<Value = CatalogCommand> {
    let register = (
        node_row(),
        any::<bool>(),
        proptest::option::of(service_row()),
        proptest::collection::vec(check_row(), 0..3),
    )
        .prop_map(|(node, skip_node_update, service, checks)| {
            CatalogCommand::Register(Box::new(Registration {
                node,
                skip_node_update,
                service,
                checks,
            }))
        });
    let deregister = (
        "[ab]",
        proptest::option::of(prop_oneof![Just("s1"), Just("s2"), Just("web"), Just("db")]),
        proptest::option::of(prop_oneof![Just("c1"), Just("serfHealth"), Just("named")]),
    )
        .prop_map(|(node, service_id, check_id)| {
            CatalogCommand::Deregister(Deregistration {
                node,
                service_id: service_id.map(Into::into),
                check_id: check_id.map(Into::into),
            })
        });
    prop_oneof![4 => register, 1 => deregister]
}

fn history() -> impl Strategy<Value = Vec<(u64, CatalogCommand)>> {
    proptest::collection::vec((1u64..3, command()), 1..30).prop_map(|steps| {
        let mut index = 1;
        steps
            .into_iter()
            .map(|(gap, cmd)| {
                index += gap;
                (index, cmd)
            })
            .collect()
    })
}

fn targets() -> Vec<CatalogTarget> {
    let mut all = vec![
        CatalogTarget::Nodes,
        CatalogTarget::Services,
        CatalogTarget::Checks,
    ];
    all.extend(NODES.map(|n| CatalogTarget::Node(n.into())));
    all.extend(NAMES.map(|n| CatalogTarget::Service(n.into())));
    all
}

/// What a watcher on `target` sees: the answers of every probe query reporting its index.
fn view(state: &State, target: &CatalogTarget) -> Vec<CatalogQueryResult> {
    probe_queries()
        .iter()
        .filter(|q| q.target() == *target)
        .map(|q| state.query_catalog(q).0)
        .collect()
}

/// Targets whose index is exact: it moves only when some answer reporting it changes. The
/// table-wide services and checks indexes also move on changes their filtered views hide.
fn exact(target: &CatalogTarget) -> bool {
    !matches!(target, CatalogTarget::Services | CatalogTarget::Checks)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn catalog_matches_the_model_and_indexes_never_go_backwards(steps in history()) {
        let mut state = State::new();
        let mut model = Model::default();
        let queries = probe_queries();
        let mut before: Vec<u64> = queries.iter().map(|q| state.query_catalog(q).1).collect();
        for (index, cmd) in &steps {
            let got = state.apply(*index, &Command::Catalog(cmd.clone()));
            prop_assert_eq!(got, CommandResult::Catalog(model.apply(*index, cmd)), "{:?}", cmd);
            for (query, seen) in queries.iter().zip(before.iter_mut()) {
                let (answer, at) = state.query_catalog(query);
                prop_assert_eq!(&answer, &model.query(query), "{:?} after {:?}", query, cmd);
                prop_assert!(at >= 1 && at >= *seen && at <= *index, "{:?} index {} after {}", query, at, seen);
                *seen = at;
            }
        }
    }

    #[test]
    fn watches_wake_when_their_answers_change_and_exact_ones_only_then(steps in history()) {
        let mut state = State::new();
        let targets = targets();
        for (index, cmd) in &steps {
            let mut seen = Vec::new();
            for (id, target) in targets.iter().enumerate() {
                let at = state.catalog().target_index(target).max(1);
                let status = state.watch_catalog(WatchId(id as u64), target.clone(), at);
                prop_assert_eq!(status, WatchStatus::Parked);
                seen.push(view(&state, target));
            }
            state.apply(*index, &Command::Catalog(cmd.clone()));
            let woken: BTreeSet<WatchId> = state.take_woken().into_iter().collect();
            for (id, target) in targets.iter().enumerate() {
                let changed = view(&state, target) != seen[id];
                let was_woken = woken.contains(&WatchId(id as u64));
                prop_assert!(!changed || was_woken, "{:?} changed but slept after {:?}", target, cmd);
                prop_assert!(!exact(target) || changed || !was_woken, "{:?} woke for nothing after {:?}", target, cmd);
            }
            for id in 0..targets.len() {
                state.cancel_watch(WatchId(id as u64));
            }
            prop_assert_eq!(state.parked_watches(), 0);
        }
    }

    #[test]
    fn snapshot_restore_reproduces_the_catalog(steps in history()) {
        let mut state = State::new();
        for (index, cmd) in &steps {
            state.apply(*index, &Command::Catalog(cmd.clone()));
        }
        let bytes = state.snapshot();
        let restored = State::restore(&bytes).expect("own snapshot restores");
        prop_assert_eq!(restored.catalog(), state.catalog());
        prop_assert_eq!(restored.snapshot(), bytes);
        for query in probe_queries() {
            prop_assert_eq!(restored.query_catalog(&query), state.query_catalog(&query));
        }
    }

    #[test]
    fn catalog_commands_round_trip_through_their_encoding(cmd in command()) {
        let cmd = Command::Catalog(cmd);
        prop_assert_eq!(crate::state::decode_command(&crate::state::encode_command(&cmd)), Ok(cmd));
    }
}
