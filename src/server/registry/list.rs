//! List with selectors and limit/continue paging.

use base64::Engine;
use serde_json::{json, Value};

use super::catalog::ResourceType;
use super::options::ListOptions;
use super::{collection_prefix, decode, object_key, store_error, Registry};
use crate::server::api_error::ApiError;

/// Objects read from the store per round while filtering.
const PAGE: usize = 500;

/// One page of a list.
#[derive(Debug)]
pub struct ObjectList {
    pub items: Vec<Value>,
    pub resource_version: String,
    /// Token for the next page, if there is one.
    pub continue_token: Option<String>,
}

impl Registry {
    pub async fn list(
        &self,
        rt: &ResourceType,
        namespace: Option<&str>,
        opts: &ListOptions,
    ) -> Result<ObjectList, ApiError> {
        let prefix = collection_prefix(rt, namespace);
        // A selector on the name needs no scan.
        if let (Some(name), false) =
            (opts.field_selector.required("metadata.name"), rt.namespaced && namespace.is_none())
        {
            return self.list_one(rt, namespace, name, opts).await;
        }
        let (mut start_after, first_revision) = match &opts.continue_token {
            Some(token) => {
                let (revision, key) = decode_continue(token)?;
                if !key.starts_with(&prefix) {
                    return Err(ApiError::bad_request("the continue token does not belong to this list"));
                }
                (Some(key), Some(revision))
            }
            None => (None, None),
        };
        let limit = opts.limit.filter(|l| *l > 0);
        let mut items = Vec::new();
        let mut revision = first_revision;
        let mut continue_token = None;
        'pages: loop {
            let page = self.store.list(&prefix, start_after.as_deref(), Some(PAGE)).await.map_err(store_error)?;
            revision.get_or_insert(page.revision);
            let count = page.items.len();
            for (i, kv) in page.items.into_iter().enumerate() {
                let obj = decode(&kv)?;
                start_after = Some(kv.key);
                if !opts.label_selector.matches_object(&obj) || !opts.field_selector.matches(&obj) {
                    continue;
                }
                items.push(obj);
                if limit.is_some_and(|l| items.len() >= l) {
                    let more = i + 1 < count || page.more;
                    if more {
                        continue_token = Some(encode_continue(
                            revision.unwrap_or_default(),
                            start_after.as_deref().unwrap_or_default(),
                        ));
                    }
                    break 'pages;
                }
            }
            if !page.more {
                break;
            }
        }
        Ok(ObjectList { items, resource_version: revision.unwrap_or_default().to_string(), continue_token })
    }

    async fn list_one(
        &self,
        rt: &ResourceType,
        namespace: Option<&str>,
        name: &str,
        opts: &ListOptions,
    ) -> Result<ObjectList, ApiError> {
        let revision = self.store.revision();
        let key = object_key(rt, namespace, name);
        let mut items = Vec::new();
        if let Some(kv) = self.store.get(&key).await.map_err(store_error)? {
            let obj = decode(&kv)?;
            if opts.label_selector.matches_object(&obj) && opts.field_selector.matches(&obj) {
                items.push(obj);
            }
        }
        Ok(ObjectList { items, resource_version: revision.to_string(), continue_token: None })
    }
}

fn encode_continue(revision: u64, key: &str) -> String {
    let token = json!({"v": "meta.k8s.io/v1", "rv": revision, "start": key});
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(token.to_string())
}

fn decode_continue(token: &str) -> Result<(u64, String), ApiError> {
    let bad = || ApiError::bad_request("continue key is not valid: it was not produced by this server");
    let raw =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token.trim_end_matches('=')).map_err(|_| bad())?;
    let value: Value = serde_json::from_slice(&raw).map_err(|_| bad())?;
    let revision = value.get("rv").and_then(Value::as_u64).ok_or_else(bad)?;
    let key = value.get("start").and_then(Value::as_str).ok_or_else(bad)?;
    Ok((revision, key.to_string()))
}
