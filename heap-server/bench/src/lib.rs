//! heap-bench: a load generator that benchmarks Sovereign side by side with etcd 3.4. `run` is
//! one closed-loop measurement (`driver`) of one workload against one system (`sovereign`,
//! `etcd`); `compare` measures the machine (`machine`), starts both systems' clusters, measures them
//! in turn point by point and writes the results as JSON, markdown and SVG (`report`).

pub mod channels;
pub mod child_guard;
pub mod compare;
pub mod driver;
pub mod error;
pub mod etcd;
pub mod leader;
pub mod limits;
pub mod machine;
pub mod recorder;
pub mod report;
pub mod run;
pub mod sovereign;
pub mod summary;
pub mod workload;
