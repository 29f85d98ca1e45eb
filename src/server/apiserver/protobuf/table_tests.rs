//! Checks the message table against k8s-openapi's JSON schemas, which come from the same Go
//! types by another route: every field must exist with the JSON type its protobuf type
//! implies, and every property of a definition must have a field.

use std::collections::BTreeSet;

use k8s_openapi::api::{authentication::v1 as authentication, authorization::v1 as authorization};
use schemars::generate::SchemaSettings;
use serde_json::{json, Map, Value};

use super::messages::{ALL, KINDS};
use super::schema::{Card, Form, Message, Type};
use crate::server::registry::{catalog, definitions};

/// The served definitions plus those of the review kinds, which only this decoder needs.
fn all_definitions() -> Map<String, Value> {
    let mut generator = SchemaSettings::draft2020_12()
        .with(|settings| settings.definitions_path = "/definitions".into())
        .into_generator();
    generator.subschema_for::<authentication::TokenReview>();
    generator.subschema_for::<authentication::SelfSubjectReview>();
    generator.subschema_for::<authorization::SelfSubjectAccessReview>();
    generator.subschema_for::<authorization::SelfSubjectRulesReview>();
    generator.subschema_for::<authorization::SubjectAccessReview>();
    generator.subschema_for::<authorization::LocalSubjectAccessReview>();
    let mut all = definitions::generate();
    all.extend(generator.take_definitions(false));
    all
}

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("{}{name}", definitions::REF_PREFIX) })
}

/// Whether `schema` (a property's schema) fits a value of `ty`.
fn fits(ty: &Type, schema: &Value) -> Result<(), String> {
    let kind = schema.get("type").and_then(Value::as_str);
    let format = schema.get("format").and_then(Value::as_str);
    let same_ref = |name: &str| {
        let wanted = reference(name);
        (schema.get("$ref") == wanted.get("$ref"))
            .then_some(())
            .ok_or_else(|| format!("expected {wanted}, schema is {schema}"))
    };
    let scalar = |wanted_kind: &str, wanted_format: Option<&str>| {
        (kind == Some(wanted_kind) && format == wanted_format)
            .then_some(())
            .ok_or_else(|| format!("expected {wanted_kind} {wanted_format:?}, schema is {schema}"))
    };
    match ty {
        Type::Str => scalar("string", None),
        Type::Bytes => scalar("string", Some("byte")),
        Type::Bool => scalar("boolean", None),
        Type::Int32 => scalar("integer", Some("int32")),
        Type::Int64 => scalar("integer", Some("int64")),
        Type::Object(message) if message.form == Form::List => {
            let items = schema
                .get("items")
                .filter(|_| kind == Some("array"))
                .ok_or_else(|| format!("expected an array, schema is {schema}"))?;
            fits(&message.fields[0].ty, items)
        }
        Type::Object(message) => same_ref(message.definition),
        Type::Map(values) => {
            let values_schema = schema.get("additionalProperties").filter(|_| kind == Some("object"));
            fits(values, values_schema.ok_or_else(|| format!("expected a map, schema is {schema}"))?)
        }
        Type::Quantity => same_ref("io.k8s.apimachinery.pkg.api.resource.Quantity"),
        Type::IntOrString => same_ref("io.k8s.apimachinery.pkg.util.intstr.IntOrString"),
        Type::Time => same_ref("io.k8s.apimachinery.pkg.apis.meta.v1.Time"),
        Type::MicroTime => same_ref("io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime"),
        Type::RawExtension => same_ref("io.k8s.apimachinery.pkg.runtime.RawExtension"),
        Type::FieldsV1 => same_ref("io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1"),
    }
}

/// Checks the fields of `message` (and of the messages it inlines) against `properties`,
/// recording which properties they cover.
fn check_fields<'a>(
    message: &Message,
    properties: &'a Map<String, Value>,
    covered: &mut BTreeSet<&'a str>,
    errors: &mut Vec<String>,
) {
    let mut numbers = BTreeSet::new();
    for field in message.fields {
        if !numbers.insert(field.number) {
            errors.push(format!("{}: field number {} twice", message.definition, field.number));
        }
        match (&field.card, &field.ty) {
            (Card::Inline, Type::Object(inner)) => check_fields(inner, properties, covered, errors),
            (Card::Inline, _) => {
                errors.push(format!("{}: inline field {} is no message", message.definition, field.number))
            }
            _ => {
                let Some((name, schema)) = properties.get_key_value(field.json) else {
                    errors.push(format!("{}.{} is not in the definition", message.definition, field.json));
                    continue;
                };
                covered.insert(name);
                let result = match field.card {
                    Card::Repeated => match schema.get("items") {
                        Some(items) if schema.get("type") == Some(&json!("array")) => fits(&field.ty, items),
                        _ => Err(format!("expected an array, schema is {schema}")),
                    },
                    _ => fits(&field.ty, schema),
                };
                if let Err(why) = result {
                    errors.push(format!("{}.{}: {why}", message.definition, field.json));
                }
            }
        }
    }
}

#[test]
fn every_message_matches_its_openapi_definition() {
    let definitions = all_definitions();
    let mut errors = Vec::new();
    let mut checked = 0;
    // Embedded structs JSON flattens have no definition of their own; their fields are
    // checked against each definition that inlines them.
    let inlined: BTreeSet<&str> = ALL
        .iter()
        .flat_map(|m| m.fields)
        .filter_map(|f| match (&f.card, &f.ty) {
            (Card::Inline, Type::Object(inner)) => Some(inner.definition),
            _ => None,
        })
        .collect();
    for message in ALL.iter().filter(|m| m.form == Form::Struct) {
        let Some(definition) = definitions.get(message.definition) else {
            if !inlined.contains(message.definition) {
                errors.push(format!("{} has no definition", message.definition));
            }
            continue;
        };
        let empty = Map::new();
        let properties = definition.get("properties").and_then(Value::as_object).unwrap_or(&empty);
        let mut covered = BTreeSet::new();
        check_fields(message, properties, &mut covered, &mut errors);
        for property in properties.keys() {
            if !covered.contains(property.as_str()) && property != "apiVersion" && property != "kind" {
                errors.push(format!("{}.{property} has no protobuf field", message.definition));
            }
        }
        checked += 1;
    }
    assert!(checked > 300, "only {checked} messages checked");
    assert!(errors.is_empty(), "{} mismatches:\n{}", errors.len(), errors.join("\n"));
}

#[test]
fn every_served_kind_can_arrive_in_protobuf() {
    for resource in catalog::all() {
        let kind = KINDS
            .iter()
            .find(|k| k.api_version == resource.api_version() && k.kind == resource.kind)
            .unwrap_or_else(|| panic!("{} {} has no protobuf message", resource.api_version(), resource.kind));
        assert_eq!(kind.message.definition, resource.definition);
    }
    for kind in KINDS {
        let (group, version) = catalog::split_api_version(kind.api_version);
        let group = if group.is_empty() {
            "core".to_string()
        } else {
            group.replace(".k8s.io", "").replace(".authorization", "")
        };
        let expected = format!("io.k8s.api.{group}.{version}.{}", kind.kind);
        assert_eq!(kind.message.definition, expected);
    }
}
