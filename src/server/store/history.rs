//! The watch history: every event stored under its revision, so watches can resume.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::sled_store::{backend, Inner};
use super::{Event, EventType, Result, Revision, StoreError};

const EVENT: &[u8] = b"e/";

pub(super) fn event_key(revision: Revision) -> Vec<u8> {
    [EVENT, &revision.to_be_bytes()[..]].concat()
}

/// Type byte, key length (4 bytes), key, value length (4 bytes), value, previous value (the
/// rest; present only for modifications).
pub(super) fn encode_event(event: &Event) -> Vec<u8> {
    let kind = match event.event_type {
        EventType::Added => 0u8,
        EventType::Modified => 1,
        EventType::Deleted => 2,
    };
    let mut out = Vec::with_capacity(5 + event.key.len() + event.value.len());
    out.push(kind);
    out.extend_from_slice(&(event.key.len() as u32).to_be_bytes());
    out.extend_from_slice(event.key.as_bytes());
    out.extend_from_slice(&(event.value.len() as u32).to_be_bytes());
    out.extend_from_slice(&event.value);
    if let Some(prev) = &event.prev_value {
        out.extend_from_slice(prev);
    }
    out
}

fn decode_event(revision: Revision, raw: &[u8]) -> Result<Event> {
    let corrupt = || backend(format!("corrupt history record at revision {revision}"));
    let (&kind, rest) = raw.split_first().ok_or_else(corrupt)?;
    let event_type = match kind {
        0 => EventType::Added,
        1 => EventType::Modified,
        2 => EventType::Deleted,
        _ => return Err(corrupt()),
    };
    let (key, rest) = split_sized(rest).ok_or_else(corrupt)?;
    let (value, prev) = split_sized(rest).ok_or_else(corrupt)?;
    let prev_value = (event_type == EventType::Modified).then(|| prev.into());
    Ok(Event {
        revision,
        event_type,
        key: String::from_utf8_lossy(key).into_owned(),
        value: value.into(),
        prev_value,
        decoded: Default::default(),
    })
}

/// The newest event of the history, if any.
pub(super) fn newest(tree: &sled::Tree) -> Result<Option<Event>> {
    let Some(entry) = tree.scan_prefix(EVENT).next_back() else { return Ok(None) };
    let (k, v) = entry.map_err(backend)?;
    decode_event(revision_of(&k)?, &v).map(Some)
}

fn revision_of(key: &[u8]) -> Result<Revision> {
    Ok(u64::from_be_bytes(key[EVENT.len()..].try_into().map_err(|_| backend("corrupt history key"))?))
}

/// Splits a 4-byte length-prefixed field off the front of `raw`.
fn split_sized(raw: &[u8]) -> Option<(&[u8], &[u8])> {
    let len = u32::from_be_bytes(raw.get(..4)?.try_into().ok()?) as usize;
    let field = raw.get(4..4 + len)?;
    Some((field, &raw[4 + len..]))
}

/// Events with revisions in `from..=to` under `prefix`, reading at most `max_revisions`
/// revisions; returns them and the last revision examined.
pub(super) fn read(
    inner: &Inner,
    from: Revision,
    to: Revision,
    prefix: &str,
    max_revisions: u64,
) -> Result<(Vec<Arc<Event>>, Revision)> {
    let oldest = inner.compacted.load(Ordering::Acquire);
    if from <= oldest {
        return Err(StoreError::Compacted { requested: from.saturating_sub(1), oldest });
    }
    let end = to.min(from.saturating_add(max_revisions - 1));
    let mut events = Vec::new();
    for entry in inner.tree.range(event_key(from)..=event_key(end)) {
        let (k, v) = entry.map_err(backend)?;
        let event = decode_event(revision_of(&k)?, &v)?;
        if event.key.starts_with(prefix) {
            events.push(Arc::new(event));
        }
    }
    // A compaction that ran while we read may have removed part of the range.
    let oldest = inner.compacted.load(Ordering::Acquire);
    if from <= oldest {
        return Err(StoreError::Compacted { requested: from.saturating_sub(1), oldest });
    }
    Ok((events, end))
}
