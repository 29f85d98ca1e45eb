//! Docker-link-style environment variables for Services (`MYSVC_SERVICE_HOST`,
//! `MYSVC_PORT_80_TCP_ADDR`, …) that the kubelet gives every container.

use k8s_openapi::api::core::v1::Service;

/// The variables for `services` (the pod's namespace, plus `kubernetes` from `default`).
pub fn service_env(services: &[Service]) -> Vec<(String, String)> {
    let mut env = Vec::new();
    let mut sorted: Vec<&Service> = services.iter().collect();
    sorted.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    for svc in sorted {
        let Some(spec) = &svc.spec else { continue };
        let ip = spec.cluster_ip.as_deref().unwrap_or_default();
        if ip.is_empty() || ip == "None" {
            continue;
        }
        let name = svc.metadata.name.as_deref().unwrap_or_default().to_uppercase().replace('-', "_");
        let ports = spec.ports.as_deref().unwrap_or_default();
        let Some(first) = ports.first() else { continue };
        env.push((format!("{name}_SERVICE_HOST"), ip.to_string()));
        env.push((format!("{name}_SERVICE_PORT"), first.port.to_string()));
        for p in ports {
            if let Some(port_name) = p.name.as_deref().filter(|n| !n.is_empty()) {
                env.push((
                    format!("{name}_SERVICE_PORT_{}", port_name.to_uppercase().replace('-', "_")),
                    p.port.to_string(),
                ));
            }
        }
        let proto = |p: &k8s_openapi::api::core::v1::ServicePort| p.protocol.as_deref().unwrap_or("TCP").to_string();
        env.push((format!("{name}_PORT"), format!("{}://{ip}:{}", proto(first).to_lowercase(), first.port)));
        for p in ports {
            let protocol = proto(p);
            let prefix = format!("{name}_PORT_{}_{protocol}", p.port);
            env.push((prefix.clone(), format!("{}://{ip}:{}", protocol.to_lowercase(), p.port)));
            env.push((format!("{prefix}_PROTO"), protocol.to_lowercase()));
            env.push((format!("{prefix}_PORT"), p.port.to_string()));
            env.push((format!("{prefix}_ADDR"), ip.to_string()));
        }
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn variables_as_docker_links() {
        let svc: Service = serde_json::from_value(json!({"metadata": {"name": "my-svc"},
            "spec": {"clusterIP": "10.43.0.20", "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}}))
        .unwrap();
        let headless: Service = serde_json::from_value(
            json!({"metadata": {"name": "h"}, "spec": {"clusterIP": "None", "ports": [{"port": 1}]}}),
        )
        .unwrap();
        let env = service_env(&[svc, headless]);
        let get = |n: &str| env.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
        assert_eq!(get("MY_SVC_SERVICE_HOST"), Some("10.43.0.20"));
        assert_eq!(get("MY_SVC_SERVICE_PORT_HTTP"), Some("80"));
        assert_eq!(get("MY_SVC_PORT"), Some("tcp://10.43.0.20:80"));
        assert_eq!(get("MY_SVC_PORT_80_TCP_ADDR"), Some("10.43.0.20"));
        assert!(get("H_SERVICE_HOST").is_none());
    }
}
