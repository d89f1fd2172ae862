//! `heapctl snapshot save FILE`: a backup of the heap from the leader, verified and written
//! atomically; `heapctl snapshot inspect FILE`: a backup's header, with its checksum verified.
//!
//! `save` asks the endpoints (`Admin.Members`) which node leads, streams `Admin.SnapshotSave`
//! from it (asking again if leadership moved meanwhile, until the deadline), checks the SHA-256
//! the stream ends with against the data received, and writes FILE atomically (`FILE.tmp`, fsync,
//! rename, fsync of the folder), so FILE is either the old file or the whole new backup. The
//! format is raft-store's (`raft_store::decode_backup`), the one `heap-server --restore` reads.

use std::io::Write;
use std::path::Path;
use std::path::PathBuf;
use std::time::Duration;
use std::time::Instant;

use anyhow::bail;
use anyhow::Context;
use heap_client::admin_stub;
use heap_client::ClientSecurity;
use proto::admin as pb;
use raft_store::Backup;

use crate::member::call_any;

/// How long connecting to one node may take before the next is tried.
const CONNECT_TIMEOUT_MS: u64 = 2_000;
/// Pause between rounds of asking for the leader while an election runs (bounded by the deadline).
const LEADER_RETRY_INTERVAL_MS: u64 = 200;

/// Lowercase hex, for checksums.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The leader's address, as the first endpoint that answers `Members` names it.
async fn leader_addr(endpoints: &[String], security: &ClientSecurity, timeout: Duration) -> Result<String, String> {
    let members =
        call_any(endpoints, security, timeout, |mut stub| async move { stub.members(pb::MembersRequest {}).await })
            .await
            .map_err(|e| e.to_string())?;
    let leader = members.members.iter().find(|m| m.id == members.leader_id && members.leader_id != 0);
    leader.map(|m| m.addr.clone()).ok_or_else(|| "no leader known (an election is running)".to_string())
}

/// What one `SnapshotSave` stream delivered.
struct Received {
    last_index: u64,
    last_term: u64,
    body: Vec<u8>,
    sha256: Vec<u8>,
}

/// Streams a backup from `addr`; the body is bounded by `BACKUP_SIZE_BYTES_MAX`.
async fn receive(addr: &str, security: &ClientSecurity, timeout: Duration) -> Result<Received, tonic::Status> {
    let mut stub = admin_stub(security, addr, Duration::from_millis(CONNECT_TIMEOUT_MS), timeout)
        .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    let mut stream = stub.snapshot_save(pb::SnapshotSaveRequest {}).await?.into_inner();
    let mut received = Received { last_index: 0, last_term: 0, body: Vec::new(), sha256: Vec::new() };
    let mut first = true;
    while let Some(chunk) = stream.message().await? {
        if first {
            (received.last_index, received.last_term) = (chunk.last_index, chunk.last_term);
            first = false;
        }
        if received.body.len() + chunk.data.len() > raft_store::BACKUP_SIZE_BYTES_MAX {
            return Err(tonic::Status::resource_exhausted(format!(
                "the backup is over {} bytes, the most a backup may hold",
                raft_store::BACKUP_SIZE_BYTES_MAX
            )));
        }
        received.body.extend_from_slice(&chunk.data);
        if !chunk.sha256.is_empty() {
            received.sha256 = chunk.sha256;
        }
    }
    Ok(received)
}

/// Checks what was received (checksum, then the whole file as `--restore` will read it) and
/// returns the file's bytes and the decoded backup.
fn verify(received: Received) -> anyhow::Result<(Vec<u8>, Backup)> {
    if received.sha256.is_empty() {
        bail!("the backup stream ended without its checksum (cut off?); run the command again");
    }
    let computed = raft_store::backup_sha256(&received.body);
    if computed.as_slice() != received.sha256.as_slice() {
        bail!(
            "the backup received fails its checksum (sent {}, computed {}); run the command again",
            hex(&received.sha256),
            hex(&computed)
        );
    }
    let mut bytes = received.body;
    bytes.extend_from_slice(&computed);
    let backup = raft_store::decode_backup("the backup received", &bytes)?;
    if (backup.header.last_index, backup.header.last_term) != (received.last_index, received.last_term) {
        bail!(
            "the backup's header (index {}, term {}) does not match its stream (index {}, term {}); run the \
             command again",
            backup.header.last_index,
            backup.header.last_term,
            received.last_index,
            received.last_term
        );
    }
    Ok((bytes, backup))
}

/// Writes `bytes` to `file` atomically: a temporary file beside it, fsync, rename, fsync the folder.
fn write_atomically(file: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut tmp_name = file.file_name().context("FILE names no file")?.to_os_string();
    tmp_name.push(".tmp");
    let tmp = file.with_file_name(tmp_name);
    let mut out = std::fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    out.write_all(bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    out.sync_all().with_context(|| format!("cannot sync {}", tmp.display()))?;
    drop(out);
    std::fs::rename(&tmp, file).with_context(|| format!("cannot rename {} to {}", tmp.display(), file.display()))?;
    let folder = match file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::File::open(&folder)
        .and_then(|dir| dir.sync_all())
        .with_context(|| format!("cannot sync {}", folder.display()))?;
    Ok(())
}

/// `heapctl snapshot save FILE`.
pub async fn save(
    endpoints: &[String],
    security: &ClientSecurity,
    timeout: Duration,
    file: &Path,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    let received = loop {
        let attempt = match leader_addr(endpoints, security, timeout).await {
            Ok(addr) => receive(&addr, security, timeout).await.map_err(|s| format!("{addr}: {}", s.message())),
            Err(why) => Err(why),
        };
        match attempt {
            Ok(received) => break received,
            Err(why) if Instant::now() >= deadline => {
                bail!("no backup within {} ms ({why}); check that a majority of the cluster is up", timeout.as_millis())
            }
            // Leadership moved, or an election runs: ask again.
            Err(_) => tokio::time::sleep(Duration::from_millis(LEADER_RETRY_INTERVAL_MS)).await,
        }
    };
    let (bytes, backup) = verify(received)?;
    write_atomically(file, &bytes)?;
    println!(
        "saved {}: index {}, term {}, {} bytes, sha256 {}",
        file.display(),
        backup.header.last_index,
        backup.header.last_term,
        bytes.len(),
        hex(&backup.sha256)
    );
    Ok(())
}

/// `heapctl snapshot inspect FILE`: prints the header; fails unless the checksum holds.
pub fn inspect(file: &Path) -> anyhow::Result<()> {
    let backup = raft_store::read_backup_file(file)?;
    let header = backup.header;
    println!("file: {}", file.display());
    println!("format: version {}", raft_store::BACKUP_VERSION);
    println!("last_index: {}", header.last_index);
    println!("last_term: {}", header.last_term);
    println!("created_unix_ms: {}", header.created_unix_ms);
    println!("image_size_bytes: {}", header.image_size_bytes);
    println!("image_keys: {}", backup.pairs.len());
    println!("sha256: {} (verified)", hex(&backup.sha256));
    Ok(())
}
