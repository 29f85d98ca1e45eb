//! The rolling-update fenceposts: how many pods above the desired count a rollout may create
//! (maxSurge, percentages rounded up) and how many below it may be unavailable
//! (maxUnavailable, percentages rounded down), never both zero.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// An int-or-percent resolved against `total`.
pub fn scaled_value(value: &IntOrString, total: i32, round_up: bool) -> Result<i32, String> {
    match value {
        IntOrString::Int(n) => Ok(*n),
        IntOrString::String(text) => {
            let percent: i64 = text
                .strip_suffix('%')
                .and_then(|p| p.parse().ok())
                .ok_or_else(|| format!("invalid value for IntOrString: invalid value {text:?}"))?;
            let scaled = percent * i64::from(total);
            let value = if round_up {
                scaled.div_euclid(100) + i64::from(scaled.rem_euclid(100) != 0)
            } else {
                scaled.div_euclid(100)
            };
            i32::try_from(value).map_err(|_| format!("{text} of {total} is out of range"))
        }
    }
}

/// (maxSurge, maxUnavailable) for `desired` replicas. Values that cannot be read count as
/// zero, as Kubernetes does.
pub fn resolve(max_surge: Option<&IntOrString>, max_unavailable: Option<&IntOrString>, desired: i32) -> (i32, i32) {
    let zero = IntOrString::Int(0);
    let surge = scaled_value(max_surge.unwrap_or(&zero), desired, true);
    let unavailable = scaled_value(max_unavailable.unwrap_or(&zero), desired, false);
    match (surge, unavailable) {
        // Both zero would let a rollout neither add nor remove a pod.
        (Ok(0), Ok(0)) => (0, 1),
        (Ok(surge), Ok(unavailable)) => (surge, unavailable),
        _ => (0, 0),
    }
}

pub fn desired_replicas(d: &Deployment) -> i32 {
    d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

pub fn is_rolling_update(d: &Deployment) -> bool {
    d.spec.as_ref().and_then(|s| s.strategy.as_ref()).and_then(|s| s.type_.as_deref()).unwrap_or("RollingUpdate")
        == "RollingUpdate"
}

fn fenceposts(d: &Deployment) -> (i32, i32) {
    let rolling = d.spec.as_ref().and_then(|s| s.strategy.as_ref()).and_then(|s| s.rolling_update.as_ref());
    resolve(
        rolling.and_then(|r| r.max_surge.as_ref()),
        rolling.and_then(|r| r.max_unavailable.as_ref()),
        desired_replicas(d),
    )
}

/// How many pods above the desired count a rolling update may run.
pub fn max_surge(d: &Deployment) -> i32 {
    if !is_rolling_update(d) {
        return 0;
    }
    fenceposts(d).0
}

/// How many of the desired pods may be unavailable during a rolling update.
pub fn max_unavailable(d: &Deployment) -> i32 {
    let desired = desired_replicas(d);
    if !is_rolling_update(d) || desired == 0 {
        return 0;
    }
    fenceposts(d).1.min(desired)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pct(p: &str) -> IntOrString {
        IntOrString::String(p.into())
    }

    #[test]
    fn percentages_round_surge_up_and_unavailable_down() {
        assert_eq!(resolve(Some(&pct("25%")), Some(&pct("25%")), 10), (3, 2));
        assert_eq!(resolve(Some(&pct("25%")), Some(&pct("25%")), 4), (1, 1));
        assert_eq!(resolve(Some(&pct("25%")), Some(&pct("25%")), 1), (1, 0));
        assert_eq!(resolve(Some(&IntOrString::Int(2)), Some(&pct("50%")), 5), (2, 2));
        assert_eq!(resolve(Some(&pct("0%")), Some(&pct("100%")), 3), (0, 3));
    }

    #[test]
    fn zero_surge_and_zero_unavailable_still_make_progress() {
        assert_eq!(resolve(Some(&IntOrString::Int(0)), Some(&IntOrString::Int(0)), 3), (0, 1));
        assert_eq!(resolve(None, None, 3), (0, 1));
        // 10% of 3 rounds down to zero unavailable; surge rounds up to one.
        assert_eq!(resolve(Some(&pct("10%")), Some(&pct("10%")), 3), (1, 0));
    }

    #[test]
    fn malformed_values_count_as_zero() {
        assert!(scaled_value(&pct("abc"), 3, true).is_err());
        assert!(scaled_value(&pct("25"), 3, true).is_err());
        assert_eq!(resolve(Some(&pct("x%")), Some(&pct("25%")), 4), (0, 0));
    }

    #[test]
    fn max_unavailable_is_capped_by_replicas_and_zero_for_recreate() {
        let mut d: Deployment = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "d"},
            "spec": {"replicas": 2, "selector": {}, "template": {},
                     "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 5, "maxSurge": 1}}},
        }))
        .unwrap();
        assert_eq!(max_unavailable(&d), 2);
        assert_eq!(max_surge(&d), 1);
        d.spec.as_mut().unwrap().strategy =
            Some(serde_json::from_value(serde_json::json!({"type": "Recreate"})).unwrap());
        assert_eq!((max_unavailable(&d), max_surge(&d)), (0, 0));
    }
}
