//! `run`: one measurement, as `heap-bench run` and each point of `compare` describe it in a
//! `RunSpec`, dispatched to the side of the system it names.

use crate::error::BenchError;
use crate::summary::Summary;
use crate::system::RunSpec;
use crate::system::System;

/// One measurement against the system `spec` names.
pub async fn run(spec: &RunSpec) -> Result<Summary, BenchError> {
    match spec.system {
        System::Sovereign => crate::sovereign::measure::measure(spec).await,
        System::Etcd => crate::etcd::measure::measure(spec).await,
    }
}
