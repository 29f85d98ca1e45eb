//! Formatting shared by the printers: ages, label sets and selectors, container lists —
//! each written the way kubectl users know it from the Kubernetes API server.

use jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Value};

use super::fields::{list, text, time};

/// A duration with two or three significant figures, with the thresholds of apimachinery's
/// `duration.HumanDuration`: `45s`, `119s`, `2m3s`, `10m`, `179m`, `3h5m`, `8h`, `47h`,
/// `2d3h`, `8d`, `729d`, `2y3d`, `8y`. Up to a second in the future still reads as `0s`
/// (clock skew); further is `<invalid>`.
pub fn human_duration(duration: SignedDuration) -> String {
    let seconds = duration.as_secs();
    if seconds < -1 {
        return "<invalid>".into();
    }
    if seconds < 0 {
        return "0s".into();
    }
    if seconds < 2 * 60 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        return with_remainder(minutes, "m", seconds % 60, "s");
    }
    if minutes < 3 * 60 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        return with_remainder(hours, "h", minutes % 60, "m");
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    let days = hours / 24;
    if hours < 24 * 8 {
        return with_remainder(days, "d", hours % 24, "h");
    }
    if hours < 24 * 365 * 2 {
        return format!("{days}d");
    }
    if hours < 24 * 365 * 8 {
        return with_remainder(days / 365, "y", days % 365, "d");
    }
    format!("{}y", days / 365)
}

/// `3m` or `3m20s`: the smaller unit only when it is not zero.
fn with_remainder(major: i64, major_unit: &str, minor: i64, minor_unit: &str) -> String {
    if minor == 0 {
        format!("{major}{major_unit}")
    } else {
        format!("{major}{major_unit}{minor}{minor_unit}")
    }
}

/// Time elapsed since `then`, or `<unknown>` when there is no timestamp.
pub fn since(then: Option<Timestamp>, now: Timestamp) -> String {
    match then {
        Some(then) => human_duration(now.duration_since(then)),
        None => "<unknown>".into(),
    }
}

/// The NAME cell: `metadata.name`.
pub fn name(object: &Value) -> Value {
    text(object, "/metadata/name").into()
}

/// The AGE cell: time since `metadata.creationTimestamp`.
pub fn age(object: &Value, now: Timestamp) -> Value {
    since(time(object, "/metadata/creationTimestamp"), now).into()
}

/// `a=1,b=2` with keys in order, or `<none>` (Go's `labels.FormatLabels`).
pub fn labels(map: Option<&Map<String, Value>>) -> String {
    let mut pairs: Vec<String> =
        map.into_iter().flatten().map(|(key, value)| format!("{key}={}", value.as_str().unwrap_or_default())).collect();
    pairs.sort();
    if pairs.is_empty() {
        "<none>".into()
    } else {
        pairs.join(",")
    }
}

/// A `LabelSelector` written as a selector string (`app=web,tier in (a,b),!legacy`),
/// requirements ordered by key; `None` when the selector cannot be one (an unknown operator,
/// `In` without values, `Exists` with values). An absent or empty selector is `""`.
pub fn selector(selector: Option<&Value>) -> Option<String> {
    let Some(selector) = selector.filter(|s| !s.is_null()) else {
        return Some(String::new());
    };
    let mut requirements: Vec<(&str, String)> = Vec::new();
    for (key, value) in selector.get("matchLabels").and_then(Value::as_object).into_iter().flatten() {
        requirements.push((key, format!("{key}={}", value.as_str()?)));
    }
    for expression in list(selector, "/matchExpressions") {
        let key = text(expression, "/key");
        let mut values = list(expression, "/values").iter().map(Value::as_str).collect::<Option<Vec<_>>>()?;
        values.sort_unstable();
        if key.is_empty() {
            return None;
        }
        let requirement = match text(expression, "/operator") {
            "In" if !values.is_empty() => format!("{key} in ({})", values.join(",")),
            "NotIn" if !values.is_empty() => format!("{key} notin ({})", values.join(",")),
            "Exists" if values.is_empty() => key.to_string(),
            "DoesNotExist" if values.is_empty() => format!("!{key}"),
            _ => return None,
        };
        requirements.push((key, requirement));
    }
    requirements.sort_by(|a, b| a.0.cmp(b.0));
    Some(requirements.into_iter().map(|(_, r)| r).collect::<Vec<_>>().join(","))
}

/// A selector as kubectl shows it in SELECTOR columns: `<none>` when it selects by nothing,
/// `<error>` when it is not a valid selector (Go's `metav1.FormatLabelSelector`).
pub fn label_selector(value: Option<&Value>) -> String {
    match selector(value) {
        None => "<error>".into(),
        Some(s) if s.is_empty() => "<none>".into(),
        Some(s) => s,
    }
}

/// The CONTAINERS and IMAGES cells of a pod template: names and images, comma-separated.
pub fn containers(containers: &[Value]) -> (String, String) {
    let names = containers.iter().map(|c| text(c, "/name")).collect::<Vec<_>>();
    let images = containers.iter().map(|c| text(c, "/image")).collect::<Vec<_>>();
    (names.join(","), images.join(","))
}

/// At most `max` entries of `items`, then ` + N more...` for the `total - max` left out;
/// `<unset>` when there is nothing.
pub fn first_few(items: &[String], total: usize, max: usize) -> String {
    let shown = items.iter().take(max).cloned().collect::<Vec<_>>().join(",");
    if total > max {
        format!("{shown} + {} more...", total - max)
    } else if shown.is_empty() {
        "<unset>".into()
    } else {
        shown
    }
}

/// `<none>` in place of an empty cell.
pub fn or_none(value: &str) -> String {
    if value.is_empty() {
        "<none>".into()
    } else {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn secs(s: i64) -> String {
        human_duration(SignedDuration::from_secs(s))
    }

    #[test]
    fn human_duration_thresholds() {
        const M: i64 = 60;
        const H: i64 = 3600;
        const D: i64 = 24 * H;
        const Y: i64 = 365 * D;
        let cases = [
            (-3, "<invalid>"),
            (-2, "<invalid>"),
            (-1, "0s"),
            (0, "0s"),
            (5, "5s"),
            (119, "119s"),
            (2 * M, "2m"),
            (2 * M + 3, "2m3s"),
            (9 * M + 59, "9m59s"),
            (10 * M, "10m"),
            (10 * M + 59, "10m"),
            (179 * M, "179m"),
            (3 * H, "3h"),
            (3 * H + 5 * M, "3h5m"),
            (3 * H + 5 * M + 30, "3h5m"),
            (7 * H + 59 * M, "7h59m"),
            (8 * H, "8h"),
            (47 * H + 59 * M, "47h"),
            (2 * D, "2d"),
            (2 * D + 3 * H, "2d3h"),
            (5 * D, "5d"),
            (7 * D + 23 * H, "7d23h"),
            (8 * D, "8d"),
            (729 * D, "729d"),
            (730 * D, "2y"),
            (2 * Y + 3 * D, "2y3d"),
            (7 * Y + 364 * D, "7y364d"),
            (8 * Y, "8y"),
            (8 * Y + 100 * D, "8y"),
            (30 * Y, "30y"),
        ];
        for (seconds, want) in cases {
            assert_eq!(secs(seconds), want, "{seconds}s");
        }
        // Go truncates toward zero: a second and a half in the future is still "0s".
        assert_eq!(human_duration(SignedDuration::from_millis(-1500)), "0s");
        assert_eq!(human_duration(SignedDuration::from_millis(119_999)), "119s");
    }

    #[test]
    fn since_is_unknown_without_a_timestamp() {
        let now: Timestamp = "2024-05-01T10:00:00Z".parse().unwrap();
        assert_eq!(since(None, now), "<unknown>");
        assert_eq!(since(Some("2024-05-01T09:55:00Z".parse().unwrap()), now), "5m");
        assert_eq!(since(Some("2024-05-01T10:00:10Z".parse().unwrap()), now), "<invalid>");
    }

    #[test]
    fn labels_sorted_or_none() {
        let map = json!({"tier": "web", "app": "nginx"});
        assert_eq!(labels(map.as_object()), "app=nginx,tier=web");
        assert_eq!(labels(json!({}).as_object()), "<none>");
        assert_eq!(labels(None), "<none>");
    }

    #[test]
    fn selectors_render_like_label_selector_strings() {
        let full = json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["front", "back"]},
                {"key": "env", "operator": "NotIn", "values": ["dev"]},
                {"key": "canary", "operator": "Exists"},
                {"key": "legacy", "operator": "DoesNotExist"},
            ]
        });
        assert_eq!(label_selector(Some(&full)), "app=web,canary,env notin (dev),!legacy,tier in (back,front)");
        assert_eq!(label_selector(Some(&json!({}))), "<none>");
        assert_eq!(label_selector(None), "<none>");
        assert_eq!(selector(None).as_deref(), Some(""));
        let bad = json!({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]});
        assert_eq!(label_selector(Some(&bad)), "<error>");
        let empty_in = json!({"matchExpressions": [{"key": "a", "operator": "In", "values": []}]});
        assert_eq!(selector(Some(&empty_in)), None);
        let exists_with_values = json!({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]});
        assert_eq!(selector(Some(&exists_with_values)), None);
    }

    #[test]
    fn container_cells_join_names_and_images() {
        let list = json!([{"name": "web", "image": "nginx:1.25"}, {"name": "log", "image": "busybox"}]);
        assert_eq!(containers(list.as_array().unwrap()), ("web,log".to_string(), "nginx:1.25,busybox".to_string()));
        assert_eq!(containers(&[]), (String::new(), String::new()));
    }

    #[test]
    fn first_few_counts_the_rest() {
        let items: Vec<String> = ["a", "b", "c", "d", "e"].iter().map(|s| s.to_string()).collect();
        assert_eq!(first_few(&items, 5, 3), "a,b,c + 2 more...");
        assert_eq!(first_few(&items[..2], 2, 3), "a,b");
        assert_eq!(first_few(&[], 0, 3), "<unset>");
    }
}
