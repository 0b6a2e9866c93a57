use std::collections::BTreeMap;

use synod_core::gossip::{Member, MemberStatus};
use synod_core::health::serf::serf_health_check;
use synod_core::state::catalog::Catalog;
use synod_core::state::catalog::types::{
    CatalogCommand, Deregistration, Node, Registration, Service, Weights,
};
use synod_core::time::Instant;

use super::*;

const DC: &str = "dc1";

fn local() -> Local {
    Local {
        datacenter: DC.into(),
        node_name: "s1".into(),
    }
}

/// Member `name` at 10.0.0.`n`; a server (RPC port 8300) when `server`.
fn member(name: &str, n: u8, status: MemberStatus, server: bool) -> Member {
    let mut tags: BTreeMap<String, String> = BTreeMap::from([
        ("dc".into(), DC.into()),
        ("id".into(), format!("{n:016x}-0000-0000-0000")),
        ("build".into(), "0.1.0:abc".into()),
        ("raft_vsn".into(), "3".into()),
    ]);
    tags.insert("role".into(), if server { "consul" } else { "node" }.into());
    tags.insert("port".into(), "8300".into());
    Member {
        name: name.into(),
        addr: format!("10.0.0.{n}:8301").parse().expect("addr"),
        tags,
        incarnation: 1,
        status,
        status_since: Instant::ZERO,
    }
}

fn node(name: &str, n: u8) -> Node {
    Node {
        id: format!("{n:016x}-0000-0000-0000"),
        node: name.into(),
        address: format!("10.0.0.{n}"),
        datacenter: DC.into(),
        ..Node::default()
    }
}

fn consul_service() -> Service {
    Service {
        id: "consul".into(),
        service: "consul".into(),
        port: 8300,
        meta: BTreeMap::from([
            ("non_voter".into(), "false".into()),
            ("raft_version".into(), "3".into()),
            ("version".into(), "0.1.0".into()),
        ]),
        weights: Weights::default(),
        ..Service::default()
    }
}

fn register(node: Node, skip: bool, service: Option<Service>, alive: bool) -> CatalogCommand {
    let name = node.node.clone();
    CatalogCommand::Register(Box::new(Registration {
        node,
        skip_node_update: skip,
        service,
        checks: vec![serf_health_check(&name, alive)],
    }))
}

fn deregister(name: &str) -> CatalogCommand {
    CatalogCommand::Deregister(Deregistration {
        node: name.into(),
        service_id: None,
        check_id: None,
    })
}

/// A catalog with `commands` applied from index 2 on.
fn catalog_after(commands: &[CatalogCommand]) -> Catalog {
    let mut catalog = Catalog::new();
    for (i, command) in commands.iter().enumerate() {
        catalog.apply(i as u64 + 2, command, &mut Vec::new());
    }
    catalog
}

#[test]
fn live_members_become_nodes_with_passing_serf_health_and_servers_carry_consul() {
    let members = [
        member("c1", 3, MemberStatus::Suspect, false),
        member("s1", 1, MemberStatus::Alive, true),
    ];
    assert_eq!(
        plan(&members, &Catalog::new(), &local()),
        vec![
            register(node("c1", 3), false, None, true),
            register(node("s1", 1), false, Some(consul_service()), true),
        ]
    );
}

#[test]
fn a_catalog_in_step_with_gossip_needs_no_writes() {
    let members = [
        member("s1", 1, MemberStatus::Alive, true),
        member("s2", 2, MemberStatus::Failed, true),
    ];
    let catalog = catalog_after(&plan(&members, &Catalog::new(), &local()));
    assert_eq!(plan(&members, &catalog, &local()), vec![]);
}

#[test]
fn a_failed_member_goes_critical_leaving_its_node_record_alone() {
    let alive = [member("s2", 2, MemberStatus::Alive, true)];
    let catalog = catalog_after(&plan(&alive, &Catalog::new(), &local()));
    let failed = [member("s2", 2, MemberStatus::Failed, true)];
    assert_eq!(
        plan(&failed, &catalog, &local()),
        vec![register(node("s2", 2), true, None, false)]
    );
}

#[test]
fn a_member_back_from_failure_is_passing_again() {
    let failed = [member("s2", 2, MemberStatus::Failed, true)];
    let catalog = catalog_after(&plan(&failed, &Catalog::new(), &local()));
    let back = [member("s2", 2, MemberStatus::Alive, true)];
    assert_eq!(
        plan(&back, &catalog, &local()),
        vec![register(node("s2", 2), false, Some(consul_service()), true)]
    );
}

#[test]
fn a_left_member_is_deregistered_but_never_this_server() {
    let alive = [
        member("s1", 1, MemberStatus::Alive, true),
        member("s2", 2, MemberStatus::Alive, true),
    ];
    let catalog = catalog_after(&plan(&alive, &Catalog::new(), &local()));
    let left = [
        member("s1", 1, MemberStatus::Left, true),
        member("s2", 2, MemberStatus::Left, true),
    ];
    assert_eq!(plan(&left, &catalog, &local()), vec![deregister("s2")]);
}

#[test]
fn reaped_gossip_nodes_go_but_nodes_registered_through_the_api_stay() {
    let external = CatalogCommand::Register(Box::new(Registration {
        node: node("external", 9),
        ..Registration::default()
    }));
    let mut commands = plan(
        &[member("c1", 3, MemberStatus::Alive, false)],
        &Catalog::new(),
        &local(),
    );
    commands.push(external);
    let catalog = catalog_after(&commands);
    assert_eq!(plan(&[], &catalog, &local()), vec![deregister("c1")]);
}

#[test]
fn alive_registration_keeps_metadata_and_tagged_addresses_set_by_the_agent() {
    let mut with_meta = node("c1", 3);
    with_meta.meta.insert("rack".into(), "r1".into());
    with_meta
        .tagged_addresses
        .insert("lan".into(), "10.0.0.3".into());
    let catalog = catalog_after(&[register(with_meta.clone(), false, None, false)]);
    assert_eq!(
        plan(
            &[member("c1", 3, MemberStatus::Alive, false)],
            &catalog,
            &local()
        ),
        vec![register(with_meta, false, None, true)]
    );
}

#[test]
fn members_of_another_datacenter_are_not_registered() {
    let mut elsewhere = member("w1", 4, MemberStatus::Alive, true);
    elsewhere.tags.insert("dc".into(), "dc2".into());
    assert_eq!(plan(&[elsewhere], &Catalog::new(), &local()), vec![]);
}

#[test]
fn a_moved_member_is_registered_at_its_new_address() {
    let catalog = catalog_after(&plan(
        &[member("c1", 3, MemberStatus::Alive, false)],
        &Catalog::new(),
        &local(),
    ));
    let mut moved = member("c1", 3, MemberStatus::Alive, false);
    moved.addr = "10.0.0.30:8301".parse().expect("addr");
    let mut record = node("c1", 3);
    record.address = "10.0.0.30".into();
    assert_eq!(
        plan(&[moved], &catalog, &local()),
        vec![register(record, false, None, true)]
    );
}
