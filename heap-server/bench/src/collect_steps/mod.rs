//! `heap-bench collect-steps`: what one `Command::Collect` entry costs the state machine itself
//! at N live objects, apart from everything a cluster adds (other replicas and clients competing
//! for the cores, the network, the disk). The heap is built in this process (`population.rs`)
//! exactly as transactions build it on a node, then four kinds of garbage are freed the way the
//! leader's collector frees them (`shapes.rs`), every Collect apply timed in wall and thread CPU
//! time (`timing.rs`). Issue 11 asks that no collector entry take more than ~10 ms at 10 million
//! live objects; the cluster figure of `heap-bench gc` includes time the applying thread lost to
//! the other processes, this one does not.

mod competition;
mod population;
mod shapes;
mod timing;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use serde::Serialize;

pub use shapes::ShapeFigures;

/// Most live objects `collect-steps` builds (the heap's own limit is higher; this keeps one
/// process within the machine's memory: about 1.3 GB at 10 million).
pub const COLLECT_STEPS_OBJECTS_MAX: u64 = 20_000_000;
/// Most spinning threads `--competing-threads` starts.
pub const COMPETING_THREADS_MAX: usize = 64;

/// What to measure.
#[derive(Debug, Clone)]
pub struct CollectStepsSpec {
    /// Live small objects under roots while the garbage is freed.
    pub objects: u64,
    /// Where results-collect-steps.json goes.
    pub out: PathBuf,
    /// Threads that spin beside the applying one while the garbage is freed, as the other
    /// replicas and the clients compete for the cores of a cluster node (0: none).
    pub competing_threads: usize,
}

/// Everything `collect-steps` found.
#[derive(Debug, Clone, Serialize)]
pub struct CollectStepsReport {
    pub live_objects: u64,
    pub build_ms: u64,
    pub competing_threads: usize,
    pub shapes: Vec<ShapeFigures>,
}

/// Builds the heap, frees each kind of garbage, writes the report and prints its summary.
pub fn collect_steps(spec: &CollectStepsSpec) -> anyhow::Result<CollectStepsReport> {
    if spec.objects == 0 || spec.objects > COLLECT_STEPS_OBJECTS_MAX {
        anyhow::bail!("--objects {}: give 1 to {COLLECT_STEPS_OBJECTS_MAX}", spec.objects);
    }
    if spec.competing_threads > COMPETING_THREADS_MAX {
        anyhow::bail!("--competing-threads {}: give at most {COMPETING_THREADS_MAX}", spec.competing_threads);
    }
    std::fs::create_dir_all(&spec.out).with_context(|| format!("creating {}", spec.out.display()))?;
    let started = Instant::now();
    let mut heap = population::Population::build(spec.objects)?;
    let build_ms = started.elapsed().as_millis() as u64;
    println!(
        "collect-steps: {} live objects built in {build_ms} ms; {} competing threads while collecting",
        heap.live_objects(),
        spec.competing_threads
    );
    let competition = competition::Competition::start(spec.competing_threads);
    let shapes = shapes::measure_all(&mut heap, shapes::Sizes::BENCH);
    competition.stop();
    let report = CollectStepsReport {
        live_objects: heap.live_objects(),
        build_ms,
        competing_threads: spec.competing_threads,
        shapes: shapes?,
    };
    for shape in &report.shapes {
        println!("{}", shape.summary_line());
    }
    let path = spec.out.join("results-collect-steps.json");
    let json = serde_json::to_string_pretty(&report)?;
    std::fs::write(&path, json).with_context(|| format!("writing {}", path.display()))?;
    println!("collect-steps: results in {}", path.display());
    Ok(report)
}
