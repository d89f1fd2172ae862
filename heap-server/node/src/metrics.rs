//! The node's metrics in Prometheus text format (`GET /metrics` on `--http-listen`): Raft role,
//! term, indexes and each follower's lag, proposal latency, the heap's sessions, locks, waiters
//! and objects, snapshot activity, the data dir's size and its file system's space, the log's
//! fsync latency and the disk guard's warning and refusal. Rendering only reads: Raft's metrics
//! channel, the state machine under its read lock, statvfs, the data dir's file sizes.

use std::fmt::Write;

use openraft::async_runtime::WatchReceiver;
use openraft::ServerState;

use crate::context::NodeContext;
use crate::disk_guard::DiskLevel;
use crate::disk_space::dir_size_bytes;
use crate::disk_space::disk_space;
use crate::replication::matched_indexes;

/// Appends one gauge family with a single value.
fn gauge(out: &mut String, name: &str, help: &str, value: impl std::fmt::Display) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} gauge");
    let _ = writeln!(out, "{name} {value}");
}

/// Appends one gauge family with one sample per (label value, value).
fn labelled_gauge(out: &mut String, name: &str, help: &str, label: &str, samples: &[(String, u64)]) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} gauge");
    for (label_value, value) in samples {
        let _ = writeln!(out, "{name}{{{label}=\"{label_value}\"}} {value}");
    }
}

fn role_name(state: ServerState) -> &'static str {
    match state {
        ServerState::Leader => "leader",
        ServerState::Follower => "follower",
        ServerState::Candidate => "candidate",
        ServerState::Learner => "learner",
        ServerState::Shutdown => "shutdown",
    }
}

/// The Raft families: role, term, leader, indexes, members, followers' progress.
fn render_raft(node: &NodeContext, out: &mut String) {
    let receiver = node.raft.metrics();
    let metrics = receiver.borrow_watched();
    let index = |id: Option<raft_store::LogId>| id.map(|id| id.index).unwrap_or(0);
    gauge(out, "sovereign_node_id", "This node's id.", node.id);
    let current = role_name(metrics.state);
    let roles: Vec<(String, u64)> = ["leader", "follower", "candidate", "learner", "shutdown"]
        .iter()
        .map(|role| (role.to_string(), u64::from(*role == current)))
        .collect();
    labelled_gauge(out, "sovereign_raft_role", "1 for this node's current Raft role.", "role", &roles);
    gauge(
        out,
        "sovereign_raft_stopped",
        "1 if Raft stopped for good (the node then exits).",
        u64::from(metrics.running_state.is_err()),
    );
    gauge(out, "sovereign_raft_term", "The current term.", metrics.current_term);
    gauge(
        out,
        "sovereign_raft_leader_id",
        "The leader this node knows (0: none).",
        metrics.current_leader.unwrap_or(0),
    );
    gauge(
        out,
        "sovereign_raft_last_log_index",
        "Index of the last entry in this node's log.",
        metrics.last_log_index.unwrap_or(0),
    );
    gauge(out, "sovereign_raft_committed_index", "Highest index known committed.", index(metrics.cluster_committed));
    gauge(out, "sovereign_raft_applied_index", "Highest index applied to the heap.", index(metrics.last_applied));
    gauge(out, "sovereign_raft_snapshot_index", "Last index in this node's snapshot.", index(metrics.snapshot));
    gauge(out, "sovereign_raft_purged_index", "Last index purged from the log.", index(metrics.purged));
    gauge(
        out,
        "sovereign_raft_members",
        "Nodes in the membership (voters and learners).",
        metrics.membership_config.nodes().count(),
    );
    let last = metrics.last_log_index.unwrap_or(0);
    let replication: Vec<(u64, u64)> = matched_indexes(&metrics)
        .into_iter()
        .flatten()
        .filter(|(id, _)| *id != node.id)
        .map(|(id, matched)| (id, matched.unwrap_or(0)))
        .collect();
    let matched: Vec<(String, u64)> = replication.iter().map(|(id, m)| (id.to_string(), *m)).collect();
    let lag: Vec<(String, u64)> = replication.iter().map(|(id, m)| (id.to_string(), last.saturating_sub(*m))).collect();
    labelled_gauge(
        out,
        "sovereign_raft_follower_matched_index",
        "Leader only: the last index each follower has.",
        "node",
        &matched,
    );
    labelled_gauge(
        out,
        "sovereign_raft_follower_lag_entries",
        "Leader only: entries each follower is behind the leader's log.",
        "node",
        &lag,
    );
}

/// The heap families, read under the state machine's read lock.
fn render_heap(node: &NodeContext, out: &mut String) {
    let counts = node.store.read(|machine, _| {
        let heap = &machine.heap;
        let locks = heap.locks();
        let holders: usize = locks.iter().map(|lock| lock.holders.len()).sum();
        let waiters: usize = locks.iter().map(|lock| lock.waiters.len() + lock.condition_waiters.len()).sum();
        (heap.object_count(), heap.roots().len(), heap.sessions().len(), locks.len(), holders, waiters)
    });
    let Ok((objects, roots, sessions, locks, holders, waiters)) = counts else {
        return;
    };
    gauge(out, "sovereign_heap_objects", "Objects in the heap.", objects);
    gauge(out, "sovereign_heap_roots", "Named roots.", roots);
    gauge(out, "sovereign_heap_sessions", "Open client sessions.", sessions);
    gauge(out, "sovereign_heap_locks", "Locks in use (held, queued for or waited on).", locks);
    gauge(out, "sovereign_heap_lock_holders", "Lock holders (a reader per thread, or the writer).", holders);
    gauge(out, "sovereign_heap_lock_waiters", "Threads queued for a lock or waiting on its condition.", waiters);
}

/// The log's sync latency and the disk guard's state (`disk_guard.rs`).
fn render_disk_guard(node: &NodeContext, out: &mut String) {
    node.metrics.log_sync_latency.render(
        "sovereign_log_fsync_seconds",
        "Each fdatasync or fsync of the Raft log (segments, vote and purge files, its directory).",
        out,
    );
    let level = node.disk.level();
    gauge(
        out,
        "sovereign_disk_warning",
        "1 while the data dir's free space is below --disk-warn-free-bytes.",
        u64::from(level >= DiskLevel::Low),
    );
    gauge(
        out,
        "sovereign_disk_writes_refused",
        "1 while free space is below --disk-min-free-bytes: this node refuses new writes if it leads.",
        u64::from(level == DiskLevel::Refusing),
    );
}

/// Every family, as `GET /metrics` returns it.
fn counter(out: &mut String, name: &str, help: &str, value: u64) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}");
}

/// Snapshot activity: builds, installs, and the last snapshot's size (the heap's encoded image
/// size when it was taken).
fn render_snapshots(node: &NodeContext, out: &mut String) {
    let counts = node.store.snapshot_counts();
    counter(out, "sovereign_snapshots_built_total", "Snapshots this node built since it started.", counts.built_total);
    counter(
        out,
        "sovereign_snapshots_installed_total",
        "Snapshots this node installed from a leader since it started.",
        counts.installed_total,
    );
    gauge(
        out,
        "sovereign_snapshot_size_bytes",
        "Encoded size of the last snapshot built or installed: the heap's image size at that point (0: none yet).",
        counts.last_size_bytes,
    );
}

/// The collector: the heap's lifecycle figures and this node's collector figures (`gc/stats.rs`).
fn render_gc(node: &NodeContext, out: &mut String) {
    let Ok(summary) = node.store.read(|machine, _| machine.heap.gc_summary()) else {
        return;
    };
    let figures = node.gc_stats.figures();
    gauge(
        out,
        "sovereign_gc_unreferenced_objects",
        "Objects nothing references or holds (freed next).",
        summary.unreferenced,
    );
    gauge(out, "sovereign_gc_holds", "Objects held by sessions, as (session, object) pairs.", summary.holds);
    gauge(out, "sovereign_gc_ended_holds", "Holds of ended sessions still to be dropped.", summary.ended_holds);
    gauge(
        out,
        "sovereign_gc_decrements_pending",
        "References of freed objects still to be uncounted (a bounded number per Collect entry).",
        summary.decrements_pending,
    );
    counter(
        out,
        "sovereign_gc_freed_objects_total",
        "Objects freed by Collect entries this node applied.",
        figures.freed_total,
    );
    counter(out, "sovereign_gc_collect_steps_total", "Collect entries this node applied.", figures.collect_steps);
    gauge(
        out,
        "sovereign_gc_longest_step_seconds",
        "The longest apply of one Collect entry on this node.",
        figures.longest_step_us as f64 / 1e6,
    );
    gauge(
        out,
        "sovereign_gc_longest_step_cpu_seconds",
        "The most thread CPU time one Collect entry's apply took on this node.",
        figures.longest_step_cpu_us as f64 / 1e6,
    );
    gauge(
        out,
        "sovereign_gc_paused",
        "1 while this node's collector is paused (`heapctl gc pause`): as leader it frees nothing.",
        u64::from(node.gc_trigger.is_paused()),
    );
    counter(out, "sovereign_gc_cycles_total", "Collection cycles this node ran as leader.", figures.cycles);
    gauge(
        out,
        "sovereign_gc_last_cycle_seconds",
        "Duration of the last collection cycle.",
        figures.last_cycle_ms as f64 / 1e3,
    );
    gauge(
        out,
        "sovereign_gc_live_bytes",
        "Encoded bytes of the objects the last cycle's mark reached.",
        figures.live_bytes,
    );
}

pub fn render(node: &NodeContext) -> String {
    let mut out = String::with_capacity(8 * 1024);
    render_raft(node, &mut out);
    node.metrics.proposal_latency.render(
        "sovereign_proposal_seconds",
        "From proposing a command on the leader to its reply (commit on a majority and apply).",
        &mut out,
    );
    render_heap(node, &mut out);
    render_gc(node, &mut out);
    render_snapshots(node, &mut out);
    gauge(
        &mut out,
        "sovereign_data_dir_bytes",
        "Bytes the node's data dir takes on disk (log, state image, snapshots).",
        dir_size_bytes(&node.metrics.data_dir),
    );
    if let Some(space) = disk_space(&node.metrics.data_dir) {
        gauge(&mut out, "sovereign_disk_free_bytes", "Free bytes on the data dir's file system.", space.free_bytes);
        gauge(&mut out, "sovereign_disk_total_bytes", "Size of the data dir's file system.", space.total_bytes);
    }
    render_disk_guard(node, &mut out);
    out
}
