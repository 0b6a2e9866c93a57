//! The semantics: which records answer a question, as a [`Plan`].

use std::collections::BTreeSet;
use std::net::IpAddr;

use simple_dns::RCODE;

use super::config::DnsConfig;
use super::name::{self, Lookup, Target};
use super::query::Question;
use super::records::{self, Data, Owner, Plan, Record};
use super::view::{CatalogView, Health, InstanceView};
use crate::rand::Rng;

/// Query types the answerer distinguishes.
pub(crate) mod qtype {
    pub(crate) const A: u16 = 1;
    pub(crate) const NS: u16 = 2;
    pub(crate) const SOA: u16 = 6;
    pub(crate) const PTR: u16 = 12;
    pub(crate) const TXT: u16 = 16;
    pub(crate) const AAAA: u16 = 28;
    pub(crate) const SRV: u16 = 33;
    pub(crate) const IXFR: u16 = 251;
    pub(crate) const AXFR: u16 = 252;
    pub(crate) const ANY: u16 = 255;
}

const CLASS_IN: u16 = 1;
const CLASS_ANY: u16 = 255;
/// Most NS records in an apex answer (Consul's).
const MAX_NS: usize = 3;

/// The answer to `question`, or `None` when the name is not ours to answer (forward or refuse).
/// Service answers stop at `budget` records (more could not be sent), so huge services cost
/// what fits rather than what exists.
pub(crate) fn plan(
    question: &Question<'_>,
    view: &impl CatalogView,
    config: &DnsConfig,
    budget: usize,
    rng: &mut Rng,
) -> Option<Plan> {
    if question.qclass != CLASS_IN && question.qclass != CLASS_ANY {
        return Some(Plan::bare(RCODE::Refused, false));
    }
    let mut domains = vec![config.domain.as_str()];
    domains.extend(config.alt_domain.as_deref());
    let dc = view.datacenter();
    match name::classify(&question.name, question.qtype, &domains, dc) {
        Target::Outside => None,
        Target::Reverse(addr) => reverse(question.qtype, addr, view, config),
        Target::Zone { domain, lookup } => {
            let zone = Zone {
                view,
                config,
                domain,
                qtype: question.qtype,
                budget,
            };
            Some(zone.plan(lookup, rng))
        }
    }
}

/// PTR for a node's address, else for a service's own address.
fn reverse(qtype: u16, addr: IpAddr, view: &impl CatalogView, config: &DnsConfig) -> Option<Plan> {
    if !wants(qtype, qtype::PTR) {
        return None;
    }
    let dc = view.datacenter();
    let (target, ttl) = match view.node_by_addr(addr) {
        Some(node) => (
            records::node_name(node.name, dc, &config.domain)?,
            config.node_ttl,
        ),
        None => {
            let service = view.service_by_addr(addr)?;
            let name = records::service_name(service, dc, &config.domain)?;
            (name, config.service_ttl(service))
        }
    };
    let mut plan = Plan::empty();
    plan.answers.push(Record {
        owner: Owner::Question,
        ttl,
        data: Data::Ptr(target),
    });
    Some(plan)
}

/// True when a question of type `qtype` asks for records of type `rtype`.
fn wants(qtype: u16, rtype: u16) -> bool {
    qtype == rtype || qtype == qtype::ANY
}

fn wants_addr(qtype: u16, addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(_) => wants(qtype, qtype::A),
        IpAddr::V6(_) => wants(qtype, qtype::AAAA),
    }
}

/// One question inside one of our domains.
struct Zone<'a, V> {
    view: &'a V,
    config: &'a DnsConfig,
    domain: &'a str,
    qtype: u16,
    budget: usize,
}

impl<V: CatalogView> Zone<'_, V> {
    fn plan(&self, lookup: Lookup, rng: &mut Rng) -> Plan {
        if self.qtype == qtype::AXFR || self.qtype == qtype::IXFR {
            return Plan::bare(RCODE::NotImplemented, true);
        }
        let plan = match lookup {
            Lookup::Apex => self.apex(rng),
            Lookup::EmptyNonTerminal => Plan::empty(),
            Lookup::Service { service, tag } => self.service(&service, tag.as_deref(), rng),
            Lookup::Node(node) => self.node(&node),
            Lookup::Addr(addr) => self.addr(addr),
            Lookup::NoSuchName => return self.negative(RCODE::NameError),
        };
        if plan.rcode == RCODE::NoError && plan.answers.is_empty() {
            return self.negative(RCODE::NoError);
        }
        plan
    }

    fn negative(&self, rcode: RCODE) -> Plan {
        Plan::negative(rcode, self.soa())
    }

    fn soa(&self) -> Record {
        records::soa(self.domain, self.view.soa_serial(), self.config)
    }

    fn dc(&self) -> &str {
        self.view.datacenter()
    }

    fn apex(&self, rng: &mut Rng) -> Plan {
        let mut plan = Plan::empty();
        if wants(self.qtype, qtype::SOA) {
            let mut soa = self.soa();
            soa.owner = Owner::Question;
            plan.answers.push(soa);
        }
        if wants(self.qtype, qtype::NS) {
            let mut servers = self.view.servers();
            rng.shuffle(&mut servers);
            let ttl = self.config.node_ttl;
            let mut listed = 0;
            for server in servers {
                if listed == MAX_NS {
                    break;
                }
                let Some(target) = records::node_name(server.name, self.dc(), self.domain) else {
                    continue;
                };
                plan.answers.push(Record {
                    owner: Owner::Question,
                    ttl,
                    data: Data::Ns(target.clone()),
                });
                let glue = records::address(Owner::Name(target), ttl, server.addr);
                plan.additional.push((plan.answers.len(), glue));
                listed += 1;
            }
        }
        plan
    }

    fn service(&self, service: &str, tag: Option<&str>, rng: &mut Rng) -> Plan {
        let only_passing = self.config.only_passing;
        let mut instances = self.view.service_instances(service, tag);
        instances.retain(|i| match i.health {
            Health::Passing => true,
            Health::Warning => !only_passing,
            Health::Critical => false,
        });
        if instances.is_empty() {
            return self.negative(RCODE::NameError);
        }
        rng.shuffle(&mut instances);
        let ttl = self.config.service_ttl(service);
        let mut plan = Plan::empty();
        if self.qtype == qtype::SRV {
            self.srv_records(&instances, ttl, &mut plan);
        } else {
            self.service_addresses(&instances, ttl, &mut plan);
        }
        plan
    }

    /// One A/AAAA per distinct address of the wanted family, up to `a_record_limit`.
    fn service_addresses(&self, instances: &[InstanceView<'_>], ttl: u32, plan: &mut Plan) {
        let limit = self.config.a_record_limit.map_or(usize::MAX, usize::from);
        let mut seen = BTreeSet::new();
        for addr in instances.iter().map(InstanceView::addr) {
            if !wants_addr(self.qtype, addr) || !seen.insert(addr) {
                continue;
            }
            if plan.answers.len() == limit {
                break; // a policy cap, not a truncation
            }
            if !self.room_for_one_more(plan) {
                break;
            }
            plan.answers
                .push(records::address(Owner::Question, ttl, addr));
        }
    }

    /// False (and the plan marked as having omitted answers) once the budget is spent.
    fn room_for_one_more(&self, plan: &mut Plan) -> bool {
        plan.omitted = plan.answers.len() >= self.budget;
        !plan.omitted
    }

    /// One SRV per distinct node:address:port, its target's address (and node meta) in the
    /// additional section.
    fn srv_records(&self, instances: &[InstanceView<'_>], ttl: u32, plan: &mut Plan) {
        let mut seen = BTreeSet::new();
        let mut targets = BTreeSet::new();
        for instance in instances {
            let addr = instance.addr();
            if !seen.insert((instance.node.name, addr, instance.port)) {
                continue;
            }
            if !self.room_for_one_more(plan) {
                break;
            }
            let own_addr = instance.has_own_addr();
            let target = if own_addr {
                records::addr_name(addr, self.dc(), self.domain)
            } else {
                records::node_name(instance.node.name, self.dc(), self.domain)
            };
            let Some(target) = target else {
                continue; // a node name that cannot be a DNS name
            };
            let weight = match instance.health {
                Health::Passing => instance.weights.passing,
                Health::Warning | Health::Critical => instance.weights.warning,
            };
            plan.answers.push(Record {
                owner: Owner::Question,
                ttl,
                data: Data::Srv {
                    weight,
                    port: instance.port,
                    target: target.clone(),
                },
            });
            let needs = plan.answers.len();
            if !targets.insert(target.clone()) {
                continue;
            }
            let owner = Owner::Name(target);
            plan.additional
                .push((needs, records::address(owner.clone(), ttl, addr)));
            if !own_addr && self.config.enable_additional_node_meta_txt {
                for txt in meta_records(owner, ttl, instance.node.meta) {
                    plan.additional.push((needs, txt));
                }
            }
        }
    }

    fn node(&self, name: &str) -> Plan {
        let Some(node) = self.view.node(name) else {
            return self.negative(RCODE::NameError);
        };
        let ttl = self.config.node_ttl;
        let mut plan = Plan::empty();
        if wants_addr(self.qtype, node.addr) {
            plan.answers
                .push(records::address(Owner::Question, ttl, node.addr));
        }
        let meta = meta_records(Owner::Question, ttl, node.meta);
        if wants(self.qtype, qtype::TXT) {
            plan.answers.extend(meta);
        } else if !plan.answers.is_empty() && self.config.enable_additional_node_meta_txt {
            plan.additional.extend(meta.map(|txt| (1, txt)));
        }
        plan
    }

    fn addr(&self, addr: IpAddr) -> Plan {
        let mut plan = Plan::empty();
        if wants_addr(self.qtype, addr) {
            let ttl = self.config.node_ttl;
            plan.answers
                .push(records::address(Owner::Question, ttl, addr));
        }
        plan
    }
}

fn meta_records<'m>(
    owner: Owner,
    ttl: u32,
    meta: &'m std::collections::BTreeMap<String, String>,
) -> impl Iterator<Item = Record> + 'm {
    meta.iter().map(move |(key, value)| Record {
        owner: owner.clone(),
        ttl,
        data: Data::Txt(records::meta_txt(key, value)),
    })
}
