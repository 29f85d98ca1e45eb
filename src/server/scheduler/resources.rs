//! What a pod asks of a node (its effective requests) and what a node offers (allocatable),
//! as integer vectors the filters and scores add and compare.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::quantity::{self, QuantityError};

/// CPU a container is assumed to use for scoring when it requests none (upstream's default).
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;
/// Memory a container is assumed to use for scoring when it requests none.
pub const DEFAULT_MEMORY_REQUEST: i64 = 200 * 1024 * 1024;

/// An amount of every resource: CPU in millicores, the rest in whole units.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resources {
    pub milli_cpu: i64,
    pub memory: i64,
    pub ephemeral_storage: i64,
    /// Extended resources and hugepages (`nvidia.com/gpu`, `hugepages-2Mi`).
    pub scalar: BTreeMap<String, i64>,
}

impl Resources {
    /// Parses a ResourceList (`{"cpu": "500m", "memory": "1Gi"}`); `pods` is left out.
    pub fn from_list(list: &Map<String, Value>) -> Result<Self, QuantityError> {
        let mut out = Self::default();
        for (name, amount) in list {
            let text = amount.as_str().map(str::to_string).unwrap_or_else(|| amount.to_string());
            match name.as_str() {
                "cpu" => out.milli_cpu = quantity::milli_value(&text)?,
                "memory" => out.memory = quantity::value(&text)?,
                "ephemeral-storage" => out.ephemeral_storage = quantity::value(&text)?,
                "pods" => {}
                other => {
                    out.scalar.insert(other.to_string(), quantity::value(&text)?);
                }
            }
        }
        Ok(out)
    }

    pub fn add(&mut self, other: &Self) {
        self.milli_cpu = self.milli_cpu.saturating_add(other.milli_cpu);
        self.memory = self.memory.saturating_add(other.memory);
        self.ephemeral_storage = self.ephemeral_storage.saturating_add(other.ephemeral_storage);
        for (name, amount) in &other.scalar {
            let entry = self.scalar.entry(name.clone()).or_default();
            *entry = entry.saturating_add(*amount);
        }
    }

    pub fn subtract(&mut self, other: &Self) {
        self.milli_cpu = self.milli_cpu.saturating_sub(other.milli_cpu);
        self.memory = self.memory.saturating_sub(other.memory);
        self.ephemeral_storage = self.ephemeral_storage.saturating_sub(other.ephemeral_storage);
        for (name, amount) in &other.scalar {
            let entry = self.scalar.entry(name.clone()).or_default();
            *entry = entry.saturating_sub(*amount);
            if *entry == 0 {
                self.scalar.remove(name);
            }
        }
    }

    /// The larger of each resource.
    fn max_with(&mut self, other: &Self) {
        self.milli_cpu = self.milli_cpu.max(other.milli_cpu);
        self.memory = self.memory.max(other.memory);
        self.ephemeral_storage = self.ephemeral_storage.max(other.ephemeral_storage);
        for (name, amount) in &other.scalar {
            let entry = self.scalar.entry(name.clone()).or_default();
            *entry = (*entry).max(*amount);
        }
    }
}

/// CPU and memory as the scores count them: containers without a request count the defaults.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScoringRequest {
    pub milli_cpu: i64,
    pub memory: i64,
}

impl ScoringRequest {
    pub fn add(&mut self, other: Self) {
        self.milli_cpu = self.milli_cpu.saturating_add(other.milli_cpu);
        self.memory = self.memory.saturating_add(other.memory);
    }

    pub fn subtract(&mut self, other: Self) {
        self.milli_cpu = self.milli_cpu.saturating_sub(other.milli_cpu);
        self.memory = self.memory.saturating_sub(other.memory);
    }

    fn max_with(&mut self, other: Self) {
        self.milli_cpu = self.milli_cpu.max(other.milli_cpu);
        self.memory = self.memory.max(other.memory);
    }
}

/// What a pod occupies on its node while it runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodRequests {
    pub exact: Resources,
    pub scoring: ScoringRequest,
}

/// The effective requests of a pod spec: the containers' sum plus restartable (sidecar) init
/// containers, or the largest regular init container together with the sidecars started before
/// it, whichever is larger; plus the pod overhead.
pub fn pod_requests(spec: &Value) -> Result<PodRequests, QuantityError> {
    let mut total = PodRequests::default();
    for container in list(spec, "containers") {
        let each = container_requests(container)?;
        total.exact.add(&each.exact);
        total.scoring.add(each.scoring);
    }
    let mut sidecars = PodRequests::default();
    let mut init_peak = PodRequests::default();
    for container in list(spec, "initContainers") {
        let each = container_requests(container)?;
        if container.get("restartPolicy").and_then(Value::as_str) == Some("Always") {
            sidecars.exact.add(&each.exact);
            sidecars.scoring.add(each.scoring);
            init_peak.exact.max_with(&sidecars.exact);
            init_peak.scoring.max_with(sidecars.scoring);
        } else {
            let mut running = sidecars.clone();
            running.exact.add(&each.exact);
            running.scoring.add(each.scoring);
            init_peak.exact.max_with(&running.exact);
            init_peak.scoring.max_with(running.scoring);
        }
    }
    total.exact.add(&sidecars.exact);
    total.scoring.add(sidecars.scoring);
    total.exact.max_with(&init_peak.exact);
    total.scoring.max_with(init_peak.scoring);
    if let Some(overhead) = spec.get("overhead").and_then(Value::as_object) {
        let overhead = Resources::from_list(overhead)?;
        total.scoring.add(ScoringRequest { milli_cpu: overhead.milli_cpu, memory: overhead.memory });
        total.exact.add(&overhead);
    }
    Ok(total)
}

/// One container's requests; a resource with a limit but no request requests its limit (the
/// API's defaulting rule, applied here in case a client stored the pod without it).
fn container_requests(container: &Value) -> Result<PodRequests, QuantityError> {
    let empty = Map::new();
    let requests = container.pointer("/resources/requests").and_then(Value::as_object).unwrap_or(&empty);
    let limits = container.pointer("/resources/limits").and_then(Value::as_object).unwrap_or(&empty);
    let mut effective = requests.clone();
    for (name, limit) in limits {
        effective.entry(name.clone()).or_insert_with(|| limit.clone());
    }
    let exact = Resources::from_list(&effective)?;
    let scoring = ScoringRequest {
        milli_cpu: if effective.contains_key("cpu") { exact.milli_cpu } else { DEFAULT_MILLI_CPU_REQUEST },
        memory: if effective.contains_key("memory") { exact.memory } else { DEFAULT_MEMORY_REQUEST },
    };
    Ok(PodRequests { exact, scoring })
}

fn list<'a>(spec: &'a Value, field: &str) -> impl Iterator<Item = &'a Value> {
    spec.get(field).and_then(Value::as_array).into_iter().flatten()
}

/// What a node offers to pods: `status.allocatable`, or its capacity when it reports no
/// allocatable, and how many pods it accepts.
pub fn node_allocatable(node: &Value) -> Result<(Resources, i64), QuantityError> {
    let status = node.get("status");
    let list = status
        .and_then(|s| s.get("allocatable"))
        .and_then(Value::as_object)
        .filter(|m| !m.is_empty())
        .or_else(|| status.and_then(|s| s.get("capacity")).and_then(Value::as_object));
    let Some(list) = list else { return Ok((Resources::default(), 0)) };
    let pods = match list.get("pods") {
        Some(amount) => quantity::value(amount.as_str().unwrap_or_default())?,
        None => 0,
    };
    Ok((Resources::from_list(list)?, pods))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn container(requests: Value) -> Value {
        json!({"name": "c", "resources": {"requests": requests}})
    }

    #[test]
    fn containers_add_up_and_defaults_count_only_for_scoring() {
        let spec = json!({"containers": [container(json!({"cpu": "250m", "memory": "64Mi"})), {"name": "bare"}]});
        let requests = pod_requests(&spec).unwrap();
        assert_eq!(requests.exact.milli_cpu, 250);
        assert_eq!(requests.exact.memory, 64 << 20);
        assert_eq!(requests.scoring, ScoringRequest { milli_cpu: 350, memory: (64 << 20) + DEFAULT_MEMORY_REQUEST });
    }

    #[test]
    fn init_containers_count_at_their_peak_and_sidecars_add() {
        let spec = json!({
            "initContainers": [container(json!({"cpu": "2"})), container(json!({"cpu": "500m"}))],
            "containers": [container(json!({"cpu": "1"}))],
        });
        assert_eq!(pod_requests(&spec).unwrap().exact.milli_cpu, 2000);
        let with_sidecar = json!({
            "initContainers": [
                {"name": "proxy", "restartPolicy": "Always", "resources": {"requests": {"cpu": "300m"}}},
                container(json!({"cpu": "1"})),
            ],
            "containers": [container(json!({"cpu": "1"}))],
        });
        // Running: 1 + 0.3 sidecar; during init: 0.3 + 1. Both 1.3.
        assert_eq!(pod_requests(&with_sidecar).unwrap().exact.milli_cpu, 1300);
    }

    #[test]
    fn limits_stand_in_for_missing_requests_and_overhead_adds() {
        let spec = json!({
            "containers": [{"name": "c", "resources": {"limits": {"cpu": "1", "nvidia.com/gpu": "2"}}}],
            "overhead": {"cpu": "100m", "memory": "10Mi"},
        });
        let requests = pod_requests(&spec).unwrap();
        assert_eq!(requests.exact.milli_cpu, 1100);
        assert_eq!(requests.exact.memory, 10 << 20);
        assert_eq!(requests.exact.scalar["nvidia.com/gpu"], 2);
    }

    #[test]
    fn bad_quantities_are_reported() {
        let spec = json!({"containers": [container(json!({"cpu": "lots"}))]});
        assert!(pod_requests(&spec).is_err());
    }

    #[test]
    fn allocatable_falls_back_to_capacity() {
        let node = json!({"status": {"capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"}}});
        let (allocatable, pods) = node_allocatable(&node).unwrap();
        assert_eq!((allocatable.milli_cpu, allocatable.memory, pods), (4000, 8 << 30, 110));
        let reserved = json!({"status": {"capacity": {"cpu": "4"}, "allocatable": {"cpu": "3500m", "pods": "10"}}});
        assert_eq!(node_allocatable(&reserved).unwrap().0.milli_cpu, 3500);
        assert_eq!(node_allocatable(&json!({})).unwrap(), (Resources::default(), 0));
    }
}
