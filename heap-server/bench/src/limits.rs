//! Every bound of heap-bench in one place, each named with its unit: what a run may ask for, what
//! the workloads write, and how long anything may wait.

/// Closed-loop clients of one measurement.
pub const CLIENTS_MAX: usize = 10_000;
/// gRPC channels (HTTP/2 connections) of one measurement.
pub const CONNECTIONS_MAX: usize = 256;
/// Default channels: `min(clients, CONNECTIONS_DEFAULT)`.
pub const CONNECTIONS_DEFAULT: usize = 8;
const _: () = assert!(CONNECTIONS_DEFAULT <= CONNECTIONS_MAX);
/// Endpoints given to `run`.
pub const ENDPOINTS_MAX: usize = 16;
/// Longest measured period of one point.
pub const DURATION_S_MAX: f64 = 3_600.0;
/// Longest warm-up of one point.
pub const WARMUP_S_MAX: f64 = 600.0;
/// Default warm-up of one point: not counted.
pub const WARMUP_S_DEFAULT: f64 = 1.0;
/// Default measured period of one `compare` point.
pub const COMPARE_DURATION_S_DEFAULT: f64 = 10.0;
/// Most requests of a `--ops` run.
pub const OPS_MAX: u64 = 100_000_000;
/// Client counts one `compare` may list.
pub const CLIENT_COUNTS_MAX: usize = 32;

/// Keys (etcd) or objects (Sovereign) the put and get workloads spread over, as etcd's benchmark
/// does with `--key-space-size`.
pub const OBJECTS_K: usize = 1_000;
/// Every written value, as in etcd's benchmark (`--val-size 256`).
pub const VALUE_SIZE_BYTES: usize = 256;
/// etcd keys are this long (`--key-size 8`).
pub const ETCD_KEY_SIZE_BYTES: usize = 8;
/// Objects created per setup transaction.
pub const SETUP_BATCH_OBJECTS: usize = 100;
/// Requests in flight at once while setting up (etcd keys, lock-update sessions).
pub const SETUP_CONCURRENCY: usize = 64;
/// Objects in one graph of the graph-read workload: a root list and the objects it references.
pub const GRAPH_OBJECTS: usize = 100;
/// Graphs the graph-read workload spreads its reads over.
pub const GRAPH_COUNT: usize = 10;
const _: () = assert!(GRAPH_OBJECTS <= SETUP_BATCH_OBJECTS);
/// Lease of a lock-update client's session; keep-alives go every third of it, so they are rare
/// during a measurement.
pub const SESSION_TTL_MS: u64 = 120_000;

/// A connection attempt gives up after this long.
pub const CONNECT_TIMEOUT_MS: u64 = 2_000;
/// One request gives up after this long (it then counts as an error).
pub const REQUEST_TIMEOUT_MS: u64 = 10_000;
/// Overall deadline of one lock-update step through the client library, retries included.
pub const CLIENT_DEADLINE_MS: u64 = 15_000;
/// A status probe of one endpoint gives up after this long.
pub const STATUS_TIMEOUT_MS: u64 = 1_000;
/// Finding the leader gives up after this long.
pub const LEADER_WAIT_MS: u64 = 30_000;
/// Poll interval while waiting for a leader.
pub const POLL_INTERVAL_MS: u64 = 100;
/// One request of the closed loop (with any leader search and retries in it) gives up after
/// this long and counts as an error.
pub const OP_TIMEOUT_MS: u64 = 60_000;
const _: () = assert!(LEADER_WAIT_MS + REQUEST_TIMEOUT_MS < OP_TIMEOUT_MS);
const _: () = assert!(3 * CLIENT_DEADLINE_MS < OP_TIMEOUT_MS);
/// Requests still in flight when the measured period ends get this long to finish (uncounted)
/// before they are abandoned.
pub const STOP_GRACE_MS: u64 = REQUEST_TIMEOUT_MS;
/// After a failed request a client waits this long before its next one, so a dead server is not
/// hammered by a spinning loop (the wait is not part of any latency).
pub const ERROR_BACKOFF_MS: u64 = 10;
/// Error messages printed per measurement (the rest are only counted).
pub const ERRORS_SHOWN_MAX: u64 = 3;
/// Progress lines on stderr this often.
pub const PROGRESS_INTERVAL_MS: u64 = 1_000;
/// Closing a lock-update client's session gives up after this long.
pub const SESSION_CLOSE_TIMEOUT_MS: u64 = 5_000;

/// Latencies are recorded in microseconds between these bounds, to 3 significant digits.
pub const HISTOGRAM_LOWEST_US: u64 = 1;
pub const HISTOGRAM_HIGHEST_US: u64 = 120_000_000;
pub const HISTOGRAM_SIGNIFICANT_DIGITS: u8 = 3;
const _: () = assert!(REQUEST_TIMEOUT_MS * 1_000 < HISTOGRAM_HIGHEST_US);

/// fsync probe: this many 4 KiB writes, each followed by fdatasync.
pub const FSYNC_SAMPLES: usize = 500;
pub const FSYNC_BLOCK_BYTES: usize = 4_096;
/// Loopback probe: this many 1-byte round trips, after `LOOPBACK_WARMUP_ROUNDS` untimed ones.
pub const LOOPBACK_SAMPLES: usize = 5_000;
pub const LOOPBACK_WARMUP_ROUNDS: usize = 200;

/// A cluster (Sovereign or etcd) must have elected a leader this long after its start.
pub const CLUSTER_START_TIMEOUT_MS: u64 = 30_000;
/// Lines of a node's log shown when a cluster fails to start.
pub const LOG_TAIL_LINES: usize = 20;
