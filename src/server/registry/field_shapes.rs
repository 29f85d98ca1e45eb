//! What each field of each served definition holds — an object of which definition, a list or
//! map of what — derived once from the definitions, for code that walks JSON objects by type
//! (strategic merge patch). Descriptions and validation details are left out, which keeps the
//! index a small fraction of the definitions' size.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde_json::Value;

use super::definitions;

#[derive(Debug, PartialEq)]
pub enum Shape {
    /// An object described by the named definition.
    Object(String),
    List(Box<Shape>),
    /// A map from strings to values of this shape.
    Map(Box<Shape>),
    /// A scalar, or a value whose structure the schema leaves open.
    Other,
}

/// The shape of anything the index does not describe.
pub static OTHER: Shape = Shape::Other;

struct Definition {
    /// `Shape::Object` of this definition, so walks can start from it.
    itself: Shape,
    fields: HashMap<String, Shape>,
}

static INDEX: LazyLock<HashMap<String, Definition>> = LazyLock::new(|| {
    definitions::generate()
        .into_iter()
        .map(|(name, schema)| {
            let fields = schema
                .get("properties")
                .and_then(Value::as_object)
                .map(|properties| properties.iter().map(|(field, s)| (field.clone(), shape_of(s))).collect())
                .unwrap_or_default();
            let itself = Shape::Object(name.clone());
            (name, Definition { itself, fields })
        })
        .collect()
});

fn shape_of(schema: &Value) -> Shape {
    if let Some(target) = schema.get("$ref").and_then(Value::as_str).and_then(definitions::ref_target) {
        return Shape::Object(target.to_string());
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("array") => Shape::List(Box::new(schema.get("items").map_or(Shape::Other, shape_of))),
        Some("object") => match schema.get("additionalProperties") {
            Some(values @ Value::Object(_)) => Shape::Map(Box::new(shape_of(values))),
            _ => Shape::Other,
        },
        _ => Shape::Other,
    }
}

/// The shape of a whole object of `definition`, if the definition is served.
pub fn of_definition(definition: &str) -> Option<&'static Shape> {
    INDEX.get(definition).map(|d| &d.itself)
}

impl Shape {
    /// The shape of `field` of an object of this shape: the field's own shape for a known
    /// definition, the value shape for a map, [`OTHER`] when unknown.
    pub fn field(&self, field: &str) -> &Shape {
        match self {
            Shape::Object(definition) => INDEX.get(definition).and_then(|d| d.fields.get(field)).unwrap_or(&OTHER),
            Shape::Map(values) => values,
            Shape::List(_) | Shape::Other => &OTHER,
        }
    }

    /// The shape of the elements of a list of this shape.
    pub fn elements(&self) -> &Shape {
        match self {
            Shape::List(elements) => elements,
            _ => &OTHER,
        }
    }

    /// The definition an object of this shape is described by.
    pub fn definition(&self) -> Option<&str> {
        match self {
            Shape::Object(definition) => Some(definition),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_fields_resolve_through_references() {
        let pod = of_definition("io.k8s.api.core.v1.Pod").unwrap();
        let spec = pod.field("spec");
        assert_eq!(spec.definition(), Some("io.k8s.api.core.v1.PodSpec"));
        let container = spec.field("containers").elements();
        assert_eq!(container.definition(), Some("io.k8s.api.core.v1.Container"));
        assert_eq!(container.field("image"), &Shape::Other);
        let labels = pod.field("metadata").field("labels");
        assert_eq!(labels, &Shape::Map(Box::new(Shape::Other)));
        assert_eq!(spec.field("noSuchField"), &Shape::Other);
        assert!(of_definition("io.k8s.api.core.v1.NoSuchKind").is_none());
    }
}
