//! Events: LAST SEEN TYPE REASON OBJECT MESSAGE (wide: SUBOBJECT SOURCE FIRST SEEN COUNT
//! NAME). `core/v1` and `events.k8s.io/v1` Events are the same objects under different field
//! names, and print the same.

use std::sync::LazyLock;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Event, ObjectReference};
use serde_json::Value;

use super::columns::{doc, Column};
use super::fields::{int, is_set, text, time};
use super::format::{name, since};
use super::Printer;

pub(super) static CORE_EVENTS: Printer = Printer::new(&COLUMNS, |event, now| cells(event, &CORE, now));
pub(super) static EVENTS: Printer = Printer::new(&COLUMNS, |event, now| cells(event, &EVENTS_V1, now));

static COLUMNS: LazyLock<Vec<Column>> = LazyLock::new(|| {
    vec![
        Column::string("Last Seen", doc::<Event>("lastTimestamp")),
        Column::string("Type", doc::<Event>("type")),
        Column::string("Reason", doc::<Event>("reason")),
        Column::string("Object", doc::<Event>("involvedObject")),
        Column::string("Subobject", doc::<ObjectReference>("fieldPath")).wide(),
        Column::string("Source", doc::<Event>("source")).wide(),
        Column::string("Message", doc::<Event>("message")),
        Column::string("First Seen", doc::<Event>("firstTimestamp")).wide(),
        // Declared as a string but carries an integer, as upstream's does.
        Column::string("Count", doc::<Event>("count")).wide(),
        Column::name().wide(),
    ]
});

/// Where an Event version keeps each printed field (JSON pointers).
struct Shape {
    first_timestamp: &'static str,
    last_timestamp: &'static str,
    count: &'static str,
    regarding: &'static str,
    source_component: &'static str,
    source_host: &'static str,
    message: &'static str,
    reporting_controller: &'static str,
}

const CORE: Shape = Shape {
    first_timestamp: "/firstTimestamp",
    last_timestamp: "/lastTimestamp",
    count: "/count",
    regarding: "/involvedObject",
    source_component: "/source/component",
    source_host: "/source/host",
    message: "/message",
    reporting_controller: "/reportingComponent",
};

const EVENTS_V1: Shape = Shape {
    first_timestamp: "/deprecatedFirstTimestamp",
    last_timestamp: "/deprecatedLastTimestamp",
    count: "/deprecatedCount",
    regarding: "/regarding",
    source_component: "/deprecatedSource/component",
    source_host: "/deprecatedSource/host",
    message: "/note",
    reporting_controller: "/reportingController",
};

fn cells(event: &Value, shape: &Shape, now: Timestamp) -> Vec<Value> {
    // Events written with the newer API carry only `eventTime`, and a `series` once repeated.
    let first_seen = since(time(event, shape.first_timestamp).or_else(|| time(event, "/eventTime")), now);
    let mut last_seen = match time(event, shape.last_timestamp) {
        Some(last) => since(Some(last), now),
        None => first_seen.clone(),
    };
    let mut count = int(event, shape.count);
    if is_set(event, "/series") {
        last_seen = since(time(event, "/series/lastObservedTime"), now);
        count = int(event, "/series/count");
    } else if count == 0 {
        count = 1;
    }

    let regarding = |field: &str| text(event, &format!("{}/{field}", shape.regarding));
    let kind = regarding("kind").to_lowercase();
    let object = match regarding("name") {
        "" => kind,
        name => format!("{kind}/{name}"),
    };
    // The reporting controller and instance stand in for an empty source.
    let first_non_empty = |a: &str, b: &str| match text(event, a) {
        "" => text(event, b),
        value => value,
    };
    let component = first_non_empty(shape.source_component, shape.reporting_controller);
    let instance = first_non_empty(shape.source_host, "/reportingInstance");
    let source = if instance.is_empty() { component.to_string() } else { format!("{component}, {instance}") };

    vec![
        last_seen.into(),
        text(event, "/type").into(),
        text(event, "/reason").into(),
        object.into(),
        regarding("fieldPath").into(),
        source.into(),
        text(event, shape.message).trim().into(),
        first_seen.into(),
        count.into(),
        name(event),
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
    fn kubelet_event_in_core_v1() {
        let event = json!({
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": "web-0.17c2a1b3", "namespace": "default"},
            "involvedObject": {"kind": "Pod", "namespace": "default", "name": "web-0",
                               "fieldPath": "spec.containers{web}"},
            "reason": "Pulled",
            "message": "Successfully pulled image \"nginx:1.25\" in 2.1s\n",
            "source": {"component": "kubelet", "host": "edge-1"},
            "firstTimestamp": "2024-05-01T11:50:00Z",
            "lastTimestamp": "2024-05-01T11:58:00Z",
            "count": 4,
            "type": "Normal"
        });
        assert_eq!(
            cells(&event, &CORE, now()),
            vec![
                json!("2m"),
                json!("Normal"),
                json!("Pulled"),
                json!("pod/web-0"),
                json!("spec.containers{web}"),
                json!("kubelet, edge-1"),
                json!("Successfully pulled image \"nginx:1.25\" in 2.1s"),
                json!("10m"),
                json!(4),
                json!("web-0.17c2a1b3"),
            ]
        );
    }

    #[test]
    fn new_style_event_without_legacy_timestamps() {
        let event = json!({
            "metadata": {"name": "web.1"},
            "involvedObject": {"kind": "Deployment", "name": "web"},
            "reason": "ScalingReplicaSet",
            "message": "Scaled up replica set web-7d9c8 to 3",
            "eventTime": "2024-05-01T11:59:30.123456Z",
            "reportingComponent": "deployment-controller",
            "reportingInstance": "",
            "type": "Normal"
        });
        let cells = cells(&event, &CORE, now());
        assert_eq!(cells[0], "29s");
        assert_eq!(cells[5], "deployment-controller");
        assert_eq!(cells[7], "29s");
        assert_eq!(cells[8], 1);
    }

    #[test]
    fn series_give_last_seen_and_count() {
        let event = json!({
            "metadata": {"name": "node.1"},
            "involvedObject": {"kind": "Node"},
            "eventTime": "2024-05-01T11:00:00.000000Z",
            "series": {"count": 7, "lastObservedTime": "2024-05-01T11:59:00.000000Z"},
            "type": "Warning",
            "reason": "Rebooted"
        });
        let cells = cells(&event, &CORE, now());
        assert_eq!(cells[0], "60s");
        assert_eq!(cells[3], "node");
        assert_eq!(cells[7], "60m");
        assert_eq!(cells[8], 7);
        assert_eq!(cells[5], "");
    }

    #[test]
    fn events_k8s_io_fields_map_to_the_same_columns() {
        let event = json!({
            "apiVersion": "events.k8s.io/v1",
            "kind": "Event",
            "metadata": {"name": "web-0.1", "namespace": "default"},
            "eventTime": "2024-05-01T11:55:00.000000Z",
            "reportingController": "default-scheduler",
            "reportingInstance": "default-scheduler-onebin",
            "action": "Binding",
            "reason": "Scheduled",
            "regarding": {"kind": "Pod", "name": "web-0", "namespace": "default"},
            "note": "Successfully assigned default/web-0 to edge-1",
            "type": "Normal",
            "deprecatedCount": 2,
            "deprecatedLastTimestamp": "2024-05-01T11:58:00Z"
        });
        assert_eq!(
            cells(&event, &EVENTS_V1, now()),
            vec![
                json!("2m"),
                json!("Normal"),
                json!("Scheduled"),
                json!("pod/web-0"),
                json!(""),
                json!("default-scheduler, default-scheduler-onebin"),
                json!("Successfully assigned default/web-0 to edge-1"),
                json!("5m"),
                json!(2),
                json!("web-0.1"),
            ]
        );
    }

    #[test]
    fn name_is_a_wide_column_last() {
        assert_eq!(COLUMNS.len(), 10);
        assert_eq!(COLUMNS[9].format, "name");
        assert_eq!(COLUMNS[9].priority, 1);
        let narrow: Vec<_> = COLUMNS.iter().filter(|c| c.priority == 0).map(|c| c.name).collect();
        assert_eq!(narrow, ["Last Seen", "Type", "Reason", "Object", "Message"]);
    }
}
