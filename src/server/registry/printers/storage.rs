//! Storage: PersistentVolumes, PersistentVolumeClaims and StorageClasses.

use std::sync::LazyLock;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{
    PersistentVolumeClaimSpec, PersistentVolumeClaimStatus, PersistentVolumeSpec, PersistentVolumeStatus,
};
use k8s_openapi::api::storage::v1::StorageClass;
use serde_json::Value;

use super::columns::{doc, Column};
use super::fields::{flag, is_set, list, map, quantity, text};
use super::format::{age, name};
use super::Printer;

pub(super) static PERSISTENT_VOLUMES: Printer = Printer::new(&PV_COLUMNS, pv_cells);
pub(super) static PERSISTENT_VOLUME_CLAIMS: Printer = Printer::new(&PVC_COLUMNS, pvc_cells);
pub(super) static STORAGE_CLASSES: Printer = Printer::new(&CLASS_COLUMNS, class_cells);

static PV_COLUMNS: LazyLock<Vec<Column>> = LazyLock::new(|| {
    vec![
        Column::name(),
        Column::string("Capacity", doc::<PersistentVolumeSpec>("capacity")),
        Column::string("Access Modes", doc::<PersistentVolumeSpec>("accessModes")),
        Column::string("Reclaim Policy", doc::<PersistentVolumeSpec>("persistentVolumeReclaimPolicy")),
        Column::string("Status", doc::<PersistentVolumeStatus>("phase")),
        Column::string("Claim", doc::<PersistentVolumeSpec>("claimRef")),
        Column::string("StorageClass", "The StorageClass the volume belongs to."),
        Column::string("VolumeAttributesClass", "The VolumeAttributesClass of the volume."),
        Column::string("Reason", doc::<PersistentVolumeStatus>("reason")),
        Column::age(),
        Column::string("VolumeMode", doc::<PersistentVolumeSpec>("volumeMode")).wide(),
    ]
});

static PVC_COLUMNS: LazyLock<Vec<Column>> = LazyLock::new(|| {
    vec![
        Column::name(),
        Column::string("Status", doc::<PersistentVolumeClaimStatus>("phase")),
        Column::string("Volume", doc::<PersistentVolumeClaimSpec>("volumeName")),
        Column::string("Capacity", doc::<PersistentVolumeClaimStatus>("capacity")),
        Column::string("Access Modes", doc::<PersistentVolumeClaimStatus>("accessModes")),
        Column::string("StorageClass", "The StorageClass the claim asks for."),
        Column::string("VolumeAttributesClass", "The VolumeAttributesClass of the claim."),
        Column::age(),
        Column::string("VolumeMode", doc::<PersistentVolumeClaimSpec>("volumeMode")).wide(),
    ]
});

static CLASS_COLUMNS: LazyLock<Vec<Column>> = LazyLock::new(|| {
    vec![
        Column::name(),
        Column::string("Provisioner", doc::<StorageClass>("provisioner")),
        Column::string("ReclaimPolicy", doc::<StorageClass>("reclaimPolicy")),
        Column::string("VolumeBindingMode", doc::<StorageClass>("volumeBindingMode")),
        // Declared as a string but carries a boolean, as upstream's does.
        Column::string("AllowVolumeExpansion", doc::<StorageClass>("allowVolumeExpansion")),
        Column::age(),
    ]
});

/// The old annotation naming a volume's or claim's class; it wins over the spec field.
const BETA_CLASS_ANNOTATION: &str = "volume.beta.kubernetes.io/storage-class";
/// Annotations that make a StorageClass the default one.
const DEFAULT_CLASS_ANNOTATIONS: [&str; 2] =
    ["storageclass.kubernetes.io/is-default-class", "storageclass.beta.kubernetes.io/is-default-class"];

/// `RWO,ROX,RWX,RWOP`: the access modes present, in that fixed order.
fn access_modes(modes: &[Value]) -> String {
    [("ReadWriteOnce", "RWO"), ("ReadOnlyMany", "ROX"), ("ReadWriteMany", "RWX"), ("ReadWriteOncePod", "RWOP")]
        .iter()
        .filter(|(mode, _)| modes.iter().any(|m| m.as_str() == Some(mode)))
        .map(|(_, short)| *short)
        .collect::<Vec<_>>()
        .join(",")
}

/// The phase, or `Terminating` once deletion has begun.
fn phase(object: &Value) -> &str {
    if is_set(object, "/metadata/deletionTimestamp") {
        "Terminating"
    } else {
        text(object, "/status/phase")
    }
}

/// The class named by the beta annotation, else by `spec.storageClassName`.
fn storage_class(object: &Value) -> &str {
    map(object, "/metadata/annotations")
        .and_then(|annotations| annotations.get(BETA_CLASS_ANNOTATION))
        .and_then(Value::as_str)
        .unwrap_or_else(|| text(object, "/spec/storageClassName"))
}

/// A spec field that reads `<unset>` when absent.
fn or_unset<'a>(object: &'a Value, pointer: &str) -> &'a str {
    object.pointer(pointer).and_then(Value::as_str).unwrap_or("<unset>")
}

fn pv_cells(volume: &Value, now: Timestamp) -> Vec<Value> {
    let claim = if is_set(volume, "/spec/claimRef") {
        format!("{}/{}", text(volume, "/spec/claimRef/namespace"), text(volume, "/spec/claimRef/name"))
    } else {
        String::new()
    };
    vec![
        name(volume),
        quantity(volume, "/spec/capacity/storage", "0").into(),
        access_modes(list(volume, "/spec/accessModes")).into(),
        text(volume, "/spec/persistentVolumeReclaimPolicy").into(),
        phase(volume).into(),
        claim.into(),
        storage_class(volume).into(),
        or_unset(volume, "/spec/volumeAttributesClassName").into(),
        text(volume, "/status/reason").into(),
        age(volume, now),
        or_unset(volume, "/spec/volumeMode").into(),
    ]
}

fn pvc_cells(claim: &Value, now: Timestamp) -> Vec<Value> {
    // Capacity and access modes are the bound volume's, so they show only once bound.
    let (capacity, modes) = if text(claim, "/spec/volumeName").is_empty() {
        (String::new(), String::new())
    } else {
        (quantity(claim, "/status/capacity/storage", "0").to_string(), access_modes(list(claim, "/status/accessModes")))
    };
    vec![
        name(claim),
        phase(claim).into(),
        text(claim, "/spec/volumeName").into(),
        capacity.into(),
        modes.into(),
        storage_class(claim).into(),
        or_unset(claim, "/spec/volumeAttributesClassName").into(),
        age(claim, now),
        or_unset(claim, "/spec/volumeMode").into(),
    ]
}

fn class_cells(class: &Value, now: Timestamp) -> Vec<Value> {
    let annotations = map(class, "/metadata/annotations");
    let is_default = DEFAULT_CLASS_ANNOTATIONS
        .iter()
        .any(|key| annotations.and_then(|a| a.get(*key)).and_then(Value::as_str) == Some("true"));
    let name = text(class, "/metadata/name");
    let name = if is_default { format!("{name} (default)") } else { name.to_string() };
    let or_default = |pointer: &str, default: &'static str| match text(class, pointer) {
        "" => default.to_string(),
        value => value.to_string(),
    };
    vec![
        name.into(),
        text(class, "/provisioner").into(),
        or_default("/reclaimPolicy", "Delete").into(),
        or_default("/volumeBindingMode", "Immediate").into(),
        flag(class, "/allowVolumeExpansion").unwrap_or(false).into(),
        age(class, now),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> Timestamp {
        "2024-05-01T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn bound_volume() {
        let volume = json!({
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": "pvc-1f2e", "creationTimestamp": "2024-05-01T11:00:00Z"},
            "spec": {
                "capacity": {"storage": "10Gi"},
                "accessModes": ["ReadWriteMany", "ReadWriteOnce"],
                "persistentVolumeReclaimPolicy": "Delete",
                "storageClassName": "local-path",
                "claimRef": {"kind": "PersistentVolumeClaim", "namespace": "default", "name": "data"},
                "volumeMode": "Filesystem",
                "hostPath": {"path": "/var/lib/onebin/storage/pvc-1f2e"}
            },
            "status": {"phase": "Bound"}
        });
        assert_eq!(
            pv_cells(&volume, now()),
            vec![
                json!("pvc-1f2e"),
                json!("10Gi"),
                json!("RWO,RWX"),
                json!("Delete"),
                json!("Bound"),
                json!("default/data"),
                json!("local-path"),
                json!("<unset>"),
                json!(""),
                json!("60m"),
                json!("Filesystem"),
            ]
        );
    }

    #[test]
    fn released_volume_being_deleted_with_beta_class() {
        let volume = json!({
            "metadata": {"name": "old", "deletionTimestamp": "2024-05-01T11:59:00Z",
                         "annotations": {"volume.beta.kubernetes.io/storage-class": "slow"}},
            "spec": {"accessModes": ["ReadWriteOncePod", "ReadOnlyMany"], "storageClassName": "fast"},
            "status": {"phase": "Failed", "reason": "VolumeFailedDelete"}
        });
        let cells = pv_cells(&volume, now());
        assert_eq!(cells[1], "0");
        assert_eq!(cells[2], "ROX,RWOP");
        assert_eq!(cells[4], "Terminating");
        assert_eq!(cells[5], "");
        assert_eq!(cells[6], "slow");
        assert_eq!(cells[8], "VolumeFailedDelete");
        assert_eq!(cells[10], "<unset>");
    }

    #[test]
    fn claims_show_capacity_once_bound() {
        let pending = json!({
            "metadata": {"name": "data", "creationTimestamp": "2024-05-01T11:59:50Z"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}},
                     "storageClassName": "local-path", "volumeMode": "Filesystem"},
            "status": {"phase": "Pending"}
        });
        assert_eq!(
            pvc_cells(&pending, now()),
            vec![
                json!("data"),
                json!("Pending"),
                json!(""),
                json!(""),
                json!(""),
                json!("local-path"),
                json!("<unset>"),
                json!("10s"),
                json!("Filesystem"),
            ]
        );
        let mut bound = pending.clone();
        bound["spec"]["volumeName"] = json!("pvc-1f2e");
        bound["status"] = json!({"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "1Gi"}});
        let cells = pvc_cells(&bound, now());
        assert_eq!(&cells[1..5], &[json!("Bound"), json!("pvc-1f2e"), json!("1Gi"), json!("RWO")]);
    }

    #[test]
    fn storage_class_defaults_and_default_marker() {
        let class = json!({
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": "local-path", "creationTimestamp": "2024-04-30T12:00:00Z",
                         "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
            "provisioner": "rancher.io/local-path",
            "volumeBindingMode": "WaitForFirstConsumer",
            "reclaimPolicy": "Delete"
        });
        assert_eq!(
            class_cells(&class, now()),
            vec![
                json!("local-path (default)"),
                json!("rancher.io/local-path"),
                json!("Delete"),
                json!("WaitForFirstConsumer"),
                json!(false),
                json!("24h"),
            ]
        );
        let plain = json!({"metadata": {"name": "nfs"}, "provisioner": "nfs.csi.k8s.io",
                           "allowVolumeExpansion": true, "reclaimPolicy": "Retain"});
        let cells = class_cells(&plain, now());
        assert_eq!(
            &cells[..5],
            &[json!("nfs"), json!("nfs.csi.k8s.io"), json!("Retain"), json!("Immediate"), json!(true)]
        );
    }
}
