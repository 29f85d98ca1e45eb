//! Services and where they send traffic: Services (TYPE CLUSTER-IP EXTERNAL-IP PORT(S)),
//! Endpoints and EndpointSlices.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Endpoints, ServiceSpec};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use serde_json::Value;

use super::columns::{doc, Column};
use super::fields::{int, list, map, opt_int, text};
use super::format::{age, first_few, labels, name};
use super::Printer;

pub(super) static SERVICES: Printer = Printer::new(&SERVICE_COLUMNS, service_cells);
pub(super) static ENDPOINTS: Printer = Printer::new(&ENDPOINTS_COLUMNS, endpoints_cells);
pub(super) static ENDPOINT_SLICES: Printer = Printer::new(&SLICE_COLUMNS, slice_cells);

static SERVICE_COLUMNS: LazyLock<Vec<Column>> = LazyLock::new(|| {
    vec![
        Column::name(),
        Column::string("Type", doc::<ServiceSpec>("type")),
        Column::string("Cluster-IP", doc::<ServiceSpec>("clusterIP")),
        Column::string("External-IP", doc::<ServiceSpec>("externalIPs")),
        Column::string("Port(s)", doc::<ServiceSpec>("ports")),
        Column::age(),
        Column::string("Selector", doc::<ServiceSpec>("selector")).wide(),
    ]
});

static ENDPOINTS_COLUMNS: LazyLock<Vec<Column>> =
    LazyLock::new(|| vec![Column::name(), Column::string("Endpoints", doc::<Endpoints>("subsets")), Column::age()]);

static SLICE_COLUMNS: LazyLock<Vec<Column>> = LazyLock::new(|| {
    vec![
        Column::name(),
        Column::string("AddressType", doc::<EndpointSlice>("addressType")),
        Column::string("Ports", doc::<EndpointSlice>("ports")),
        Column::string("Endpoints", doc::<EndpointSlice>("endpoints")),
        Column::age(),
    ]
});

/// Endpoint lists show this many entries, then `+ N more...`.
const LISTED: usize = 3;

fn service_cells(service: &Value, now: Timestamp) -> Vec<Value> {
    // `clusterIPs[0]` is the primary address; `clusterIP` holds the same for objects that
    // have not been through dual-stack defaulting.
    let cluster_ip = list(service, "/spec/clusterIPs")
        .first()
        .and_then(Value::as_str)
        .unwrap_or_else(|| text(service, "/spec/clusterIP"));
    let ports = ports(list(service, "/spec/ports"));
    vec![
        name(service),
        text(service, "/spec/type").into(),
        if cluster_ip.is_empty() { "<none>" } else { cluster_ip }.into(),
        external_ip(service).into(),
        if ports.is_empty() { "<none>".into() } else { ports }.into(),
        age(service, now),
        labels(map(service, "/spec/selector")).into(),
    ]
}

/// What reaches the service from outside: its external IPs, for load balancers also the
/// ingress points (`<pending>` until there is one), for ExternalName the DNS name.
fn external_ip(service: &Value) -> String {
    let external_ips = list(service, "/spec/externalIPs").iter().filter_map(Value::as_str).collect::<Vec<_>>();
    match text(service, "/spec/type") {
        "ClusterIP" | "NodePort" if external_ips.is_empty() => "<none>".into(),
        "ClusterIP" | "NodePort" => external_ips.join(","),
        "LoadBalancer" => {
            let mut addresses = load_balancer_addresses(service);
            addresses.extend(external_ips);
            if addresses.is_empty() {
                "<pending>".into()
            } else {
                addresses.join(",")
            }
        }
        "ExternalName" => text(service, "/spec/externalName").into(),
        _ => "<unknown>".into(),
    }
}

/// Distinct load balancer ingress points (IP, else hostname), sorted.
pub(super) fn load_balancer_addresses(object: &Value) -> Vec<&str> {
    let addresses: BTreeSet<&str> = list(object, "/status/loadBalancer/ingress")
        .iter()
        .map(|ingress| match text(ingress, "/ip") {
            "" => text(ingress, "/hostname"),
            ip => ip,
        })
        .filter(|address| !address.is_empty())
        .collect();
    addresses.into_iter().collect()
}

/// `80/TCP,443:30443/TCP`: each port, with its node port when it has one.
fn ports(ports: &[Value]) -> String {
    ports
        .iter()
        .map(|port| {
            // TCP is what the API defaults an unset protocol to.
            let protocol = match text(port, "/protocol") {
                "" => "TCP",
                protocol => protocol,
            };
            let number = int(port, "/port");
            match int(port, "/nodePort") {
                node_port if node_port > 0 => format!("{number}:{node_port}/{protocol}"),
                _ => format!("{number}/{protocol}"),
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn endpoints_cells(endpoints: &Value, now: Timestamp) -> Vec<Value> {
    vec![name(endpoints), ready_endpoints(endpoints).into(), age(endpoints, now)]
}

/// `10.42.0.5:80,10.42.1.3:80 + 2 more...`: ready addresses with each of their ports (bare
/// addresses for headless services without ports); `<none>` without subsets.
fn ready_endpoints(endpoints: &Value) -> String {
    let subsets = list(endpoints, "/subsets");
    if subsets.is_empty() {
        return "<none>".into();
    }
    let mut shown = Vec::new();
    let mut total = 0;
    for subset in subsets {
        let addresses = list(subset, "/addresses");
        let ports = list(subset, "/ports");
        if ports.is_empty() {
            total += addresses.len();
            shown.extend(addresses.iter().map(|a| text(a, "/ip").to_string()));
            continue;
        }
        for port in ports {
            total += addresses.len();
            let number = int(port, "/port");
            shown.extend(addresses.iter().map(|a| host_port(text(a, "/ip"), number)));
        }
    }
    shown.truncate(LISTED);
    if total > LISTED {
        format!("{} + {} more...", shown.join(","), total - LISTED)
    } else {
        shown.join(",")
    }
}

/// `10.0.0.1:80`, `[fd00::1]:80`.
fn host_port(host: &str, port: i64) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

fn slice_cells(slice: &Value, now: Timestamp) -> Vec<Value> {
    let ports: Vec<String> = list(slice, "/ports")
        .iter()
        .map(|port| match opt_int(port, "/port") {
            Some(number) => number.to_string(),
            None if port.get("name").is_some_and(Value::is_string) => text(port, "/name").to_string(),
            None => "*".to_string(),
        })
        .collect();
    let addresses: Vec<String> = list(slice, "/endpoints")
        .iter()
        .flat_map(|endpoint| list(endpoint, "/addresses"))
        .map(|address| address.as_str().unwrap_or_default().to_string())
        .collect();
    vec![
        name(slice),
        text(slice, "/addressType").into(),
        first_few(&ports, ports.len(), LISTED).into(),
        first_few(&addresses, addresses.len(), LISTED).into(),
        age(slice, now),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> Timestamp {
        "2024-05-01T12:00:00Z".parse().unwrap()
    }

    fn service(spec: Value, status: Value) -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web", "namespace": "default", "creationTimestamp": "2024-05-01T09:00:00Z"},
            "spec": spec,
            "status": status,
        })
    }

    #[test]
    fn cluster_ip_service() {
        let svc = service(
            json!({"type": "ClusterIP", "clusterIP": "10.43.12.7", "clusterIPs": ["10.43.12.7"],
                   "selector": {"app": "web"},
                   "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080},
                             {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53}]}),
            json!({"loadBalancer": {}}),
        );
        assert_eq!(
            service_cells(&svc, now()),
            vec![
                json!("web"),
                json!("ClusterIP"),
                json!("10.43.12.7"),
                json!("<none>"),
                json!("80/TCP,53/UDP"),
                json!("3h"),
                json!("app=web"),
            ]
        );
    }

    #[test]
    fn node_port_and_headless_services() {
        let node_port = service(
            json!({"type": "NodePort", "clusterIPs": ["10.43.0.20"], "externalIPs": ["192.168.1.50"],
                   "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}]}),
            json!({}),
        );
        let cells = service_cells(&node_port, now());
        assert_eq!(cells[3], "192.168.1.50");
        assert_eq!(cells[4], "80:30080/TCP");
        assert_eq!(cells[6], "<none>");

        let headless = service(json!({"type": "ClusterIP", "clusterIP": "None", "clusterIPs": ["None"]}), json!({}));
        let cells = service_cells(&headless, now());
        assert_eq!(cells[2], "None");
        assert_eq!(cells[4], "<none>");
    }

    #[test]
    fn load_balancer_external_ips() {
        let pending = service(
            json!({"type": "LoadBalancer", "clusterIPs": ["10.43.0.30"],
                   "ports": [{"port": 443, "nodePort": 31443, "protocol": "TCP"}]}),
            json!({"loadBalancer": {}}),
        );
        assert_eq!(external_ip(&pending), "<pending>");

        let assigned = service(
            json!({"type": "LoadBalancer", "externalIPs": ["203.0.113.9"]}),
            json!({"loadBalancer": {"ingress": [
                {"ip": "192.168.1.11"}, {"ip": "192.168.1.10"}, {"hostname": "lb.example.com"},
                {"ip": "192.168.1.10"}, {"ipMode": "VIP"}
            ]}}),
        );
        assert_eq!(external_ip(&assigned), "192.168.1.10,192.168.1.11,lb.example.com,203.0.113.9");
    }

    #[test]
    fn external_name_and_untyped_services() {
        let external = service(json!({"type": "ExternalName", "externalName": "db.example.com"}), json!({}));
        let cells = service_cells(&external, now());
        assert_eq!(cells[2], "<none>");
        assert_eq!(cells[3], "db.example.com");
        assert_eq!(external_ip(&service(json!({}), json!({}))), "<unknown>");
    }

    #[test]
    fn endpoints_list_ready_addresses_with_ports() {
        let endpoints = json!({
            "metadata": {"name": "web", "creationTimestamp": "2024-05-01T11:00:00Z"},
            "subsets": [{
                "addresses": [{"ip": "10.42.0.5"}, {"ip": "10.42.1.3"}],
                "notReadyAddresses": [{"ip": "10.42.2.9"}],
                "ports": [{"name": "http", "port": 80}, {"name": "https", "port": 443}]
            }]
        });
        assert_eq!(
            endpoints_cells(&endpoints, now()),
            vec![json!("web"), json!("10.42.0.5:80,10.42.1.3:80,10.42.0.5:443 + 1 more..."), json!("60m")]
        );
        let headless = json!({"subsets": [{"addresses": [{"ip": "fd00::5"}]}]});
        assert_eq!(ready_endpoints(&headless), "fd00::5");
        let v6 = json!({"subsets": [{"addresses": [{"ip": "fd00::5"}], "ports": [{"port": 80}]}]});
        assert_eq!(ready_endpoints(&v6), "[fd00::5]:80");
        assert_eq!(ready_endpoints(&json!({"subsets": []})), "<none>");
        let not_ready = json!({"subsets": [{"notReadyAddresses": [{"ip": "10.42.0.5"}], "ports": [{"port": 80}]}]});
        assert_eq!(ready_endpoints(&not_ready), "");
    }

    #[test]
    fn endpoint_slices_list_ports_and_addresses() {
        let slice = json!({
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {"name": "web-abc12", "creationTimestamp": "2024-05-01T11:59:30Z"},
            "addressType": "IPv4",
            "ports": [{"name": "http", "port": 80, "protocol": "TCP"}, {"name": "metrics"}, {}],
            "endpoints": [
                {"addresses": ["10.42.0.5"], "conditions": {"ready": true}},
                {"addresses": ["10.42.1.3"]},
                {"addresses": ["10.42.1.4"]},
                {"addresses": ["10.42.2.8", "10.42.2.9"]}
            ]
        });
        assert_eq!(
            slice_cells(&slice, now()),
            vec![
                json!("web-abc12"),
                json!("IPv4"),
                json!("80,metrics,*"),
                json!("10.42.0.5,10.42.1.3,10.42.1.4 + 2 more..."),
                json!("30s"),
            ]
        );
        let empty = json!({"metadata": {"name": "e"}, "addressType": "IPv4"});
        let cells = slice_cells(&empty, now());
        assert_eq!(cells[2], "<unset>");
        assert_eq!(cells[3], "<unset>");
    }
}
