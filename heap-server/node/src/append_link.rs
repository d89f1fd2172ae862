//! The append link: AppendEntries (entries and heartbeats) from a leader to one follower over a
//! TCP connection (TLS with the leader's node certificate on a secured cluster) to the follower's
//! own port, as length-prefixed bincode frames, one request in flight per connection.
//!
//! Why not the gRPC transport: a tonic unary call crosses several task hops each way (the
//! channel's buffer task, both h2 connection tasks, hyper's per-request task), and on a small VM
//! every hop that wakes an idle thread costs 50-80 µs. This call sits on the critical path of every
//! commit and every linearizable read; here the caller's task writes the socket and reads the
//! answer itself. Votes and snapshots stay on gRPC.
//!
//! A link connection starts with `LINK_MAGIC` (after the TLS handshake, which names the link by
//! ALPN); `acceptor.rs` tells link connections from gRPC ones. The follower checks every frame at
//! the consensus gate (a member's certificate, a plausible term) before Raft sees it, and reads a
//! frame only within the node's budget of frame bytes in flight.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use openraft::raft::AppendEntriesRequest;
use openraft::raft::AppendEntriesResponse;
use proto::security::node_server_name;
use raft_store::NodeId;
use raft_store::TypeConfig;
use rustls::pki_types::ServerName;
use tokio::io::AsyncRead;
use tokio::io::AsyncReadExt;
use tokio::io::AsyncWrite;
use tokio::io::AsyncWriteExt;
use tokio::io::BufReader;
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

use crate::consensus_gate::ConsensusGate;
use crate::context::HeapRaft;
use crate::limits::LINK_FRAME_BUDGET_BYTES;
use crate::limits::LINK_IDLE_TIMEOUT_MS;
use crate::limits::PEER_CONNECT_TIMEOUT_MS;
use crate::limits::RAFT_MESSAGE_SIZE_BYTES_MAX;
use crate::node_stream::PeerInfo;
use crate::wire::decode_raft;
use crate::wire::encode_raft;
use crate::wire::WireError;

/// The first bytes of a link connection. Its first byte is never an HTTP/2 preface's ("P").
pub const LINK_MAGIC: &[u8; 8] = b"SOVLINK1";
/// Bytes of a frame's length prefix (u32, big-endian).
const FRAME_HEADER_BYTES: usize = 4;
/// The reader's buffer: most frames (heartbeats, small batches) arrive in one read.
const READ_BUFFER_BYTES: usize = 64 * 1024;
/// The frame budget counts in units of this many bytes (a semaphore holds at most u32 permits).
const BUDGET_UNIT_BYTES: usize = 1024;

const _: () = assert!(RAFT_MESSAGE_SIZE_BYTES_MAX <= u32::MAX as usize);
// The largest frame must fit the budget, or a legitimate one could never be read.
const _: () = assert!(RAFT_MESSAGE_SIZE_BYTES_MAX <= LINK_FRAME_BUDGET_BYTES);
const _: () = assert!(LINK_FRAME_BUDGET_BYTES / BUDGET_UNIT_BYTES <= u32::MAX as usize);

/// A byte stream of either kind (TCP, or TLS over TCP), as the link reads and writes it.
pub trait Duplex: AsyncRead + AsyncWrite + Unpin + Send + Sync {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Sync> Duplex for T {}
pub type LinkStream = Box<dyn Duplex>;

/// The node's budget of link frame bytes being read or waiting for Raft, shared by all links:
/// frames that would exceed it wait (the leader's call times out and it retries), so announced
/// lengths cannot make the node allocate more than this.
#[derive(Clone)]
pub struct FrameBudget {
    units: Arc<Semaphore>,
}

impl Default for FrameBudget {
    fn default() -> Self {
        Self { units: Arc::new(Semaphore::new(LINK_FRAME_BUDGET_BYTES / BUDGET_UNIT_BYTES)) }
    }
}

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
async fn write_frame(stream: &mut (impl AsyncWrite + Unpin), payload: &[u8]) -> io::Result<()> {
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

/// Reads one frame's length; `None` at a clean end of stream before a frame starts.
async fn read_frame_length(reader: &mut (impl AsyncRead + Unpin)) -> io::Result<Option<usize>> {
    let mut header = [0u8; FRAME_HEADER_BYTES];
    match reader.read_exact(&mut header).await {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let length = u32::from_be_bytes(header) as usize;
    if length > RAFT_MESSAGE_SIZE_BYTES_MAX {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a frame of {length} bytes exceeds the {RAFT_MESSAGE_SIZE_BYTES_MAX} byte limit"),
        ));
    }
    Ok(Some(length))
}

/// Reads a payload of `length` bytes (its memory is within the caller's budget).
async fn read_payload(reader: &mut (impl AsyncRead + Unpin), length: usize) -> io::Result<Vec<u8>> {
    let mut payload = vec![0u8; length];
    reader.read_exact(&mut payload).await?;
    Ok(payload)
}

/// Reads one frame; `None` at a clean end of stream before a frame starts.
async fn read_frame(reader: &mut (impl AsyncRead + Unpin)) -> io::Result<Option<Vec<u8>>> {
    match read_frame_length(reader).await? {
        None => Ok(None),
        Some(length) => read_payload(reader, length).await.map(Some),
    }
}

/// The leader's end of the link to one follower; connects on first use and after any failure.
pub struct AppendLink {
    target: NodeId,
    addr: String,
    /// TLS toward the follower (checking its node name), or `None` on a plaintext test cluster.
    tls: Option<Arc<rustls::ClientConfig>>,
    /// Present only between complete exchanges: a call cancelled or failed midway leaves it empty,
    /// so no later call can read a stale answer.
    connection: Option<BufReader<LinkStream>>,
    next_sequence: u64,
}

impl AppendLink {
    pub fn new(target: NodeId, addr: String, tls: Option<Arc<rustls::ClientConfig>>) -> Self {
        Self { target, addr, tls, connection: None, next_sequence: 0 }
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

    async fn connect(&self) -> io::Result<BufReader<LinkStream>> {
        let connect = async {
            let tcp = TcpStream::connect(self.addr.as_str()).await?;
            tcp.set_nodelay(true)?;
            let mut stream: LinkStream = match &self.tls {
                None => Box::new(tcp),
                Some(config) => {
                    let name = ServerName::try_from(node_server_name(self.target))
                        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
                    Box::new(tokio_rustls::TlsConnector::from(Arc::clone(config)).connect(name, tcp).await?)
                }
            };
            stream.write_all(LINK_MAGIC).await?;
            Ok::<_, io::Error>(stream)
        };
        let stream = tokio::time::timeout(Duration::from_millis(PEER_CONNECT_TIMEOUT_MS), connect)
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, format!("connect to {} timed out", self.addr)))??;
        Ok(BufReader::with_capacity(READ_BUFFER_BYTES, stream))
    }
}

/// Reads the rest of `LINK_MAGIC` after its first byte was seen (or all of it after TLS);
/// false if the connection says something else.
pub async fn read_magic(stream: &mut (impl AsyncRead + Unpin), timeout: Duration) -> bool {
    let mut magic = [0u8; LINK_MAGIC.len()];
    let read = tokio::time::timeout(timeout, stream.read_exact(&mut magic)).await;
    matches!(read, Ok(Ok(_))) && &magic == LINK_MAGIC
}

/// What a follower needs to serve links.
#[derive(Clone)]
pub struct LinkServer {
    pub raft: HeapRaft,
    pub gate: Arc<ConsensusGate>,
    pub budget: FrameBudget,
}

/// Why a link connection closed (logged by the caller at a level that fits).
enum LinkEnd {
    Closed,
    Idle,
    Io(io::Error),
    Malformed(WireError),
    Refused(String),
}

impl LinkServer {
    /// The follower's end: answers AppendEntries frames in order until the leader closes the link.
    pub async fn serve(&self, stream: LinkStream, peer: PeerInfo) {
        let remote = peer.remote_addr;
        match self.serve_frames(stream, &peer).await {
            LinkEnd::Closed => {}
            LinkEnd::Idle => tracing::debug!(%remote, "append link idle for {LINK_IDLE_TIMEOUT_MS} ms; closed it"),
            LinkEnd::Io(e) => tracing::debug!(%remote, error = %e, "append link failed; closed it"),
            LinkEnd::Malformed(e) => {
                tracing::warn!(%remote, error = %e, "malformed append link frame; closed the link")
            }
            LinkEnd::Refused(reason) => {
                tracing::warn!(%remote, %reason, "refused an append link message; closed the link")
            }
        }
    }

    async fn serve_frames(&self, stream: LinkStream, peer: &PeerInfo) -> LinkEnd {
        let mut reader = BufReader::with_capacity(READ_BUFFER_BYTES, stream);
        loop {
            let idle = Duration::from_millis(LINK_IDLE_TIMEOUT_MS);
            let length = match tokio::time::timeout(idle, read_frame_length(&mut reader)).await {
                Ok(Ok(Some(length))) => length,
                Ok(Ok(None)) => return LinkEnd::Closed,
                Ok(Err(e)) => return LinkEnd::Io(e),
                Err(_) => return LinkEnd::Idle,
            };
            let units = length.div_ceil(BUDGET_UNIT_BYTES).max(1) as u32;
            let Ok(_budget) = self.budget.units.acquire_many(units).await else {
                return LinkEnd::Closed;
            };
            let frame = match tokio::time::timeout(idle, read_payload(&mut reader, length)).await {
                Ok(Ok(frame)) => frame,
                Ok(Err(e)) => return LinkEnd::Io(e),
                Err(_) => return LinkEnd::Idle,
            };
            let (sequence, rpc): (u64, AppendEntriesRequest<TypeConfig>) = match decode_raft(&frame) {
                Ok(request) => request,
                Err(e) => return LinkEnd::Malformed(e),
            };
            drop(frame);
            if let Err(refusal) = self.gate.append_entries(peer, &rpc) {
                let reply: Result<AppendEntriesResponse<TypeConfig>, String> = Err(refusal.to_string());
                if let Ok(payload) = encode_raft(&(sequence, reply)) {
                    let _ = write_frame(reader.get_mut(), &payload).await;
                }
                return LinkEnd::Refused(refusal.to_string());
            }
            let reply = self.raft.append_entries(rpc).await.map_err(|e| e.to_string());
            let payload = match encode_raft(&(sequence, reply)) {
                Ok(payload) => payload,
                Err(e) => return LinkEnd::Malformed(e),
            };
            if let Err(e) = write_frame(reader.get_mut(), &payload).await {
                return LinkEnd::Io(e);
            }
        }
    }
}

#[cfg(test)]
#[path = "append_link_test.rs"]
mod tests;
