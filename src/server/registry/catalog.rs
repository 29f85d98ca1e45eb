//! The catalog: every resource type the API serves, with the facts discovery, OpenAPI,
//! routing and the store need about it.

use std::sync::LazyLock;

use k8s_openapi::api::{
    apps::v1 as apps, autoscaling::v2 as autoscaling, batch::v1 as batch, coordination::v1 as coordination,
    core::v1 as core, discovery::v1 as discovery, events::v1 as events, networking::v1 as networking,
    policy::v1 as policy, rbac::v1 as rbac, scheduling::v1 as scheduling, storage::v1 as storage,
};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;

use super::typed::{self, Decoded};
use crate::server::api_error::ApiError;

/// Everything the server knows about one resource type (e.g. `pods` in core/v1).
pub struct ResourceType {
    /// API group; empty for the core group.
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub list_kind: &'static str,
    /// Plural resource name used in URLs (`pods`).
    pub plural: &'static str,
    /// Singular name (`pod`), as discovery reports it.
    pub singular: String,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
    /// Subresources served under `/{name}/…` (`status`, `scale`, `binding`, …).
    pub subresources: &'static [&'static str],
    /// Name of the object's schema in the OpenAPI documents (`io.k8s.api.core.v1.Pod`).
    pub definition: String,
    /// Checks the shape of an object against its Rust type and returns its canonical JSON.
    pub decode: fn(Value) -> Result<Decoded, ApiError>,
    /// JSON schema of the object, for the OpenAPI documents.
    pub schema: fn(&mut SchemaGenerator) -> Schema,
}

impl ResourceType {
    /// `v1` or `apps/v1`, as written in `apiVersion`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Prefix of every store key of this type; objects live at `<prefix><ns>/<name>` or
    /// `<prefix><name>`.
    pub fn key_prefix(&self) -> String {
        let group = if self.group.is_empty() { "core" } else { self.group };
        format!("/registry/{group}/{}/", self.plural)
    }

    pub fn has_subresource(&self, name: &str) -> bool {
        self.subresources.contains(&name)
    }

    fn of<T>() -> Self
    where
        T: k8s_openapi::Resource + k8s_openapi::ListableResource + Serialize + DeserializeOwned + JsonSchema,
        T::Scope: Scope,
    {
        Self {
            group: T::GROUP,
            version: T::VERSION,
            kind: T::KIND,
            list_kind: T::LIST_KIND,
            plural: T::URL_PATH_SEGMENT,
            singular: T::KIND.to_lowercase(),
            namespaced: <T::Scope as Scope>::NAMESPACED,
            short_names: &[],
            categories: &[],
            subresources: &[],
            definition: T::schema_name().into_owned(),
            decode: typed::decode::<T>,
            schema: |generator| generator.subschema_for::<T>(),
        }
    }

    fn short(mut self, names: &'static [&'static str]) -> Self {
        self.short_names = names;
        self
    }

    fn categories(mut self, categories: &'static [&'static str]) -> Self {
        self.categories = categories;
        self
    }

    fn sub(mut self, subresources: &'static [&'static str]) -> Self {
        self.subresources = subresources;
        self
    }
}

/// Tells namespaced types from cluster-scoped ones at compile time.
trait Scope {
    const NAMESPACED: bool;
}
impl Scope for k8s_openapi::NamespaceResourceScope {
    const NAMESPACED: bool = true;
}
impl Scope for k8s_openapi::ClusterResourceScope {
    const NAMESPACED: bool = false;
}

const ALL: &[&str] = &["all"];

static CATALOG: LazyLock<Vec<ResourceType>> = LazyLock::new(|| {
    vec![
        ResourceType::of::<core::Namespace>().short(&["ns"]).sub(&["status", "finalize"]),
        ResourceType::of::<core::Pod>().short(&["po"]).categories(ALL).sub(&[
            "status",
            "binding",
            "eviction",
            "log",
            "exec",
            "attach",
            "portforward",
            "ephemeralcontainers",
        ]),
        ResourceType::of::<core::Service>().short(&["svc"]).categories(ALL).sub(&["status", "proxy"]),
        ResourceType::of::<core::Endpoints>().short(&["ep"]),
        ResourceType::of::<core::Node>().short(&["no"]).sub(&["status", "proxy"]),
        ResourceType::of::<core::ConfigMap>().short(&["cm"]),
        ResourceType::of::<core::Secret>(),
        ResourceType::of::<core::ServiceAccount>().short(&["sa"]).sub(&["token"]),
        ResourceType::of::<core::Event>().short(&["ev"]),
        ResourceType::of::<core::ReplicationController>().short(&["rc"]).categories(ALL).sub(&["status", "scale"]),
        ResourceType::of::<core::PersistentVolume>().short(&["pv"]).sub(&["status"]),
        ResourceType::of::<core::PersistentVolumeClaim>().short(&["pvc"]).sub(&["status"]),
        ResourceType::of::<core::LimitRange>().short(&["limits"]),
        ResourceType::of::<core::ResourceQuota>().short(&["quota"]).sub(&["status"]),
        ResourceType::of::<apps::Deployment>().short(&["deploy"]).categories(ALL).sub(&["status", "scale"]),
        ResourceType::of::<apps::ReplicaSet>().short(&["rs"]).categories(ALL).sub(&["status", "scale"]),
        ResourceType::of::<apps::DaemonSet>().short(&["ds"]).categories(ALL).sub(&["status"]),
        ResourceType::of::<apps::StatefulSet>().short(&["sts"]).categories(ALL).sub(&["status", "scale"]),
        ResourceType::of::<apps::ControllerRevision>(),
        ResourceType::of::<batch::Job>().categories(ALL).sub(&["status"]),
        ResourceType::of::<batch::CronJob>().short(&["cj"]).categories(ALL).sub(&["status"]),
        ResourceType::of::<autoscaling::HorizontalPodAutoscaler>().short(&["hpa"]).categories(ALL).sub(&["status"]),
        ResourceType::of::<networking::Ingress>().short(&["ing"]).sub(&["status"]),
        ResourceType::of::<networking::IngressClass>(),
        ResourceType::of::<networking::NetworkPolicy>().short(&["netpol"]),
        ResourceType::of::<coordination::Lease>(),
        ResourceType::of::<discovery::EndpointSlice>(),
        ResourceType::of::<events::Event>().short(&["ev"]),
        ResourceType::of::<policy::PodDisruptionBudget>().short(&["pdb"]).sub(&["status"]),
        ResourceType::of::<rbac::Role>(),
        ResourceType::of::<rbac::RoleBinding>(),
        ResourceType::of::<rbac::ClusterRole>(),
        ResourceType::of::<rbac::ClusterRoleBinding>(),
        ResourceType::of::<storage::StorageClass>().short(&["sc"]),
        ResourceType::of::<scheduling::PriorityClass>().short(&["pc"]),
    ]
});

/// All served resource types, core group first, in a stable order.
pub fn all() -> &'static [ResourceType] {
    &CATALOG
}

/// The type served at `group`/`version` under `plural`.
pub fn find(group: &str, version: &str, plural: &str) -> Option<&'static ResourceType> {
    all().iter().find(|rt| rt.group == group && rt.version == version && rt.plural == plural)
}

/// The type of objects with this `apiVersion` and `kind`.
pub fn find_kind(api_version: &str, kind: &str) -> Option<&'static ResourceType> {
    let (group, version) = split_api_version(api_version);
    all().iter().find(|rt| rt.group == group && rt.version == version && rt.kind == kind)
}

/// `apps/v1` → (`apps`, `v1`); `v1` → (``, `v1`).
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    api_version.split_once('/').unwrap_or(("", api_version))
}

/// API groups in discovery order, each with its versions.
pub fn groups() -> Vec<(&'static str, Vec<&'static str>)> {
    let mut groups: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
    for rt in all() {
        match groups.iter_mut().find(|(g, _)| *g == rt.group) {
            Some((_, versions)) if !versions.contains(&rt.version) => versions.push(rt.version),
            Some(_) => {}
            None => groups.push((rt.group, vec![rt.version])),
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_facts_come_from_the_types() {
        let pods = find("", "v1", "pods").unwrap();
        assert_eq!(pods.kind, "Pod");
        assert_eq!(pods.list_kind, "PodList");
        assert!(pods.namespaced);
        assert_eq!(pods.definition, "io.k8s.api.core.v1.Pod");
        assert_eq!(pods.key_prefix(), "/registry/core/pods/");
        let nodes = find("", "v1", "nodes").unwrap();
        assert!(!nodes.namespaced);
        let deploy = find_kind("apps/v1", "Deployment").unwrap();
        assert_eq!(deploy.plural, "deployments");
        assert_eq!(deploy.api_version(), "apps/v1");
    }

    #[test]
    fn plurals_are_unique_per_group() {
        let mut seen = std::collections::HashSet::new();
        for rt in all() {
            assert!(seen.insert((rt.group, rt.plural)), "{} twice", rt.plural);
        }
    }
}
