//! What every lifecycle scenario does around its measurement: a fresh secured cluster under
//! `<out>/work/<name>`, checked still running and stopped afterwards, the report written to
//! `<out>/results-<name>.json` and its summary printed.

use std::ops::AsyncFnOnce;

use anyhow::Context;
use serde::Serialize;

use crate::lifecycle::cluster::LifecycleCluster;
use crate::lifecycle::LifecycleSpec;
use crate::sovereign::cluster::server_binary;

/// Runs scenario `name`: `measure` on a fresh cluster, then the report to disk and `summary` of
/// it on standard output.
pub async fn run_scenario<R: Serialize>(
    spec: &LifecycleSpec,
    name: &str,
    measure: impl AsyncFnOnce(&mut LifecycleCluster) -> anyhow::Result<R>,
    summary: fn(&R) -> String,
) -> anyhow::Result<R> {
    let server = server_binary(spec.server_binary.as_deref())?;
    std::fs::create_dir_all(&spec.out).with_context(|| format!("cannot create --out {}", spec.out.display()))?;
    let work = spec.out.join("work");
    println!("== start: three secured nodes of {} in {}", server.display(), work.display());
    let mut cluster = LifecycleCluster::start(&server, &work.join(name)).await?;
    let report = measure(&mut cluster).await?;
    cluster.check_running()?;
    cluster.stop()?;
    let _ = std::fs::remove_dir(&work);
    let path = spec.out.join(format!("results-{name}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(&report)? + "\n")
        .with_context(|| format!("cannot write {}", path.display()))?;
    println!("\n{}results in {}", summary(&report), path.display());
    Ok(report)
}
