mod model;
mod semantics;

use crate::state::catalog::types::{
    CatalogCommand, Check, Deregistration, HealthStatus, Node, Registration, Service,
};
use crate::state::{Command, CommandResult, State};

fn node(name: &str, address: &str) -> Node {
    Node {
        node: name.into(),
        address: address.into(),
        datacenter: "dc1".into(),
        ..Node::default()
    }
}

fn service(id: &str, name: &str, tags: &[&str]) -> Service {
    Service {
        id: id.into(),
        service: name.into(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        port: 80,
        ..Service::default()
    }
}

fn check(id: &str, status: HealthStatus, service_id: &str) -> Check {
    Check {
        check_id: id.into(),
        name: id.into(),
        status,
        service_id: service_id.into(),
        ..Check::default()
    }
}

fn register(node: Node, service: Option<Service>, checks: Vec<Check>) -> Command {
    Command::Catalog(CatalogCommand::Register(Box::new(Registration {
        node,
        skip_node_update: false,
        service,
        checks,
    })))
}

fn deregister(node: &str, service_id: Option<&str>, check_id: Option<&str>) -> Command {
    Command::Catalog(CatalogCommand::Deregister(Deregistration {
        node: node.into(),
        service_id: service_id.map(Into::into),
        check_id: check_id.map(Into::into),
    }))
}

fn done() -> CommandResult {
    CommandResult::Catalog(crate::state::catalog::types::CatalogCommandResult::Done)
}

/// Applies `(index, command)` pairs, asserting that each is accepted.
fn apply_ok(state: &mut State, commands: Vec<(u64, Command)>) {
    for (index, cmd) in commands {
        assert_eq!(state.apply(index, &cmd), done(), "{cmd:?}");
    }
}
