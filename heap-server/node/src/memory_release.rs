//! Giving memory back to the OS after garbage collection. mimalloc keeps the pages a thread freed
//! in that thread's heap until the thread allocates again, so a node that freed a million objects
//! and then went quiet kept ~35 MiB more than it had before them (leader RSS 1.46x its size
//! before, where issue 11 asks for at most 1.2x). Purging at every free
//! (`MIMALLOC_PURGE_DELAY=0`) returns it to the byte but cost 22% and 42% of get throughput in
//! two of three A/B pairs (docs/benchmarks.md). Instead, once a node has freed `FREED_OBJECTS_MIN` objects since the last release,
//! each runtime worker collects its own mimalloc heap the next time it goes idle (tokio's
//! `on_thread_park`), which is when the cost cannot delay a request.

use std::cell::Cell;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::context::NodeContext;
use crate::periodic::wait_or_stop;

/// How often a node compares what it freed with what it last released.
pub const CHECK_INTERVAL_MS: u64 = 2_000;
/// Fewer freed objects than this are not worth a collection of every worker's heap.
pub const FREED_OBJECTS_MIN: u64 = 1_000;

/// Raised once per release; a worker collects when it has not yet seen the current value.
static RELEASE_EPOCH: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static RELEASED_EPOCH: Cell<u64> = const { Cell::new(0) };
}

/// For tokio's `on_thread_park`: collects this worker's mimalloc heap (and purges freed memory
/// of every thread) once per release. Costs one atomic load when there is nothing to do.
pub fn on_worker_park() {
    let wanted = RELEASE_EPOCH.load(Ordering::Relaxed);
    let due = RELEASED_EPOCH.with(|seen| seen.replace(wanted) != wanted);
    if due {
        collect_this_thread();
    }
}

fn collect_this_thread() {
    // SAFETY: `mi_collect` takes no pointers and may be called from any thread at any time; it
    // only frees memory mimalloc itself holds unused. Harmless where mimalloc is not the global
    // allocator (tests): its own heaps are then empty.
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_collect(true);
    }
}

/// Runs until `stop` turns true, asking the workers to release memory after large frees.
pub async fn run(context: Arc<NodeContext>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut released_at_freed = context.gc_stats.figures().freed_total;
    while wait_or_stop(&mut stop, CHECK_INTERVAL_MS).await {
        let freed = context.gc_stats.figures().freed_total;
        if freed.saturating_sub(released_at_freed) < FREED_OBJECTS_MIN {
            continue;
        }
        released_at_freed = freed;
        RELEASE_EPOCH.fetch_add(1, Ordering::Relaxed);
        // The thread running this task is a worker too: it collects now rather than at its park.
        on_worker_park();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_collects_once_per_release_and_not_again_until_the_next() {
        let seen = || RELEASED_EPOCH.with(Cell::get);
        on_worker_park();
        let before = seen();
        RELEASE_EPOCH.fetch_add(1, Ordering::Relaxed);
        on_worker_park();
        assert_eq!(seen(), before + 1, "collected for the new release");
        on_worker_park();
        assert_eq!(seen(), before + 1, "nothing new to collect");
    }
}
