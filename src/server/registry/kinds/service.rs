//! Services: defaults, validation, and the cluster IPs and node ports they hold.

use std::collections::HashSet;

use serde_json::{json, Value};

use super::defaults::{each_mut, set_default, str_at};
use super::pod_spec::port_name_rule;
use super::Strategy;
use crate::server::api_error::{ApiError, Cause};
use crate::server::registry::service_allocator::{cluster_ips, node_ports};
use crate::server::registry::{validation, Registry};

pub struct ServiceStrategy;

const TYPES: &[&str] = &["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"];
const PROTOCOLS: &[&str] = &["TCP", "UDP", "SCTP"];
const AFFINITIES: &[&str] = &["None", "ClientIP"];

fn svc_type(obj: &Value) -> &str {
    str_at(obj, &["spec", "type"])
}

fn uses_node_ports(obj: &Value) -> bool {
    matches!(svc_type(obj), "NodePort" | "LoadBalancer")
}

fn needs_health_check_port(obj: &Value) -> bool {
    svc_type(obj) == "LoadBalancer" && str_at(obj, &["spec", "externalTrafficPolicy"]) == "Local"
}

impl Strategy for ServiceStrategy {
    fn validate_name(&self, name: &str) -> Result<(), String> {
        validation::dns1123_label(name)
    }

    fn default(&self, obj: &mut Value) {
        set_default(obj, &["spec", "type"], json!("ClusterIP"));
        let external_name = svc_type(obj) == "ExternalName";
        set_default(obj, &["spec", "sessionAffinity"], json!("None"));
        for port in each_mut(obj, &["spec", "ports"]) {
            set_default(port, &["protocol"], json!("TCP"));
            let number = port.get("port").cloned().unwrap_or(Value::Null);
            set_default(port, &["targetPort"], number);
        }
        if !external_name {
            set_default(obj, &["spec", "internalTrafficPolicy"], json!("Cluster"));
            set_default(obj, &["spec", "ipFamilies"], json!(["IPv4"]));
            set_default(obj, &["spec", "ipFamilyPolicy"], json!("SingleStack"));
        }
        if uses_node_ports(obj) {
            set_default(obj, &["spec", "externalTrafficPolicy"], json!("Cluster"));
        }
        if svc_type(obj) == "LoadBalancer" {
            set_default(obj, &["spec", "allocateLoadBalancerNodePorts"], json!(true));
        }
        if str_at(obj, &["spec", "sessionAffinity"]) == "ClientIP" {
            set_default(obj, &["spec", "sessionAffinityConfig", "clientIP", "timeoutSeconds"], json!(10800));
        }
    }

    fn prepare_create(&self, obj: &mut Value) {
        obj["status"] = json!({"loadBalancer": {}});
    }

    fn prepare_update(&self, new: &mut Value, old: &Value) {
        // Leaving NodePort/LoadBalancer drops the ports the server allocated, as upstream does.
        if uses_node_ports(old) && !uses_node_ports(new) {
            let held = node_ports(old);
            for port in each_mut(new, &["spec", "ports"]) {
                let allocated = port
                    .get("nodePort")
                    .and_then(Value::as_u64)
                    .is_some_and(|p| held.iter().any(|h| u64::from(*h) == p));
                if allocated {
                    port.as_object_mut().map(|p| p.remove("nodePort"));
                }
            }
            for field in ["healthCheckNodePort", "externalTrafficPolicy", "allocateLoadBalancerNodePorts"] {
                new["spec"].as_object_mut().map(|s| s.remove(field));
            }
        }
        // A client that leaves out what the server allocated keeps it (kubectl replace).
        if svc_type(new) != "ExternalName" && str_at(new, &["spec", "clusterIP"]).is_empty() {
            for field in ["clusterIP", "clusterIPs"] {
                if let Some(v) = old.pointer(&format!("/spec/{field}")) {
                    new["spec"][field] = v.clone();
                }
            }
        }
        if uses_node_ports(new) {
            let old_ports: Vec<Value> =
                old.pointer("/spec/ports").and_then(Value::as_array).cloned().unwrap_or_default();
            for port in each_mut(new, &["spec", "ports"]) {
                if port.get("nodePort").is_some() {
                    continue;
                }
                let same = old_ports
                    .iter()
                    .find(|o| o.get("port") == port.get("port") && o.get("protocol") == port.get("protocol"));
                if let Some(node_port) = same.and_then(|o| o.get("nodePort")) {
                    port["nodePort"] = node_port.clone();
                }
            }
            if needs_health_check_port(new) && new.pointer("/spec/healthCheckNodePort").is_none() {
                if let Some(p) = old.pointer("/spec/healthCheckNodePort") {
                    new["spec"]["healthCheckNodePort"] = p.clone();
                }
            }
        }
    }

    fn validate(&self, obj: &Value) -> Vec<Cause> {
        let mut causes = Vec::new();
        let kind = svc_type(obj);
        if !TYPES.contains(&kind) {
            causes.push(Cause::unsupported("spec.type", kind, TYPES));
        }
        let affinity = str_at(obj, &["spec", "sessionAffinity"]);
        if !AFFINITIES.contains(&affinity) {
            causes.push(Cause::unsupported("spec.sessionAffinity", affinity, AFFINITIES));
        }
        let headless = str_at(obj, &["spec", "clusterIP"]) == "None";
        if kind == "ExternalName" {
            let name = str_at(obj, &["spec", "externalName"]);
            if name.is_empty() {
                causes.push(Cause::required("spec.externalName"));
            } else if let Err(why) = validation::dns1123_subdomain(name.trim_end_matches('.')) {
                causes.push(Cause::invalid("spec.externalName", name, why));
            }
        }
        if headless && uses_node_ports(obj) {
            causes.push(Cause::invalid(
                "spec.clusterIPs[0]",
                "None",
                format!("may not be set to 'None' for {kind} services"),
            ));
        }
        let ports = obj.pointer("/spec/ports").and_then(Value::as_array).cloned().unwrap_or_default();
        if ports.is_empty() && kind != "ExternalName" && !headless {
            causes.push(Cause::required("spec.ports"));
        }
        let mut names = HashSet::new();
        let mut seen = HashSet::new();
        for (i, port) in ports.iter().enumerate() {
            let name = str_at(port, &["name"]);
            if ports.len() > 1 && name.is_empty() {
                causes.push(Cause::required(format!("spec.ports[{i}].name")));
            }
            if !name.is_empty() {
                if let Err(why) = validation::dns1123_label(name) {
                    causes.push(Cause::invalid(format!("spec.ports[{i}].name"), name, why));
                } else if !names.insert(name.to_string()) {
                    causes.push(Cause::duplicate(format!("spec.ports[{i}].name"), name));
                }
            }
            let number = port.get("port").and_then(Value::as_i64).unwrap_or(0);
            if !(1..=65535).contains(&number) {
                causes.push(Cause::invalid(
                    format!("spec.ports[{i}].port"),
                    number,
                    "must be between 1 and 65535, inclusive",
                ));
            }
            let protocol = str_at(port, &["protocol"]);
            if !PROTOCOLS.contains(&protocol) {
                causes.push(Cause::unsupported(format!("spec.ports[{i}].protocol"), protocol, PROTOCOLS));
            }
            if !seen.insert((number, protocol.to_string())) {
                causes.push(Cause::duplicate(format!("spec.ports[{i}]"), format!("{number}/{protocol}")));
            }
            match port.get("targetPort") {
                Some(Value::Number(n)) if !(1..=65535).contains(&n.as_i64().unwrap_or(0)) => {
                    causes.push(Cause::invalid(
                        format!("spec.ports[{i}].targetPort"),
                        n,
                        "must be between 1 and 65535, inclusive",
                    ));
                }
                Some(Value::String(s)) => {
                    if let Err(why) = port_name_rule(s) {
                        causes.push(Cause::invalid(format!("spec.ports[{i}].targetPort"), s, why));
                    }
                }
                _ => {}
            }
            if port.get("nodePort").is_some() && !uses_node_ports(obj) {
                causes.push(Cause::forbidden(
                    format!("spec.ports[{i}].nodePort"),
                    format!("may not be used when `type` is '{kind}'"),
                ));
            }
        }
        causes
    }

    fn validate_update(&self, new: &Value, old: &Value) -> Vec<Cause> {
        let changing_type = (svc_type(new) == "ExternalName") != (svc_type(old) == "ExternalName");
        let old_ip = str_at(old, &["spec", "clusterIP"]);
        let new_ip = str_at(new, &["spec", "clusterIP"]);
        if !changing_type && !old_ip.is_empty() && old_ip != new_ip {
            return vec![Cause::invalid("spec.clusterIPs[0]", new_ip, "may not change once set")];
        }
        Vec::new()
    }

    fn allocate(&self, registry: &Registry, obj: &mut Value) -> Result<(), ApiError> {
        let mut claimed = Claims::new(registry);
        let result = claimed.claim_new(obj, None);
        if result.is_err() {
            claimed.undo();
        }
        result
    }

    fn reallocate(&self, registry: &Registry, new: &mut Value, old: &Value) -> Result<(), ApiError> {
        let mut claimed = Claims::new(registry);
        if let Err(err) = claimed.claim_new(new, Some(old)) {
            claimed.undo();
            return Err(err);
        }
        // Free what the old version held and the new one no longer does.
        let (new_ips, new_ports) = (cluster_ips(new), node_ports(new));
        for ip in cluster_ips(old).iter().filter(|ip| !new_ips.contains(ip)) {
            registry.service_allocator().release_ip(ip);
        }
        for port in node_ports(old).into_iter().filter(|p| !new_ports.contains(p)) {
            registry.service_allocator().release_port(port);
        }
        Ok(())
    }

    fn release(&self, registry: &Registry, obj: &Value) {
        for ip in cluster_ips(obj) {
            registry.service_allocator().release_ip(&ip);
        }
        for port in node_ports(obj) {
            registry.service_allocator().release_port(port);
        }
    }
}

/// What one write claimed, so a failure can give it back.
struct Claims<'a> {
    registry: &'a Registry,
    ips: Vec<String>,
    ports: Vec<u16>,
}

impl<'a> Claims<'a> {
    fn new(registry: &'a Registry) -> Self {
        Self { registry, ips: Vec::new(), ports: Vec::new() }
    }

    fn undo(self) {
        for ip in &self.ips {
            self.registry.service_allocator().release_ip(ip);
        }
        for port in self.ports {
            self.registry.service_allocator().release_port(port);
        }
    }

    /// Claims the IP and ports `obj` wants that `old` (if any) does not already hold.
    fn claim_new(&mut self, obj: &mut Value, old: Option<&Value>) -> Result<(), ApiError> {
        let alloc = self.registry.service_allocator();
        let name = str_at(obj, &["metadata", "name"]).to_string();
        let invalid = |field: &str, value: Value, why: String| {
            ApiError::invalid("", "Service", &name, vec![Cause::invalid(field, value, why)])
        };
        let held_ips = old.map(cluster_ips).unwrap_or_default();
        let held_ports = old.map(node_ports).unwrap_or_default();
        if svc_type(obj) == "ExternalName" {
            obj["spec"].as_object_mut().map(|s| {
                s.remove("clusterIP");
                s.remove("clusterIPs")
            });
        } else {
            let requested = str_at(obj, &["spec", "clusterIP"]).to_string();
            let ip = if requested == "None" {
                "None".to_string()
            } else if held_ips.contains(&requested) {
                requested
            } else {
                let want = (!requested.is_empty()).then_some(requested.as_str());
                let ip = alloc
                    .allocate_ip(want)
                    .map_err(|why| invalid("spec.clusterIPs", json!([requested]), why))?
                    .to_string();
                self.ips.push(ip.clone());
                ip
            };
            obj["spec"]["clusterIP"] = json!(ip);
            obj["spec"]["clusterIPs"] = json!([ip]);
        }
        if !uses_node_ports(obj) {
            return Ok(());
        }
        let allocate_lb_ports =
            obj.pointer("/spec/allocateLoadBalancerNodePorts").and_then(Value::as_bool) != Some(false);
        let ports_wanted = svc_type(obj) == "NodePort" || allocate_lb_ports;
        let count = obj.pointer("/spec/ports").and_then(Value::as_array).map_or(0, Vec::len);
        for i in 0..count {
            let port = &mut obj["spec"]["ports"][i];
            let requested = port.get("nodePort").and_then(Value::as_u64).and_then(|p| u16::try_from(p).ok());
            match requested {
                Some(p) if held_ports.contains(&p) => {}
                None if !ports_wanted => {}
                _ => {
                    let got = alloc
                        .allocate_port(requested)
                        .map_err(|why| invalid(&format!("spec.ports[{i}].nodePort"), json!(requested), why))?;
                    self.ports.push(got);
                    port["nodePort"] = json!(got);
                }
            }
        }
        if needs_health_check_port(obj) {
            let requested =
                obj.pointer("/spec/healthCheckNodePort").and_then(Value::as_u64).and_then(|p| u16::try_from(p).ok());
            if !requested.is_some_and(|p| held_ports.contains(&p)) {
                let got = alloc
                    .allocate_port(requested)
                    .map_err(|why| invalid("spec.healthCheckNodePort", json!(requested), why))?;
                self.ports.push(got);
                obj["spec"]["healthCheckNodePort"] = json!(got);
            }
        }
        Ok(())
    }
}
