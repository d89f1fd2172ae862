//! The append link: AppendEntries (entries and heartbeats) from a leader to one follower over a
//! plain TCP connection to the follower's own port, as length-prefixed bincode frames, one request
//! in flight per connection.
//!
//! Why not the gRPC transport: a tonic unary call crosses several task hops each way (the
//! channel's buffer task, both h2 connection tasks, hyper's per-request task), and on a small VM
//! every hop that wakes an idle thread costs 50-80 µs. This call sits on the critical path of every
//! commit and every linearizable read; here the caller's task writes the socket and reads the
//! answer itself. Votes and snapshots stay on gRPC.
//!
//! A link connection starts with `LINK_MAGIC`; the node's listener (`route_connection`) peeks at
//! the first byte and hands everything else (HTTP/2 starts with "PRI") to the gRPC server.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use openraft::raft::AppendEntriesRequest;
use openraft::raft::AppendEntriesResponse;
use raft_store::NodeId;
use raft_store::TypeConfig;
use tokio::io::AsyncReadExt;
use tokio::io::AsyncWriteExt;
use tokio::io::BufReader;
use tokio::net::TcpListener;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::context::HeapRaft;
use crate::limits::LINK_CONNECTIONS_MAX;
use crate::limits::LINK_IDLE_TIMEOUT_MS;
use crate::limits::LINK_SNIFF_TIMEOUT_MS;
use crate::limits::PEER_CONNECT_TIMEOUT_MS;
use crate::limits::RAFT_MESSAGE_SIZE_BYTES_MAX;
use crate::wire::decode_raft;
use crate::wire::encode_raft;
use crate::wire::WireError;

/// The first bytes of a link connection. Its first byte is never an HTTP/2 preface's ("P").
pub const LINK_MAGIC: &[u8; 8] = b"SOVLINK1";
/// Bytes of a frame's length prefix (u32, big-endian).
const FRAME_HEADER_BYTES: usize = 4;
/// The reader's buffer: most frames (heartbeats, small batches) arrive in one read.
const READ_BUFFER_BYTES: usize = 64 * 1024;
/// Pause after a failed accept (e.g. out of file descriptors) before accepting again.
const ACCEPT_ERROR_BACKOFF_MS: u64 = 100;

const _: () = assert!(RAFT_MESSAGE_SIZE_BYTES_MAX <= u32::MAX as usize);

/// Why a link call failed. `Io` and `Timeout` mean the peer may be down or cut off.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("append link to node {target}: {source}")]
    Io { target: NodeId, source: io::Error },
    #[error("append link to node {target}: no answer within {timeout_ms} ms")]
    Timeout { target: NodeId, timeout_ms: u64 },
    #[error("append link to node {target}: {source}")]
    Wire { target: NodeId, source: WireError },
    #[error("append link to node {target}: answer {got} to request {sent}; the connection is dropped")]
    OutOfSequence { target: NodeId, sent: u64, got: u64 },
    #[error("node {target} could not take the entries: {message}")]
    Remote { target: NodeId, message: String },
}

impl LinkError {
    /// True when the peer could not be reached (openraft backs off), false when it answered.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, LinkError::Io { .. } | LinkError::Timeout { .. })
    }
}

/// Writes one frame: length prefix and payload in one buffer, so one write (one segment).
async fn write_frame(stream: &mut TcpStream, payload: &[u8]) -> io::Result<()> {
    if payload.len() > RAFT_MESSAGE_SIZE_BYTES_MAX {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("a {} byte frame exceeds the {RAFT_MESSAGE_SIZE_BYTES_MAX} byte limit", payload.len()),
        ));
    }
    let mut frame = Vec::with_capacity(FRAME_HEADER_BYTES + payload.len());
    frame.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    frame.extend_from_slice(payload);
    stream.write_all(&frame).await
}

/// Reads one frame; `None` at a clean end of stream before a frame starts.
async fn read_frame(reader: &mut BufReader<TcpStream>) -> io::Result<Option<Vec<u8>>> {
    let mut header = [0u8; FRAME_HEADER_BYTES];
    match reader.read_exact(&mut header).await {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_be_bytes(header) as usize;
    if len > RAFT_MESSAGE_SIZE_BYTES_MAX {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a frame of {len} bytes exceeds the {RAFT_MESSAGE_SIZE_BYTES_MAX} byte limit"),
        ));
    }
    let mut payload = vec![0u8; len];
    reader.read_exact(&mut payload).await?;
    Ok(Some(payload))
}

/// The leader's end of the link to one follower; connects on first use and after any failure.
pub struct AppendLink {
    target: NodeId,
    addr: String,
    /// Present only between complete exchanges: a call cancelled or failed midway leaves it empty,
    /// so no later call can read a stale answer.
    connection: Option<BufReader<TcpStream>>,
    next_sequence: u64,
}

impl AppendLink {
    pub fn new(target: NodeId, addr: String) -> Self {
        Self { target, addr, connection: None, next_sequence: 0 }
    }

    /// Sends `rpc` and waits for the follower's answer, all within `timeout`.
    pub async fn append_entries(
        &mut self,
        rpc: &AppendEntriesRequest<TypeConfig>,
        timeout: Duration,
    ) -> Result<AppendEntriesResponse<TypeConfig>, LinkError> {
        let target = self.target;
        match tokio::time::timeout(timeout, self.exchange(rpc)).await {
            Ok(result) => result,
            Err(_) => Err(LinkError::Timeout { target, timeout_ms: timeout.as_millis() as u64 }),
        }
    }

    async fn exchange(
        &mut self,
        rpc: &AppendEntriesRequest<TypeConfig>,
    ) -> Result<AppendEntriesResponse<TypeConfig>, LinkError> {
        let target = self.target;
        let io_error = |source| LinkError::Io { target, source };
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        let payload = encode_raft(&(sequence, rpc)).map_err(|source| LinkError::Wire { target, source })?;
        let mut connection = match self.connection.take() {
            Some(connection) => connection,
            None => self.connect().await.map_err(io_error)?,
        };
        write_frame(connection.get_mut(), &payload).await.map_err(io_error)?;
        let frame = read_frame(&mut connection)
            .await
            .map_err(io_error)?
            .ok_or_else(|| io_error(io::Error::new(io::ErrorKind::UnexpectedEof, "the follower closed the link")))?;
        let (answered, reply): (u64, Result<AppendEntriesResponse<TypeConfig>, String>) =
            decode_raft(&frame).map_err(|source| LinkError::Wire { target, source })?;
        if answered != sequence {
            return Err(LinkError::OutOfSequence { target, sent: sequence, got: answered });
        }
        self.connection = Some(connection);
        reply.map_err(|message| LinkError::Remote { target, message })
    }

    async fn connect(&self) -> io::Result<BufReader<TcpStream>> {
        let connect = TcpStream::connect(self.addr.as_str());
        let mut stream = tokio::time::timeout(Duration::from_millis(PEER_CONNECT_TIMEOUT_MS), connect)
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, format!("connect to {} timed out", self.addr)))??;
        stream.set_nodelay(true)?;
        stream.write_all(LINK_MAGIC).await?;
        Ok(BufReader::with_capacity(READ_BUFFER_BYTES, stream))
    }
}

/// Accepts connections on the node's port until dropped (or aborted): link connections are served
/// here, everything else goes to the gRPC server through `grpc`. Aborting this task ends every
/// link connection it serves.
pub async fn accept_loop(listener: TcpListener, raft: HeapRaft, grpc: mpsc::Sender<io::Result<TcpStream>>) {
    let link_slots = Arc::new(Semaphore::new(LINK_CONNECTIONS_MAX));
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    if let Err(e) = stream.set_nodelay(true) {
                        tracing::debug!(%peer, error = %e, "cannot set TCP_NODELAY on an accepted connection");
                    }
                    connections.spawn(route_connection(stream, peer, raft.clone(), grpc.clone(), Arc::clone(&link_slots)));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accepting a connection failed; retrying");
                    tokio::time::sleep(Duration::from_millis(ACCEPT_ERROR_BACKOFF_MS)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// Tells a link connection from a gRPC one by its first byte.
async fn route_connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    raft: HeapRaft,
    grpc: mpsc::Sender<io::Result<TcpStream>>,
    link_slots: Arc<Semaphore>,
) {
    let mut first = [0u8; 1];
    let peeked = tokio::time::timeout(Duration::from_millis(LINK_SNIFF_TIMEOUT_MS), stream.peek(&mut first)).await;
    match peeked {
        Ok(Ok(0)) | Ok(Err(_)) => return,
        // A silent client is the gRPC server's to handle, as before the link existed.
        Err(_) => {}
        Ok(Ok(_)) if first[0] == LINK_MAGIC[0] => {
            let Ok(_slot) = link_slots.try_acquire_owned() else {
                tracing::warn!(%peer, "refused an append link: {LINK_CONNECTIONS_MAX} are open already");
                return;
            };
            let mut magic = [0u8; LINK_MAGIC.len()];
            let read =
                tokio::time::timeout(Duration::from_millis(LINK_SNIFF_TIMEOUT_MS), stream.read_exact(&mut magic));
            if !matches!(read.await, Ok(Ok(_))) || &magic != LINK_MAGIC {
                tracing::warn!(%peer, "closed a connection that is neither gRPC nor a Sovereign append link");
                return;
            }
            serve_link(stream, peer, raft).await;
            return;
        }
        Ok(Ok(_)) => {}
    }
    // The gRPC server is gone only while the node shuts down.
    let _ = grpc.send(Ok(stream)).await;
}

/// The follower's end: answers AppendEntries frames in order until the leader closes the link.
async fn serve_link(stream: TcpStream, peer: SocketAddr, raft: HeapRaft) {
    let mut reader = BufReader::with_capacity(READ_BUFFER_BYTES, stream);
    loop {
        let idle = Duration::from_millis(LINK_IDLE_TIMEOUT_MS);
        let frame = match tokio::time::timeout(idle, read_frame(&mut reader)).await {
            Ok(Ok(Some(frame))) => frame,
            Ok(Ok(None)) => return,
            Ok(Err(e)) => {
                tracing::debug!(%peer, error = %e, "append link read failed; closing it");
                return;
            }
            Err(_) => {
                tracing::debug!(%peer, "append link idle for {LINK_IDLE_TIMEOUT_MS} ms; closing it");
                return;
            }
        };
        let (sequence, rpc): (u64, AppendEntriesRequest<TypeConfig>) = match decode_raft(&frame) {
            Ok(request) => request,
            Err(e) => {
                tracing::warn!(%peer, error = %e, "malformed append link frame; closing the link");
                return;
            }
        };
        let reply = raft.append_entries(rpc).await.map_err(|e| e.to_string());
        let payload = match encode_raft(&(sequence, reply)) {
            Ok(payload) => payload,
            Err(e) => {
                tracing::error!(%peer, error = %e, "cannot encode an append link answer; closing the link");
                return;
            }
        };
        if let Err(e) = write_frame(reader.get_mut(), &payload).await {
            tracing::debug!(%peer, error = %e, "append link write failed; closing it");
            return;
        }
    }
}

#[cfg(test)]
#[path = "append_link_test.rs"]
mod tests;
