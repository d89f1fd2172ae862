//! Tests of `ImageWriter`: staged change sets reach sled coalesced and in order, a whole-image
//! replacement discards what was staged before it, and stopping writes what is staged.

#![allow(clippy::unwrap_used)]

use std::time::Duration;
use std::time::Instant;

use openraft::vote::RaftLeaderIdExt;

use super::ImageWriter;
use crate::machine::ChangeSet;
use crate::state_machine::error::StateMachineError;
use crate::state_machine::keys::machine_key;
use crate::state_machine::keys::MetaPairs;
use crate::types::LogId;
use crate::types::StoredMembership;
use crate::types::TypeConfig;

fn log_id(index: u64) -> LogId {
    LogId::new(openraft::alias::LeaderIdOf::<TypeConfig>::new_committed(1, 1), index)
}

/// Stores the last applied index as 8 big-endian bytes under `meta`.
fn encode_index(last_applied: Option<LogId>, _membership: &StoredMembership) -> Result<MetaPairs, StateMachineError> {
    Ok(vec![(b"meta".as_slice(), last_applied.map_or(0, |id| id.index).to_be_bytes().to_vec())])
}

fn tree() -> (tempfile::TempDir, sled::Tree) {
    let dir = tempfile::tempdir().unwrap();
    let tree = sled::open(dir.path().join("state")).unwrap().open_tree("t").unwrap();
    (dir, tree)
}

fn changes(writes: &[(&str, Option<&str>)]) -> ChangeSet {
    ChangeSet {
        writes: writes.iter().map(|(k, v)| (k.as_bytes().to_vec(), v.map(|v| v.as_bytes().to_vec()))).collect(),
    }
}

fn value(tree: &sled::Tree, key: &str) -> Option<String> {
    tree.get(machine_key(key.as_bytes())).unwrap().map(|v| String::from_utf8(v.to_vec()).unwrap())
}

fn meta_index(tree: &sled::Tree) -> u64 {
    tree.get(b"meta").unwrap().map_or(0, |v| u64::from_be_bytes(v.as_ref().try_into().unwrap()))
}

#[test]
fn stopping_writes_every_staged_change_coalesced() {
    let (_dir, tree) = tree();
    let writer = ImageWriter::start(tree.clone(), encode_index).unwrap();
    let membership = StoredMembership::default();
    writer.stage(changes(&[("a", Some("1")), ("b", Some("1"))]), Some(log_id(1)), &membership).unwrap();
    writer.stage(changes(&[("a", Some("2")), ("b", None), ("c", Some("3"))]), Some(log_id(2)), &membership).unwrap();
    drop(writer);
    assert_eq!(value(&tree, "a").as_deref(), Some("2"), "the later write to a key wins");
    assert_eq!(value(&tree, "b"), None, "a later delete removes the key");
    assert_eq!(value(&tree, "c").as_deref(), Some("3"));
    assert_eq!(meta_index(&tree), 2, "the meta is the last staged batch's");
}

#[test]
fn staged_changes_reach_sled_within_the_interval_without_a_stop() {
    let (_dir, tree) = tree();
    let writer = ImageWriter::start(tree.clone(), encode_index).unwrap();
    writer.stage(changes(&[("k", Some("v"))]), Some(log_id(7)), &StoredMembership::default()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while meta_index(&tree) != 7 {
        assert!(Instant::now() < deadline, "the writer did not write the staged batch");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(value(&tree, "k").as_deref(), Some("v"), "keys and meta land in one batch");
    drop(writer);
}

#[test]
fn a_replacement_discards_what_was_staged_before_it() {
    let (_dir, tree) = tree();
    let writer = ImageWriter::start(tree.clone(), encode_index).unwrap();
    let membership = StoredMembership::default();
    writer.stage(changes(&[("old", Some("x"))]), Some(log_id(3)), &membership).unwrap();
    writer
        .replace(|tree| {
            tree.insert(machine_key(b"image"), b"y".as_slice())?;
            tree.insert(b"meta", 10u64.to_be_bytes().as_slice())?;
            Ok(())
        })
        .unwrap();
    writer.stage(changes(&[("new", Some("z"))]), Some(log_id(11)), &membership).unwrap();
    drop(writer);
    assert_eq!(value(&tree, "old"), None, "a change staged before the image must not land after it");
    assert_eq!(value(&tree, "image").as_deref(), Some("y"));
    assert_eq!(value(&tree, "new").as_deref(), Some("z"), "changes staged after the image are written");
    assert_eq!(meta_index(&tree), 11);
}
