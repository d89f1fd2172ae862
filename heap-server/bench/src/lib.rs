//! heap-bench: a load generator that benchmarks Sovereign side by side with etcd 3.4. `run` is
//! one closed-loop measurement (`driver`) of one workload against one system (`sovereign`,
//! `etcd`); `compare` measures the machine (`machine`), starts both systems' clusters, measures them
//! in turn point by point and writes the results as JSON, markdown and SVG (`report`). `system`
//! holds what the commands and the systems' sides share (`RunSpec`, `StartedCluster`), so the
//! sides never import the commands; `server_cpu` reads the servers' CPU time per request. `memory` and `gc` are the object lifecycle scenarios
//! (`lifecycle`): RSS and disk per live object, and the collector's speed and cost;
//! `collect_steps` times the collector's entries on a heap built in process, without a cluster.
//! `locks` measures greedy cluster locks through the client library on a fresh cluster.

mod channels;
mod child_guard;
mod collect_steps;
mod compare;
mod driver;
mod error;
mod etcd;
mod leader;
mod lifecycle;
mod limits;
mod locks;
mod machine;
mod recorder;
mod report;
mod run;
mod server_cpu;
mod sovereign;
mod summary;
mod system;
mod workload;

pub use collect_steps::{collect_steps, CollectStepsSpec, COLLECT_STEPS_OBJECTS_MAX};
pub use compare::{compare, CompareOutcome, CompareSpec};
pub use error::BenchError;
pub use lifecycle::gc::gc;
pub use lifecycle::memory::memory;
pub use lifecycle::{GcSpec, LifecycleSpec};
pub use limits::{
    COMPARE_DURATION_S_DEFAULT, GARBAGE_CYCLES_DEFAULT, GC_THROUGHPUT_DURATION_S_DEFAULT, GC_THROUGHPUT_ROUNDS_DEFAULT,
    ITEMS_PER_TRANSACTION_DEFAULT, WARMUP_S_DEFAULT,
};
pub use locks::{
    locks, LocksReport, LocksSpec, LOCKS_CLUSTER_OPS_DEFAULT, LOCKS_CLUSTER_OPS_MAX, LOCKS_LOCAL_OPS_DEFAULT,
    LOCKS_LOCAL_OPS_MAX,
};
pub use machine::MachineFigures;
pub use report::record::Record;
pub use run::run;
pub use summary::Summary;
pub use system::{RunSpec, SecurityMode, System};
pub use workload::Workload;
