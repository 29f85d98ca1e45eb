//! Why a pod fits nowhere, worded as kube-scheduler words it (users and tools grep for these
//! messages): `0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient cpu.
//! preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No
//! preemption victims found for incoming pod..` This scheduler does not preempt, so every
//! node where eviction could help reports that no victims were found.

use std::collections::BTreeMap;

use super::framework::{PluginSet, Unfit};

const NOT_HELPFUL: &str = "Preemption is not helpful for scheduling";
const NO_VICTIMS: &str = "No preemption victims found for incoming pod";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FitError {
    /// The cluster has no nodes at all.
    NoNodes,
    /// Every node failed a filter (one entry per node).
    Unfit { nodes: Vec<Unfit>, never_preempts: bool },
    /// The pod's spec cannot be evaluated (a malformed quantity or selector).
    Invalid(String),
}

impl FitError {
    pub fn new(nodes: Vec<Unfit>, never_preempts: bool) -> Self {
        if nodes.is_empty() {
            Self::NoNodes
        } else {
            Self::Unfit { nodes, never_preempts }
        }
    }

    pub fn message(&self) -> String {
        match self {
            Self::NoNodes => "no nodes available to schedule pods".to_string(),
            Self::Invalid(why) => format!("the pod cannot be scheduled as written: {why}"),
            Self::Unfit { nodes, never_preempts } => {
                let reasons = histogram(nodes.iter().flat_map(|u| u.reasons.iter().map(String::as_str)));
                let preemption = if *never_preempts {
                    "not eligible due to preemptionPolicy=Never.".to_string()
                } else {
                    let outcomes = nodes.iter().map(|u| if u.resolvable { NO_VICTIMS } else { NOT_HELPFUL });
                    format!("0/{} nodes are available: {}.", nodes.len(), histogram(outcomes))
                };
                format!("0/{} nodes are available: {reasons}. preemption: {preemption}.", nodes.len())
            }
        }
    }

    /// The filters that turned nodes down: a change that may satisfy one of them is worth
    /// another attempt.
    pub fn plugins(&self) -> PluginSet {
        match self {
            Self::NoNodes => PluginSet::ALL,
            Self::Invalid(_) => PluginSet::default(),
            Self::Unfit { nodes, .. } => {
                let mut set = PluginSet::default();
                for unfit in nodes {
                    set.insert(unfit.plugin);
                }
                set
            }
        }
    }
}

/// `"2 Insufficient cpu, 1 node(s) were unschedulable"`, sorted as strings like upstream.
fn histogram<'a>(reasons: impl Iterator<Item = &'a str>) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for reason in reasons {
        *counts.entry(reason).or_default() += 1;
    }
    let mut entries: Vec<String> = counts.into_iter().map(|(reason, n)| format!("{n} {reason}")).collect();
    entries.sort();
    entries.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::scheduler::framework::Plugin;

    #[test]
    fn messages_count_reasons_and_preemption_outcomes() {
        let cpu_and_memory = Unfit {
            plugin: Plugin::NodeResourcesFit,
            reasons: vec!["Insufficient cpu".into(), "Insufficient memory".into()],
            resolvable: true,
        };
        let nodes = vec![
            cpu_and_memory.clone(),
            cpu_and_memory,
            Unfit::unresolvable(Plugin::NodeAffinity, "node(s) didn't match Pod's node affinity/selector"),
        ];
        let err = FitError::new(nodes.clone(), false);
        assert_eq!(
            err.message(),
            "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 2 Insufficient cpu, \
             2 Insufficient memory. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, \
             2 No preemption victims found for incoming pod.."
        );
        assert!(err.plugins().contains(Plugin::NodeAffinity));
        assert!(err.plugins().contains(Plugin::NodeResourcesFit));
        assert!(!err.plugins().contains(Plugin::TaintToleration));
        assert!(FitError::new(nodes, true)
            .message()
            .ends_with("preemption: not eligible due to preemptionPolicy=Never.."));
    }

    #[test]
    fn no_nodes_and_invalid_pods() {
        assert_eq!(FitError::new(Vec::new(), false).message(), "no nodes available to schedule pods");
        assert_eq!(FitError::NoNodes.plugins(), PluginSet::ALL);
        assert_eq!(FitError::Invalid("x".into()).plugins(), PluginSet::default());
    }
}
