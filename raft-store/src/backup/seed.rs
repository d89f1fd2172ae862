//! Seeding a new node's empty log and state machine directories from a backup, so it starts as an
//! initialized member of a new cluster at the backup's log index.
//!
//! What is written, identically on every node given the same backup and members:
//! - the state machine gets the backup's image as its snapshot and applied state, at the log id
//!   `restored_log_id(index)`, with the NEW cluster's membership (from `members`);
//! - the log gets its purge point at that log id and no entries, so its last log id is the same.
//!
//! The log id keeps the backup's index: lock fencing tokens are derived from log indexes and must
//! keep increasing across the restore. Its term is `RESTORED_TERM` (0): the new cluster's first
//! election takes term 1, above every log id it holds (openraft requires a leader's term to be at
//! least its last log id's), and the old cluster's terms mean nothing to it. openraft then starts
//! the node as initialized (it has a last log id), it elects a leader, and the leader's first
//! entry follows the backup's index.

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::path::Path;

use openraft::storage::RaftLogStorage;
use openraft::storage::RaftStateMachine;
use openraft::vote::RaftLeaderIdExt;
use openraft::Membership;

use super::error::BackupError;
use super::file::Backup;
use crate::log::LogStore;
use crate::machine::Machine;
use crate::state_machine::SnapshotImage;
use crate::state_machine::StateMachineStore;
use crate::types::LogId;
use crate::types::Node;
use crate::types::NodeId;
use crate::types::SnapshotMeta;
use crate::types::StoredMembership;
use crate::types::TypeConfig;

/// The term of the restored log id: below any term the new cluster elects.
pub const RESTORED_TERM: u64 = 0;
/// The node named in the restored log id: none of the new cluster's (node ids start at 1).
pub const RESTORED_LEADER_NODE_ID: NodeId = 0;

/// The log id a restored node starts at: the backup's index, in `RESTORED_TERM`.
pub fn restored_log_id(last_index: u64) -> LogId {
    LogId::new(
        openraft::alias::LeaderIdOf::<TypeConfig>::new_committed(RESTORED_TERM, RESTORED_LEADER_NODE_ID),
        last_index,
    )
}

/// Refuses `dir` unless it is missing or an empty directory.
pub fn ensure_empty_dir(dir: &Path) -> Result<(), BackupError> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => match entries.next() {
            None => Ok(()),
            Some(_) => Err(BackupError::NotEmpty { path: dir.to_path_buf() }),
        },
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(BackupError::Io { path: dir.to_path_buf(), error }),
    }
}

fn seed_error(path: &Path, reason: impl std::fmt::Display) -> BackupError {
    BackupError::Seed { path: path.to_path_buf(), reason: reason.to_string() }
}

/// Writes `backup` into the empty `log_dir` and `sm_dir` as the starting state of a member of the
/// cluster `members`; `machine` (empty) checks the image as it is loaded. Returns the log id the
/// node starts at. Takes the backup whole, so its image is not copied. On an error the directories may hold part of the state: seed into directories
/// that are moved into place only on success.
pub async fn seed<M: Machine>(
    backup: Backup,
    members: &BTreeMap<NodeId, Node>,
    log_dir: &Path,
    sm_dir: &Path,
    machine: M,
) -> Result<LogId, BackupError> {
    ensure_empty_dir(log_dir)?;
    ensure_empty_dir(sm_dir)?;
    if members.is_empty() {
        return Err(seed_error(sm_dir, "the new cluster has no members; give --peers"));
    }
    let log_id = restored_log_id(backup.header.last_index);
    let voters: BTreeSet<NodeId> = members.keys().copied().collect();
    let membership = Membership::new(vec![voters], members.clone()).map_err(|e| seed_error(sm_dir, e))?;
    let meta =
        SnapshotMeta { last_log_id: Some(log_id), last_membership: StoredMembership::new(Some(log_id), membership) };
    let image = SnapshotImage { meta: meta.clone(), pairs: backup.pairs };
    let encoded = image.encode().map_err(|e| seed_error(sm_dir, e))?;

    // The state machine first: `install_snapshot` checks the image with the machine (every pair
    // and then `validate`) before it is the node's state.
    let mut store = StateMachineStore::open(sm_dir, machine).map_err(|e| seed_error(sm_dir, e))?;
    store.install_snapshot(&meta, encoded.into()).await.map_err(|e| seed_error(sm_dir, e))?;
    drop(store);

    let mut log = LogStore::open(log_dir).map_err(|e| seed_error(log_dir, e))?;
    log.purge(log_id).await.map_err(|e| seed_error(log_dir, e))?;
    drop(log);
    tracing::info!(%log_id, members = ?members.keys().collect::<Vec<_>>(), "seeded a new node from a backup");
    Ok(log_id)
}

#[cfg(test)]
#[path = "seed_test.rs"]
mod tests;
