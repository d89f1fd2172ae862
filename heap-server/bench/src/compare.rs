//! `compare`: the side-by-side run. Measures the machine, starts a fresh Sovereign cluster and a
//! fresh etcd cluster, measures one system at a time (alternating at every workload and client
//! count; etcd only at the workloads it has), and writes results.json, results.md, machine.json,
//! throughput.svg and latency.svg. Sovereign runs secured (TLS and tokens) unless `plaintext`;
//! etcd always runs without TLS; results.md and the output say so. Every process it starts dies
//! with the guard that holds it.

use std::path::Path;
use std::path::PathBuf;
use std::time::Duration;

use crate::driver::Stop;
use crate::error::BenchError;
use crate::etcd::cluster::EtcdCluster;
use crate::etcd::install::etcd_binary;
use crate::limits::CLIENT_COUNTS_MAX;
use crate::limits::DURATION_S_MAX;
use crate::limits::WARMUP_S_MAX;
use crate::machine::MachineFigures;
use crate::report::markdown::markdown;
use crate::report::markdown::Method;
use crate::report::plots::latency_chart;
use crate::report::plots::throughput_chart;
use crate::report::record::results_json;
use crate::report::record::Record;
use crate::run::run_with_servers;
use crate::sovereign::cluster::server_binary;
use crate::sovereign::cluster::SovereignCluster;
use crate::system::check_clients;
use crate::system::connections_for;
use crate::system::seconds;
use crate::system::RunSpec;
use crate::system::SecurityMode;
use crate::system::StartedCluster;
use crate::system::System;
use crate::workload::Workload;

#[derive(Debug, Clone)]
pub struct CompareSpec {
    pub out: PathBuf,
    /// Ascending, without duplicates.
    pub clients: Vec<usize>,
    pub duration: Duration,
    pub warmup: Duration,
    /// Without duplicates, in the order given.
    pub workloads: Vec<Workload>,
    pub connections: Option<usize>,
    pub server_binary: Option<PathBuf>,
    pub etcd_binary: Option<PathBuf>,
    /// Sovereign with `--insecure-plaintext` (no TLS, no tokens), to compare with the secured
    /// default.
    pub plaintext: bool,
}

pub struct CompareOutcome {
    pub machine: MachineFigures,
    pub records: Vec<Record>,
    /// results.md's content.
    pub markdown: String,
}

impl CompareSpec {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        out: PathBuf,
        clients: Vec<usize>,
        duration_s: f64,
        warmup_s: f64,
        workloads: Vec<Workload>,
        connections: Option<usize>,
        server_binary: Option<PathBuf>,
        etcd_binary: Option<PathBuf>,
        plaintext: bool,
    ) -> Result<Self, BenchError> {
        if clients.is_empty() || clients.len() > CLIENT_COUNTS_MAX {
            return Err(BenchError::InvalidArgument(format!("--clients takes 1 to {CLIENT_COUNTS_MAX} counts")));
        }
        let mut clients = clients.into_iter().map(check_clients).collect::<Result<Vec<_>, _>>()?;
        clients.sort_unstable();
        clients.dedup();
        if workloads.is_empty() {
            return Err(BenchError::InvalidArgument("--workloads needs at least one workload".into()));
        }
        let mut unique = Vec::new();
        for workload in workloads {
            if !unique.contains(&workload) {
                unique.push(workload);
            }
        }
        if let Some(max) = clients.last() {
            connections_for(*max, connections)?;
        }
        Ok(Self {
            out,
            clients,
            duration: seconds("duration", duration_s, DURATION_S_MAX, false)?,
            warmup: seconds("warmup", warmup_s, WARMUP_S_MAX, true)?,
            workloads: unique,
            connections,
            server_binary,
            etcd_binary,
            plaintext,
        })
    }

    /// The mode Sovereign's clients use: TLS and the admin token unless `plaintext`.
    pub fn sovereign_security(&self) -> SecurityMode {
        if self.plaintext {
            SecurityMode::Plaintext
        } else {
            SecurityMode::TlsToken
        }
    }

    fn point(
        &self,
        system: System,
        cluster: &impl StartedCluster,
        workload: Workload,
        clients: usize,
    ) -> Result<RunSpec, BenchError> {
        Ok(RunSpec {
            system,
            endpoints: cluster.endpoints(),
            workload,
            clients,
            connections: connections_for(clients, self.connections)?,
            stop: Stop::After(self.duration),
            warmup: self.warmup,
            security: cluster.client_security(),
        })
    }

    fn method(&self) -> Method {
        Method {
            duration_s: self.duration.as_secs_f64(),
            warmup_s: self.warmup.as_secs_f64(),
            connections: self.connections,
            sovereign_security: self.sovereign_security(),
        }
    }
}

fn write(path: &Path, text: &str) -> Result<(), BenchError> {
    std::fs::write(path, text).map_err(|e| BenchError::io(path, e))
}

/// Every output file from the records so far; returns results.md's content.
fn write_outputs(
    out: &Path,
    machine: &MachineFigures,
    method: &Method,
    records: &[Record],
) -> Result<String, BenchError> {
    let text = markdown(machine, method, records);
    write(&out.join("results.json"), &results_json(records)?)?;
    write(&out.join("results.md"), &text)?;
    write(&out.join("throughput.svg"), &throughput_chart(records).render())?;
    write(&out.join("latency.svg"), &latency_chart(records).render())?;
    Ok(text)
}

/// Runs one point against `cluster`, adding its record.
async fn run_point(
    spec: &CompareSpec,
    system: System,
    cluster: &mut impl StartedCluster,
    workload: Workload,
    clients: usize,
    records: &mut Vec<Record>,
) -> Result<(), BenchError> {
    cluster.check_running()?;
    let point = spec.point(system, cluster, workload, clients)?;
    let summary = run_with_servers(&point, &cluster.server_processes()).await?;
    println!("{}", summary.line());
    records.push(Record::from(&summary));
    Ok(())
}

/// Both clusters run side by side, idle but for heartbeats while the other is measured, and the
/// points alternate (Sovereign, then etcd, at each workload and client count): a slow period of
/// the shared disk or CPU then falls on both systems alike instead of on whichever ran then.
async fn run_systems(
    spec: &CompareSpec,
    server: &Path,
    etcd: Option<&Path>,
    work: &Path,
    records: &mut Vec<Record>,
) -> Result<(), BenchError> {
    let mode = spec.sovereign_security();
    println!("== Sovereign: three nodes of {}, security {mode}", server.display());
    let mut sovereign = SovereignCluster::start(server, &work.join("sovereign"), spec.plaintext).await?;
    let started_mode = SecurityMode::of(&sovereign.client_security());
    if started_mode != mode {
        return Err(BenchError::Start {
            system: "Sovereign".into(),
            message: format!(
                "its clients would use {started_mode}, not the {mode} the report states; this is a bug in heap-bench"
            ),
        });
    }
    let mut etcd_cluster = match etcd {
        Some(etcd) => {
            println!(
                "== etcd: three members of {}, security plaintext (no TLS, no authentication: the fair floor)",
                etcd.display()
            );
            Some(EtcdCluster::start(etcd, &work.join("etcd")).await?)
        }
        None => None,
    };
    for workload in spec.workloads.iter().copied() {
        for clients in spec.clients.iter().copied() {
            run_point(spec, System::Sovereign, &mut sovereign, workload, clients, records).await?;
            if let Some(cluster) = etcd_cluster.as_mut().filter(|_| System::Etcd.supports(workload)) {
                run_point(spec, System::Etcd, cluster, workload, clients, records).await?;
            }
        }
    }
    sovereign.check_running()?;
    sovereign.stop()?;
    if let Some(mut cluster) = etcd_cluster {
        cluster.check_running()?;
        cluster.stop()?;
    }
    Ok(())
}

pub async fn compare(spec: &CompareSpec) -> Result<CompareOutcome, BenchError> {
    std::fs::create_dir_all(&spec.out).map_err(|e| BenchError::io(&spec.out, e))?;
    // Both binaries first, so a missing one fails before any measuring.
    let server = server_binary(spec.server_binary.as_deref())?;
    let etcd_needed = spec.workloads.iter().any(|w| System::Etcd.supports(*w));
    let etcd = if etcd_needed { Some(etcd_binary(spec.etcd_binary.as_deref())?) } else { None };

    println!("== machine");
    let out = spec.out.clone();
    let machine = tokio::task::spawn_blocking(move || crate::machine::measure(&out))
        .await
        .map_err(|e| BenchError::InvalidArgument(format!("the machine probe failed: {e}")))??;
    println!("{}", machine.line());
    let machine_json = spec.out.join("machine.json");
    write(&machine_json, &(serde_json::to_string_pretty(&machine)? + "\n"))?;

    let work = spec.out.join("work");
    let mut records = Vec::new();
    let result = run_systems(spec, &server, etcd.as_deref(), &work, &mut records).await;
    // Whatever was measured is written, also when a system failed part-way.
    let text = write_outputs(&spec.out, &machine, &spec.method(), &records)?;
    result?;
    let _ = std::fs::remove_dir(&work);
    Ok(CompareOutcome { machine, records, markdown: text })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(clients: Vec<usize>, workloads: Vec<Workload>) -> Result<CompareSpec, BenchError> {
        CompareSpec::new(PathBuf::from("/tmp/x"), clients, 10.0, 1.0, workloads, None, None, None, false)
    }

    #[test]
    fn client_counts_are_sorted_unique_and_bounded() {
        let checked = spec(vec![64, 1, 8, 1], vec![Workload::Put]).expect("valid");
        assert_eq!(checked.clients, [1, 8, 64]);
        assert!(spec(Vec::new(), vec![Workload::Put]).is_err());
        assert!(spec(vec![0], vec![Workload::Put]).is_err());
        assert!(spec(vec![1; CLIENT_COUNTS_MAX + 1], vec![Workload::Put]).is_err());
        assert!(spec(vec![1], Vec::new()).is_err());
        let unique = spec(vec![1], vec![Workload::Get, Workload::Put, Workload::Get]).expect("valid");
        assert_eq!(unique.workloads, [Workload::Get, Workload::Put]);
    }

    #[test]
    fn sovereign_is_secured_unless_plaintext_is_asked_for() {
        let secured = spec(vec![1], vec![Workload::Put]).expect("valid");
        assert_eq!(secured.sovereign_security(), SecurityMode::TlsToken);
        assert_eq!(secured.method().sovereign_security, SecurityMode::TlsToken);
        let plaintext = CompareSpec { plaintext: true, ..secured };
        assert_eq!(plaintext.method().sovereign_security, SecurityMode::Plaintext);
    }

    #[test]
    fn outputs_are_written_even_without_records() {
        let dir = tempfile::tempdir().expect("temp dir");
        let machine = MachineFigures {
            cores: 2,
            fsync_dir: "d".into(),
            fsync_samples: 1,
            fsync_4k_p50_ms: 0.3,
            fsync_4k_p99_ms: 0.5,
            loopback_samples: 1,
            loopback_rtt_p50_us: 20.0,
            loopback_rtt_p99_us: 40.0,
        };
        let method =
            Method { duration_s: 1.0, warmup_s: 0.0, connections: Some(2), sovereign_security: SecurityMode::TlsToken };
        let text = write_outputs(dir.path(), &machine, &method, &[]).expect("writes");
        assert!(text.contains("2 gRPC connections"));
        for file in ["results.json", "results.md", "throughput.svg", "latency.svg"] {
            assert!(dir.path().join(file).is_file(), "{file} written");
        }
        let json = std::fs::read_to_string(dir.path().join("results.json")).expect("reads");
        assert_eq!(json.trim(), "[]");
    }
}
