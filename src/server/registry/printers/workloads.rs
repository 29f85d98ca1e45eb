//! Controllers of replicated pods: Deployments, ReplicaSets, ReplicationControllers,
//! DaemonSets, StatefulSets, and the ControllerRevisions they keep their history in.

use std::sync::LazyLock;

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{
    ControllerRevision, DaemonSetSpec, DaemonSetStatus, DeploymentSpec, DeploymentStatus, ReplicaSetSpec,
    ReplicaSetStatus,
};
use k8s_openapi::api::core::v1::{PodSpec, ReplicationControllerSpec, ReplicationControllerStatus};
use serde_json::Value;

use super::columns::{doc, Column};
use super::fields::{int, list, map, opt_int, text};
use super::format::{age, containers, label_selector, labels, name, selector};
use super::Printer;

pub(super) static DEPLOYMENTS: Printer = Printer::new(&DEPLOYMENT_COLUMNS, deployment_cells);
pub(super) static REPLICA_SETS: Printer = Printer::new(&REPLICA_SET_COLUMNS, replica_set_cells);
pub(super) static REPLICATION_CONTROLLERS: Printer = Printer::new(&RC_COLUMNS, rc_cells);
pub(super) static DAEMON_SETS: Printer = Printer::new(&DAEMON_SET_COLUMNS, daemon_set_cells);
pub(super) static STATEFUL_SETS: Printer = Printer::new(&STATEFUL_SET_COLUMNS, stateful_set_cells);
pub(super) static CONTROLLER_REVISIONS: Printer = Printer::new(&REVISION_COLUMNS, revision_cells);

const READY: &str = "Ready pods, out of the desired number.";

static DEPLOYMENT_COLUMNS: LazyLock<Vec<Column>> = LazyLock::new(|| {
    vec![
        Column::name(),
        Column::string("Ready", READY),
        // UP-TO-DATE and AVAILABLE are declared as strings but carry integers, as upstream's do.
        Column::string("Up-to-date", doc::<DeploymentStatus>("updatedReplicas")),
        Column::string("Available", doc::<DeploymentStatus>("availableReplicas")),
        Column::age(),
        Column::containers(),
        Column::images(),
        Column::string("Selector", doc::<DeploymentSpec>("selector")).wide(),
    ]
});

static REPLICA_SET_COLUMNS: LazyLock<Vec<Column>> = LazyLock::new(|| {
    vec![
        Column::name(),
        Column::integer("Desired", doc::<ReplicaSetSpec>("replicas")),
        Column::integer("Current", doc::<ReplicaSetStatus>("replicas")),
        Column::integer("Ready", doc::<ReplicaSetStatus>("readyReplicas")),
        Column::age(),
        Column::containers(),
        Column::images(),
        Column::string("Selector", doc::<ReplicaSetSpec>("selector")).wide(),
    ]
});

static RC_COLUMNS: LazyLock<Vec<Column>> = LazyLock::new(|| {
    vec![
        Column::name(),
        Column::integer("Desired", doc::<ReplicationControllerSpec>("replicas")),
        Column::integer("Current", doc::<ReplicationControllerStatus>("replicas")),
        Column::integer("Ready", doc::<ReplicationControllerStatus>("readyReplicas")),
        Column::age(),
        Column::containers(),
        Column::images(),
        Column::string("Selector", doc::<ReplicationControllerSpec>("selector")).wide(),
    ]
});

static DAEMON_SET_COLUMNS: LazyLock<Vec<Column>> = LazyLock::new(|| {
    vec![
        Column::name(),
        Column::integer("Desired", doc::<DaemonSetStatus>("desiredNumberScheduled")),
        Column::integer("Current", doc::<DaemonSetStatus>("currentNumberScheduled")),
        Column::integer("Ready", doc::<DaemonSetStatus>("numberReady")),
        Column::integer("Up-to-date", doc::<DaemonSetStatus>("updatedNumberScheduled")),
        Column::integer("Available", doc::<DaemonSetStatus>("numberAvailable")),
        Column::string("Node Selector", doc::<PodSpec>("nodeSelector")),
        Column::age(),
        Column::containers(),
        Column::images(),
        Column::string("Selector", doc::<DaemonSetSpec>("selector")).wide(),
    ]
});

static STATEFUL_SET_COLUMNS: LazyLock<Vec<Column>> = LazyLock::new(|| {
    vec![Column::name(), Column::string("Ready", READY), Column::age(), Column::containers(), Column::images()]
});

static REVISION_COLUMNS: LazyLock<Vec<Column>> = LazyLock::new(|| {
    vec![
        Column::name(),
        Column::string("Controller", "The object that owns this revision."),
        // Declared as a string but carries an integer, as upstream's does.
        Column::string("Revision", doc::<ControllerRevision>("revision")),
        Column::age(),
    ]
});

/// `spec.replicas`; the API defaults it to 1.
fn desired_replicas(object: &Value) -> i64 {
    opt_int(object, "/spec/replicas").unwrap_or(1)
}

/// The CONTAINERS and IMAGES cells of the pod template at `pointer`.
fn template_cells(object: &Value, pointer: &str) -> [Value; 2] {
    let (names, images) = containers(list(object, &format!("{pointer}/spec/containers")));
    [names.into(), images.into()]
}

fn deployment_cells(deployment: &Value, now: Timestamp) -> Vec<Value> {
    let ready = int(deployment, "/status/readyReplicas");
    // Unlike the other SELECTOR cells, an unusable selector reads `<invalid>` and an empty
    // one stays empty.
    let selector = selector(deployment.pointer("/spec/selector")).unwrap_or_else(|| "<invalid>".into());
    let [names, images] = template_cells(deployment, "/spec/template");
    vec![
        name(deployment),
        format!("{ready}/{}", desired_replicas(deployment)).into(),
        int(deployment, "/status/updatedReplicas").into(),
        int(deployment, "/status/availableReplicas").into(),
        age(deployment, now),
        names,
        images,
        selector.into(),
    ]
}

fn replica_set_cells(replica_set: &Value, now: Timestamp) -> Vec<Value> {
    let [names, images] = template_cells(replica_set, "/spec/template");
    vec![
        name(replica_set),
        desired_replicas(replica_set).into(),
        int(replica_set, "/status/replicas").into(),
        int(replica_set, "/status/readyReplicas").into(),
        age(replica_set, now),
        names,
        images,
        label_selector(replica_set.pointer("/spec/selector")).into(),
    ]
}

fn rc_cells(controller: &Value, now: Timestamp) -> Vec<Value> {
    let [names, images] = template_cells(controller, "/spec/template");
    vec![
        name(controller),
        desired_replicas(controller).into(),
        int(controller, "/status/replicas").into(),
        int(controller, "/status/readyReplicas").into(),
        age(controller, now),
        names,
        images,
        // A ReplicationController selects by a plain label map.
        labels(map(controller, "/spec/selector")).into(),
    ]
}

fn daemon_set_cells(daemon_set: &Value, now: Timestamp) -> Vec<Value> {
    let [names, images] = template_cells(daemon_set, "/spec/template");
    vec![
        name(daemon_set),
        int(daemon_set, "/status/desiredNumberScheduled").into(),
        int(daemon_set, "/status/currentNumberScheduled").into(),
        int(daemon_set, "/status/numberReady").into(),
        int(daemon_set, "/status/updatedNumberScheduled").into(),
        int(daemon_set, "/status/numberAvailable").into(),
        labels(map(daemon_set, "/spec/template/spec/nodeSelector")).into(),
        age(daemon_set, now),
        names,
        images,
        label_selector(daemon_set.pointer("/spec/selector")).into(),
    ]
}

fn stateful_set_cells(stateful_set: &Value, now: Timestamp) -> Vec<Value> {
    let ready = int(stateful_set, "/status/readyReplicas");
    let [names, images] = template_cells(stateful_set, "/spec/template");
    vec![
        name(stateful_set),
        format!("{ready}/{}", desired_replicas(stateful_set)).into(),
        age(stateful_set, now),
        names,
        images,
    ]
}

fn revision_cells(revision: &Value, now: Timestamp) -> Vec<Value> {
    vec![name(revision), controller_of(revision).into(), int(revision, "/revision").into(), age(revision, now)]
}

/// `daemonset.apps/fluentd`: the owner reference marked as controller, or `<none>`.
fn controller_of(object: &Value) -> String {
    let Some(owner) = list(object, "/metadata/ownerReferences")
        .iter()
        .find(|owner| owner.get("controller").and_then(Value::as_bool) == Some(true))
    else {
        return "<none>".into();
    };
    let group = text(owner, "/apiVersion").split_once('/').map_or("", |(group, _)| group);
    let kind = text(owner, "/kind");
    let name = text(owner, "/name");
    match (kind, group) {
        ("", _) => name.to_string(),
        (kind, "") => format!("{}/{name}", kind.to_lowercase()),
        (kind, group) => format!("{}.{}/{name}", kind.to_lowercase(), group.to_lowercase()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> Timestamp {
        "2024-05-01T12:00:00Z".parse().unwrap()
    }

    fn template() -> Value {
        json!({
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [
                {"name": "nginx", "image": "nginx:1.25"},
                {"name": "exporter", "image": "nginx/nginx-prometheus-exporter:1.1"}
            ]}
        })
    }

    #[test]
    fn deployment_columns() {
        let deployment = json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default", "creationTimestamp": "2024-05-01T11:57:57Z"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}, "template": template()},
            "status": {"replicas": 3, "updatedReplicas": 2, "readyReplicas": 2, "availableReplicas": 1}
        });
        assert_eq!(
            deployment_cells(&deployment, now()),
            vec![
                json!("web"),
                json!("2/3"),
                json!(2),
                json!(1),
                json!("2m3s"),
                json!("nginx,exporter"),
                json!("nginx:1.25,nginx/nginx-prometheus-exporter:1.1"),
                json!("app=web"),
            ]
        );
        assert_eq!(DEPLOYMENT_COLUMNS.len(), 8);
        assert_eq!(DEPLOYMENT_COLUMNS.iter().filter(|c| c.priority == 1).count(), 3);
    }

    #[test]
    fn new_deployment_without_status() {
        let deployment = json!({
            "metadata": {"name": "api"},
            "spec": {"selector": {"matchExpressions": [{"key": "app", "operator": "Bogus"}]}, "template": template()}
        });
        let cells = deployment_cells(&deployment, now());
        assert_eq!(cells[1], "0/1");
        assert_eq!(cells[2], 0);
        assert_eq!(cells[4], "<unknown>");
        assert_eq!(cells[7], "<invalid>");
        let no_selector = json!({"metadata": {"name": "api"}, "spec": {"replicas": 0}});
        let cells = deployment_cells(&no_selector, now());
        assert_eq!(cells[1], "0/0");
        assert_eq!(cells[5], "");
        assert_eq!(cells[7], "");
    }

    #[test]
    fn replica_set_and_replication_controller() {
        let replica_set = json!({
            "metadata": {"name": "web-7d9c8", "creationTimestamp": "2024-04-30T12:00:00Z"},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web", "pod-template-hash": "7d9c8"}},
                     "template": template()},
            "status": {"replicas": 2, "readyReplicas": 1}
        });
        assert_eq!(
            replica_set_cells(&replica_set, now()),
            vec![
                json!("web-7d9c8"),
                json!(2),
                json!(2),
                json!(1),
                json!("24h"),
                json!("nginx,exporter"),
                json!("nginx:1.25,nginx/nginx-prometheus-exporter:1.1"),
                json!("app=web,pod-template-hash=7d9c8"),
            ]
        );
        let rc = json!({
            "metadata": {"name": "legacy", "creationTimestamp": "2024-05-01T11:00:00Z"},
            "spec": {"replicas": 1, "selector": {"app": "legacy"}},
            "status": {"replicas": 1}
        });
        assert_eq!(
            rc_cells(&rc, now()),
            vec![
                json!("legacy"),
                json!(1),
                json!(1),
                json!(0),
                json!("60m"),
                json!(""),
                json!(""),
                json!("app=legacy")
            ]
        );
    }

    #[test]
    fn daemon_set_columns() {
        let daemon_set = json!({
            "metadata": {"name": "fluentd", "namespace": "kube-system", "creationTimestamp": "2024-04-01T12:00:00Z"},
            "spec": {"selector": {"matchLabels": {"name": "fluentd"}},
                     "template": {"spec": {"nodeSelector": {"kubernetes.io/os": "linux"},
                                           "containers": [{"name": "fluentd", "image": "fluentd:v1.16"}]}}},
            "status": {"desiredNumberScheduled": 4, "currentNumberScheduled": 4, "numberReady": 3,
                       "updatedNumberScheduled": 4, "numberAvailable": 3, "numberMisscheduled": 0}
        });
        assert_eq!(
            daemon_set_cells(&daemon_set, now()),
            vec![
                json!("fluentd"),
                json!(4),
                json!(4),
                json!(3),
                json!(4),
                json!(3),
                json!("kubernetes.io/os=linux"),
                json!("30d"),
                json!("fluentd"),
                json!("fluentd:v1.16"),
                json!("name=fluentd"),
            ]
        );
        let bare = json!({"metadata": {"name": "x"}});
        assert_eq!(daemon_set_cells(&bare, now())[6], "<none>");
        assert_eq!(daemon_set_cells(&bare, now())[10], "<none>");
    }

    #[test]
    fn stateful_set_ready_of_desired() {
        let stateful_set = json!({
            "metadata": {"name": "db", "creationTimestamp": "2024-05-01T11:59:00Z"},
            "spec": {"replicas": 3, "serviceName": "db", "template": template()},
            "status": {"replicas": 3, "readyReplicas": 2}
        });
        assert_eq!(
            stateful_set_cells(&stateful_set, now()),
            vec![
                json!("db"),
                json!("2/3"),
                json!("60s"),
                json!("nginx,exporter"),
                json!("nginx:1.25,nginx/nginx-prometheus-exporter:1.1"),
            ]
        );
    }

    #[test]
    fn controller_revisions_name_their_owner() {
        let revision = json!({
            "metadata": {"name": "fluentd-6b7f9", "creationTimestamp": "2024-05-01T11:00:00Z",
                         "ownerReferences": [
                             {"apiVersion": "v1", "kind": "ConfigMap", "name": "other", "uid": "1"},
                             {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "fluentd", "uid": "2", "controller": true}
                         ]},
            "revision": 2
        });
        assert_eq!(
            revision_cells(&revision, now()),
            vec![json!("fluentd-6b7f9"), json!("daemonset.apps/fluentd"), json!(2), json!("60m")]
        );
        let core_owned = json!({"metadata": {"ownerReferences": [
            {"apiVersion": "v1", "kind": "Pod", "name": "p", "uid": "3", "controller": true}]}});
        assert_eq!(controller_of(&core_owned), "pod/p");
        assert_eq!(controller_of(&json!({"metadata": {}})), "<none>");
    }
}
