//! Column definitions of a Table (`meta.k8s.io/v1` `TableColumnDefinition`).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{json, Value};

/// One column: kubectl prints `name` upper-cased as the header, and hides columns of
/// priority above 0 unless asked for `-o wide`.
#[derive(Debug, Clone)]
pub struct Column {
    pub name: &'static str,
    /// OpenAPI type of the cells: `string`, `integer`, `boolean`, `date`.
    pub kind: &'static str,
    /// `name` marks the column holding the object's name; empty otherwise.
    pub format: &'static str,
    pub description: String,
    pub priority: i32,
}

impl Column {
    fn new(name: &'static str, kind: &'static str, description: impl Into<String>) -> Self {
        Self { name, kind, format: "", description: description.into(), priority: 0 }
    }

    pub fn string(name: &'static str, description: impl Into<String>) -> Self {
        Self::new(name, "string", description)
    }

    pub fn integer(name: &'static str, description: impl Into<String>) -> Self {
        Self::new(name, "integer", description)
    }

    pub fn boolean(name: &'static str, description: impl Into<String>) -> Self {
        Self::new(name, "boolean", description)
    }

    pub fn date(name: &'static str, description: impl Into<String>) -> Self {
        Self::new(name, "date", description)
    }

    /// Shown only with `-o wide`.
    pub fn wide(mut self) -> Self {
        self.priority = 1;
        self
    }

    /// The `Name` column every kind starts with.
    pub fn name() -> Self {
        let mut column = Self::string("Name", doc::<ObjectMeta>("name"));
        column.format = "name";
        column
    }

    /// The `Age` column: time since `metadata.creationTimestamp`.
    pub fn age() -> Self {
        Self::string("Age", doc::<ObjectMeta>("creationTimestamp"))
    }

    /// The wide `Containers` column of kinds with a pod template.
    pub fn containers() -> Self {
        Self::string("Containers", "Names of the containers in the pod template.").wide()
    }

    /// The wide `Images` column of kinds with a pod template.
    pub fn images() -> Self {
        Self::string("Images", "Images of the containers in the pod template.").wide()
    }

    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "type": self.kind,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        })
    }
}

/// The API documentation of `field` of `T`, as the OpenAPI schema of `T` states it; the
/// Kubernetes API server describes columns with the same field docs.
pub fn doc<T: JsonSchema>(field: &str) -> String {
    let schema = SchemaGenerator::default().into_root_schema_for::<T>();
    schema
        .as_value()
        .pointer(&format!("/properties/{field}/description"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::PodStatus;

    #[test]
    fn docs_come_from_the_api_schema() {
        assert!(doc::<PodStatus>("podIP").contains("IP address"));
        assert!(doc::<ObjectMeta>("creationTimestamp").starts_with("CreationTimestamp is"));
        assert_eq!(doc::<PodStatus>("noSuchField"), "");
    }

    #[test]
    fn columns_serialize_every_field() {
        let column = Column::name().to_json();
        assert_eq!(column["name"], "Name");
        assert_eq!(column["type"], "string");
        assert_eq!(column["format"], "name");
        assert_eq!(column["priority"], 0);
        assert!(column["description"].as_str().unwrap().contains("unique within a namespace"));
        let wide = Column::integer("Restarts", "r").wide().to_json();
        assert_eq!(
            wide,
            json!({"name": "Restarts", "type": "integer", "format": "", "description": "r", "priority": 1})
        );
    }
}
