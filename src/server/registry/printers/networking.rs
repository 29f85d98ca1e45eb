//! Networking objects: Ingresses (CLASS HOSTS ADDRESS PORTS), IngressClasses
//! (CONTROLLER PARAMETERS) and NetworkPolicies (POD-SELECTOR).

use std::sync::LazyLock;

use jiff::Timestamp;
use k8s_openapi::api::networking::v1::NetworkPolicySpec;
use serde_json::Value;

use super::columns::{doc, Column};
use super::fields::{is_set, list, text};
use super::format::{age, label_selector, name};
use super::services::load_balancer_addresses;
use super::Printer;

pub(super) static INGRESSES: Printer = Printer::new(&INGRESS_COLUMNS, ingress_cells);
pub(super) static INGRESS_CLASSES: Printer = Printer::new(&INGRESS_CLASS_COLUMNS, ingress_class_cells);
pub(super) static NETWORK_POLICIES: Printer = Printer::new(&NETWORK_POLICY_COLUMNS, network_policy_cells);

static INGRESS_COLUMNS: LazyLock<Vec<Column>> = LazyLock::new(|| {
    vec![
        Column::name(),
        Column::string("Class", "The IngressClass that implements this ingress."),
        Column::string("Hosts", "Host names the rules match requests against."),
        Column::string("Address", "Where the load balancer serving this ingress can be reached."),
        Column::string("Ports", "Ports the ingress is served on (443 when it has TLS)."),
        Column::age(),
    ]
});

static INGRESS_CLASS_COLUMNS: LazyLock<Vec<Column>> = LazyLock::new(|| {
    vec![
        Column::name(),
        Column::string("Controller", "The controller that implements this class."),
        Column::string("Parameters", "The object holding the class's additional configuration."),
        Column::age(),
    ]
});

static NETWORK_POLICY_COLUMNS: LazyLock<Vec<Column>> = LazyLock::new(|| {
    vec![Column::name(), Column::string("Pod-Selector", doc::<NetworkPolicySpec>("podSelector")), Column::age()]
});

/// HOSTS lists this many rules' hosts, then `+ N more...`.
const LISTED: usize = 3;

fn ingress_cells(ingress: &Value, now: Timestamp) -> Vec<Value> {
    let class = ingress.pointer("/spec/ingressClassName").and_then(Value::as_str).unwrap_or("<none>");
    let ports = if list(ingress, "/spec/tls").is_empty() { "80" } else { "80, 443" };
    vec![
        name(ingress),
        class.into(),
        hosts(list(ingress, "/spec/rules")).into(),
        load_balancer_addresses(ingress).join(",").into(),
        ports.into(),
        age(ingress, now),
    ]
}

/// The hosts named by the rules, at most three of them, or `*` when no rule names one. Once
/// three are listed, the rules after the one that gave the third count as "more" (upstream
/// subtracts three from the number of rules, hosts or not, and so does this).
fn hosts(rules: &[Value]) -> String {
    let mut named = Vec::new();
    let mut more = false;
    for rule in rules {
        if named.len() == LISTED {
            more = true;
            break;
        }
        let host = text(rule, "/host");
        if !host.is_empty() {
            named.push(host);
        }
    }
    if named.is_empty() {
        "*".into()
    } else if more {
        format!("{} + {} more...", named.join(","), rules.len() - LISTED)
    } else {
        named.join(",")
    }
}

fn ingress_class_cells(class: &Value, now: Timestamp) -> Vec<Value> {
    let parameters = if is_set(class, "/spec/parameters") {
        let kind = text(class, "/spec/parameters/kind");
        let name = text(class, "/spec/parameters/name");
        match class.pointer("/spec/parameters/apiGroup").and_then(Value::as_str) {
            Some(group) => format!("{kind}.{group}/{name}"),
            None => format!("{kind}/{name}"),
        }
    } else {
        "<none>".into()
    };
    vec![name(class), text(class, "/spec/controller").into(), parameters.into(), age(class, now)]
}

fn network_policy_cells(policy: &Value, now: Timestamp) -> Vec<Value> {
    vec![name(policy), label_selector(policy.pointer("/spec/podSelector")).into(), age(policy, now)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> Timestamp {
        "2024-05-01T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn ingress_without_class_or_address() {
        let ingress = json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {"name": "ingress-example", "namespace": "default", "creationTimestamp": "2024-05-01T11:59:40Z",
                         "annotations": {"kubernetes.io/ingress.class": "nginx"}},
            "spec": {"rules": [{"host": "alicek106.example.com", "http": {"paths": [
                {"path": "/echo-hostname", "pathType": "Prefix",
                 "backend": {"service": {"name": "hostname-service", "port": {"number": 80}}}}]}}]},
            "status": {"loadBalancer": {}}
        });
        assert_eq!(
            ingress_cells(&ingress, now()),
            vec![
                json!("ingress-example"),
                json!("<none>"),
                json!("alicek106.example.com"),
                json!(""),
                json!("80"),
                json!("20s")
            ]
        );
    }

    #[test]
    fn ingress_with_class_tls_and_addresses() {
        let ingress = json!({
            "metadata": {"name": "web"},
            "spec": {"ingressClassName": "traefik", "tls": [{"hosts": ["a.example.com"], "secretName": "tls"}],
                     "rules": [{"http": {"paths": []}}]},
            "status": {"loadBalancer": {"ingress": [{"ip": "192.168.1.11"}, {"ip": "192.168.1.10"}]}}
        });
        let cells = ingress_cells(&ingress, now());
        assert_eq!(cells[1..5], [json!("traefik"), json!("*"), json!("192.168.1.10,192.168.1.11"), json!("80, 443")]);
    }

    #[test]
    fn hosts_stop_at_three() {
        let rules = |hosts: &[&str]| hosts.iter().map(|h| json!({"host": h})).collect::<Vec<_>>();
        assert_eq!(hosts(&rules(&["a", "", "b", "c"])), "a,b,c");
        assert_eq!(hosts(&rules(&["a", "", "b", "c", "d"])), "a,b,c + 2 more...");
        assert_eq!(hosts(&rules(&["a", "b", "c", "d", "e", "f"])), "a,b,c + 3 more...");
        assert_eq!(hosts(&rules(&["", "", "", "d"])), "d");
        assert_eq!(hosts(&[]), "*");
    }

    #[test]
    fn ingress_classes_and_parameters() {
        let class = json!({
            "metadata": {"name": "traefik", "creationTimestamp": "2024-05-01T11:00:00Z"},
            "spec": {"controller": "traefik.io/ingress-controller",
                     "parameters": {"apiGroup": "k8s.example.com", "kind": "IngressParameters", "name": "external"}}
        });
        assert_eq!(
            ingress_class_cells(&class, now()),
            vec![
                json!("traefik"),
                json!("traefik.io/ingress-controller"),
                json!("IngressParameters.k8s.example.com/external"),
                json!("60m")
            ]
        );
        let core = json!({"metadata": {"name": "c"}, "spec": {"controller": "x", "parameters": {"kind": "ConfigMap", "name": "cfg"}}});
        assert_eq!(ingress_class_cells(&core, now())[2], "ConfigMap/cfg");
        let bare = json!({"metadata": {"name": "b"}, "spec": {"controller": "x"}});
        assert_eq!(ingress_class_cells(&bare, now())[2], "<none>");
    }

    #[test]
    fn network_policy_selectors() {
        let policy = json!({
            "metadata": {"name": "db-access", "creationTimestamp": "2024-05-01T11:00:00Z"},
            "spec": {"podSelector": {"matchLabels": {"role": "db"}}, "policyTypes": ["Ingress"]}
        });
        assert_eq!(network_policy_cells(&policy, now()), vec![json!("db-access"), json!("role=db"), json!("60m")]);
        let all = json!({"metadata": {"name": "deny-all"}, "spec": {"podSelector": {}}});
        assert_eq!(network_policy_cells(&all, now())[1], "<none>");
    }
}
