//! Bounds of heap-server: message sizes, timeouts and retries, each named with its unit.

/// Largest client request or response on the wire (defined with the schema): room for the largest
/// graph read (`heap_machine::GRAPH_READ_BYTES_MAX`) once re-encoded as protobuf, and for any
/// transaction.
pub use proto::CLIENT_MESSAGE_SIZE_BYTES_MAX;
const _: () = assert!(2 * heap_machine::GRAPH_READ_BYTES_MAX as usize <= CLIENT_MESSAGE_SIZE_BYTES_MAX);
const _: () = assert!(2 * heap_machine::TRANSACTION_SIZE_BYTES_MAX as usize <= CLIENT_MESSAGE_SIZE_BYTES_MAX);

/// Entries per AppendEntries message (openraft `max_payload_entries`).
pub const RAFT_PAYLOAD_ENTRIES_MAX: u64 = 32;

/// Largest Raft transport message: a full AppendEntries batch of maximal transactions, plus framing.
pub const RAFT_MESSAGE_SIZE_BYTES_MAX: usize = 160 * 1024 * 1024;
const _: () = assert!(
    (RAFT_PAYLOAD_ENTRIES_MAX as usize) * (heap_machine::TRANSACTION_SIZE_BYTES_MAX as usize)
        < RAFT_MESSAGE_SIZE_BYTES_MAX
);

/// Snapshots stream to followers in chunks of this size.
pub const SNAPSHOT_CHUNK_SIZE_BYTES: usize = 1024 * 1024;

/// How long a forwarded request or a read may wait for the leader before the client is told to retry.
pub const CLIENT_REQUEST_TIMEOUT_MS: u64 = 10_000;

/// A session request still pending (a queued lock, a wait) is answered `Pending` after this long,
/// and the client sends it again; no RPC hangs for longer.
pub const PENDING_WAIT_MS_MAX: u64 = 5_000;
// The client gives each attempt longer than that, so a pending answer arrives before it gives up.
const _: () = assert!(PENDING_WAIT_MS_MAX < heap_client::cluster::ATTEMPT_TIMEOUT_MS);

/// How often the leader checks whether a session expiry or wait timeout is due (it then proposes
/// a Tick entry carrying its clock).
pub const DEADLINE_CHECK_INTERVAL_MS: u64 = 50;

/// `Changes` messages queued for one watcher; a watcher that reads slower falls behind and is
/// sent a reset (drop the whole cache) instead of an unbounded backlog.
pub const WATCH_BUFFER_MESSAGES: usize = 64;

/// Changed ids one watcher accumulates between two messages before they become a reset.
pub const WATCH_IDS_MAX: usize = 100_000;

/// Connecting to a peer gives up after this long (the peer is then reported unreachable).
pub const PEER_CONNECT_TIMEOUT_MS: u64 = 1_000;

/// How long SIGTERM waits for in-flight requests and Raft to stop before the process exits.
pub const SHUTDOWN_TIMEOUT_MS: u64 = 5_000;

/// Members of a cluster given with `--peers`.
pub const PEERS_MAX: usize = 9;
