//! Indexed Jobs: every pod carries its completion index (annotation, label, the
//! JOB_COMPLETION_INDEX variable and the hostname `<job>-<index>`), the Job completes once
//! each index in `0..completions` has a succeeded pod, and `status.completedIndexes` lists
//! them as ranges ("0-2,5").

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::server::registry::object;

pub const INDEX_KEY: &str = "batch.kubernetes.io/job-completion-index";
pub const INDEX_ENV: &str = "JOB_COMPLETION_INDEX";

pub fn is_indexed(job: &Value) -> bool {
    job.pointer("/spec/completionMode").and_then(Value::as_str) == Some("Indexed")
}

/// The completion index of a pod (annotation first, then label) below `completions`.
pub fn index_of(pod: &Value, completions: i32) -> Option<i32> {
    let meta = pod.get("metadata")?;
    let text = ["annotations", "labels"]
        .iter()
        .find_map(|field| meta.get(*field).and_then(|m| m.get(INDEX_KEY)).and_then(Value::as_str))?;
    let index: i32 = text.parse().ok()?;
    (0..completions).contains(&index).then_some(index)
}

/// Indexes as `status.completedIndexes` writes them: sorted, consecutive runs as ranges.
pub fn format_indexes(indexes: &BTreeSet<i32>) -> String {
    let mut parts = Vec::new();
    let mut iter = indexes.iter().copied().peekable();
    while let Some(first) = iter.next() {
        let mut last = first;
        while iter.peek() == Some(&(last + 1)) {
            last = iter.next().expect("peeked");
        }
        parts.push(if first == last { first.to_string() } else { format!("{first}-{last}") });
    }
    parts.join(",")
}

/// Reads `status.completedIndexes`, keeping the indexes below `completions`.
pub fn parse_indexes(text: &str, completions: i32) -> BTreeSet<i32> {
    let mut indexes = BTreeSet::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (first, last) = match part.split_once('-') {
            Some((a, b)) => (a.parse::<i32>(), b.parse::<i32>()),
            None => (part.parse::<i32>(), part.parse::<i32>()),
        };
        if let (Ok(first), Ok(last)) = (first, last) {
            indexes.extend((first.max(0)..=last.min(completions - 1)).filter(|i| *i >= 0));
        }
    }
    indexes
}

/// The lowest `count` indexes that have neither succeeded nor a pod working on them.
pub fn next_indexes(completions: i32, succeeded: &BTreeSet<i32>, busy: &BTreeSet<i32>, count: usize) -> Vec<i32> {
    (0..completions).filter(|i| !succeeded.contains(i) && !busy.contains(i)).take(count).collect()
}

/// The template for the pod of `index`.
pub fn template_for_index(template: &Value, job: &Value, index: i32) -> Value {
    let mut template = template.clone();
    let text = index.to_string();
    object::object_field(&mut template, "metadata");
    object::object_field(&mut template["metadata"], "annotations").insert(INDEX_KEY.into(), json!(text));
    object::object_field(&mut template["metadata"], "labels").insert(INDEX_KEY.into(), json!(text));
    let spec = object::object_field(&mut template, "spec");
    spec.insert("hostname".into(), json!(format!("{}-{index}", object::name(job))));
    let env = json!({"name": INDEX_ENV, "valueFrom": {"fieldRef": {"fieldPath": format!("metadata.annotations['{INDEX_KEY}']")}}});
    for list in ["initContainers", "containers"] {
        let Some(containers) = spec.get_mut(list).and_then(Value::as_array_mut) else { continue };
        for container in containers.iter_mut() {
            let Some(fields) = container.as_object_mut() else { continue };
            let vars = fields.entry("env").or_insert_with(|| json!([]));
            if !vars.is_array() {
                *vars = json!([]);
            }
            let items = vars.as_array_mut().expect("just made an array");
            if !items.iter().any(|v| v.get("name").and_then(Value::as_str) == Some(INDEX_ENV)) {
                items.push(env.clone());
            }
        }
    }
    template
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_format_as_ranges_and_parse_back() {
        let set: BTreeSet<i32> = [0, 1, 2, 5, 7, 8].into_iter().collect();
        assert_eq!(format_indexes(&set), "0-2,5,7-8");
        assert_eq!(parse_indexes("0-2,5,7-8", 10), set);
        assert_eq!(parse_indexes("0-2,5,7-8", 6), [0, 1, 2, 5].into_iter().collect());
        assert_eq!(parse_indexes("x,3", 6), [3].into_iter().collect());
        assert_eq!(format_indexes(&BTreeSet::new()), "");
        let done: BTreeSet<i32> = [0, 2].into_iter().collect();
        let busy: BTreeSet<i32> = [1].into_iter().collect();
        assert_eq!(next_indexes(5, &done, &busy, 2), [3, 4]);
    }

    #[test]
    fn pods_learn_their_index() {
        let job = json!({"metadata": {"name": "work"}});
        let template = json!({"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [
            {"name": "c", "env": [{"name": "X", "value": "1"}]}, {"name": "d"}]}});
        let pod = template_for_index(&template, &job, 3);
        assert_eq!(pod["metadata"]["annotations"][INDEX_KEY], "3");
        assert_eq!(pod["metadata"]["labels"][INDEX_KEY], "3");
        assert_eq!(pod["spec"]["hostname"], "work-3");
        assert_eq!(pod["spec"]["containers"][0]["env"][1]["name"], INDEX_ENV);
        assert_eq!(
            pod["spec"]["containers"][1]["env"][0]["valueFrom"]["fieldRef"]["fieldPath"],
            "metadata.annotations['batch.kubernetes.io/job-completion-index']"
        );
        assert_eq!(index_of(&pod, 5), Some(3));
        assert_eq!(index_of(&pod, 3), None);
        assert_eq!(index_of(&json!({"metadata": {}}), 3), None);
    }
}
