//! The ownership graph: for every object that has owners, or dependents, or waits for the
//! collector (a foreground or orphan deletion), its identity, its owners and its dependents.
//! Nothing else is kept — no copies of objects — so the graph stays small next to the
//! objects themselves. Changes to the graph yield the work they make necessary.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::Value;

use crate::server::controllers::controller_ref::owner_references;
use crate::server::registry::catalog::{self, ResourceType};
use crate::server::registry::object;

pub const FOREGROUND: &str = "foregroundDeletion";
pub const ORPHAN: &str = "orphan";

pub type Uid = Arc<str>;

/// Where an object can be read: its type (if served), namespace and name.
#[derive(Clone)]
pub struct Identity {
    pub rt: Option<&'static ResourceType>,
    pub namespace: Option<String>,
    pub name: String,
    pub uid: Uid,
}

/// What the collector has to do about an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Work {
    /// Decide whether the object goes (or, for an owner only known by reference, whether it
    /// exists; for a foreground deletion, whether its dependents are gone).
    Delete(Uid),
    /// Take the object's dependents off it, then let it go.
    Orphan(Uid),
}

#[derive(Debug, Clone)]
struct OwnerLink {
    uid: Uid,
    blocks: bool,
}

struct Node {
    identity: Identity,
    owners: Vec<OwnerLink>,
    dependents: HashSet<Uid>,
    /// Seen in a list or watch; otherwise only known from a dependent's owner reference.
    observed: bool,
    deleting: bool,
    deleting_dependents: bool,
    orphaning: bool,
}

impl Node {
    fn needed(&self) -> bool {
        !self.owners.is_empty() || !self.dependents.is_empty() || self.deleting_dependents || self.orphaning
    }
}

/// What a worker needs to know about an object.
#[derive(Clone)]
pub struct Snapshot {
    pub identity: Identity,
    pub observed: bool,
    pub deleting: bool,
    pub deleting_dependents: bool,
    /// Every dependent, with whether it blocks this owner's deletion and whether it is itself
    /// waiting for its own dependents.
    pub dependents: Vec<Dependent>,
}

#[derive(Clone)]
pub struct Dependent {
    pub identity: Identity,
    pub blocks: bool,
    pub deleting_dependents: bool,
}

#[derive(Default)]
pub struct Graph {
    nodes: HashMap<Uid, Node>,
}

/// One owner reference with the identity it points at.
struct Reference {
    link: OwnerLink,
    identity: Identity,
}

fn references(rt: &ResourceType, obj: &Value) -> Vec<Reference> {
    owner_references(obj)
        .iter()
        .filter_map(|r| {
            let uid = r.get("uid").and_then(Value::as_str).filter(|u| !u.is_empty())?;
            let owner_rt = catalog::find_kind(
                r.get("apiVersion").and_then(Value::as_str).unwrap_or_default(),
                r.get("kind").and_then(Value::as_str).unwrap_or_default(),
            );
            let namespace = match owner_rt {
                Some(o) if o.namespaced && rt.namespaced => Some(object::namespace(obj).to_string()),
                _ => None,
            };
            let uid: Uid = uid.into();
            Some(Reference {
                link: OwnerLink {
                    uid: uid.clone(),
                    blocks: r.get("blockOwnerDeletion").and_then(Value::as_bool) == Some(true),
                },
                identity: Identity {
                    rt: owner_rt,
                    namespace,
                    name: r.get("name").and_then(Value::as_str).unwrap_or_default().to_string(),
                    uid,
                },
            })
        })
        .collect()
}

impl Graph {
    pub(super) fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Records the current state of `obj` (of type `rt`).
    pub fn upsert(&mut self, rt: &'static ResourceType, obj: &Value) -> Vec<Work> {
        let uid = object::uid(obj);
        if uid.is_empty() {
            return Vec::new();
        }
        let finalizers = object::finalizers(obj);
        let deleting = object::is_deleting(obj);
        let deleting_dependents = deleting && finalizers.iter().any(|f| f == FOREGROUND);
        let orphaning = deleting && finalizers.iter().any(|f| f == ORPHAN);
        let refs = references(rt, obj);
        let mut work = Vec::new();
        let uid: Uid = match self.nodes.get_key_value(uid) {
            Some((key, _)) => key.clone(),
            None if refs.is_empty() && !deleting_dependents && !orphaning => return work,
            None => uid.into(),
        };
        let identity = Identity {
            rt: Some(rt),
            namespace: Some(object::namespace(obj).to_string()).filter(|n| !n.is_empty()),
            name: object::name(obj).to_string(),
            uid: uid.clone(),
        };
        let node = self.nodes.entry(uid.clone()).or_insert_with(|| Node {
            identity: identity.clone(),
            owners: Vec::new(),
            dependents: HashSet::new(),
            observed: true,
            deleting,
            deleting_dependents,
            orphaning,
        });
        node.identity = identity;
        node.observed = true;
        node.deleting = deleting;
        node.deleting_dependents = deleting_dependents;
        node.orphaning = orphaning;
        let previous = std::mem::take(&mut node.owners);
        node.owners = refs.iter().map(|r| r.link.clone()).collect();
        // Owners this object stopped blocking may be able to finish their deletion.
        for old in &previous {
            let still = refs.iter().find(|r| r.link.uid == old.uid);
            if still.is_none_or(|r| old.blocks && !r.link.blocks) {
                if let Some(owner) = self.nodes.get(&old.uid) {
                    if owner.deleting_dependents {
                        work.push(Work::Delete(old.uid.clone()));
                    }
                }
            }
            if still.is_none() {
                self.unlink(&old.uid, &uid);
            }
        }
        for reference in refs {
            if previous.iter().any(|p| p.uid == reference.link.uid) {
                continue;
            }
            let owner = self.nodes.entry(reference.link.uid.clone()).or_insert_with(|| {
                // Known only by reference: have a worker check that it exists.
                work.push(Work::Delete(reference.link.uid.clone()));
                Node {
                    identity: reference.identity.clone(),
                    owners: Vec::new(),
                    dependents: HashSet::new(),
                    observed: false,
                    deleting: false,
                    deleting_dependents: false,
                    orphaning: false,
                }
            });
            owner.dependents.insert(uid.clone());
        }
        if orphaning {
            work.push(Work::Orphan(uid.clone()));
        }
        if deleting_dependents {
            let node = &self.nodes[&uid];
            work.extend(node.dependents.iter().map(|d| Work::Delete(d.clone())));
            work.push(Work::Delete(uid.clone()));
        }
        self.prune(&uid);
        work
    }

    /// The object `uid` is gone (deleted, or an owner known by reference that does not exist).
    pub fn remove(&mut self, uid: &str) -> Vec<Work> {
        let Some(node) = self.nodes.remove(uid) else { return Vec::new() };
        let mut work: Vec<Work> = node.dependents.iter().map(|d| Work::Delete(d.clone())).collect();
        for owner in &node.owners {
            if self.nodes.get(&owner.uid).is_some_and(|o| o.deleting_dependents) {
                work.push(Work::Delete(owner.uid.clone()));
            }
            self.unlink(&owner.uid, uid);
        }
        work
    }

    /// Forgets the objects of type `rt` that a fresh list no longer has.
    pub fn retain_listed(&mut self, rt: &ResourceType, listed: &HashSet<String>) -> Vec<Work> {
        let gone: Vec<Uid> = self
            .nodes
            .iter()
            .filter(|(uid, n)| {
                n.observed
                    && n.identity.rt.is_some_and(|t| t.group == rt.group && t.plural == rt.plural)
                    && !listed.contains(&***uid)
            })
            .map(|(uid, _)| uid.clone())
            .collect();
        gone.iter().flat_map(|uid| self.remove(uid)).collect()
    }

    pub fn snapshot(&self, uid: &str) -> Option<Snapshot> {
        let node = self.nodes.get(uid)?;
        let dependents = node
            .dependents
            .iter()
            .filter_map(|d| self.nodes.get(d))
            .map(|dep| Dependent {
                identity: dep.identity.clone(),
                blocks: dep.owners.iter().any(|o| &*o.uid == uid && o.blocks),
                deleting_dependents: dep.deleting_dependents,
            })
            .collect();
        Some(Snapshot {
            identity: node.identity.clone(),
            observed: node.observed,
            deleting: node.deleting,
            deleting_dependents: node.deleting_dependents,
            dependents,
        })
    }

    fn unlink(&mut self, owner: &str, dependent: &str) {
        if let Some(node) = self.nodes.get_mut(owner) {
            node.dependents.remove(dependent);
        }
        self.prune(owner);
    }

    fn prune(&mut self, uid: &str) {
        if self.nodes.get(uid).is_some_and(|n| !n.needed()) {
            self.nodes.remove(uid);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rt(plural: &str) -> &'static ResourceType {
        catalog::all().iter().find(|t| t.plural == plural).unwrap()
    }

    fn pod(uid: &str, owner: Option<(&str, bool)>) -> Value {
        let refs: Vec<Value> = owner
            .into_iter()
            .map(|(o, block)| json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": o, "blockOwnerDeletion": block}))
            .collect();
        json!({"metadata": {"name": format!("p-{uid}"), "namespace": "ns", "uid": uid, "ownerReferences": refs}})
    }

    fn rs(uid: &str, finalizers: &[&str]) -> Value {
        let mut obj = json!({"metadata": {"name": "rs", "namespace": "ns", "uid": uid}});
        if !finalizers.is_empty() {
            obj["metadata"]["finalizers"] = json!(finalizers);
            obj["metadata"]["deletionTimestamp"] = json!("2024-01-01T00:00:00Z");
        }
        obj
    }

    #[test]
    fn owners_known_by_reference_are_verified_once() {
        let mut g = Graph::default();
        assert_eq!(g.upsert(rt("pods"), &pod("p1", Some(("r1", true)))), [Work::Delete("r1".into())]);
        assert!(g.upsert(rt("pods"), &pod("p2", Some(("r1", true)))).is_empty());
        let owner = g.snapshot("r1").unwrap();
        assert!(!owner.observed);
        assert_eq!(owner.identity.namespace.as_deref(), Some("ns"));
        assert_eq!(owner.identity.rt.unwrap().plural, "replicasets");
        assert_eq!(owner.dependents.len(), 2);
        assert!(g.upsert(rt("replicasets"), &rs("r1", &[])).is_empty());
        assert!(g.snapshot("r1").unwrap().observed);
    }

    #[test]
    fn a_deleted_owner_sends_its_dependents_to_collection() {
        let mut g = Graph::default();
        g.upsert(rt("pods"), &pod("p1", Some(("r1", true))));
        g.upsert(rt("pods"), &pod("p2", Some(("r1", true))));
        let mut work = g.remove("r1");
        work.sort_by_key(|w| format!("{w:?}"));
        assert_eq!(work, [Work::Delete("p1".into()), Work::Delete("p2".into())]);
        // Dependents are gone too: nothing is left.
        g.remove("p1");
        g.remove("p2");
        assert_eq!(g.len(), 0);
    }

    #[test]
    fn objects_without_owners_or_dependents_are_not_kept() {
        let mut g = Graph::default();
        assert!(g
            .upsert(rt("configmaps"), &json!({"metadata": {"name": "c", "uid": "c1", "namespace": "ns"}}))
            .is_empty());
        assert_eq!(g.len(), 0);
        g.upsert(rt("pods"), &pod("p1", Some(("r1", true))));
        assert_eq!(g.len(), 2);
        // Released by its owner: both drop out of the graph.
        g.upsert(rt("pods"), &pod("p1", None));
        assert_eq!(g.len(), 0);
    }

    #[test]
    fn foreground_deletion_waits_for_blocking_dependents() {
        let mut g = Graph::default();
        g.upsert(rt("pods"), &pod("p1", Some(("r1", true))));
        g.upsert(rt("pods"), &pod("p2", Some(("r1", false))));
        let mut work = g.upsert(rt("replicasets"), &rs("r1", &[FOREGROUND]));
        work.sort_by_key(|w| format!("{w:?}"));
        assert_eq!(work, [Work::Delete("p1".into()), Work::Delete("p2".into()), Work::Delete("r1".into())]);
        let owner = g.snapshot("r1").unwrap();
        assert!(owner.deleting_dependents);
        let blocking: Vec<_> = owner.dependents.iter().filter(|d| d.blocks).map(|d| d.identity.uid.clone()).collect();
        assert_eq!(blocking, [Uid::from("p1")]);
        // The blocking dependent goes: the owner is looked at again.
        assert_eq!(g.remove("p1"), [Work::Delete("r1".into())]);
        // A dependent that stops blocking also wakes the owner.
        g.upsert(rt("pods"), &pod("p3", Some(("r1", true))));
        assert_eq!(g.upsert(rt("pods"), &pod("p3", Some(("r1", false)))), [Work::Delete("r1".into())]);
    }

    #[test]
    fn orphan_deletion_and_relists() {
        let mut g = Graph::default();
        g.upsert(rt("pods"), &pod("p1", Some(("r1", true))));
        assert!(g.upsert(rt("replicasets"), &rs("r1", &[ORPHAN])).contains(&Work::Orphan("r1".into())));
        // A relist of pods without p1: p1 is forgotten.
        g.retain_listed(rt("pods"), &HashSet::new());
        assert!(g.snapshot("p1").is_none());
        assert!(g.snapshot("r1").unwrap().dependents.is_empty());
    }
}
