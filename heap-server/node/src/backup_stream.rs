//! `SnapshotSave`: a backup of the heap, taken on the leader and streamed to the operator.
//!
//! The leader first confirms its leadership with a quorum and waits until it has applied
//! everything committed before the request (a read index), so the image holds every acknowledged
//! write. The image is then taken in one piece under the state machine's read lock, so it is
//! consistent at one applied index, and encoded as a backup file body (`raft_store::backup`). The
//! stream carries that body in chunks of `BACKUP_CHUNK_SIZE_BYTES`: the index and term on the
//! first chunk, the SHA-256 of the whole body on the last (what the file ends with).

use std::sync::Arc;
use std::time::SystemTime;

use openraft::async_runtime::WatchReceiver;
use proto::admin::SnapshotSaveChunk;
use proto::CLIENT_MESSAGE_SIZE_BYTES_MAX;
use raft_store::Machine;
use tonic::Status;

use crate::context::NodeContext;

/// Data bytes per streamed chunk: small enough to stay far below the message limit of both ends.
pub const BACKUP_CHUNK_SIZE_BYTES: usize = 1024 * 1024;
const _: () = assert!(BACKUP_CHUNK_SIZE_BYTES * 2 <= CLIENT_MESSAGE_SIZE_BYTES_MAX);

pub type SnapshotSaveStream =
    std::pin::Pin<Box<dyn futures::Stream<Item = Result<SnapshotSaveChunk, tonic::Status>> + Send>>;

/// The chunks of `body`: `last_index`/`last_term` on the first, `sha256` on the last.
fn chunks(body: Arc<Vec<u8>>, last_index: u64, last_term: u64, sha256: Vec<u8>) -> SnapshotSaveStream {
    let chunk_count = body.len().div_ceil(BACKUP_CHUNK_SIZE_BYTES).max(1);
    let stream = futures::stream::iter((0..chunk_count).map(move |position| {
        let start = position * BACKUP_CHUNK_SIZE_BYTES;
        let end = (start + BACKUP_CHUNK_SIZE_BYTES).min(body.len());
        let first = position == 0;
        let last = position + 1 == chunk_count;
        Ok(SnapshotSaveChunk {
            last_index: if first { last_index } else { 0 },
            last_term: if first { last_term } else { 0 },
            data: body[start..end].to_vec(),
            sha256: if last { sha256.clone() } else { Vec::new() },
        })
    }));
    Box::pin(stream)
}

/// A backup from this node, which the caller has confirmed leads and has applied everything
/// committed before the request (`Router::linearizable`, see the module doc).
pub async fn snapshot_save(node: Arc<NodeContext>) -> Result<SnapshotSaveStream, Status> {
    let last_term = node.raft.metrics().borrow_watched().current_term;
    let store = node.store.clone();
    let created_unix_ms = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|elapsed| u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    // Exporting and hashing a large heap is CPU work: off the request threads.
    let built = tokio::task::spawn_blocking(move || {
        let (last_index, pairs) = store
            .read(|machine, applied_index| (applied_index, machine.export()))
            .map_err(|e| Status::internal(format!("cannot read the state machine: {e}")))?;
        let body = raft_store::encode_backup_body(last_index, last_term, created_unix_ms, &pairs)
            .map_err(|e| Status::resource_exhausted(e.to_string()))?;
        let sha256 = raft_store::backup_sha256(&body).to_vec();
        Ok::<_, Status>((last_index, body, sha256))
    })
    .await
    .map_err(|e| Status::internal(format!("the backup task failed: {e}")))?;
    let (last_index, body, sha256) = built?;
    tracing::info!(last_index, last_term, size_bytes = body.len(), "streaming a backup");
    Ok(chunks(Arc::new(body), last_index, last_term, sha256))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use futures::StreamExt;

    use super::*;

    /// A body of several chunks arrives whole and in order, with the index and term on the first
    /// chunk only and the checksum on the last only; a tiny body is one chunk carrying all three.
    #[tokio::test]
    async fn the_body_is_chunked_with_the_header_first_and_the_checksum_last() {
        for size_bytes in [10, BACKUP_CHUNK_SIZE_BYTES, 2 * BACKUP_CHUNK_SIZE_BYTES + 5] {
            let body: Vec<u8> = (0..size_bytes).map(|i| (i % 251) as u8).collect();
            let received: Vec<SnapshotSaveChunk> =
                chunks(Arc::new(body.clone()), 9, 2, vec![1; 32]).map(|c| c.unwrap()).collect().await;
            assert_eq!(received.len(), size_bytes.div_ceil(BACKUP_CHUNK_SIZE_BYTES));
            assert_eq!(received.iter().flat_map(|c| c.data.clone()).collect::<Vec<u8>>(), body);
            let count = received.len();
            for (position, chunk) in received.iter().enumerate() {
                assert!(chunk.data.len() <= BACKUP_CHUNK_SIZE_BYTES);
                assert_eq!((chunk.last_index, chunk.last_term), if position == 0 { (9, 2) } else { (0, 0) });
                assert_eq!(chunk.sha256.is_empty(), position + 1 != count);
            }
        }
    }
}
