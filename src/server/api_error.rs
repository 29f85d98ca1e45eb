//! Errors as Kubernetes reports them: a `Status` object with code, reason, message and causes.

use serde_json::{json, Value};

/// One field-level cause of an `Invalid` error (`details.causes[]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Cause {
    pub reason: &'static str,
    pub field: String,
    pub message: String,
}

impl Cause {
    pub fn required(field: impl Into<String>) -> Self {
        Self { reason: "FieldValueRequired", field: field.into(), message: "Required value".into() }
    }
    pub fn invalid(field: impl Into<String>, value: impl std::fmt::Display, why: impl std::fmt::Display) -> Self {
        Self {
            reason: "FieldValueInvalid",
            field: field.into(),
            message: format!("Invalid value: {}: {why}", quote(value)),
        }
    }
    pub fn unsupported(field: impl Into<String>, value: impl std::fmt::Display, allowed: &[&str]) -> Self {
        let allowed = allowed.iter().map(|a| format!("\"{a}\"")).collect::<Vec<_>>().join(", ");
        Self {
            reason: "FieldValueNotSupported",
            field: field.into(),
            message: format!("Unsupported value: {}: supported values: {allowed}", quote(value)),
        }
    }
    pub fn duplicate(field: impl Into<String>, value: impl std::fmt::Display) -> Self {
        Self {
            reason: "FieldValueDuplicate",
            field: field.into(),
            message: format!("Duplicate value: {}", quote(value)),
        }
    }
    pub fn forbidden(field: impl Into<String>, why: impl Into<String>) -> Self {
        Self { reason: "FieldValueForbidden", field: field.into(), message: format!("Forbidden: {}", why.into()) }
    }
}

fn quote(value: impl std::fmt::Display) -> String {
    let text = value.to_string();
    if text.starts_with('"') || text.parse::<f64>().is_ok() {
        text
    } else {
        format!("\"{text}\"")
    }
}

/// What went wrong, in the terms of the Kubernetes API. Boxed so that `Result`s carrying
/// it stay small on the happy path.
#[derive(Debug, Clone)]
pub struct ApiError(Box<ErrorBody>);

/// The fields of an [`ApiError`], reachable through it by deref.
#[derive(Debug, Clone)]
pub struct ErrorBody {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    /// `details.group/kind/name` when the error is about one object.
    pub details: Option<Details>,
    pub causes: Vec<Cause>,
    /// `details.retryAfterSeconds`.
    pub retry_after: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct Details {
    pub group: String,
    pub kind: String,
    pub name: String,
}

impl std::ops::Deref for ApiError {
    type Target = ErrorBody;
    fn deref(&self) -> &ErrorBody {
        &self.0
    }
}

impl std::ops::DerefMut for ApiError {
    fn deref_mut(&mut self) -> &mut ErrorBody {
        &mut self.0
    }
}

impl ApiError {
    fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        Self(Box::new(ErrorBody {
            code,
            reason,
            message: message.into(),
            details: None,
            causes: Vec::new(),
            retry_after: None,
        }))
    }

    fn about(mut self, group: &str, kind: &str, name: &str) -> Self {
        self.details = Some(Details { group: group.into(), kind: kind.into(), name: name.into() });
        self
    }

    /// `plural` is the resource (e.g. `pods`), `group` its API group.
    pub fn not_found(group: &str, plural: &str, name: &str) -> Self {
        Self::new(404, "NotFound", format!("{} \"{name}\" not found", qualified(group, plural)))
            .about(group, plural, name)
    }
    pub fn already_exists(group: &str, plural: &str, name: &str) -> Self {
        Self::new(409, "AlreadyExists", format!("{} \"{name}\" already exists", qualified(group, plural)))
            .about(group, plural, name)
    }
    pub fn conflict(group: &str, plural: &str, name: &str, why: &str) -> Self {
        Self::new(
            409,
            "Conflict",
            format!("Operation cannot be fulfilled on {} \"{name}\": {why}", qualified(group, plural)),
        )
        .about(group, plural, name)
    }
    pub fn stale(group: &str, plural: &str, name: &str) -> Self {
        Self::conflict(
            group,
            plural,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }
    /// `kind` is the object's kind (e.g. `Pod`).
    pub fn invalid(group: &str, kind: &str, name: &str, causes: Vec<Cause>) -> Self {
        let list = causes.iter().map(|c| format!("{}: {}", c.field, c.message)).collect::<Vec<_>>();
        let summary = if list.len() == 1 { list[0].clone() } else { format!("[{}]", list.join(", ")) };
        let mut err =
            Self::new(422, "Invalid", format!("{kind} \"{name}\" is invalid: {summary}")).about(group, kind, name);
        err.causes = causes;
        err
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }
    /// A patch that cannot be applied (JSON patch test failures, missing paths).
    pub fn invalid_patch(why: impl std::fmt::Display) -> Self {
        Self::new(422, "Invalid", format!("the patch could not be applied: {why}"))
    }
    pub fn unauthorized() -> Self {
        Self::new(401, "Unauthorized", "Unauthorized")
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(403, "Forbidden", message)
    }
    pub fn method_not_allowed(message: impl Into<String>) -> Self {
        Self::new(405, "MethodNotAllowed", message)
    }
    pub fn not_acceptable(message: impl Into<String>) -> Self {
        Self::new(406, "NotAcceptable", message)
    }
    pub fn unsupported_media_type(content_type: &str) -> Self {
        Self::new(415, "UnsupportedMediaType", format!("the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf, application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json; got {content_type:?}"))
    }
    pub fn too_large(limit: usize) -> Self {
        Self::new(413, "RequestEntityTooLarge", format!("the request body is larger than the limit of {limit} bytes"))
    }
    pub fn gone(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message)
    }
    pub fn internal(message: impl std::fmt::Display) -> Self {
        Self::new(500, "InternalError", format!("Internal error occurred: {message}"))
    }
    pub fn unavailable(message: impl Into<String>) -> Self {
        let mut err = Self::new(503, "ServiceUnavailable", message);
        err.retry_after = Some(1);
        err
    }
    pub fn timeout(message: impl Into<String>) -> Self {
        Self::new(504, "Timeout", message)
    }
    pub fn too_many_requests(message: impl Into<String>) -> Self {
        let mut err = Self::new(429, "TooManyRequests", message);
        err.retry_after = Some(1);
        err
    }
    /// A URL that names no resource.
    pub fn no_such_path() -> Self {
        Self::new(404, "NotFound", "the server could not find the requested resource")
    }

    /// The `Status` object for this error.
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        let mut details = serde_json::Map::new();
        if let Some(d) = &self.details {
            details.insert("name".into(), d.name.clone().into());
            if !d.group.is_empty() {
                details.insert("group".into(), d.group.clone().into());
            }
            details.insert("kind".into(), d.kind.clone().into());
        }
        if !self.causes.is_empty() {
            let causes =
                self.causes.iter().map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field}));
            details.insert("causes".into(), causes.collect::<Vec<_>>().into());
        }
        if let Some(secs) = self.retry_after {
            details.insert("retryAfterSeconds".into(), secs.into());
        }
        if !details.is_empty() {
            status["details"] = Value::Object(details);
        }
        status
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.reason)
    }
}

impl std::error::Error for ApiError {}

/// `pods` or `deployments.apps`, as Kubernetes names a resource in messages.
pub fn qualified(group: &str, plural: &str) -> String {
    if group.is_empty() {
        plural.to_string()
    } else {
        format!("{plural}.{group}")
    }
}
