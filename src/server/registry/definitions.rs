//! The JSON schemas of every served type, of the API machinery and subresource types served
//! beside them, and of every type those reference, keyed by OpenAPI definition name
//! (`io.k8s.api.core.v1.Pod`). They come from k8s-openapi's schemars implementations;
//! references between them read `#/definitions/<name>`.

use k8s_openapi::api::{
    authentication::v1::TokenRequest, autoscaling::v1::Scale, core::v1::Binding,
    policy::v1::Eviction,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    APIGroup, APIGroupList, APIResourceList, APIVersions, DeleteOptions, ListMeta, Status,
    WatchEvent,
};
use schemars::generate::SchemaSettings;
use schemars::SchemaGenerator;
use serde_json::{Map, Value};

use super::catalog;

/// Prefix of every reference between definitions.
pub const REF_PREFIX: &str = "#/definitions/";

/// Generates the definitions afresh; callers keep what they need of them, since the full set
/// with descriptions weighs several megabytes.
pub fn generate() -> Map<String, Value> {
    let mut generator = SchemaSettings::draft2020_12()
        .with(|settings| {
            settings.definitions_path = "/definitions".into();
            settings.meta_schema = None;
        })
        .into_generator();
    for resource in catalog::all() {
        (resource.schema)(&mut generator);
    }
    add_served_beside(&mut generator);
    generator.take_definitions(false)
}

/// Types the API returns or accepts that are not themselves catalog resources: the bodies of
/// errors, deletes, lists, watches, discovery and the `binding`, `eviction`, `scale` and `token`
/// subresources.
fn add_served_beside(generator: &mut SchemaGenerator) {
    generator.subschema_for::<Status>();
    generator.subschema_for::<DeleteOptions>();
    generator.subschema_for::<ListMeta>();
    generator.subschema_for::<WatchEvent<Status>>();
    generator.subschema_for::<APIGroup>();
    generator.subschema_for::<APIGroupList>();
    generator.subschema_for::<APIResourceList>();
    generator.subschema_for::<APIVersions>();
    generator.subschema_for::<Binding>();
    generator.subschema_for::<Eviction>();
    generator.subschema_for::<Scale>();
    generator.subschema_for::<TokenRequest>();
}

/// The definition name a `$ref` points at.
pub fn ref_target(reference: &str) -> Option<&str> {
    reference.strip_prefix(REF_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalog_type_and_everything_it_references_is_defined() {
        let definitions = generate();
        for resource in catalog::all() {
            assert!(
                definitions.contains_key(&resource.definition),
                "{}",
                resource.definition
            );
        }
        let mut refs = Vec::new();
        collect_refs(&Value::Object(definitions.clone()), &mut refs);
        assert!(!refs.is_empty());
        for reference in refs {
            let target =
                ref_target(&reference).unwrap_or_else(|| panic!("foreign ref {reference}"));
            assert!(definitions.contains_key(target), "{reference} dangles");
        }
    }

    fn collect_refs(value: &Value, refs: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    refs.push(r.clone());
                }
                map.values().for_each(|v| collect_refs(v, refs));
            }
            Value::Array(items) => items.iter().for_each(|v| collect_refs(v, refs)),
            _ => {}
        }
    }
}
