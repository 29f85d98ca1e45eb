//! The JSON schemas of every served type, of the API machinery and subresource types served
//! beside them, and of every type those reference, keyed by OpenAPI definition name
//! (`io.k8s.api.core.v1.Pod`). They come from k8s-openapi's schemars implementations;
//! references between them read `#/definitions/<name>`.

use k8s_openapi::api::{
    authentication::v1::TokenRequest, autoscaling::v1::Scale, core::v1::Binding, policy::v1::Eviction,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    APIGroup, APIGroupList, APIResourceList, APIVersions, DeleteOptions, ListMeta, Status, WatchEvent,
};
use k8s_openapi::Resource;
use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{Map, Value};

use super::catalog;

/// Prefix of every reference between definitions.
pub const REF_PREFIX: &str = "#/definitions/";

/// `ListMeta`, which every list kind's `metadata` holds.
pub const LIST_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta";

/// A kind the API serves that is not a catalog resource: the bodies of errors, discovery and
/// the `binding`, `eviction`, `scale` and `token` subresources.
pub struct OtherKind {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub definition: String,
    schema: fn(&mut SchemaGenerator) -> Schema,
}

fn other<T: Resource + JsonSchema>() -> OtherKind {
    OtherKind {
        group: T::GROUP,
        version: T::VERSION,
        kind: T::KIND,
        definition: T::schema_name().into_owned(),
        schema: |generator| generator.subschema_for::<T>(),
    }
}

pub fn other_kinds() -> Vec<OtherKind> {
    vec![
        other::<Status>(),
        other::<APIGroup>(),
        other::<APIGroupList>(),
        other::<APIResourceList>(),
        other::<APIVersions>(),
        other::<Binding>(),
        other::<Eviction>(),
        other::<Scale>(),
        other::<TokenRequest>(),
    ]
}

/// Kinds every group-version serves (`DeleteOptions`, `WatchEvent`), by definition name.
pub fn kinds_in_every_group_version() -> [(&'static str, String); 2] {
    [
        ("DeleteOptions", DeleteOptions::schema_name().into_owned()),
        ("WatchEvent", <WatchEvent<Status>>::schema_name().into_owned()),
    ]
}

/// Generates the definitions afresh; callers keep what they need of them, since the full set
/// with descriptions weighs several hundred kilobytes.
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
    for kind in other_kinds() {
        (kind.schema)(&mut generator);
    }
    generator.subschema_for::<DeleteOptions>();
    generator.subschema_for::<WatchEvent<Status>>();
    generator.subschema_for::<ListMeta>();
    generator.take_definitions(false)
}

/// The definition name a `$ref` points at.
pub fn ref_target(reference: &str) -> Option<&str> {
    reference.strip_prefix(REF_PREFIX)
}

/// Every `$ref` in `value`, as written.
pub fn collect_refs(value: &Value, refs: &mut Vec<String>) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalog_type_and_everything_it_references_is_defined() {
        let definitions = generate();
        for resource in catalog::all() {
            assert!(definitions.contains_key(&resource.definition), "{}", resource.definition);
        }
        let mut refs = Vec::new();
        collect_refs(&Value::Object(definitions.clone()), &mut refs);
        assert!(!refs.is_empty());
        for reference in refs {
            let target = ref_target(&reference).unwrap_or_else(|| panic!("foreign ref {reference}"));
            assert!(definitions.contains_key(target), "{reference} dangles");
        }
    }
}
