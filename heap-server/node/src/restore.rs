//! `--restore FILE`: seeds an empty data dir from a backup before the node opens its storage, so
//! the node starts as a member of a NEW cluster (`--peers`) holding the backup's heap.
//!
//! Every node of the new cluster is started with the same `--peers` and the same FILE and writes
//! the same state (`raft_store::seed`): the image at the backup's log index (fencing tokens keep
//! increasing), the new membership, a log purged up to that index. Sessions, locks and waiters
//! come back as they were; the new cluster's clock starts with its first entries, and its first
//! leader's `Grace` moves every lease to at least its time plus the session's ttl, so a session
//! whose client is gone expires one ttl after the new cluster starts.
//!
//! Nothing is written unless the file verifies; the state is written into a staging folder and
//! moved into place only when complete. A data dir that holds anything is refused.

use std::sync::Arc;

use std::path::Path;

use anyhow::Context;
use openraft::impls::BasicNode;

use crate::config::NodeConfig;
use crate::machine_adapter::HeapMachine;
use crate::machine_adapter::CHANGE_FEED_CAPACITY;

/// Where the seed is written before it is moved into the data dir.
const STAGING_DIR_NAME: &str = "restore.staging";
/// The data dir's folders, as `node.rs` opens them.
const LOG_DIR_NAME: &str = "log";
const STATE_MACHINE_DIR_NAME: &str = "sm";

/// If `--restore` was given, seeds the (empty) data dir from the backup; otherwise does nothing.
pub async fn seed_from_backup(config: &NodeConfig) -> anyhow::Result<()> {
    let Some(file) = &config.restore else {
        return Ok(());
    };
    let data_dir = &config.data_dir;
    raft_store::ensure_empty_dir(data_dir)?;
    let backup = raft_store::read_backup_file(file).context("--restore refused; nothing was written")?;
    let members = config.peers.iter().map(|(id, addr)| (*id, BasicNode { addr: addr.clone() })).collect();
    let staging = data_dir.join(STAGING_DIR_NAME);
    let (feed, _) = tokio::sync::broadcast::channel(CHANGE_FEED_CAPACITY);
    let header = backup.header;
    let seeded = raft_store::seed(
        backup,
        &members,
        &staging.join(LOG_DIR_NAME),
        &staging.join(STATE_MACHINE_DIR_NAME),
        HeapMachine::new(feed, Arc::default()),
    )
    .await;
    let log_id = match seeded {
        Ok(log_id) => log_id,
        Err(error) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(error).context("--restore failed; the data dir was left empty");
        }
    };
    move_into_place(&staging, data_dir)?;
    tracing::info!(
        backup = %file.display(),
        last_index = header.last_index,
        backup_term = header.last_term,
        %log_id,
        peers = ?config.peers,
        "restored the heap from a backup; this node starts a new cluster at the backup's index"
    );
    Ok(())
}

/// Moves the staged log and state machine into `data_dir` and makes the renames durable.
fn move_into_place(staging: &Path, data_dir: &Path) -> anyhow::Result<()> {
    for name in [STATE_MACHINE_DIR_NAME, LOG_DIR_NAME] {
        std::fs::rename(staging.join(name), data_dir.join(name))
            .with_context(|| format!("cannot move the restored {name} into {}", data_dir.display()))?;
    }
    std::fs::remove_dir(staging).with_context(|| format!("cannot remove {}", staging.display()))?;
    std::fs::File::open(data_dir)
        .and_then(|dir| dir.sync_all())
        .with_context(|| format!("cannot sync {}", data_dir.display()))?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::config::Args;

    fn config(data_dir: &Path, restore: &Path) -> NodeConfig {
        let args = [
            "heap-server",
            "--id",
            "1",
            "--peers",
            "1=127.0.0.1:7101",
            "--insecure-plaintext",
            "--data-dir",
            data_dir.to_str().unwrap(),
            "--restore",
            restore.to_str().unwrap(),
        ];
        NodeConfig::from_args(Args::parse_from(args)).unwrap()
    }

    fn backup_file(dir: &Path) -> std::path::PathBuf {
        let mut bytes = raft_store::encode_backup_body(77, 3, 0, &[]).unwrap();
        let sha256 = raft_store::backup_sha256(&bytes);
        bytes.extend_from_slice(&sha256);
        let path = dir.join("heap.backup");
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// A good backup seeds an empty data dir with exactly the node's two folders (no staging
    /// left); a second --restore into that (now non-empty) data dir is refused with the message
    /// that says to give an empty one, and changes nothing.
    #[tokio::test]
    async fn an_empty_data_dir_is_seeded_and_a_non_empty_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("node1");
        let config = config(&data_dir, &backup_file(dir.path()));
        seed_from_backup(&config).await.unwrap();
        let mut names: Vec<String> =
            std::fs::read_dir(&data_dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        assert_eq!(names, vec![LOG_DIR_NAME.to_string(), STATE_MACHINE_DIR_NAME.to_string()]);

        let error = format!("{:#}", seed_from_backup(&config).await.unwrap_err());
        assert!(error.contains("already holds a cluster's state"), "{error}");
        assert!(error.contains("give it an empty --data-dir"), "{error}");
        assert_eq!(std::fs::read_dir(&data_dir).unwrap().count(), 2);
    }

    /// A damaged backup is refused with its reason, and the data dir is not even created.
    #[tokio::test]
    async fn a_damaged_backup_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let file = backup_file(dir.path());
        let mut bytes = std::fs::read(&file).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x01;
        std::fs::write(&file, bytes).unwrap();
        let data_dir = dir.path().join("node1");
        let error = format!("{:#}", seed_from_backup(&config(&data_dir, &file)).await.unwrap_err());
        assert!(error.contains("checksum"), "{error}");
        assert!(!data_dir.exists());
    }
}
