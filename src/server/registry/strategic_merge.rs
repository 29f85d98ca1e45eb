//! Strategic merge patch as the Kubernetes API server applies it
//! (`application/strategic-merge-patch+json`): JSON merge patch, except that lists tagged
//! `merge` are merged element by element (objects by their merge key, scalars as a set), and
//! the patch may carry directives:
//!
//! - `$patch: replace | delete` in an object, and `$patch: replace | delete` as a list element;
//! - `$retainKeys: [..]` naming the only keys of an object that survive;
//! - `$setElementOrder/<list>: [..]` giving the final order of a merged list;
//! - `$deleteFromPrimitiveList/<list>: [..]` naming scalars to drop from a merged list.
//!
//! Which field merges how comes from [`patch_meta`](super::patch_meta); which definition each
//! nested object belongs to from [`field_shapes`](super::field_shapes). Lists are ordered the
//! way upstream orders them: `$setElementOrder` first, then the order of the patch, then the
//! order of the live list.

use serde_json::{Map, Value};

use super::field_shapes::{self, Shape};
use super::patch_meta::{patch_meta_for, PatchMeta, Strategy};
use crate::server::api_error::ApiError;

const DIRECTIVE: &str = "$patch";
const REPLACE: &str = "replace";
const DELETE: &str = "delete";
const MERGE: &str = "merge";
const RETAIN_KEYS: &str = "$retainKeys";
const SET_ELEMENT_ORDER: &str = "$setElementOrder";
const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList";

/// Applies `patch` to `original`, an object of the OpenAPI definition `definition`
/// (`io.k8s.api.core.v1.Pod`). Neither input is modified.
pub fn apply(original: &Value, patch: &Value, definition: &str) -> Result<Value, ApiError> {
    let Some(shape) = field_shapes::of_definition(definition) else {
        return Err(bad("strategic merge patch format is not supported").into());
    };
    let Value::Object(patch) = patch else {
        return Err(bad(format!(
            "invalid JSON document: a strategic merge patch must be an object, not {}",
            kind_name(patch)
        ))
        .into());
    };
    let Value::Object(original) = original else {
        return Err(ApiError::internal("the object to patch is not a JSON object"));
    };
    merge_map(original.clone(), patch.clone(), shape).map(Value::Object).map_err(ApiError::from)
}

/// Why a patch cannot be applied. Upstream answers a few well-formed but unprocessable patches
/// with a bare 422; the rest of its complaints are about the patch, so they are 400s here.
#[derive(Debug)]
enum PatchError {
    Bad(String),
    Unprocessable(String),
}

impl From<PatchError> for ApiError {
    fn from(err: PatchError) -> Self {
        match err {
            PatchError::Bad(message) => ApiError::bad_request(message),
            PatchError::Unprocessable(message) => {
                let mut err = ApiError::bad_request(format!(
                    "the server rejected our request due to an error in our request: {message}"
                ));
                err.code = 422;
                err.reason = "Invalid";
                err
            }
        }
    }
}

fn bad(message: impl Into<String>) -> PatchError {
    PatchError::Bad(message.into())
}

fn unprocessable(message: &str) -> PatchError {
    PatchError::Unprocessable(message.to_string())
}

fn no_merge_key(item: &Value, key: &str) -> PatchError {
    bad(format!("map: {item} does not contain declared merge key: {key}"))
}

fn bad_patch_type(directive: &Value, map: &Map<String, Value>) -> PatchError {
    bad(format!("unknown patch type: {directive} in map: {}", Value::Object(map.clone())))
}

fn expected(what: &str, got: &Value) -> PatchError {
    bad(format!("expected a {what}, but received a {}", kind_name(got)))
}

/// The JSON kinds upstream tells apart; integers and floats differ, as Go decodes them into
/// `int64` and `float64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Null,
    Bool,
    Int,
    Float,
    String,
    List,
    Map,
}

fn kind(value: &Value) -> Kind {
    match value {
        Value::Null => Kind::Null,
        Value::Bool(_) => Kind::Bool,
        Value::Number(n) if n.is_f64() => Kind::Float,
        Value::Number(_) => Kind::Int,
        Value::String(_) => Kind::String,
        Value::Array(_) => Kind::List,
        Value::Object(_) => Kind::Map,
    }
}

fn kind_name(value: &Value) -> &'static str {
    match kind(value) {
        Kind::Null => "null",
        Kind::Bool => "boolean",
        Kind::Int => "integer",
        Kind::Float => "number",
        Kind::String => "string",
        Kind::List => "list",
        Kind::Map => "map",
    }
}

/// The strategy and merge key of `field` of an object of `shape`.
fn meta_of(shape: &Shape, field: &str) -> Option<PatchMeta> {
    shape.definition().and_then(|definition| patch_meta_for(definition, field))
}

fn merges(meta: Option<PatchMeta>) -> bool {
    meta.is_some_and(|m| m.strategy == Some(Strategy::Merge))
}

/// `$setElementOrder/containers` → `containers`.
fn directive_target<'k>(key: &'k str, prefix: &str, malformed: &str) -> Result<&'k str, PatchError> {
    match key.split_once('/') {
        Some((head, field)) if head == prefix => Ok(field),
        _ => Err(bad(malformed)),
    }
}

fn merge_map(
    mut original: Map<String, Value>,
    mut patch: Map<String, Value>,
    shape: &Shape,
) -> Result<Map<String, Value>, PatchError> {
    if let Some(directive) = patch.get(DIRECTIVE) {
        return match directive.as_str() {
            // Upstream hands back the rest of the patch untouched.
            Some(REPLACE) => {
                patch.shift_remove(DIRECTIVE);
                Ok(patch)
            }
            Some(DELETE) => Ok(Map::new()),
            _ => Err(bad_patch_type(directive, &patch)),
        };
    }
    apply_retain_keys(&mut original, &mut patch)?;
    merge_ordered_lists(&mut original, &mut patch, shape)?;

    for (key, patch_value) in patch {
        let (field, deleting) = if key.starts_with(DELETE_FROM_PRIMITIVE_LIST) {
            let field = directive_target(&key, DELETE_FROM_PRIMITIVE_LIST, "invalid patch format of primitive list")?;
            (field.to_string(), true)
        } else {
            (key, false)
        };
        if patch_value.is_null() {
            original.shift_remove(&field);
            continue;
        }
        let Some(current) = original.get_mut(&field) else {
            if !deleting {
                set_from_patch(&mut original, field, patch_value);
            }
            continue;
        };
        if kind(current) != kind(&patch_value) {
            if !deleting {
                set_from_patch(&mut original, field, patch_value);
            }
            continue;
        }
        let meta = meta_of(shape, &field);
        let merged = match (current.take(), patch_value) {
            (Value::Object(current), Value::Object(patch_value)) => {
                if meta.is_some_and(|m| m.strategy == Some(Strategy::Replace)) {
                    Value::Object(patch_value)
                } else {
                    Value::Object(merge_map(current, patch_value, shape.field(&field))?)
                }
            }
            (Value::Array(current), Value::Array(patch_value)) => {
                if merges(meta) || deleting {
                    let key = meta.and_then(|m| m.merge_key);
                    Value::Array(merge_list(current, patch_value, shape.field(&field).elements(), key, deleting)?)
                } else {
                    Value::Array(patch_value)
                }
            }
            // Scalars of the same kind: the patch wins.
            (_, patch_value) => patch_value,
        };
        *current = merged;
    }
    Ok(original)
}

/// Stores a value the original lacks (or holds with another kind), as upstream does: nulls
/// inside it are dropped, and so is anything carrying a `$patch` directive.
fn set_from_patch(original: &mut Map<String, Value>, field: String, mut value: Value) {
    discard_nulls(&mut value);
    match remove_directives(value) {
        Some(value) => {
            original.insert(field, value);
        }
        None => {
            original.shift_remove(&field);
        }
    }
}

fn discard_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(discard_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(discard_nulls),
        _ => {}
    }
}

/// Drops every object carrying a `$patch` directive; `None` when `value` itself is one.
fn remove_directives(value: Value) -> Option<Value> {
    match value {
        Value::Object(map) if map.contains_key(DIRECTIVE) => None,
        Value::Object(map) => {
            Some(Value::Object(map.into_iter().filter_map(|(k, v)| remove_directives(v).map(|v| (k, v))).collect()))
        }
        Value::Array(items) => Some(Value::Array(items.into_iter().filter_map(remove_directives).collect())),
        other => Some(other),
    }
}

/// `$retainKeys`: every key of the original not listed goes; every key the patch sets must
/// be listed.
fn apply_retain_keys(original: &mut Map<String, Value>, patch: &mut Map<String, Value>) -> Result<(), PatchError> {
    let Some(retained) = patch.shift_remove(RETAIN_KEYS) else {
        return Ok(());
    };
    let malformed = || bad("invalid patch format of retainKeys");
    let Value::Array(retained) = retained else {
        return Err(malformed());
    };
    let keeps = |key: &str| retained.iter().any(|r| r.as_str() == Some(key));
    let unlisted = patch.iter().any(|(key, value)| {
        !value.is_null()
            && !key.starts_with(DELETE_FROM_PRIMITIVE_LIST)
            && !key.starts_with(SET_ELEMENT_ORDER)
            && !keeps(key)
    });
    if unlisted {
        return Err(malformed());
    }
    original.retain(|key, _| keeps(key));
    Ok(())
}

/// Handles every `$setElementOrder/<list>` of `patch`: merges the list it names and orders
/// the result, then removes both from the patch.
fn merge_ordered_lists(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
    shape: &Shape,
) -> Result<(), PatchError> {
    let directives: Vec<String> = patch.keys().filter(|k| k.starts_with(SET_ELEMENT_ORDER)).cloned().collect();
    for directive in directives {
        let Some(order) = patch.shift_remove(&directive) else {
            continue;
        };
        let Value::Array(order) = order else {
            return Err(expected("list", &order));
        };
        let field = directive_target(&directive, SET_ELEMENT_ORDER, "invalid patch format of setElementOrder list")?;
        let original_list = list_at(original, field)?;
        let patch_list = list_at(patch, field)?;
        let meta = meta_of(shape, field);
        let key = meta.and_then(|m| m.merge_key);
        check_order_matches_patch(patch_list.unwrap_or(&[]), &order, key)?;

        let original_ids = original_list.map(|l| identities(l, key)).transpose()?;
        let element_kind = element_kind(&[original_list.unwrap_or(&[]), patch_list.unwrap_or(&[])]);
        let merged = match (original_list, patch_list) {
            (Some(list), None) => list.to_vec(),
            (None, Some(list)) => remove_directives(Value::Array(list.to_vec()))
                .and_then(|v| if let Value::Array(items) = v { Some(items) } else { None })
                .unwrap_or_default(),
            (Some(current), Some(patch_value)) => {
                if merges(meta) {
                    merge_list(current.to_vec(), patch_value.to_vec(), shape.field(field).elements(), key, false)?
                } else {
                    patch_value.to_vec()
                }
            }
            (None, None) => continue,
        };
        let is_map = element_kind? == Kind::Map;
        let order_ids = identities(&order, key)?;
        let (listed, server_only) = partition(merged, &order_ids, key)?;
        let ordered =
            order_like_upstream(listed, server_only, &order_ids, &original_ids.unwrap_or_default(), key, is_map)?;
        original.insert(field.to_string(), Value::Array(ordered));
        patch.shift_remove(field);
    }
    Ok(())
}

fn list_at<'m>(map: &'m Map<String, Value>, field: &str) -> Result<Option<&'m [Value]>, PatchError> {
    match map.get(field) {
        None => Ok(None),
        Some(Value::Array(items)) => Ok(Some(items)),
        Some(other) => Err(expected("list", other)),
    }
}

/// The patch may not list elements in an order `$setElementOrder` contradicts, nor elements it
/// leaves out.
fn check_order_matches_patch(patch_list: &[Value], order: &[Value], key: Option<&str>) -> Result<(), PatchError> {
    if patch_list.is_empty() || order.is_empty() {
        return Ok(());
    }
    let mut kept = Vec::with_capacity(patch_list.len());
    for item in patch_list {
        if key.is_some() {
            let Value::Object(map) = item else {
                return Err(expected("map", item));
            };
            if map.get(DIRECTIVE).and_then(Value::as_str) == Some(DELETE) {
                continue;
            }
        }
        kept.push(item);
    }
    let (mut in_patch, mut in_order) = (0, 0);
    while in_patch < kept.len() && in_order < order.len() {
        if kept[in_patch].get(DIRECTIVE).is_some() {
            in_patch += 1;
            continue;
        }
        if same_element(kept[in_patch], &order[in_order], key)? {
            in_patch += 1;
        }
        in_order += 1;
    }
    if in_patch < kept.len() {
        return Err(bad(format!(
            "The order in patch list:\n{}\n doesn't match {SET_ELEMENT_ORDER} list:\n{}\n",
            Value::Array(patch_list.to_vec()),
            Value::Array(order.to_vec())
        )));
    }
    Ok(())
}

fn same_element(left: &Value, right: &Value, key: Option<&str>) -> Result<bool, PatchError> {
    match key {
        None => Ok(left == right),
        Some(key) => Ok(merge_key_value(left, key)? == merge_key_value(right, key)?),
    }
}

fn merge_key_value<'v>(item: &'v Value, key: &str) -> Result<&'v Value, PatchError> {
    let Value::Object(map) = item else {
        return Err(expected("map", item));
    };
    map.get(key).ok_or_else(|| no_merge_key(item, key))
}

/// What identifies each element: its merge key's value, or the element itself for scalars.
fn identities(list: &[Value], key: Option<&str>) -> Result<Vec<Value>, PatchError> {
    list.iter()
        .map(|item| match (key, item) {
            (Some(key), _) => merge_key_value(item, key).cloned(),
            (None, item) => Ok(item.clone()),
        })
        .collect()
}

/// The one kind shared by every element of `lists`; lists of lists cannot be merged.
fn element_kind(lists: &[&[Value]]) -> Result<Kind, PatchError> {
    let mut found = None;
    for item in lists.iter().flat_map(|l| l.iter()) {
        let this = kind(item);
        match found {
            None if this == Kind::List => return Err(unprocessable("lists of lists are not supported")),
            None if this == Kind::Null => return Err(bad("list elements may not be null")),
            None => found = Some(this),
            Some(previous) if previous != this => {
                let shown: Vec<Value> = lists.iter().map(|l| Value::Array(l.to_vec())).collect();
                return Err(bad(format!("list element types are not identical: {}", Value::Array(shown))));
            }
            Some(_) => {}
        }
    }
    found.ok_or_else(|| bad("no elements in any of the given slices"))
}

/// Merges a list tagged `merge` (or a `$deleteFromPrimitiveList`) into the original list.
fn merge_list(
    original: Vec<Value>,
    patch: Vec<Value>,
    elements: &Shape,
    key: Option<&str>,
    deleting: bool,
) -> Result<Vec<Value>, PatchError> {
    if original.is_empty() && patch.is_empty() {
        return Ok(original);
    }
    let is_map = element_kind(&[&original, &patch])? == Kind::Map;
    if !is_map {
        if deleting {
            return Ok(original.into_iter().filter(|item| !patch.contains(item)).collect());
        }
        let original_ids = original.clone();
        let mut merged: Vec<Value> = Vec::with_capacity(original.len() + patch.len());
        for item in original.into_iter().chain(patch.iter().cloned()) {
            if !merged.contains(&item) {
                merged.push(item);
            }
        }
        let (listed, server_only) = partition(merged, &patch, None)?;
        return order_like_upstream(listed, server_only, &patch, &original_ids, None, false);
    }

    let Some(key) = key else {
        return Err(bad("cannot merge lists of objects without a merge key"));
    };
    let (original, patch) = apply_list_directives(original, patch, key)?;
    let original_ids = identities(&original, Some(key))?;
    let patch_ids = identities(&patch, Some(key))?;
    let mut merged = original;
    for item in patch {
        let Value::Object(item) = item else {
            return Err(expected("map", &item));
        };
        let id = item.get(key).cloned().unwrap_or_default();
        let existing = merged.iter().position(|m| m.as_object().and_then(|m| m.get(key)) == Some(&id));
        match existing {
            Some(at) => {
                let current = match merged[at].take() {
                    Value::Object(current) => current,
                    other => return Err(expected("map", &other)),
                };
                merged[at] = Value::Object(merge_map(current, item, elements)?);
            }
            None => merged.push(Value::Object(item)),
        }
    }
    let (listed, server_only) = partition(merged, &patch_ids, Some(key))?;
    order_like_upstream(listed, server_only, &patch_ids, &original_ids, Some(key), true)
}

/// Applies the `$patch` elements of a list of objects: `delete` drops the original elements
/// with the same merge key, `replace` makes the other patch elements the whole list. Returns
/// the original and the patch left to merge.
fn apply_list_directives(
    mut original: Vec<Value>,
    patch: Vec<Value>,
    key: &str,
) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
    let mut rest = Vec::with_capacity(patch.len());
    let mut replace = false;
    for item in patch {
        let Value::Object(map) = &item else {
            return Err(expected("map", &item));
        };
        let Some(directive) = map.get(DIRECTIVE) else {
            rest.push(item);
            continue;
        };
        match directive.as_str() {
            Some(DELETE) => {
                let id = map.get(key).ok_or_else(|| no_merge_key(&item, key))?;
                original.retain(|o| o.get(key) != Some(id));
            }
            Some(REPLACE) => replace = true,
            Some(MERGE) => return Err(bad("merging lists cannot yet be specified in the patch")),
            _ => return Err(bad_patch_type(directive, map)),
        }
    }
    Ok(if replace { (rest, Vec::new()) } else { (original, rest) })
}

/// Splits `merged` into the elements `ids` names and the rest, keeping their order.
fn partition(merged: Vec<Value>, ids: &[Value], key: Option<&str>) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
    let mut listed = Vec::new();
    let mut rest = Vec::new();
    for item in merged {
        let id = match key {
            Some(key) => merge_key_value(&item, key)?,
            None => &item,
        };
        if ids.contains(id) {
            listed.push(item);
        } else {
            rest.push(item);
        }
    }
    Ok((listed, rest))
}

/// Orders a merged list as upstream does: the elements the patch names follow the patch's (or
/// `$setElementOrder`'s) order, the server-only ones keep their live order, and the two runs
/// are interleaved by live position — a patch element the live list lacks goes before the
/// server-only elements still waiting.
fn order_like_upstream(
    listed: Vec<Value>,
    server_only: Vec<Value>,
    patch_order: &[Value],
    live_order: &[Value],
    key: Option<&str>,
    is_map: bool,
) -> Result<Vec<Value>, PatchError> {
    let listed = sort_by_order(listed, patch_order, key, is_map)?;
    let server_only = sort_by_order(server_only, live_order, key, is_map)?;
    let live_position = |item: &Value| -> Option<usize> {
        let id = identity(item, key)?;
        live_order.iter().position(|o| o == id)
    };
    let mut result = Vec::with_capacity(listed.len() + server_only.len());
    let mut left = server_only.into_iter().peekable();
    let mut right = listed.into_iter().peekable();
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(l), Some(r)) => {
                matches!((live_position(l), live_position(r)), (Some(li), Some(ri)) if li < ri)
            }
        };
        let next = if take_left { left.next() } else { right.next() };
        result.extend(next);
    }
    Ok(result)
}

fn identity<'v>(item: &'v Value, key: Option<&str>) -> Option<&'v Value> {
    match key {
        Some(key) => item.get(key),
        None => Some(item),
    }
}

/// Stable-sorts `items` by their position in `order`; elements `$patch: delete` marks go last,
/// and elements `order` lacks keep their place after the ones it has.
fn sort_by_order(
    items: Vec<Value>,
    order: &[Value],
    key: Option<&str>,
    is_map: bool,
) -> Result<Vec<Value>, PatchError> {
    let mut deleted = Vec::new();
    let mut kept = Vec::with_capacity(items.len());
    for item in items {
        if is_map {
            let key = key.ok_or_else(|| no_merge_key(&item, ""))?;
            merge_key_value(&item, key)?;
            if item.get(DIRECTIVE).and_then(Value::as_str) == Some(DELETE) {
                deleted.push(item);
                continue;
            }
        }
        kept.push(item);
    }
    kept.sort_by_key(|item| {
        identity(item, key).and_then(|id| order.iter().position(|o| o == id)).unwrap_or(usize::MAX)
    });
    kept.extend(deleted);
    Ok(kept)
}

#[cfg(test)]
#[path = "strategic_merge_tests.rs"]
mod tests;
