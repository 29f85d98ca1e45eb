use futures::StreamExt;

use super::*;

fn open(dir: &std::path::Path, history: u64) -> SledStore {
    SledStore::open(dir, history).unwrap()
}

#[tokio::test]
async fn create_update_delete_follow_compare_and_swap() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), 100);
    let r1 = store.create("/a/x", b"1".to_vec()).await.unwrap();
    assert_eq!(store.create("/a/x", b"1".to_vec()).await, Err(StoreError::AlreadyExists));
    let r2 = store.update("/a/x", r1, b"2".to_vec()).await.unwrap();
    assert!(r2 > r1);
    assert_eq!(store.update("/a/x", r1, b"3".to_vec()).await, Err(StoreError::Conflict { current: r2 }));
    let kv = store.get("/a/x").await.unwrap().unwrap();
    assert_eq!((&*kv.value, kv.create_revision, kv.mod_revision), (&b"2"[..], r1, r2));
    assert_eq!(store.delete("/a/x", Some(r1)).await.unwrap_err(), StoreError::Conflict { current: r2 });
    let (deleted, r3) = store.delete("/a/x", None).await.unwrap();
    assert_eq!(&*deleted.value, b"2");
    assert!(r3 > r2);
    assert!(store.get("/a/x").await.unwrap().is_none());
    assert_eq!(store.update("/a/x", r3, b"4".to_vec()).await, Err(StoreError::NotFound));
    assert_eq!(store.revision(), r3);
}

#[tokio::test]
async fn list_pages_through_a_prefix_only() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), 100);
    for name in ["a", "b", "c", "d"] {
        store.create(&format!("/p/{name}"), name.as_bytes().to_vec()).await.unwrap();
    }
    store.create("/q/z", b"z".to_vec()).await.unwrap();
    let first = store.list("/p/", None, Some(3)).await.unwrap();
    assert_eq!(first.items.iter().map(|kv| kv.key.as_str()).collect::<Vec<_>>(), ["/p/a", "/p/b", "/p/c"]);
    assert!(first.more);
    let rest = store.list("/p/", Some("/p/c"), Some(3)).await.unwrap();
    assert_eq!(rest.items.iter().map(|kv| kv.key.as_str()).collect::<Vec<_>>(), ["/p/d"]);
    assert!(!rest.more);
}

#[tokio::test]
async fn watch_replays_history_then_follows_live_changes() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), 100);
    let start = store.revision();
    store.create("/w/a", b"a".to_vec()).await.unwrap();
    store.create("/other/x", b"x".to_vec()).await.unwrap();
    let mut watch = store.watch("/w/", start).await.unwrap();
    let mut replayed = store.watch("/w/", start).await.unwrap();
    let first = watch.next().await.unwrap().unwrap();
    assert_eq!((first.key.as_str(), first.event_type), ("/w/a", EventType::Added));
    let r = store.update("/w/a", first.revision, b"b".to_vec()).await.unwrap();
    store.delete("/w/a", None).await.unwrap();
    let modified = watch.next().await.unwrap().unwrap();
    assert_eq!((modified.revision, modified.event_type, &*modified.value), (r, EventType::Modified, &b"b"[..]));
    assert_eq!(modified.prev_value.as_deref(), Some(&b"a"[..]));
    let deleted = watch.next().await.unwrap().unwrap();
    assert_eq!((deleted.event_type, &*deleted.value), (EventType::Deleted, &b"b"[..]));
    // A second watcher from the same revision sees the same events through the history.
    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    let mut again = store.watch("/w/", start).await.unwrap();
    for expected in [EventType::Added, EventType::Modified, EventType::Deleted] {
        let a = again.next().await.unwrap().unwrap();
        let b = replayed.next().await.unwrap().unwrap();
        assert_eq!((a.event_type, a.revision), (expected, b.revision));
        assert_eq!(a.prev_value, b.prev_value);
    }
}

#[tokio::test]
async fn a_slow_watcher_catches_up_from_history_without_gaps() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), 100_000);
    let start = store.revision();
    let mut watch = store.watch("/s/", start).await.unwrap();
    let writes = 5000; // more than the live buffer holds
    for i in 0..writes {
        store.create(&format!("/s/{i:05}"), vec![1]).await.unwrap();
    }
    let mut last = start;
    for _ in 0..writes {
        let event = watch.next().await.unwrap().unwrap();
        assert_eq!(event.revision, last + 1);
        last = event.revision;
    }
}

#[tokio::test]
async fn compacted_revisions_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), 10);
    for i in 0..50 {
        store.create(&format!("/c/{i}"), vec![1]).await.unwrap();
    }
    // Compaction runs after each flush; give the flusher a moment.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    assert!(store.compacted_revision() > 0);
    assert!(matches!(store.watch("/c/", 1).await, Err(StoreError::Compacted { .. })));
    let recent = store.revision() - 5;
    let mut watch = store.watch("/c/", recent).await.unwrap();
    assert_eq!(watch.next().await.unwrap().unwrap().revision, recent + 1);
}

#[tokio::test]
async fn data_and_revisions_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let revision = {
        let store = open(dir.path(), 100);
        store.create("/r/a", b"a".to_vec()).await.unwrap();
        store.create("/r/b", b"b".to_vec()).await.unwrap()
    };
    // sled releases its file lock when the last handle (held by the flusher too) is gone.
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let store = open(dir.path(), 100);
    assert_eq!(store.revision(), revision);
    assert_eq!(&*store.get("/r/b").await.unwrap().unwrap().value, b"b");
    let next = store.create("/r/c", b"c".to_vec()).await.unwrap();
    assert_eq!(next, revision + 1);
    let mut watch = store.watch("/r/", revision - 1).await.unwrap();
    assert_eq!(watch.next().await.unwrap().unwrap().key, "/r/b");
}

#[tokio::test]
async fn a_write_cut_short_after_its_event_is_completed_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let (created, updated) = {
        let store = open(dir.path(), 100);
        let created = store.create("/t/a", b"1".to_vec()).await.unwrap();
        (created, store.update("/t/a", created, b"2".to_vec()).await.unwrap())
    };
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    // A crash between a write's event and its object record: only the event is on disk.
    {
        let tree = sled::open(dir.path()).unwrap().open_tree("kv").unwrap();
        let event = Event {
            revision: updated + 1,
            event_type: EventType::Modified,
            key: "/t/a".into(),
            value: b"3"[..].into(),
            prev_value: Some(b"2"[..].into()),
            decoded: Default::default(),
        };
        tree.insert(history::event_key(updated + 1), history::encode_event(&event)).unwrap();
        tree.flush().unwrap();
    }
    let store = open(dir.path(), 100);
    assert_eq!(store.revision(), updated + 1);
    let kv = store.get("/t/a").await.unwrap().unwrap();
    assert_eq!((&*kv.value, kv.create_revision, kv.mod_revision), (&b"3"[..], created, updated + 1));
}
