//! Seeding: a seeded node's log and state machine open at the backup's index with the new
//! membership and the backup's image; the same inputs give the same bytes; occupied directories
//! and images the machine refuses are refused.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use openraft::storage::RaftLogStorage;
use openraft::storage::RaftStateMachine;

use super::*;
use crate::backup::file::BackupHeader;
use crate::machine::ChangeSet;
use crate::machine::LoadError;

/// A key/value machine whose `validate` refuses an empty value, so a bad image can be planted.
#[derive(Default)]
struct KvMachine {
    data: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl Machine for KvMachine {
    fn apply(&mut self, _log_index: u64, _command: &[u8], _changes: &mut ChangeSet) -> Vec<u8> {
        Vec::new()
    }

    fn clear(&mut self) {
        self.data.clear();
    }

    fn load(&mut self, key: &[u8], value: &[u8]) -> Result<(), LoadError> {
        self.data.insert(key.to_vec(), value.to_vec());
        Ok(())
    }

    fn export(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.data.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }

    fn validate(&self) -> Result<(), LoadError> {
        match self.data.iter().find(|(_, v)| v.is_empty()) {
            Some((key, _)) => Err(LoadError { key: key.clone(), reason: "empty value".into() }),
            None => Ok(()),
        }
    }
}

fn backup(pairs: Vec<(Vec<u8>, Vec<u8>)>) -> Backup {
    let header = BackupHeader { last_index: 1234, last_term: 7, created_unix_ms: 1, image_size_bytes: 0 };
    Backup { header, pairs, sha256: [0; 32] }
}

fn members() -> BTreeMap<NodeId, Node> {
    (1..=3).map(|id| (id, Node { addr: format!("127.0.0.1:{}", 7000 + id) })).collect()
}

fn pairs() -> Vec<(Vec<u8>, Vec<u8>)> {
    vec![(b"k1".to_vec(), b"v1".to_vec()), (b"k2".to_vec(), b"v2".to_vec())]
}

/// After a seed, the log's purge point and last log id and the state machine's applied log id
/// are the backup's index in term 0, the membership is the new cluster's, the snapshot covers the
/// same, and the machine holds the backup's pairs.
#[tokio::test]
async fn a_seeded_node_opens_at_the_backups_index_with_the_new_membership() {
    let dir = tempfile::tempdir().unwrap();
    let (log_dir, sm_dir) = (dir.path().join("log"), dir.path().join("sm"));
    let log_id = seed(backup(pairs()), &members(), &log_dir, &sm_dir, KvMachine::default()).await.unwrap();
    assert_eq!(log_id, restored_log_id(1234));
    assert_eq!(log_id.index, 1234);
    assert_eq!(log_id.leader_id.term, RESTORED_TERM);

    let mut log = LogStore::open(&log_dir).unwrap();
    let state = log.get_log_state().await.unwrap();
    assert_eq!(state.last_purged_log_id, Some(log_id));
    assert_eq!(state.last_log_id, Some(log_id));

    let mut store = StateMachineStore::open(&sm_dir, KvMachine::default()).unwrap();
    let (applied, membership) = store.applied_state().await.unwrap();
    assert_eq!(applied, Some(log_id));
    assert_eq!(membership.log_id(), &Some(log_id));
    let voters: Vec<NodeId> = membership.membership().voter_ids().collect();
    assert_eq!(voters, vec![1, 2, 3]);
    assert_eq!(store.read(|machine, index| (machine.export(), index)).unwrap(), (pairs(), 1234));
    let snapshot = store.get_current_snapshot().await.unwrap().unwrap();
    assert_eq!(snapshot.meta.last_log_id, Some(log_id));
}

/// Every node of the new cluster derives the same state: two seeds of the same backup and members
/// write identical snapshots.
#[tokio::test]
async fn the_same_backup_and_members_give_the_same_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let mut snapshots = Vec::new();
    for node in ["a", "b"] {
        let (log_dir, sm_dir) = (dir.path().join(node).join("log"), dir.path().join(node).join("sm"));
        seed(backup(pairs()), &members(), &log_dir, &sm_dir, KvMachine::default()).await.unwrap();
        let mut store = StateMachineStore::open(&sm_dir, KvMachine::default()).unwrap();
        snapshots.push(store.get_current_snapshot().await.unwrap().unwrap().snapshot.into_bytes().unwrap());
    }
    assert_eq!(snapshots[0], snapshots[1]);
}

/// A directory that holds anything is refused before anything is written to either directory.
#[tokio::test]
async fn an_occupied_directory_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let (log_dir, sm_dir) = (dir.path().join("log"), dir.path().join("sm"));
    std::fs::create_dir_all(&sm_dir).unwrap();
    std::fs::write(sm_dir.join("snapshot.bin"), b"old").unwrap();
    let error = seed(backup(pairs()), &members(), &log_dir, &sm_dir, KvMachine::default()).await.unwrap_err();
    assert!(matches!(error, BackupError::NotEmpty { .. }), "{error}");
    assert!(error.to_string().contains("give it an empty --data-dir"), "{error}");
    assert!(!log_dir.exists());
    assert_eq!(std::fs::read(sm_dir.join("snapshot.bin")).unwrap(), b"old");
}

/// An image the machine refuses (its `validate` fails) is not seeded, and the log is not touched.
#[tokio::test]
async fn an_image_the_machine_refuses_is_not_seeded() {
    let dir = tempfile::tempdir().unwrap();
    let (log_dir, sm_dir) = (dir.path().join("log"), dir.path().join("sm"));
    let bad = backup(vec![(b"k".to_vec(), Vec::new())]);
    let error = seed(bad, &members(), &log_dir, &sm_dir, KvMachine::default()).await.unwrap_err();
    assert!(matches!(error, BackupError::Seed { .. }), "{error}");
    assert!(!log_dir.exists());
}
