//! A watch as an HTTP response: one JSON event per line, streamed until the client goes
//! away, the store fails, or `timeoutSeconds` passes.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Response, StatusCode};
use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt};
use serde::Serialize;
use serde_json::{json, Value};

use super::negotiate::Output;
use super::respond::HttpResponse;
use super::rest::{partial_metadata, View};
use crate::server::registry::catalog::ResourceType;
use crate::server::registry::printers;
use crate::server::registry::WatchEvent;

/// Watches without a timeout still end after this long, so clients re-establish them.
const MAX_WATCH: Duration = Duration::from_secs(30 * 60);

pub fn stream(
    rt: &'static ResourceType,
    events: BoxStream<'static, WatchEvent>,
    view: View,
    timeout_seconds: Option<u64>,
) -> HttpResponse {
    let timeout = timeout_seconds.filter(|s| *s > 0).map(Duration::from_secs).unwrap_or(MAX_WATCH).min(MAX_WATCH);
    let deadline = tokio::time::sleep(timeout);
    let mut first_table = true;
    let lines = events.take_until(deadline).map(move |event| {
        let line = line(rt, &event, view, std::mem::take(&mut first_table));
        Ok::<_, Infallible>(Bytes::from(line))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CACHE_CONTROL, "no-cache, private")
        .body(Body::from_stream(lines))
        .expect("static headers are valid")
}

/// One watch event; tables carry their column definitions only in the first one, as upstream.
/// A plain object is written where it is shared with the other watchers, not copied.
fn line(rt: &ResourceType, event: &WatchEvent, view: View, first: bool) -> Vec<u8> {
    let (kind, obj) = match event {
        WatchEvent::Added(obj) => ("ADDED", obj),
        WatchEvent::Modified(obj) => ("MODIFIED", obj),
        WatchEvent::Deleted(obj) => ("DELETED", obj),
        WatchEvent::Bookmark { revision, initial_events_end } => {
            let mut metadata = json!({"resourceVersion": revision.to_string()});
            if *initial_events_end {
                metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
            }
            let object = json!({"kind": rt.kind, "apiVersion": rt.api_version(), "metadata": metadata});
            return to_line(&Frame { kind: "BOOKMARK", object: &object });
        }
        WatchEvent::Error(err) => return to_line(&Frame { kind: "ERROR", object: &err.to_status() }),
    };
    let shaped = match view.output {
        Output::PartialMetadata => partial_metadata(obj),
        Output::Table => {
            let meta =
                json!({"resourceVersion": obj.pointer("/metadata/resourceVersion").cloned().unwrap_or(json!(""))});
            let mut table =
                printers::table(rt, std::slice::from_ref(&**obj), view.include, meta, jiff::Timestamp::now());
            if !first {
                table["columnDefinitions"] = json!([]);
            }
            table
        }
        _ => return to_line(&Frame { kind, object: obj }),
    };
    to_line(&Frame { kind, object: &shaped })
}

#[derive(Serialize)]
struct Frame<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    object: &'a Value,
}

fn to_line(frame: &Frame) -> Vec<u8> {
    let mut line = serde_json::to_vec(frame).unwrap_or_default();
    line.push(b'\n');
    line
}
