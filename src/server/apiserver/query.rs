//! Query parameters of a request and the verb options they carry.

use serde_json::Value;

use crate::server::api_error::ApiError;
use crate::server::registry::catalog::ResourceType;
use crate::server::registry::field_selector::FieldSelector;
use crate::server::registry::label_selector::LabelSelector;
use crate::server::registry::options::{
    DeleteOptions, FieldValidation, ListOptions, PropagationPolicy, WatchOptions, WriteOptions,
};

#[derive(Debug, Default)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    pub fn parse(raw: Option<&str>) -> Self {
        let pairs = form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).into_owned().collect();
        Self { pairs }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> {
        self.pairs.iter().filter(move |(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn flag(&self, name: &str) -> bool {
        matches!(self.get(name), Some("true" | "1" | ""))
    }

    fn number<T: std::str::FromStr>(&self, name: &str) -> Result<Option<T>, ApiError> {
        match self.get(name).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(text) => text
                .parse()
                .map(Some)
                .map_err(|_| ApiError::bad_request(format!("{name}: {text:?} is not a valid number"))),
        }
    }

    pub fn is_watch(&self) -> bool {
        self.flag("watch")
    }

    pub fn timeout_seconds(&self) -> Result<Option<u64>, ApiError> {
        self.number("timeoutSeconds")
    }

    pub fn write_options(&self) -> Result<WriteOptions, ApiError> {
        let validation = self.get("fieldValidation").unwrap_or_default();
        let field_validation = FieldValidation::parse(validation).ok_or_else(|| {
            ApiError::bad_request(format!("fieldValidation must be one of Ignore, Warn or Strict, not {validation:?}"))
        })?;
        Ok(WriteOptions {
            dry_run: self.dry_run()?,
            field_validation,
            field_manager: self.get("fieldManager").map(str::to_string),
        })
    }

    fn dry_run(&self) -> Result<bool, ApiError> {
        let mut dry = false;
        for value in self.all("dryRun") {
            match value {
                "All" => dry = true,
                "" => {}
                other => {
                    return Err(ApiError::bad_request(format!(
                        "dryRun: unsupported value {other:?}; the only supported value is All"
                    )))
                }
            }
        }
        Ok(dry)
    }

    pub fn list_options(&self, rt: &ResourceType) -> Result<ListOptions, ApiError> {
        Ok(ListOptions {
            label_selector: LabelSelector::parse(self.get("labelSelector").unwrap_or_default())?,
            field_selector: FieldSelector::parse(self.get("fieldSelector").unwrap_or_default(), rt)?,
            limit: self.number("limit")?,
            continue_token: self.get("continue").filter(|c| !c.is_empty()).map(str::to_string),
        })
    }

    pub fn watch_options(&self, rt: &ResourceType) -> Result<WatchOptions, ApiError> {
        let resource_version = match self.get("resourceVersion").filter(|v| !v.is_empty()) {
            None => None,
            Some(text) => Some(
                text.parse::<u64>().map_err(|_| ApiError::bad_request(format!("invalid resource version {text:?}")))?,
            ),
        };
        Ok(WatchOptions {
            label_selector: LabelSelector::parse(self.get("labelSelector").unwrap_or_default())?,
            field_selector: FieldSelector::parse(self.get("fieldSelector").unwrap_or_default(), rt)?,
            resource_version,
            send_initial_events: self.flag("sendInitialEvents"),
            allow_bookmarks: self.flag("allowWatchBookmarks"),
        })
    }

    /// Delete options from the query, overridden by a `DeleteOptions` body when sent.
    pub fn delete_options(&self, body: Option<&Value>) -> Result<DeleteOptions, ApiError> {
        let mut opts = DeleteOptions {
            grace_period_seconds: self.number("gracePeriodSeconds")?,
            propagation_policy: self.get("propagationPolicy").map(parse_policy).transpose()?,
            dry_run: self.dry_run()?,
            ..Default::default()
        };
        if self.get("orphanDependents") == Some("true") && opts.propagation_policy.is_none() {
            opts.propagation_policy = Some(PropagationPolicy::Orphan);
        }
        if let Some(body) = body {
            if let Some(grace) = body.get("gracePeriodSeconds").and_then(Value::as_i64) {
                opts.grace_period_seconds = Some(grace);
            }
            if let Some(policy) = body.get("propagationPolicy").and_then(Value::as_str) {
                opts.propagation_policy = Some(parse_policy(policy)?);
            }
            if body.get("orphanDependents") == Some(&Value::Bool(true)) && opts.propagation_policy.is_none() {
                opts.propagation_policy = Some(PropagationPolicy::Orphan);
            }
            opts.precondition_uid = body.pointer("/preconditions/uid").and_then(Value::as_str).map(str::to_string);
            opts.precondition_resource_version =
                body.pointer("/preconditions/resourceVersion").and_then(Value::as_str).map(str::to_string);
            if body.get("dryRun").and_then(Value::as_array).is_some_and(|d| d.iter().any(|v| v == "All")) {
                opts.dry_run = true;
            }
        }
        Ok(opts)
    }
}

fn parse_policy(text: &str) -> Result<PropagationPolicy, ApiError> {
    match text {
        "Orphan" => Ok(PropagationPolicy::Orphan),
        "Background" => Ok(PropagationPolicy::Background),
        "Foreground" => Ok(PropagationPolicy::Foreground),
        other => Err(ApiError::bad_request(format!(
            "propagationPolicy must be Orphan, Background or Foreground, not {other:?}"
        ))),
    }
}
