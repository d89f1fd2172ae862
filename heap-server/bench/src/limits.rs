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

// `memory` and `gc`: the object lifecycle scenarios (`lifecycle`).

/// Most small objects one `memory` or `gc` run creates: room for the 10 million the issue asks
/// for and twice that, well under the heap's `OBJECT_COUNT_MAX` (the gc run adds lists and
/// garbage cycles).
pub const LIFECYCLE_OBJECTS_MAX: u64 = 20_000_000;
const _: () = assert!(2 * LIFECYCLE_OBJECTS_MAX <= heap_machine::OBJECT_COUNT_MAX);
/// Small objects per creating transaction unless `--batch` says otherwise.
pub const ITEMS_PER_TRANSACTION_DEFAULT: usize = 1_000;
/// Ops one small object costs its transaction: a create, three fields, a push into the list.
pub const OPS_PER_ITEM: usize = 5;
/// Ops of a creating transaction besides its items: the list's create and its root's bind.
pub const OPS_PER_ITEM_TRANSACTION_BASE: usize = 2;
/// Most small objects per creating transaction: what fits the heap's ops per transaction.
pub const ITEMS_PER_TRANSACTION_MAX: usize =
    (heap_machine::TRANSACTION_OPS_MAX as usize - OPS_PER_ITEM_TRANSACTION_BASE) / OPS_PER_ITEM;
const _: () = assert!(ITEMS_PER_TRANSACTION_DEFAULT <= ITEMS_PER_TRANSACTION_MAX);
const _: () = assert!(ITEMS_PER_TRANSACTION_MAX as u64 <= heap_machine::COLLECTION_LENGTH_MAX);
/// Creating transactions in flight at once: enough to keep the leader's pipeline full, and the
/// load generator's memory independent of `--objects` (ids are never kept).
pub const CREATE_TRANSACTIONS_IN_FLIGHT: usize = 4;
/// Roots unbound per abandoning transaction (the "up to 1000 unbinds per transaction").
pub const UNBINDS_PER_TRANSACTION: usize = 1_000;
const _: () = assert!(UNBINDS_PER_TRANSACTION as u64 <= heap_machine::TRANSACTION_OPS_MAX);
/// Garbage cycles (two objects referencing each other, never rooted) per transaction: four ops
/// each.
pub const GARBAGE_CYCLES_PER_TRANSACTION: usize = 1_000;
const _: () = assert!(4 * GARBAGE_CYCLES_PER_TRANSACTION as u64 <= heap_machine::TRANSACTION_OPS_MAX);
/// Garbage cycles `gc` creates beside its live objects unless `--garbage-cycles` says otherwise.
pub const GARBAGE_CYCLES_DEFAULT: u64 = 100_000;
/// A creating, abandoning or garbage transaction gives up after this long (a 2,000-object
/// commit applies in tens of milliseconds; this covers a snapshot build or an election).
pub const LIFECYCLE_REQUEST_TIMEOUT_MS: u64 = 60_000;

/// Every node's VmRSS is sampled this often, so the peak of a burst is seen.
pub const RSS_SAMPLE_INTERVAL_MS: u64 = 250;
/// The cluster is idle once applied indexes agree, and they, the snapshot counts and every RSS
/// have stayed put, for this long.
pub const SETTLE_STABLE_MS: u64 = 5_000;
/// An RSS "stays put" while it moves less than this fraction of itself.
pub const SETTLE_RSS_TOLERANCE: f64 = 0.02;
/// Settling gives up after this long and the figures are reported as unsettled.
pub const SETTLE_TIMEOUT_MS: u64 = 180_000;
/// Idleness is looked at this often.
pub const SETTLE_POLL_MS: u64 = 500;
/// A restarted follower must have reloaded its state and caught up within this long.
pub const RELOAD_TIMEOUT_MS: u64 = 600_000;
/// The node's `/metrics` must answer within this long; its answer is at most this big.
pub const METRICS_TIMEOUT_MS: u64 = 5_000;
pub const METRICS_BYTES_MAX: usize = 1024 * 1024;

/// How long `gc` waits, after the cluster settled following the collection, before it reads the
/// leader's "after" RSS: longer than a node keeps a log entry in memory (raft-store's
/// `LOG_CACHE_ENTRY_AGE_MAX_MS`, 10 s), so the figure is the idle node's, not its recent log's.
pub const AFTER_COLLECTION_IDLE_MS: u64 = 15_000;

/// Abandoned objects must be back to the baseline count within this long, else the run reports
/// how many were left (three default collection cycles and a margin).
pub const ABANDON_COLLECT_TIMEOUT_MS: u64 = 240_000;
/// GcStatus is asked this often while abandoned objects are collected.
pub const GC_STATUS_POLL_MS: u64 = 100;
/// A `GcStatus` call gives up after this long.
pub const GC_STATUS_TIMEOUT_MS: u64 = 10_000;
/// A `GcRun` call gives up after this long (the leader allows its cycle 60 s, plus a forward).
pub const GC_RUN_TIMEOUT_MS: u64 = 75_000;
/// A cycle that outlives the `GcRun` call is waited for, by GcStatus, this long at most.
pub const GC_CYCLE_WAIT_MS: u64 = 1_800_000;
/// A `GcPause` call to one node gives up after this long (a node waits up to 5 s for a Collect
/// proposed before the pause to commit).
pub const GC_PAUSE_TIMEOUT_MS: u64 = 10_000;
/// Default measured seconds of each put/get point of `gc`'s throughput comparison.
pub const GC_THROUGHPUT_DURATION_S_DEFAULT: f64 = 10.0;
/// Interleaved rounds of that comparison unless `--rounds` says otherwise (its figures are the
/// medians), and the most a run may ask for.
pub const GC_THROUGHPUT_ROUNDS_DEFAULT: usize = 3;
pub const GC_THROUGHPUT_ROUNDS_MAX: usize = 20;
const _: () = assert!(GC_THROUGHPUT_ROUNDS_DEFAULT <= GC_THROUGHPUT_ROUNDS_MAX);
/// Closed-loop clients of that comparison (the "64 clients").
pub const GC_THROUGHPUT_CLIENTS: usize = 64;
/// The busy collector's churn: every interval a transaction creates this many small objects
/// under a new root, and this many garbage cycles, and unbinds the previous root.
pub const CHURN_ITEMS_PER_TRANSACTION: usize = 100;
pub const CHURN_CYCLES_PER_TRANSACTION: usize = 20;
pub const CHURN_INTERVAL_MS: u64 = 50;
const _: () = assert!(CHURN_ITEMS_PER_TRANSACTION <= ITEMS_PER_TRANSACTION_MAX);
/// After a failed churn or GcRun call, the busy collector waits this long before the next.
pub const CHURN_ERROR_BACKOFF_MS: u64 = 500;
/// Points of RSS kept per node for the reports' time series: when full, every other point is
/// dropped and the rest are recorded half as often, so a run of any length fits (a 10-minute
/// run at 250 ms is 2,400 samples).
pub const RSS_SERIES_POINTS_MAX: usize = 2_048;
