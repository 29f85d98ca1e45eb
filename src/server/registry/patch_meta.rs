//! Patch metadata: which fields a strategic merge patch merges instead of replacing, and by
//! which key. Kubernetes declares these facts as `patchStrategy`/`patchMergeKey` tags on its
//! Go structs (k8s.io/api and k8s.io/apimachinery, v1.33); they are restated here for every
//! type the catalog serves, keyed by OpenAPI definition name and JSON field name. The same
//! facts become `x-kubernetes-patch-strategy`/`x-kubernetes-patch-merge-key` in the OpenAPI
//! documents, from which kubectl computes the patches it sends.

/// How a field's value combines with a patch, beyond plain JSON merge patch rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PatchMeta {
    /// `merge` for lists merged element-wise, `replace` for maps replaced whole.
    pub strategy: Option<Strategy>,
    /// `retainKeys`: a patch may say which keys of the map (or of each list element) survive.
    pub retain_keys: bool,
    /// Field identifying elements of a merged list of objects; `None` for lists of scalars.
    pub merge_key: Option<&'static str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    Merge,
    Replace,
}

impl PatchMeta {
    /// `x-kubernetes-patch-strategy`, spelled as Kubernetes spells it (`merge,retainKeys`).
    pub fn strategy_extension(&self) -> String {
        let strategy = self.strategy.map(|s| match s {
            Strategy::Merge => "merge",
            Strategy::Replace => "replace",
        });
        let retain = self.retain_keys.then_some("retainKeys");
        strategy.into_iter().chain(retain).collect::<Vec<_>>().join(",")
    }
}

/// A list of objects merged by `key`.
const fn merge_by(key: &'static str) -> PatchMeta {
    PatchMeta { strategy: Some(Strategy::Merge), retain_keys: false, merge_key: Some(key) }
}

/// A list of objects merged by `key` whose elements also honour `$retainKeys`.
const fn merge_by_retaining(key: &'static str) -> PatchMeta {
    PatchMeta { retain_keys: true, ..merge_by(key) }
}

/// A list of scalars merged as a set.
const SET: PatchMeta = PatchMeta { strategy: Some(Strategy::Merge), retain_keys: false, merge_key: None };

/// A map (a union of alternatives) that honours `$retainKeys`.
const RETAIN_KEYS: PatchMeta = PatchMeta { strategy: None, retain_keys: true, merge_key: None };

/// A map replaced whole rather than merged.
const REPLACE: PatchMeta = PatchMeta { strategy: Some(Strategy::Replace), retain_keys: false, merge_key: None };

/// (definition, field, metadata) for every tagged field reachable from the catalog.
const TABLE: &[(&str, &str, PatchMeta)] = &[
    ("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "finalizers", SET),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "ownerReferences", merge_by("uid")),
    // core/v1: pods and containers
    ("io.k8s.api.core.v1.PodSpec", "containers", merge_by("name")),
    ("io.k8s.api.core.v1.PodSpec", "initContainers", merge_by("name")),
    ("io.k8s.api.core.v1.PodSpec", "ephemeralContainers", merge_by("name")),
    ("io.k8s.api.core.v1.PodSpec", "volumes", merge_by_retaining("name")),
    ("io.k8s.api.core.v1.PodSpec", "imagePullSecrets", merge_by("name")),
    ("io.k8s.api.core.v1.PodSpec", "hostAliases", merge_by("ip")),
    ("io.k8s.api.core.v1.PodSpec", "topologySpreadConstraints", merge_by("topologyKey")),
    ("io.k8s.api.core.v1.PodSpec", "schedulingGates", merge_by("name")),
    ("io.k8s.api.core.v1.PodSpec", "resourceClaims", merge_by_retaining("name")),
    ("io.k8s.api.core.v1.Container", "ports", merge_by("containerPort")),
    ("io.k8s.api.core.v1.Container", "env", merge_by("name")),
    ("io.k8s.api.core.v1.Container", "volumeMounts", merge_by("mountPath")),
    ("io.k8s.api.core.v1.Container", "volumeDevices", merge_by("devicePath")),
    ("io.k8s.api.core.v1.EphemeralContainer", "ports", merge_by("containerPort")),
    ("io.k8s.api.core.v1.EphemeralContainer", "env", merge_by("name")),
    ("io.k8s.api.core.v1.EphemeralContainer", "volumeMounts", merge_by("mountPath")),
    ("io.k8s.api.core.v1.EphemeralContainer", "volumeDevices", merge_by("devicePath")),
    ("io.k8s.api.core.v1.PodStatus", "conditions", merge_by("type")),
    ("io.k8s.api.core.v1.PodStatus", "podIPs", merge_by("ip")),
    ("io.k8s.api.core.v1.PodStatus", "hostIPs", merge_by("ip")),
    ("io.k8s.api.core.v1.PodStatus", "resourceClaimStatuses", merge_by_retaining("name")),
    ("io.k8s.api.core.v1.ContainerStatus", "volumeMounts", merge_by("mountPath")),
    ("io.k8s.api.core.v1.ContainerStatus", "allocatedResourcesStatus", merge_by("name")),
    // core/v1: everything else
    ("io.k8s.api.core.v1.NodeSpec", "podCIDRs", SET),
    ("io.k8s.api.core.v1.NodeStatus", "conditions", merge_by("type")),
    ("io.k8s.api.core.v1.NodeStatus", "addresses", merge_by("type")),
    ("io.k8s.api.core.v1.NamespaceStatus", "conditions", merge_by("type")),
    ("io.k8s.api.core.v1.PersistentVolumeClaimStatus", "conditions", merge_by("type")),
    ("io.k8s.api.core.v1.ReplicationControllerStatus", "conditions", merge_by("type")),
    ("io.k8s.api.core.v1.ServiceAccount", "secrets", merge_by("name")),
    ("io.k8s.api.core.v1.ServiceSpec", "ports", merge_by("port")),
    ("io.k8s.api.core.v1.ServiceStatus", "conditions", merge_by("type")),
    // apps/v1
    ("io.k8s.api.apps.v1.DeploymentSpec", "strategy", RETAIN_KEYS),
    ("io.k8s.api.apps.v1.DeploymentStatus", "conditions", merge_by("type")),
    ("io.k8s.api.apps.v1.ReplicaSetStatus", "conditions", merge_by("type")),
    ("io.k8s.api.apps.v1.DaemonSetStatus", "conditions", merge_by("type")),
    ("io.k8s.api.apps.v1.StatefulSetStatus", "conditions", merge_by("type")),
    // other groups
    ("io.k8s.api.batch.v1.JobStatus", "conditions", merge_by("type")),
    ("io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus", "conditions", merge_by("type")),
    ("io.k8s.api.policy.v1.PodDisruptionBudgetSpec", "selector", REPLACE),
    ("io.k8s.api.policy.v1.PodDisruptionBudgetStatus", "conditions", merge_by("type")),
];

/// The patch metadata of `field` in the OpenAPI definition `definition`, if it has any.
pub fn patch_meta_for(definition: &str, field: &str) -> Option<PatchMeta> {
    TABLE.iter().find(|(d, f, _)| *d == definition && *f == field).map(|(_, _, meta)| *meta)
}

/// Every (definition, field) the table describes.
pub fn tagged_fields() -> impl Iterator<Item = (&'static str, &'static str)> {
    TABLE.iter().map(|(d, f, _)| (*d, *f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_spelling_matches_kubernetes() {
        let volumes = patch_meta_for("io.k8s.api.core.v1.PodSpec", "volumes").unwrap();
        assert_eq!(volumes.strategy_extension(), "merge,retainKeys");
        assert_eq!(volumes.merge_key, Some("name"));
        let strategy = patch_meta_for("io.k8s.api.apps.v1.DeploymentSpec", "strategy").unwrap();
        assert_eq!(strategy.strategy_extension(), "retainKeys");
        let finalizers = patch_meta_for("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "finalizers").unwrap();
        assert_eq!(finalizers.strategy_extension(), "merge");
        assert_eq!(finalizers.merge_key, None);
        assert!(patch_meta_for("io.k8s.api.core.v1.PodSpec", "nodeSelector").is_none());
    }

    #[test]
    fn every_entry_names_a_field_of_a_served_definition() {
        let definitions = crate::server::registry::definitions::generate();
        for (definition, field) in tagged_fields() {
            let properties = definitions
                .get(definition)
                .and_then(|d| d.get("properties"))
                .unwrap_or_else(|| panic!("{definition} is not served"));
            assert!(properties.get(field).is_some(), "{definition} has no field {field}");
        }
    }

    #[test]
    fn no_field_is_listed_twice() {
        let mut seen = std::collections::HashSet::new();
        for entry in tagged_fields() {
            assert!(seen.insert(entry), "{entry:?} twice");
        }
    }
}
