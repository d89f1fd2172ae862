//! Bounds of heap-server: message sizes, timeouts and retries, each named with its unit.

/// Largest client request or response on the wire (defined with the schema): room for the largest
/// graph read (`heap_machine::GRAPH_READ_BYTES_MAX`) once re-encoded as protobuf, and for any
/// transaction.
pub use proto::CLIENT_MESSAGE_SIZE_BYTES_MAX;
const _: () = assert!(2 * heap_machine::GRAPH_READ_BYTES_MAX as usize <= CLIENT_MESSAGE_SIZE_BYTES_MAX);
const _: () = assert!(2 * heap_machine::TRANSACTION_SIZE_BYTES_MAX as usize <= CLIENT_MESSAGE_SIZE_BYTES_MAX);

/// Entries per AppendEntries message (openraft `max_payload_entries`). Under load a follower's
/// round trip (with its fsync) takes milliseconds, so one follower can absorb at most this many
/// entries per round trip: at 32, throughput flattened at about 9,000 commits/s whatever the
/// client count; at 256 it went to 17,000 (1000 clients, this machine).
pub const RAFT_PAYLOAD_ENTRIES_MAX: u64 = 256;

/// Payload bytes per AppendEntries message: a batch is cut after the entry that crosses this
/// (the rest follows in the next message), so many large transactions never make one huge message.
pub const APPEND_ENTRIES_PAYLOAD_BYTES_MAX: usize = 16 * 1024 * 1024;

/// What one entry adds to a message beyond its payload, at most: its log id, and for a membership
/// entry the members' ids and addresses (`PEERS_MAX` of them).
pub const ENTRY_OVERHEAD_BYTES_MAX: usize = 64 * 1024;

/// Largest Raft transport message: a full AppendEntries batch (one entry may carry a maximal
/// transaction past the payload bound), plus framing.
pub const RAFT_MESSAGE_SIZE_BYTES_MAX: usize = 160 * 1024 * 1024;
const _: () = assert!(
    APPEND_ENTRIES_PAYLOAD_BYTES_MAX
        + heap_machine::TRANSACTION_SIZE_BYTES_MAX as usize
        + (RAFT_PAYLOAD_ENTRIES_MAX as usize) * ENTRY_OVERHEAD_BYTES_MAX
        < RAFT_MESSAGE_SIZE_BYTES_MAX
);

/// How long the leader waits for one AppendEntries answer before it counts the follower as
/// unreachable (and backs off). Well above a slow fsync (tens of ms under load, rare outliers of
/// hundreds), well below the time a dead follower may go unnoticed without harm (the leader
/// commits with the other majority meanwhile).
pub const APPEND_ENTRIES_TIMEOUT_MS: u64 = 2_000;

/// Snapshots stream to followers in chunks of this size.
pub const SNAPSHOT_CHUNK_SIZE_BYTES: usize = 1024 * 1024;

/// The highest `--snapshot-size-bytes-max`: the snapshot format's own bound (64 GiB).
pub use raft_store::SNAPSHOT_SIZE_BYTES_CEILING;
/// Default `--snapshot-size-bytes-max`, the largest snapshot a node accepts from a peer (a
/// received stream is held in memory whole): 1 GiB. The node's own snapshots are bounded only by
/// the format's ceiling, so a heap that outgrows the setting still snapshots, and followers that
/// need it refuse it with a message naming the setting until it is raised.
pub use raft_store::SNAPSHOT_SIZE_BYTES_MAX_DEFAULT;
/// The lowest `--snapshot-size-bytes-max`: one chunk. Below it even the first chunk of a small
/// heap's snapshot could be refused, and a follower that lags could never catch up.
pub const SNAPSHOT_SIZE_BYTES_MIN: u64 = SNAPSHOT_CHUNK_SIZE_BYTES as u64;
const _: () = assert!(SNAPSHOT_SIZE_BYTES_MIN <= SNAPSHOT_SIZE_BYTES_MAX_DEFAULT);
const _: () = assert!(SNAPSHOT_SIZE_BYTES_MAX_DEFAULT <= SNAPSHOT_SIZE_BYTES_CEILING);

/// How long a forwarded request or a read may wait for the leader before the client is told to retry.
pub const CLIENT_REQUEST_TIMEOUT_MS: u64 = 10_000;

/// A session request still pending is answered `Pending` after this long (part of the protocol:
/// the client's per-attempt timeout is longer, which heap-client asserts).
pub use proto::PENDING_WAIT_MS_MAX;

/// How often the leader checks whether a session expiry or wait timeout is due (it then proposes
/// a Tick entry carrying its clock).
pub const DEADLINE_CHECK_INTERVAL_MS: u64 = 50;

/// `Changes` messages queued for one watcher; a watcher that reads slower falls behind and is
/// sent a reset (drop the whole cache) instead of an unbounded backlog.
pub const WATCH_BUFFER_MESSAGES: usize = 64;

/// Changed ids one watcher accumulates between two messages before they become a reset.
pub const WATCH_IDS_MAX: usize = 100_000;

/// Contended lock names one watcher accumulates between two messages before they become a reset
/// (the client then treats every lock it holds greedily as contended). Messages go out per applied
/// batch, milliseconds apart, so this many newly contended locks in between means a storm where a
/// blanket release costs little more; the bound keeps a slow watcher's memory and its next message
/// small (a full set of longest names is about 1 MiB).
pub const WATCH_CONTENDED_LOCKS_MAX: usize = 4_096;
// A message with both sets full fits the client message bound: an id encodes in at most 10 bytes
// (packed varint), a name in its length plus 3 (tag and a two-byte length).
const _: () = assert!(
    WATCH_IDS_MAX * 10 + WATCH_CONTENDED_LOCKS_MAX * (heap_machine::NAME_LENGTH_BYTES_MAX as usize + 3)
        <= CLIENT_MESSAGE_SIZE_BYTES_MAX
);

/// Connecting to a peer gives up after this long (the peer is then reported unreachable).
pub const PEER_CONNECT_TIMEOUT_MS: u64 = 1_000;
/// The least a vote or pre-vote RPC waits for its answer. openraft gives it three quarters of the
/// minimum election timeout (75 ms at our 100 ms), and on a loaded 2-core machine (two Tomcats,
/// a browser and three nodes) TLS round trips took longer: every campaign failed for 11 s. The
/// RPCs run in their own tasks, so waiting longer never delays a candidate's next campaign; a late
/// grant still counts if its election is still on.
pub const VOTE_RPC_TIMEOUT_MS_MIN: u64 = 500;

/// How long SIGTERM waits for in-flight requests and Raft to stop before the process exits.
pub const SHUTDOWN_TIMEOUT_MS: u64 = 5_000;

/// A clean shutdown snapshots the heap when more than this many entries were applied since the
/// last snapshot (fewer replay in a moment at the next start).
pub const SHUTDOWN_SNAPSHOT_ENTRIES_MIN: u64 = 100;
/// How long a clean shutdown waits for that snapshot: writing a 10-million-object heap (about a
/// GiB) and fsyncing it takes a few seconds here; together with `SHUTDOWN_TIMEOUT_MS` a node
/// stops well inside the 20 s a supervisor gives it (deploy/kubernetes, deploy/systemd).
pub const SHUTDOWN_SNAPSHOT_TIMEOUT_MS: u64 = 10_000;

/// Members of a cluster given with `--peers`.
pub const PEERS_MAX: usize = 9;

/// Connections from nodes (proven by a node certificate) one node serves at once: a gRPC channel
/// and an append link or two per peer, with room for reconnects overlapping old connections.
pub const NODE_CONNECTIONS_MAX: usize = 8 * PEERS_MAX;

/// Client connections (and not-yet-authenticated ones) one node serves at once, at most; fewer
/// if the process's open-file limit is lower (`acceptor::client_connections_max`).
pub const CLIENT_CONNECTIONS_MAX: usize = 8_192;

/// Client connections from one IP address: a busy application server opens a channel per
/// client object, not thousands; one address cannot take the whole budget.
pub const CLIENT_CONNECTIONS_PER_IP_MAX: u32 = 1_024;
const _: () = assert!((CLIENT_CONNECTIONS_PER_IP_MAX as usize) < CLIENT_CONNECTIONS_MAX);

/// File descriptors kept free for storage (log segments, snapshot files) and the peers'
/// outgoing connections: connections never use these, so a flood of connections cannot make a
/// snapshot or log write fail with EMFILE.
pub const FD_RESERVE: u64 = 512;

/// A connection that has not completed its TLS handshake within this long is closed.
pub const TLS_HANDSHAKE_TIMEOUT_MS: u64 = 10_000;

/// HTTP/2 keepalive: the server pings every connection this often and closes one that does not
/// answer within `HTTP2_KEEPALIVE_TIMEOUT_MS`, so dead or silent peers do not hold connections.
pub const HTTP2_KEEPALIVE_INTERVAL_MS: u64 = 30_000;
pub const HTTP2_KEEPALIVE_TIMEOUT_MS: u64 = 10_000;

/// Link frame bytes one node reads or holds for Raft at once, across all links: two of the
/// largest frames. Frames beyond it wait, so announced lengths cannot exhaust memory.
pub const LINK_FRAME_BUDGET_BYTES: usize = 2 * RAFT_MESSAGE_SIZE_BYTES_MAX;

/// Snapshot installs one node runs at once: a second stream is refused while one is in progress.
pub const SNAPSHOT_INSTALLS_MAX: usize = 1;

/// A link connection with no frame for this long is closed (a leader sends heartbeats far more
/// often; a leader that stopped leading reconnects when it leads again).
pub const LINK_IDLE_TIMEOUT_MS: u64 = 60_000;

/// How long a new connection may stay silent before its first byte decides its protocol; a silent
/// one then goes to the gRPC server, which handled every connection before the link existed.
pub const LINK_SNIFF_TIMEOUT_MS: u64 = 10_000;

/// Accepted connections waiting for the gRPC server to take them.
pub const GRPC_ACCEPT_QUEUE_CONNECTIONS: usize = 128;

/// Default `--disk-warn-free-bytes`: below this much free space on the data dir's file system the
/// node warns (log, `heapctl status`, `sovereign_disk_warning`). 2 GiB: room to write one more
/// snapshot of the size followers accept by default (`SNAPSHOT_SIZE_BYTES_MAX_DEFAULT`, 1 GiB,
/// beside the old one until the rename) with log segments besides: at the default refusal point that
/// leaves the operator most of 2 GiB of writes to notice. An absolute amount, not a percentage: what
/// the node needs does not grow with the disk.
pub const DISK_WARN_FREE_BYTES_DEFAULT: u64 = 2 * 1024 * 1024 * 1024;

/// Default `--disk-min-free-bytes`: below this much free space the node refuses new client writes
/// (before the disk is full, not after). 256 MiB: what keeps running after the refusal (keep-alives,
/// closes, the leader's Tick and Grace entries, followers' appends of entries already accepted) fits
/// easily, as does a snapshot of a modest heap.
pub const DISK_MIN_FREE_BYTES_DEFAULT: u64 = 256 * 1024 * 1024;

/// The lowest `--disk-min-free-bytes` accepted: a thinner margin could be used up by the writes
/// admitted between two samples (`DISK_CHECK_INTERVAL_MS`) and the entries still allowed after
/// the refusal (keep-alives, Ticks), before an operator can act.
pub const DISK_MIN_FREE_BYTES_FLOOR: u64 = 16 * 1024 * 1024;
const _: () = assert!(DISK_MIN_FREE_BYTES_FLOOR <= DISK_MIN_FREE_BYTES_DEFAULT);
const _: () = assert!(DISK_MIN_FREE_BYTES_DEFAULT < DISK_WARN_FREE_BYTES_DEFAULT);

/// How often the disk guard samples the data dir's free space (one statvfs): at 1 s, writes at
/// full speed (tens of MB/s of log) cross at most tens of MB between samples, well inside the
/// default refusal margin.
pub const DISK_CHECK_INTERVAL_MS: u64 = 1_000;

/// Default time between the leader's collection cycles (`--gc-cycle-interval-ms`). Cycles only
/// find garbage cycles (reference counting frees the rest within seconds), and a paced mark of
/// ten million objects takes about a minute, so five minutes leaves the leader mostly to requests.
pub const GC_CYCLE_INTERVAL_MS_DEFAULT: u64 = 300_000;
/// Shortest time between collection cycles a node accepts: a cycle marks the whole heap.
pub const GC_CYCLE_INTERVAL_MS_MIN: u64 = 1_000;
