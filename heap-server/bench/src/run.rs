//! `run`: one measurement, as `heap-bench run` and each point of `compare` describe it in a
//! `RunSpec`, dispatched to the side of the system it names; with the servers' CPU time per
//! request when the caller knows their processes (`compare`, which started them).

use crate::error::BenchError;
use crate::server_cpu::ServerProcesses;
use crate::summary::Summary;
use crate::system::RunSpec;
use crate::system::System;

/// Why a measurement without the server processes has no CPU figure.
const SERVERS_NOT_GIVEN: &str =
    "the server processes were not given to this measurement (`heap-bench run` reaches nodes it did not start)";

/// One measurement against the system `spec` names, without the servers' CPU time.
pub async fn run(spec: &RunSpec) -> Result<Summary, BenchError> {
    run_with_servers(spec, &ServerProcesses::Unknown(SERVERS_NOT_GIVEN.to_string())).await
}

/// One measurement against the system `spec` names, reading the CPU time of `servers` over its
/// measured period.
pub async fn run_with_servers(spec: &RunSpec, servers: &ServerProcesses) -> Result<Summary, BenchError> {
    match spec.system {
        System::Sovereign => crate::sovereign::measure::measure(spec, servers).await,
        System::Etcd => crate::etcd::measure::measure(spec, servers).await,
    }
}
