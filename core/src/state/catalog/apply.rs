//! Catalog writes: register and deregister with Consul's upsert and cascade rules. A write that
//! changes nothing (an identical re-registration) bumps no index, so it wakes no watcher.

use std::collections::BTreeSet;

use crate::state::catalog::types::{
    CatalogCommand, CatalogCommandResult, CatalogError, Check, Deregistration, Indexed, Node,
    Registration, Service,
};
use crate::state::catalog::{Catalog, CatalogTarget, CheckKey, ServiceKey};

impl Catalog {
    /// Applies `cmd` at Raft `index`, pushing every watch target whose index moved onto
    /// `changed`.
    pub fn apply(
        &mut self,
        index: u64,
        cmd: &CatalogCommand,
        changed: &mut Vec<CatalogTarget>,
    ) -> CatalogCommandResult {
        let mut touched = BTreeSet::new();
        let outcome = match cmd {
            CatalogCommand::Register(reg) => self.register(index, reg, &mut touched),
            CatalogCommand::Deregister(dereg) => {
                self.deregister(dereg, &mut touched);
                Ok(())
            }
        };
        for target in touched {
            self.indexes.set(target.clone(), index);
            changed.push(target);
        }
        match outcome {
            Ok(()) => CatalogCommandResult::Done,
            Err(e) => CatalogCommandResult::Rejected(e),
        }
    }

    fn register(
        &mut self,
        index: u64,
        reg: &Registration,
        touched: &mut BTreeSet<CatalogTarget>,
    ) -> Result<(), CatalogError> {
        let (service, checks) = self.validate(reg)?;
        let node_name = &reg.node.node;
        let node_exists = self.nodes.contains_key(node_name);
        if !(reg.skip_node_update && node_exists) {
            self.ensure_node(index, &reg.node, touched);
        }
        if let Some(service) = service {
            self.ensure_service(index, node_name, service, touched);
        }
        for check in checks {
            self.ensure_check(index, check, touched);
        }
        Ok(())
    }

    /// Checks the whole registration before anything changes, filling Consul's defaults: a
    /// service ID defaults to its name, a check's node to the registration's, its ID to its name.
    fn validate(&self, reg: &Registration) -> Result<(Option<Service>, Vec<Check>), CatalogError> {
        let node_name = &reg.node.node;
        if node_name.is_empty() {
            return Err(CatalogError::MissingNode);
        }
        if reg.node.address.is_empty() && !reg.skip_node_update {
            return Err(CatalogError::MissingAddress);
        }
        let service = match &reg.service {
            Some(s) if s.service.is_empty() => return Err(CatalogError::MissingServiceName),
            Some(s) => {
                let mut s = s.clone();
                if s.id.is_empty() {
                    s.id = s.service.clone();
                }
                Some(s)
            }
            None => None,
        };
        let mut checks = Vec::with_capacity(reg.checks.len());
        for check in &reg.checks {
            let mut check = check.clone();
            if check.node.is_empty() {
                check.node = node_name.clone();
            } else if check.node != *node_name {
                return Err(CatalogError::NodeMismatch {
                    check_node: check.node,
                });
            }
            if check.check_id.is_empty() {
                if check.name.is_empty() {
                    return Err(CatalogError::MissingCheckId);
                }
                check.check_id = check.name.clone();
            }
            if !check.service_id.is_empty() {
                let in_this_registration =
                    service.as_ref().is_some_and(|s| s.id == check.service_id);
                let key = (node_name.clone(), check.service_id.clone());
                if !in_this_registration && !self.services.contains_key(&key) {
                    return Err(CatalogError::UnknownService {
                        check_id: check.check_id,
                        service_id: check.service_id,
                    });
                }
            }
            checks.push(check);
        }
        // Applying the same check ID twice leaves only the last; skipping the earlier ones
        // spares the watchers of services they would briefly touch.
        let mut seen = BTreeSet::new();
        checks.reverse();
        checks.retain(|c| seen.insert(c.check_id.clone()));
        checks.reverse();
        Ok((service, checks))
    }

    fn ensure_node(&mut self, index: u64, node: &Node, touched: &mut BTreeSet<CatalogTarget>) {
        let create_index = match self.nodes.get(&node.node) {
            Some(existing) if existing.item == *node => return,
            Some(existing) => {
                let (old, create_index) = (existing.item.clone(), existing.create_index);
                self.lookups.unlink_node(&old);
                create_index
            }
            None => index,
        };
        self.touch_node(&node.node, touched);
        self.lookups.link_node(node);
        self.nodes.insert(
            node.node.clone(),
            Indexed {
                create_index,
                modify_index: index,
                item: node.clone(),
            },
        );
    }

    fn ensure_service(
        &mut self,
        index: u64,
        node: &str,
        service: Service,
        touched: &mut BTreeSet<CatalogTarget>,
    ) {
        let key: ServiceKey = (node.to_owned(), service.id.clone());
        let create_index = match self.services.get(&key) {
            Some(existing) if existing.item == service => return,
            Some(existing) => {
                let (old, create_index) = (existing.item.clone(), existing.create_index);
                self.unlink_instance(&key, &old);
                touched.insert(CatalogTarget::Service(old.service));
                create_index
            }
            None => index,
        };
        touched.insert(CatalogTarget::Services);
        touched.insert(CatalogTarget::Node(node.to_owned()));
        touched.insert(CatalogTarget::Service(service.service.clone()));
        self.link_instance(&key, &service);
        self.services.insert(
            key,
            Indexed {
                create_index,
                modify_index: index,
                item: service,
            },
        );
    }

    fn ensure_check(
        &mut self,
        index: u64,
        mut check: Check,
        touched: &mut BTreeSet<CatalogTarget>,
    ) {
        // A check carries its service's name and tags as of its registration, as in Consul.
        let service_key = (check.node.clone(), check.service_id.clone());
        match self.services.get(&service_key) {
            Some(service) if !check.service_id.is_empty() => {
                check.service_name = service.item.service.clone();
                check.service_tags = service.item.tags.clone();
            }
            _ => {
                check.service_name.clear();
                check.service_tags.clear();
            }
        }
        let key: CheckKey = (check.node.clone(), check.check_id.clone());
        let create_index = match self.checks.get(&key) {
            Some(existing) if existing.item == check => return,
            Some(existing) => {
                let old = existing.item.clone();
                self.touch_check(&old, touched);
                existing.create_index
            }
            None => index,
        };
        self.touch_check(&check, touched);
        self.remove_check_row(&key);
        self.insert_check_row(Indexed {
            create_index,
            modify_index: index,
            item: check,
        });
    }

    /// Inserts a check row and its owner index entry; false when its key was taken.
    pub(super) fn insert_check_row(&mut self, row: Indexed<Check>) -> bool {
        let key: CheckKey = (row.item.node.clone(), row.item.check_id.clone());
        let owner: ServiceKey = (row.item.node.clone(), row.item.service_id.clone());
        if self.checks.contains_key(&key) {
            return false;
        }
        self.checks_by_owner
            .entry(owner)
            .or_default()
            .insert(row.item.check_id.clone());
        self.checks.insert(key, row);
        true
    }

    fn remove_check_row(&mut self, key: &CheckKey) {
        let Some(row) = self.checks.remove(key) else {
            return;
        };
        let owner: ServiceKey = (row.item.node, row.item.service_id);
        if let Some(ids) = self.checks_by_owner.get_mut(&owner) {
            ids.remove(&key.1);
            if ids.is_empty() {
                self.checks_by_owner.remove(&owner);
            }
        }
    }

    fn deregister(&mut self, dereg: &Deregistration, touched: &mut BTreeSet<CatalogTarget>) {
        let node = dereg.node.as_str();
        if dereg.service_id.is_none() && dereg.check_id.is_none() {
            self.remove_node(node, touched);
            return;
        }
        if let Some(service_id) = &dereg.service_id {
            self.remove_service(node, service_id, touched);
        }
        if let Some(check_id) = &dereg.check_id {
            self.remove_check(&(node.to_owned(), check_id.clone()), touched);
        }
    }

    fn remove_node(&mut self, node: &str, touched: &mut BTreeSet<CatalogTarget>) {
        if !self.nodes.contains_key(node) {
            return;
        }
        self.touch_node(node, touched);
        for key in self.node_check_keys(node) {
            self.remove_check_row(&key);
        }
        for key in self.node_service_keys(node) {
            if let Some(service) = self.services.remove(&key) {
                self.unlink_instance(&key, &service.item);
            }
        }
        if let Some(removed) = self.nodes.remove(node) {
            self.lookups.unlink_node(&removed.item);
        }
    }

    fn remove_service(&mut self, node: &str, id: &str, touched: &mut BTreeSet<CatalogTarget>) {
        let key: ServiceKey = (node.to_owned(), id.to_owned());
        let Some(service) = self.services.get(&key) else {
            return;
        };
        let name = service.item.service.clone();
        let own_checks: Vec<CheckKey> = self
            .checks_by_owner
            .get(&key)
            .into_iter()
            .flatten()
            .map(|check_id| (node.to_owned(), check_id.clone()))
            .collect();
        for check in own_checks {
            self.remove_check(&check, touched);
        }
        if let Some(removed) = self.services.remove(&key) {
            self.unlink_instance(&key, &removed.item);
        }
        touched.insert(CatalogTarget::Services);
        touched.insert(CatalogTarget::Node(node.to_owned()));
        touched.insert(CatalogTarget::Service(name));
    }

    fn remove_check(&mut self, key: &CheckKey, touched: &mut BTreeSet<CatalogTarget>) {
        if let Some(check) = self.checks.get(key) {
            let check = check.item.clone();
            self.touch_check(&check, touched);
            self.remove_check_row(key);
        }
    }

    /// A node's record changed (or it is going): everything that shows it moves.
    fn touch_node(&self, node: &str, touched: &mut BTreeSet<CatalogTarget>) {
        touched.insert(CatalogTarget::Nodes);
        touched.insert(CatalogTarget::Node(node.to_owned()));
        let services = self.node_service_keys(node);
        if !services.is_empty() {
            touched.insert(CatalogTarget::Services);
        }
        for key in services {
            if let Some(service) = self.services.get(&key) {
                touched.insert(CatalogTarget::Service(service.item.service.clone()));
            }
        }
        if self.has_checks(node) {
            touched.insert(CatalogTarget::Checks);
        }
    }

    /// A check changed: its table, its node, and the services it bears on (its own, or every
    /// service on the node for a node check).
    fn touch_check(&self, check: &Check, touched: &mut BTreeSet<CatalogTarget>) {
        touched.insert(CatalogTarget::Checks);
        touched.insert(CatalogTarget::Node(check.node.clone()));
        let services = if check.service_id.is_empty() {
            self.node_service_keys(&check.node)
        } else {
            vec![(check.node.clone(), check.service_id.clone())]
        };
        for key in services {
            if let Some(service) = self.services.get(&key) {
                touched.insert(CatalogTarget::Service(service.item.service.clone()));
            }
        }
    }

    /// Adds instance `key` to the by-name and lookup indexes.
    pub(super) fn link_instance(&mut self, key: &ServiceKey, service: &Service) {
        self.instances
            .entry(service.service.clone())
            .or_default()
            .insert(key.clone());
        self.lookups.link_service(key, service);
    }

    /// Removes instance `key` (as it was: `service`) from the by-name and lookup indexes.
    fn unlink_instance(&mut self, key: &ServiceKey, service: &Service) {
        let name = &service.service;
        let mut last = false;
        if let Some(keys) = self.instances.get_mut(name) {
            keys.remove(key);
            if keys.is_empty() {
                self.instances.remove(name);
                last = true;
            }
        }
        self.lookups.unlink_service(key, service, last);
    }
}
