//! Consul's JSON for catalog and health answers (`structs.Node`, `ServiceNode`, `NodeService`,
//! `HealthCheck`, `CheckServiceNode`), fields in Go struct order. Lists and maps are never
//! `null`; the Connect fields Consul always writes are written empty.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;
use synod_core::go_duration::format_go_duration;
use synod_core::state::catalog::types::{
    Check, Indexed, Node, NodeServices, Service, ServiceAddress, ServiceHealth, ServiceInstance,
    Weights,
};

/// `structs.Node`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NodeJson<'a> {
    #[serde(rename = "ID")]
    id: &'a str,
    node: &'a str,
    address: &'a str,
    datacenter: &'a str,
    tagged_addresses: &'a BTreeMap<String, String>,
    meta: &'a BTreeMap<String, String>,
    create_index: u64,
    modify_index: u64,
}

impl<'a> From<&'a Indexed<Node>> for NodeJson<'a> {
    fn from(row: &'a Indexed<Node>) -> Self {
        let node = &row.item;
        NodeJson {
            id: &node.id,
            node: &node.node,
            address: &node.address,
            datacenter: &node.datacenter,
            tagged_addresses: &node.tagged_addresses,
            meta: &node.meta,
            create_index: row.create_index,
            modify_index: row.modify_index,
        }
    }
}

/// `structs.Weights`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct WeightsJson {
    passing: u32,
    warning: u32,
}

impl From<Weights> for WeightsJson {
    fn from(w: Weights) -> Self {
        WeightsJson {
            passing: w.passing,
            warning: w.warning,
        }
    }
}

/// `structs.ServiceAddress`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ServiceAddressJson<'a> {
    address: &'a str,
    port: u16,
}

fn tagged_service_addresses(
    map: &BTreeMap<String, ServiceAddress>,
) -> BTreeMap<&str, ServiceAddressJson<'_>> {
    map.iter()
        .map(|(tag, a)| {
            (
                tag.as_str(),
                ServiceAddressJson {
                    address: &a.address,
                    port: a.port,
                },
            )
        })
        .collect()
}

/// The empty `structs.ConnectProxyConfig` Consul writes for a plain service.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ProxyJson {
    mode: &'static str,
    mesh_gateway: Empty,
    expose: Empty,
}

const NO_PROXY: ProxyJson = ProxyJson {
    mode: "",
    mesh_gateway: Empty {},
    expose: Empty {},
};

/// `{}`.
#[derive(Serialize)]
struct Empty {}

/// `structs.ServiceNode`: a `/v1/catalog/service/<name>` row.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ServiceNodeJson<'a> {
    #[serde(rename = "ID")]
    id: &'a str,
    node: &'a str,
    address: &'a str,
    datacenter: &'a str,
    tagged_addresses: &'a BTreeMap<String, String>,
    node_meta: &'a BTreeMap<String, String>,
    service_kind: &'static str,
    #[serde(rename = "ServiceID")]
    service_id: &'a str,
    service_name: &'a str,
    service_tags: &'a [String],
    service_address: &'a str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    service_tagged_addresses: BTreeMap<&'a str, ServiceAddressJson<'a>>,
    service_weights: WeightsJson,
    service_meta: &'a BTreeMap<String, String>,
    service_port: u16,
    service_socket_path: &'static str,
    service_enable_tag_override: bool,
    service_proxy: ProxyJson,
    service_connect: Empty,
    create_index: u64,
    modify_index: u64,
}

impl<'a> From<&'a ServiceInstance> for ServiceNodeJson<'a> {
    fn from(row: &'a ServiceInstance) -> Self {
        let (node, service) = (&row.node.item, &row.service.item);
        ServiceNodeJson {
            id: &node.id,
            node: &node.node,
            address: &node.address,
            datacenter: &node.datacenter,
            tagged_addresses: &node.tagged_addresses,
            node_meta: &node.meta,
            service_kind: "",
            service_id: &service.id,
            service_name: &service.service,
            service_tags: &service.tags,
            service_address: &service.address,
            service_tagged_addresses: tagged_service_addresses(&service.tagged_addresses),
            service_weights: service.weights.into(),
            service_meta: &service.meta,
            service_port: service.port,
            service_socket_path: "",
            service_enable_tag_override: service.enable_tag_override,
            service_proxy: NO_PROXY,
            service_connect: Empty {},
            create_index: row.service.create_index,
            modify_index: row.service.modify_index,
        }
    }
}

/// `structs.NodeService`: a service in `/v1/catalog/node/<n>` and `/v1/health/service/<s>`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NodeServiceJson<'a> {
    #[serde(rename = "ID")]
    id: &'a str,
    service: &'a str,
    tags: &'a [String],
    address: &'a str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    tagged_addresses: BTreeMap<&'a str, ServiceAddressJson<'a>>,
    meta: &'a BTreeMap<String, String>,
    port: u16,
    weights: WeightsJson,
    enable_tag_override: bool,
    proxy: ProxyJson,
    connect: Empty,
    create_index: u64,
    modify_index: u64,
}

impl<'a> From<&'a Indexed<Service>> for NodeServiceJson<'a> {
    fn from(row: &'a Indexed<Service>) -> Self {
        let s = &row.item;
        NodeServiceJson {
            id: &s.id,
            service: &s.service,
            tags: &s.tags,
            address: &s.address,
            tagged_addresses: tagged_service_addresses(&s.tagged_addresses),
            meta: &s.meta,
            port: s.port,
            weights: s.weights.into(),
            enable_tag_override: s.enable_tag_override,
            proxy: NO_PROXY,
            connect: Empty {},
            create_index: row.create_index,
            modify_index: row.modify_index,
        }
    }
}

/// `structs.HealthCheck`. The catalog keeps no probe definition, so `Definition` is `{}`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HealthCheckJson<'a> {
    node: &'a str,
    #[serde(rename = "CheckID")]
    check_id: &'a str,
    name: &'a str,
    status: &'static str,
    notes: &'a str,
    output: &'a str,
    #[serde(rename = "ServiceID")]
    service_id: &'a str,
    service_name: &'a str,
    service_tags: &'a [String],
    #[serde(rename = "Type")]
    check_type: &'a str,
    interval: String,
    timeout: String,
    exposed_port: u16,
    definition: Empty,
    create_index: u64,
    modify_index: u64,
}

/// Go's `time.Duration.String()` for a set duration, `""` for none.
fn duration_text(micros: u64) -> String {
    if micros == 0 {
        String::new()
    } else {
        format_go_duration(Duration::from_micros(micros))
    }
}

impl<'a> From<&'a Indexed<Check>> for HealthCheckJson<'a> {
    fn from(row: &'a Indexed<Check>) -> Self {
        let c = &row.item;
        HealthCheckJson {
            node: &c.node,
            check_id: &c.check_id,
            name: &c.name,
            status: c.status.as_str(),
            notes: &c.notes,
            output: &c.output,
            service_id: &c.service_id,
            service_name: &c.service_name,
            service_tags: &c.service_tags,
            check_type: &c.check_type,
            interval: duration_text(c.interval_us),
            timeout: duration_text(c.timeout_us),
            exposed_port: 0,
            definition: Empty {},
            create_index: row.create_index,
            modify_index: row.modify_index,
        }
    }
}

/// `/v1/catalog/node/<n>`: `{"Node": …, "Services": {"<id>": …}}`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NodeServicesJson<'a> {
    node: NodeJson<'a>,
    services: BTreeMap<&'a str, NodeServiceJson<'a>>,
}

impl<'a> From<&'a NodeServices> for NodeServicesJson<'a> {
    fn from(found: &'a NodeServices) -> Self {
        NodeServicesJson {
            node: (&found.node).into(),
            services: found
                .services
                .iter()
                .map(|s| (s.item.id.as_str(), s.into()))
                .collect(),
        }
    }
}

/// `/v1/catalog/node-services/<n>`: `{"Node": …|null, "Services": […]}`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NodeServiceListJson<'a> {
    node: Option<NodeJson<'a>>,
    services: Vec<NodeServiceJson<'a>>,
}

impl<'a> From<Option<&'a NodeServices>> for NodeServiceListJson<'a> {
    fn from(found: Option<&'a NodeServices>) -> Self {
        NodeServiceListJson {
            node: found.map(|f| (&f.node).into()),
            services: found
                .map(|f| f.services.iter().map(NodeServiceJson::from).collect())
                .unwrap_or_default(),
        }
    }
}

/// `structs.CheckServiceNode`: a `/v1/health/service/<s>` entry.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CheckServiceNodeJson<'a> {
    node: NodeJson<'a>,
    service: NodeServiceJson<'a>,
    checks: Vec<HealthCheckJson<'a>>,
}

impl<'a> From<&'a ServiceHealth> for CheckServiceNodeJson<'a> {
    fn from(entry: &'a ServiceHealth) -> Self {
        CheckServiceNodeJson {
            node: (&entry.node).into(),
            service: (&entry.service).into(),
            checks: entry.checks.iter().map(HealthCheckJson::from).collect(),
        }
    }
}

#[cfg(test)]
#[path = "catalog_json_tests.rs"]
mod tests;
