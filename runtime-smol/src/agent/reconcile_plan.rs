//! What the leader writes to bring the catalog in step with LAN gossip, as Consul's leader does:
//! every live member is a node with a passing `serfHealth` check (servers also carry the
//! `consul` service), a failed member's `serfHealth` goes critical, and a member that left or
//! was reaped is deregistered. Pure: members and catalog in, catalog writes out.

use std::collections::{BTreeMap, BTreeSet};

use synod_core::gossip::{Member, MemberStatus};
use synod_core::health::serf::{SERF_CHECK_ID, serf_health_check};
use synod_core::state::catalog::Catalog;
use synod_core::state::catalog::types::{
    CatalogCommand, CatalogQuery, CatalogQueryResult, Deregistration, HealthStatus, Node,
    NodeServices, Registration, Service, Weights,
};

use super::formation::server_member;

/// Consul's service every server registers for itself (`consul.service.consul`).
pub(crate) const CONSUL_SERVICE: &str = "consul";

/// Whose catalog this is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Local {
    /// This datacenter: members of others are not ours to register.
    pub(crate) datacenter: String,
    /// This server's node name: never deregistered by itself (a successor does it).
    pub(crate) node_name: String,
}

/// The writes that reconcile `catalog` with `members`, in member-name order, then the
/// deregistrations of nodes gossip no longer knows.
pub(crate) fn plan(members: &[Member], catalog: &Catalog, local: &Local) -> Vec<CatalogCommand> {
    let mut commands = Vec::new();
    let mut known = BTreeSet::new();
    for member in members {
        if member
            .tags
            .get("dc")
            .is_some_and(|dc| *dc != local.datacenter)
        {
            continue;
        }
        known.insert(member.name.as_str());
        let command = match member.status {
            MemberStatus::Alive | MemberStatus::Suspect => alive(member, catalog, local),
            MemberStatus::Failed => failed(member, catalog, local),
            MemberStatus::Left => gone(&member.name, catalog, local),
        };
        commands.extend(command);
    }
    commands.extend(reaped(catalog, &known, local));
    commands
}

fn node_of(catalog: &Catalog, name: &str) -> Option<NodeServices> {
    let query = CatalogQuery::NodeServices {
        node: name.to_owned(),
    };
    match catalog.query(&query).0 {
        CatalogQueryResult::NodeServices(found) => found,
        _ => None,
    }
}

/// The status of `node`'s `serfHealth` check, if it has one.
fn serf_status(catalog: &Catalog, node: &str) -> Option<HealthStatus> {
    let query = CatalogQuery::NodeChecks {
        node: node.to_owned(),
    };
    match catalog.query(&query).0 {
        CatalogQueryResult::Checks(checks) => checks
            .into_iter()
            .find(|c| c.item.check_id == SERF_CHECK_ID)
            .map(|c| c.item.status),
        _ => None,
    }
}

/// The node record gossip implies, keeping the tagged addresses and metadata someone else
/// (the node's agent) registered.
fn node_record(member: &Member, existing: Option<&NodeServices>, datacenter: &str) -> Node {
    let existing = existing.map(|e| &e.node.item);
    Node {
        id: member
            .tags
            .get("id")
            .cloned()
            .or_else(|| existing.map(|n| n.id.clone()))
            .unwrap_or_default(),
        node: member.name.clone(),
        address: member.addr.ip().to_string(),
        datacenter: datacenter.to_owned(),
        tagged_addresses: existing
            .map(|n| n.tagged_addresses.clone())
            .unwrap_or_default(),
        meta: existing.map(|n| n.meta.clone()).unwrap_or_default(),
    }
}

/// The `consul` service a server member carries: its RPC port and Raft facts.
fn consul_service(member: &Member, datacenter: &str) -> Option<Service> {
    let server = server_member(member, datacenter)?;
    let port = server.rpc_addr.rsplit(':').next()?.parse().ok()?;
    let tag = |name: &str| member.tags.get(name).cloned().unwrap_or_default();
    let version = tag("build")
        .split(':')
        .next()
        .unwrap_or_default()
        .to_owned();
    Some(Service {
        id: CONSUL_SERVICE.to_owned(),
        service: CONSUL_SERVICE.to_owned(),
        port,
        meta: BTreeMap::from([
            ("non_voter".to_owned(), "false".to_owned()),
            ("raft_version".to_owned(), tag("raft_vsn")),
            ("version".to_owned(), version),
        ]),
        weights: Weights::default(),
        ..Service::default()
    })
}

fn alive(member: &Member, catalog: &Catalog, local: &Local) -> Option<CatalogCommand> {
    let existing = node_of(catalog, &member.name);
    let service = consul_service(member, &local.datacenter);
    let record = node_record(member, existing.as_ref(), &local.datacenter);
    let in_step = existing.as_ref().is_some_and(|e| {
        e.node.item == record
            && service
                .as_ref()
                .is_none_or(|s| e.services.iter().any(|have| have.item == *s))
    }) && serf_status(catalog, &member.name) == Some(HealthStatus::Passing);
    if in_step {
        return None;
    }
    Some(CatalogCommand::Register(Box::new(Registration {
        node: record,
        skip_node_update: false,
        service,
        checks: vec![serf_health_check(&member.name, true)],
    })))
}

fn failed(member: &Member, catalog: &Catalog, local: &Local) -> Option<CatalogCommand> {
    let existing = node_of(catalog, &member.name);
    let address = member.addr.ip().to_string();
    let same_node = existing
        .as_ref()
        .is_some_and(|e| e.node.item.address == address);
    if same_node && serf_status(catalog, &member.name) == Some(HealthStatus::Critical) {
        return None;
    }
    Some(CatalogCommand::Register(Box::new(Registration {
        node: node_record(member, existing.as_ref(), &local.datacenter),
        // Whatever else is known about the node stays as it is.
        skip_node_update: existing.is_some(),
        service: None,
        checks: vec![serf_health_check(&member.name, false)],
    })))
}

fn gone(name: &str, catalog: &Catalog, local: &Local) -> Option<CatalogCommand> {
    if name == local.node_name || node_of(catalog, name).is_none() {
        return None;
    }
    Some(CatalogCommand::Deregister(Deregistration {
        node: name.to_owned(),
        service_id: None,
        check_id: None,
    }))
}

/// Nodes gossip put in the catalog (they carry `serfHealth`) that it no longer knows at all.
fn reaped(catalog: &Catalog, known: &BTreeSet<&str>, local: &Local) -> Vec<CatalogCommand> {
    catalog
        .nodes()
        .map(|n| n.item.node.as_str())
        .filter(|name| !known.contains(name) && *name != local.node_name)
        .filter(|name| serf_status(catalog, name).is_some())
        .map(|name| {
            CatalogCommand::Deregister(Deregistration {
                node: name.to_owned(),
                service_id: None,
                check_id: None,
            })
        })
        .collect()
}

#[cfg(test)]
#[path = "reconcile_plan_tests.rs"]
mod tests;
