//! The proxy's table as programmed, and the transactions that change it: after a start the
//! whole table is replaced in one transaction (whatever an earlier run left is gone at once);
//! afterwards only what changed for the services that changed is written: map entries added
//! and removed, the chains whose rules differ flushed and refilled.
//!
//! Planning a change does not touch the programmed state; `apply` records it once the kernel
//! has taken the transaction, so a refused transaction leaves the record true.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use netlink_packet_netfilter::nftables::NfTablesMessage;
use netlink_packet_netfilter::NetfilterProtoFamily;

use super::plan::{Rule, ServiceRules};
use super::skeleton::{self, Map};
use crate::net::nft::objects::{self, KeyPart, SetKind};
use crate::net::nft::Transaction;

const FAMILY: NetfilterProtoFamily = NetfilterProtoFamily::IPv4;
/// How long an emptied chain waits before it is deleted: kernels before 6.2 release a chain
/// from a deleted map entry only a moment after the transaction.
pub const STALE_CHAIN_GRACE: Duration = Duration::from_secs(1);

type ElementKey = (Map, Vec<u8>);

/// What is in the kernel.
pub struct Ruleset {
    table: String,
    services: HashMap<String, ServiceRules>,
    /// The service holding each map entry: when two services want the same address and port
    /// (external IPs are chosen by users), the first keeps it.
    owners: HashMap<ElementKey, String>,
    /// Services that want an entry another holds, to plan again once it is free.
    waiting: HashMap<ElementKey, BTreeSet<String>>,
    /// Emptied chains no service uses any more, with the time they were emptied.
    stale_chains: BTreeMap<String, Instant>,
}

/// A planned change: the transaction and what the table holds once the kernel took it.
pub struct Change {
    pub transaction: Transaction,
    /// Replaces the whole record (a rebuild) rather than updating it.
    rebuild: bool,
    services: Vec<(String, Option<ServiceRules>)>,
    claims: HashMap<ElementKey, Option<String>>,
    waits: Vec<(ElementKey, String)>,
    stale_added: Vec<String>,
    stale_removed: Vec<String>,
}

impl Ruleset {
    pub fn new(table: &str) -> Self {
        Self {
            table: table.to_string(),
            services: HashMap::new(),
            owners: HashMap::new(),
            waiting: HashMap::new(),
            stale_chains: BTreeMap::new(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Replaces the table (creating it if needed) with the skeleton and these services.
    pub fn rebuild(&self, desired: BTreeMap<String, ServiceRules>) -> Change {
        let mut batch = Batch::new(&self.table);
        let table = self.table.as_str();
        // Creating before deleting makes the delete succeed whether or not the table existed.
        batch.push(objects::table(table), format!("creating table ip {table}"));
        batch.push(objects::delete_table(table), format!("replacing table ip {table}"));
        batch.push(objects::table(table), format!("creating table ip {table}"));
        let mut ids = batch.ids();
        for message in skeleton::messages(table, &mut || ids.next()) {
            batch.push(message, format!("building the skeleton of table ip {table}"));
        }
        batch.next_id = ids.0;
        let mut change = Change::new(true);
        let no_owners = HashMap::new();
        let mut claims = HashMap::new();
        let mut ownership = Ownership { owners: &no_owners, claims: &mut claims };
        for (name, rules) in desired {
            let rules = ownership.settle(&name, None, rules, &mut change.waits);
            batch.add_service(&name, &ServiceRules::default(), &rules, &BTreeMap::new(), &mut change);
            change.services.push((name, Some(rules)));
        }
        change.claims = claims;
        change.transaction = batch.finish();
        change
    }

    /// Brings the services in `desired` to their new rules (`None`: the service is gone).
    pub fn update(&self, desired: BTreeMap<String, Option<ServiceRules>>) -> Change {
        let mut batch = Batch::new(&self.table);
        let mut change = Change::new(false);
        let mut claims = HashMap::new();
        let mut ownership = Ownership { owners: &self.owners, claims: &mut claims };
        let empty = ServiceRules::default();
        for (name, rules) in desired {
            let old = self.services.get(&name).unwrap_or(&empty);
            let new = ownership.settle(&name, Some(old), rules.unwrap_or_default(), &mut change.waits);
            if *old != new {
                batch.add_service(&name, old, &new, &self.stale_chains, &mut change);
            }
            change.services.push((name, (new != empty).then_some(new)));
        }
        change.claims = claims;
        change.transaction = batch.finish();
        change
    }

    /// Deletes the chains emptied at least `STALE_CHAIN_GRACE` before `now`; `None` when there
    /// are none yet.
    pub fn delete_stale_chains(&self, now: Instant) -> Option<Change> {
        let due: Vec<String> = self
            .stale_chains
            .iter()
            .filter(|(_, emptied)| now.duration_since(**emptied) >= STALE_CHAIN_GRACE)
            .map(|(chain, _)| chain.clone())
            .collect();
        if due.is_empty() {
            return None;
        }
        let mut batch = Batch::new(&self.table);
        for chain in &due {
            batch.push(objects::delete_chain(&self.table, chain), format!("deleting unused chain {chain}"));
        }
        let mut change = Change::new(false);
        change.transaction = batch.finish();
        change.stale_removed = due;
        Some(change)
    }

    /// When the next stale chain is due for deletion.
    pub fn next_stale_deadline(&self) -> Option<Instant> {
        self.stale_chains.values().min().map(|emptied| *emptied + STALE_CHAIN_GRACE)
    }

    /// Records a change the kernel took; returns the services to plan again because an entry
    /// they wanted is free now.
    pub fn apply(&mut self, change: Change, now: Instant) -> BTreeSet<String> {
        if change.rebuild {
            self.services.clear();
            self.owners.clear();
            self.waiting.clear();
            self.stale_chains.clear();
        }
        for (name, rules) in change.services {
            match rules {
                Some(rules) => self.services.insert(name, rules),
                None => self.services.remove(&name),
            };
        }
        let mut retry = BTreeSet::new();
        for (key, owner) in change.claims {
            match owner {
                Some(owner) => {
                    self.owners.insert(key, owner);
                }
                None => {
                    self.owners.remove(&key);
                    retry.extend(self.waiting.remove(&key).unwrap_or_default());
                }
            }
        }
        for (key, service) in change.waits {
            self.waiting.entry(key).or_default().insert(service);
        }
        for chain in change.stale_removed {
            self.stale_chains.remove(&chain);
        }
        for chain in change.stale_added {
            self.stale_chains.insert(chain, now);
        }
        retry
    }

    /// How many services have rules.
    pub fn len(&self) -> usize {
        self.services.len()
    }

    pub fn is_empty(&self) -> bool {
        self.services.is_empty()
    }
}

impl Change {
    fn new(rebuild: bool) -> Self {
        Self {
            transaction: Transaction::new(),
            rebuild,
            services: Vec::new(),
            claims: HashMap::new(),
            waits: Vec::new(),
            stale_added: Vec::new(),
            stale_removed: Vec::new(),
        }
    }
}

/// Who holds which map entry, as a change goes through its services.
struct Ownership<'a> {
    owners: &'a HashMap<ElementKey, String>,
    claims: &'a mut HashMap<ElementKey, Option<String>>,
}

impl Ownership<'_> {
    fn owner(&self, key: &ElementKey) -> Option<&String> {
        match self.claims.get(key) {
            Some(claim) => claim.as_ref(),
            None => self.owners.get(key),
        }
    }

    /// Releases what `service` held in `old`, claims what `wanted` asks for, and returns
    /// `wanted` without the entries others hold (noting that `service` waits for them).
    fn settle(
        &mut self,
        service: &str,
        old: Option<&ServiceRules>,
        mut wanted: ServiceRules,
        waits: &mut Vec<(ElementKey, String)>,
    ) -> ServiceRules {
        for key in old.into_iter().flat_map(|old| old.elements.keys()) {
            self.claims.insert(key.clone(), None);
        }
        wanted.elements.retain(|key, _| match self.owner(key) {
            Some(owner) if owner != service => {
                tracing::warn!(%service, holder = %owner, map = key.0.name(), "another service already uses this address and port");
                waits.push((key.clone(), service.to_string()));
                false
            }
            _ => {
                self.claims.insert(key.clone(), Some(service.to_string()));
                true
            }
        });
        wanted
    }
}

/// Messages for one transaction, ordered so that every step finds what it needs: entries
/// pointing at chains go before the chains are emptied, chains and sets exist before rules
/// use them, and entries come last, when their chains are filled.
struct Batch {
    table: String,
    delete_elements: BTreeMap<Map, Vec<Vec<u8>>>,
    flushes: Vec<String>,
    delete_sets: Vec<String>,
    new_chains: Vec<String>,
    new_sets: Vec<String>,
    rules: Vec<(String, Rule)>,
    add_elements: BTreeMap<Map, Vec<objects::Element>>,
    /// Messages that go first (a rebuild's table and skeleton).
    head: Transaction,
    next_id: u32,
}

/// Set ids, unique within one transaction.
struct Ids(u32);

impl Ids {
    fn next(&mut self) -> u32 {
        self.0 += 1;
        self.0
    }
}

impl Batch {
    fn new(table: &str) -> Self {
        Self {
            table: table.to_string(),
            delete_elements: BTreeMap::new(),
            flushes: Vec::new(),
            delete_sets: Vec::new(),
            new_chains: Vec::new(),
            new_sets: Vec::new(),
            rules: Vec::new(),
            add_elements: BTreeMap::new(),
            head: Transaction::new(),
            next_id: 0,
        }
    }

    fn ids(&self) -> Ids {
        Ids(self.next_id)
    }

    fn push(&mut self, message: NfTablesMessage, what: String) {
        let flags = objects::flags(&message);
        self.head.push(FAMILY, message, flags, what);
    }

    /// The messages taking `service` from `old` to `new` rules.
    fn add_service(
        &mut self,
        service: &str,
        old: &ServiceRules,
        new: &ServiceRules,
        stale_chains: &BTreeMap<String, Instant>,
        change: &mut Change,
    ) {
        for (key, verdict) in &old.elements {
            if new.elements.get(key) != Some(verdict) {
                self.delete_elements.entry(key.0).or_default().push(key.1.clone());
            }
        }
        for (key, verdict) in &new.elements {
            if old.elements.get(key) != Some(verdict) {
                self.add_elements.entry(key.0).or_default().push((key.1.clone(), Some(verdict.clone())));
            }
        }
        for (chain, rules) in &new.chains {
            match old.chains.get(chain) {
                Some(old_rules) if old_rules == rules => continue,
                Some(_) => self.flushes.push(chain.clone()),
                None => {
                    self.new_chains.push(chain.clone());
                    if stale_chains.contains_key(chain) {
                        change.stale_removed.push(chain.clone());
                    }
                }
            }
            self.rules.extend(rules.iter().map(|rule| (chain.clone(), rule.clone())));
        }
        for chain in old.chains.keys().filter(|chain| !new.chains.contains_key(*chain)) {
            self.flushes.push(chain.clone());
            change.stale_added.push(chain.clone());
        }
        self.new_sets.extend(new.affinity_sets.difference(&old.affinity_sets).cloned());
        self.delete_sets.extend(old.affinity_sets.difference(&new.affinity_sets).cloned());
        tracing::debug!(%service, "planned nftables changes");
    }

    fn finish(self) -> Transaction {
        let Batch {
            table,
            delete_elements,
            flushes,
            delete_sets,
            new_chains,
            new_sets,
            rules,
            add_elements,
            head,
            next_id,
        } = self;
        let table = table.as_str();
        let mut transaction = head;
        let mut ids = Ids(next_id);
        let mut push = |message: NfTablesMessage, what: String| {
            let flags = objects::flags(&message);
            transaction.push(FAMILY, message, flags, what);
        };
        for (map, keys) in delete_elements {
            for message in objects::delete_elements(table, map.name(), &keys) {
                push(message, format!("removing entries from map {}", map.name()));
            }
        }
        for chain in flushes {
            push(objects::flush_chain(table, &chain), format!("emptying chain {chain}"));
        }
        for set in delete_sets {
            push(objects::delete_set(table, &set), format!("deleting set {set}"));
        }
        for chain in new_chains {
            push(objects::chain(table, &chain, None), format!("creating chain {chain}"));
        }
        for set in new_sets {
            push(
                objects::set(table, &set, &[KeyPart::Ipv4Address], SetKind::Dynamic, ids.next()),
                format!("creating set {set}"),
            );
        }
        for (chain, rule) in rules {
            let messages = match rule {
                Rule::Match(expressions) => vec![objects::rule(table, &chain, expressions, None)],
                Rule::RandomChoice(choices) => objects::random_choice_rule(table, &chain, &choices, ids.next()),
            };
            for message in messages {
                push(message, format!("adding a rule to chain {chain}"));
            }
        }
        for (map, elements) in add_elements {
            for message in objects::add_elements(table, map.name(), None, &elements) {
                push(message, format!("adding entries to map {}", map.name()));
            }
        }
        transaction
    }
}
