//! The pod-template hash that names a Deployment's ReplicaSets (`<deployment>-<hash>`) and
//! labels their pods: FNV-1a (32 bit) over the template's canonical JSON and the collision
//! count, written in the same safe alphabet Kubernetes uses, so equal templates get equal
//! names on every server and after every restart.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::PodTemplateSpec;

/// The label (and selector term) that ties a ReplicaSet and its pods to one template.
pub const HASH_LABEL: &str = "pod-template-hash";

/// Characters without vowels or look-alikes, so a hash never spells a word.
const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

pub fn compute(template: &PodTemplateSpec, collision_count: Option<i32>) -> String {
    // The typed template serializes its fields in a fixed order and its maps sorted, so the
    // bytes depend on the content only.
    let bytes = serde_json::to_vec(template).unwrap_or_default();
    let mut hash = fnv1a32(FNV_OFFSET, &bytes);
    if let Some(count) = collision_count {
        hash = fnv1a32(hash, &count.to_le_bytes());
    }
    hash.to_string().bytes().map(|digit| ALPHABET[usize::from(digit) % ALPHABET.len()] as char).collect()
}

const FNV_OFFSET: u32 = 0x811c_9dc5;
const FNV_PRIME: u32 = 0x0100_0193;

/// 32-bit FNV-1a (the `fnv` crate only offers the 64-bit variant).
fn fnv1a32(mut hash: u32, bytes: &[u8]) -> u32 {
    for byte in bytes {
        hash ^= u32::from(*byte);
        hash = hash.wrapping_mul(FNV_PRIME);
    }
    hash
}

/// Whether two templates are the same apart from the hash label.
pub fn equal_ignoring_hash(a: &PodTemplateSpec, b: &PodTemplateSpec) -> bool {
    without_hash(a) == without_hash(b)
}

fn without_hash(template: &PodTemplateSpec) -> PodTemplateSpec {
    let mut copy = template.clone();
    if let Some(meta) = copy.metadata.as_mut() {
        let labels: Option<BTreeMap<String, String>> = meta.labels.take().map(|mut labels| {
            labels.remove(HASH_LABEL);
            labels
        });
        // An empty label map and no labels are the same template.
        meta.labels = labels.filter(|l| !l.is_empty());
    }
    copy
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn template(image: &str) -> PodTemplateSpec {
        serde_json::from_value(json!({
            "metadata": {"labels": {"app": "web", "tier": "front"}},
            "spec": {"containers": [{"name": "c", "image": image}]},
        }))
        .unwrap()
    }

    #[test]
    fn hash_is_stable_and_depends_on_content_and_collisions() {
        let a = template("nginx:1");
        let hash = compute(&a, None);
        // Pinned: a change here renames every Deployment's ReplicaSets on upgrade.
        assert_eq!(hash, "5dc77fd5b6");
        assert!(hash.len() <= 10 && hash.bytes().all(|b| ALPHABET.contains(&b)), "{hash}");
        assert_ne!(hash, compute(&template("nginx:2"), None));
        assert_ne!(hash, compute(&a, Some(1)));
        // Field order in the source does not matter.
        let reordered: PodTemplateSpec = serde_json::from_value(json!({
            "spec": {"containers": [{"image": "nginx:1", "name": "c"}]},
            "metadata": {"labels": {"tier": "front", "app": "web"}},
        }))
        .unwrap();
        assert_eq!(hash, compute(&reordered, None));
    }

    #[test]
    fn hash_is_pinned() {
        assert_eq!(fnv1a32(FNV_OFFSET, b""), 0x811c_9dc5);
        assert_eq!(fnv1a32(FNV_OFFSET, b"a"), 0xe40c_292c);
        assert_eq!(fnv1a32(FNV_OFFSET, b"foobar"), 0xbf9c_f968);
    }

    #[test]
    fn equality_ignores_only_the_hash_label() {
        let a = template("nginx:1");
        let mut b = a.clone();
        b.metadata.as_mut().unwrap().labels.as_mut().unwrap().insert(HASH_LABEL.into(), "abc".into());
        assert!(equal_ignoring_hash(&a, &b));
        assert!(!equal_ignoring_hash(&a, &template("nginx:2")));
        let bare: PodTemplateSpec = serde_json::from_value(json!({"metadata": {}})).unwrap();
        let only_hash: PodTemplateSpec =
            serde_json::from_value(json!({"metadata": {"labels": {HASH_LABEL: "x"}}})).unwrap();
        assert!(equal_ignoring_hash(&bare, &only_hash));
    }
}
