//! Defaults and validation of a PodSpec, shared by pods and every pod template.

use std::collections::HashSet;

use serde_json::{json, Value};

use super::defaults::{each_mut, set_default, str_at};
use crate::server::api_error::Cause;
use crate::server::registry::validation;

const RESTART_POLICIES: &[&str] = &["Always", "OnFailure", "Never"];
const DNS_POLICIES: &[&str] = &["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"];
const PULL_POLICIES: &[&str] = &["Always", "IfNotPresent", "Never"];
const PROTOCOLS: &[&str] = &["TCP", "UDP", "SCTP"];
/// `0644`, the mode of projected files unless the user says otherwise.
const DEFAULT_FILE_MODE: i64 = 0o644;

/// Fills the defaults Kubernetes applies to a PodSpec.
pub fn default_pod_spec(spec: &mut Value) {
    if !spec.is_object() {
        return;
    }
    set_default(spec, &["restartPolicy"], json!("Always"));
    set_default(spec, &["terminationGracePeriodSeconds"], json!(30));
    set_default(spec, &["dnsPolicy"], json!("ClusterFirst"));
    set_default(spec, &["schedulerName"], json!("default-scheduler"));
    set_default(spec, &["securityContext"], json!({}));
    set_default(spec, &["enableServiceLinks"], json!(true));
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        for container in each_mut(spec, &[list]) {
            default_container(container);
        }
    }
    for volume in each_mut(spec, &["volumes"]) {
        for source in ["configMap", "secret", "downwardAPI", "projected"] {
            if volume.get(source).is_some_and(Value::is_object) {
                set_default(volume, &[source, "defaultMode"], json!(DEFAULT_FILE_MODE));
            }
        }
        if volume.get("hostPath").is_some_and(Value::is_object) {
            set_default(volume, &["hostPath", "type"], json!(""));
        }
    }
}

fn default_container(c: &mut Value) {
    set_default(c, &["terminationMessagePath"], json!("/dev/termination-log"));
    set_default(c, &["terminationMessagePolicy"], json!("File"));
    let policy = if image_tag_is_latest(str_at(c, &["image"])) { "Always" } else { "IfNotPresent" };
    set_default(c, &["imagePullPolicy"], json!(policy));
    set_default(c, &["resources"], json!({}));
    for port in each_mut(c, &["ports"]) {
        set_default(port, &["protocol"], json!("TCP"));
    }
    for env in each_mut(c, &["env"]) {
        if env.pointer("/valueFrom/fieldRef").is_some() {
            set_default(env, &["valueFrom", "fieldRef", "apiVersion"], json!("v1"));
        }
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if c.get(probe).is_some_and(Value::is_object) {
            let p = c.get_mut(probe).expect("checked");
            set_default(p, &["timeoutSeconds"], json!(1));
            set_default(p, &["periodSeconds"], json!(10));
            set_default(p, &["successThreshold"], json!(1));
            set_default(p, &["failureThreshold"], json!(3));
            if p.get("httpGet").is_some_and(Value::is_object) {
                set_default(p, &["httpGet", "scheme"], json!("HTTP"));
                set_default(p, &["httpGet", "path"], json!("/"));
            }
        }
    }
}

/// Images without a tag or digest, or tagged `latest`, are pulled every time.
fn image_tag_is_latest(image: &str) -> bool {
    if image.contains('@') {
        return false;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.rsplit_once(':') {
        Some((_, tag)) => tag == "latest",
        None => true,
    }
}

/// Validation of a PodSpec at `path` (e.g. `spec` or `spec.template.spec`).
pub fn validate_pod_spec(spec: &Value, path: &str) -> Vec<Cause> {
    let mut causes = Vec::new();
    let volumes: Vec<&str> = spec
        .get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|v| v.get("name").and_then(Value::as_str).unwrap_or_default())
        .collect();
    let mut seen_volumes = HashSet::new();
    for (i, name) in volumes.iter().enumerate() {
        let field = format!("{path}.volumes[{i}].name");
        if name.is_empty() {
            causes.push(Cause::required(field));
        } else if let Err(why) = validation::dns1123_label(name) {
            causes.push(Cause::invalid(field, name, why));
        } else if !seen_volumes.insert(*name) {
            causes.push(Cause::duplicate(field, name));
        }
    }
    let containers = spec.get("containers").and_then(Value::as_array);
    if containers.is_none_or(|c| c.is_empty()) {
        causes.push(Cause::required(format!("{path}.containers")));
    }
    let mut names = HashSet::new();
    for list in ["initContainers", "containers"] {
        for (i, c) in spec.get(list).and_then(Value::as_array).into_iter().flatten().enumerate() {
            validate_container(c, &format!("{path}.{list}[{i}]"), &mut names, &volumes, &mut causes);
        }
    }
    let restart = str_at(spec, &["restartPolicy"]);
    if !RESTART_POLICIES.contains(&restart) {
        causes.push(Cause::unsupported(format!("{path}.restartPolicy"), restart, RESTART_POLICIES));
    }
    let dns = str_at(spec, &["dnsPolicy"]);
    if !DNS_POLICIES.contains(&dns) {
        causes.push(Cause::unsupported(format!("{path}.dnsPolicy"), dns, DNS_POLICIES));
    }
    if let Some(grace) = spec.get("terminationGracePeriodSeconds").and_then(Value::as_i64) {
        if grace < 0 {
            causes.push(Cause::invalid(format!("{path}.terminationGracePeriodSeconds"), grace, "must be >= 0"));
        }
    }
    causes
}

fn validate_container(c: &Value, path: &str, names: &mut HashSet<String>, volumes: &[&str], causes: &mut Vec<Cause>) {
    let name = str_at(c, &["name"]);
    if name.is_empty() {
        causes.push(Cause::required(format!("{path}.name")));
    } else if let Err(why) = validation::dns1123_label(name) {
        causes.push(Cause::invalid(format!("{path}.name"), name, why));
    } else if !names.insert(name.to_string()) {
        causes.push(Cause::duplicate(format!("{path}.name"), name));
    }
    if str_at(c, &["image"]).trim().is_empty() {
        causes.push(Cause::required(format!("{path}.image")));
    }
    let pull = str_at(c, &["imagePullPolicy"]);
    if !PULL_POLICIES.contains(&pull) {
        causes.push(Cause::unsupported(format!("{path}.imagePullPolicy"), pull, PULL_POLICIES));
    }
    let mut port_names = HashSet::new();
    for (i, port) in c.get("ports").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let number = port.get("containerPort").and_then(Value::as_i64).unwrap_or(0);
        if !(1..=65535).contains(&number) {
            causes.push(Cause::invalid(
                format!("{path}.ports[{i}].containerPort"),
                number,
                "must be between 1 and 65535, inclusive",
            ));
        }
        let protocol = str_at(port, &["protocol"]);
        if !PROTOCOLS.contains(&protocol) {
            causes.push(Cause::unsupported(format!("{path}.ports[{i}].protocol"), protocol, PROTOCOLS));
        }
        let port_name = str_at(port, &["name"]);
        if !port_name.is_empty() {
            if let Err(why) = port_name_rule(port_name) {
                causes.push(Cause::invalid(format!("{path}.ports[{i}].name"), port_name, why));
            } else if !port_names.insert(port_name) {
                causes.push(Cause::duplicate(format!("{path}.ports[{i}].name"), port_name));
            }
        }
    }
    for (i, mount) in c.get("volumeMounts").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let volume = str_at(mount, &["name"]);
        if !volumes.contains(&volume) {
            causes.push(Cause {
                reason: "FieldValueNotFound",
                field: format!("{path}.volumeMounts[{i}].name"),
                message: format!("Not found: \"{volume}\""),
            });
        }
        if str_at(mount, &["mountPath"]).is_empty() {
            causes.push(Cause::required(format!("{path}.volumeMounts[{i}].mountPath")));
        }
    }
}

/// An IANA service name: at most 15 lowercase alphanumerics or '-', with a letter.
pub fn port_name_rule(name: &str) -> Result<(), String> {
    if name.len() > 15 {
        return Err("must be no more than 15 characters".into());
    }
    if !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        || !name.chars().any(|c| c.is_ascii_lowercase())
        || name.starts_with('-')
        || name.ends_with('-')
        || name.contains("--")
    {
        return Err("must contain only alphanumeric characters (a-z, 0-9) and '-', at least one letter, and no leading, trailing or double hyphens".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_kubernetes() {
        let mut spec = json!({"containers": [{"name": "a", "image": "nginx", "ports": [{"containerPort": 80}]},
                                             {"name": "b", "image": "busybox:1.36"}],
                              "volumes": [{"name": "cfg", "configMap": {"name": "x"}}]});
        default_pod_spec(&mut spec);
        assert_eq!(spec["restartPolicy"], "Always");
        assert_eq!(spec["containers"][0]["imagePullPolicy"], "Always");
        assert_eq!(spec["containers"][1]["imagePullPolicy"], "IfNotPresent");
        assert_eq!(spec["containers"][0]["ports"][0]["protocol"], "TCP");
        assert_eq!(spec["volumes"][0]["configMap"]["defaultMode"], 420);
        assert!(validate_pod_spec(&spec, "spec").is_empty());
    }

    #[test]
    fn validation_names_the_field() {
        let mut spec = json!({"containers": [{"name": "a"}, {"name": "a", "image": "x",
            "volumeMounts": [{"name": "missing", "mountPath": "/m"}]}]});
        default_pod_spec(&mut spec);
        let fields: Vec<_> = validate_pod_spec(&spec, "spec").into_iter().map(|c| c.field).collect();
        assert_eq!(
            fields,
            ["spec.containers[0].image", "spec.containers[1].name", "spec.containers[1].volumeMounts[0].name"]
        );
        let empty = json!({"restartPolicy": "Always", "dnsPolicy": "ClusterFirst"});
        assert_eq!(validate_pod_spec(&empty, "spec")[0].field, "spec.containers");
    }
}
