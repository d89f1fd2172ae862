//! The busy collector of `gc`'s throughput comparison: one task churning objects (every
//! `CHURN_INTERVAL_MS` a transaction creates `CHURN_ITEMS_PER_TRANSACTION` small objects under a
//! new root, `CHURN_CYCLES_PER_TRANSACTION` garbage cycles, and unbinds the previous root, so
//! the fast path always has garbage), and, unless it churns only, one task calling `GcRun` back
//! to back (a full mark over every live object each time). Both stop on `stop`, the churn
//! unbinding its last root. Churning alone tells the churn's own write load from the cycles'
//! cost.

use std::sync::Arc;
use std::time::Duration;

use heap_client::HeapStub;
use serde::Serialize;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::lifecycle::gc_admin::GcAdmin;
use crate::lifecycle::population::commit;
use crate::lifecycle::population::item_transaction;
use crate::lifecycle::population::root_name;
use crate::lifecycle::population::unbind_transaction;
use crate::limits::CHURN_CYCLES_PER_TRANSACTION;
use crate::limits::CHURN_ERROR_BACKOFF_MS;
use crate::limits::CHURN_INTERVAL_MS;
use crate::limits::CHURN_ITEMS_PER_TRANSACTION;

/// What the busy collector did while it ran.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ChurnFigures {
    pub churn_transactions: u64,
    /// Objects the churn created (items, lists and both halves of every cycle).
    pub churn_objects: u64,
    pub churn_errors: u64,
    /// `GcRun` calls that completed a cycle, and the mean length of those cycles.
    pub gc_runs: u64,
    pub gc_run_errors: u64,
    pub mean_cycle_ms: f64,
}

pub struct BusyCollector {
    stop: watch::Sender<bool>,
    churn: JoinHandle<(u64, u64, u64)>,
    /// None: churning only, no `GcRun` loop.
    runs: Option<JoinHandle<(u64, u64, u64)>>,
}

/// Sleeps `ms`, or less if `stop` turns true; returns whether it did.
async fn stopped_within(stop: &mut watch::Receiver<bool>, ms: u64) -> bool {
    if *stop.borrow() {
        return true;
    }
    tokio::select! {
        _ = stop.changed() => true,
        () = tokio::time::sleep(Duration::from_millis(ms)) => *stop.borrow(),
    }
}

/// Creates and abandons objects until `stop`; returns (transactions, objects, errors).
async fn churn(mut stub: HeapStub, prefix: String, mut stop: watch::Receiver<bool>) -> (u64, u64, u64) {
    let objects_per_transaction = (1 + CHURN_ITEMS_PER_TRANSACTION + 2 * CHURN_CYCLES_PER_TRANSACTION) as u64;
    let (mut committed, mut errors) = (0u64, 0u64);
    let mut index = 0u64;
    loop {
        let root = root_name(&prefix, index);
        let previous = index.checked_sub(1).map(|previous| root_name(&prefix, previous));
        let first_serial = index * CHURN_ITEMS_PER_TRANSACTION as u64;
        let transaction = item_transaction(
            &root,
            CHURN_ITEMS_PER_TRANSACTION,
            first_serial,
            CHURN_CYCLES_PER_TRANSACTION,
            previous.as_deref(),
        );
        let wait = match commit(&mut stub, transaction, "a churn transaction").await {
            Ok(()) => {
                committed += 1;
                index += 1;
                CHURN_INTERVAL_MS
            }
            Err(error) => {
                errors += 1;
                eprintln!("busy collector: {error:#}");
                CHURN_ERROR_BACKOFF_MS
            }
        };
        if stopped_within(&mut stop, wait).await {
            break;
        }
    }
    if let Some(last) = index.checked_sub(1) {
        if let Err(error) =
            commit(&mut stub, unbind_transaction(&prefix, last, last + 1), "the churn's last unbind").await
        {
            eprintln!("busy collector: {error:#}");
        }
    }
    (committed, committed * objects_per_transaction, errors)
}

/// Runs collection cycles back to back until `stop`; returns (cycles, errors, their total ms).
/// A cycle in flight when `stop` comes is finished first, so none outlives the measurement.
async fn run_cycles(admin: Arc<GcAdmin>, mut stop: watch::Receiver<bool>) -> (u64, u64, u64) {
    let (mut runs, mut errors, mut total_ms) = (0u64, 0u64, 0u64);
    while !*stop.borrow() {
        match admin.run_cycle().await {
            Ok(figures) => {
                runs += 1;
                total_ms += figures.last_cycle_ms;
            }
            Err(error) => {
                errors += 1;
                eprintln!("busy collector: {error:#}");
                if stopped_within(&mut stop, CHURN_ERROR_BACKOFF_MS).await {
                    break;
                }
            }
        }
    }
    (runs, errors, total_ms)
}

impl BusyCollector {
    /// Starts the churn, its roots `<prefix>/<i>`, and with `admin` the `GcRun` loop too.
    pub fn start(stub: HeapStub, admin: Option<Arc<GcAdmin>>, prefix: &str) -> Self {
        let (stop, watching) = watch::channel(false);
        let churn = tokio::spawn(churn(stub, prefix.to_string(), watching.clone()));
        let runs = admin.map(|admin| tokio::spawn(run_cycles(admin, watching)));
        Self { stop, churn, runs }
    }

    /// Stops both tasks and returns what they did.
    pub async fn stop(self) -> anyhow::Result<ChurnFigures> {
        let _ = self.stop.send(true);
        let (churn_transactions, churn_objects, churn_errors) = self.churn.await?;
        let (gc_runs, gc_run_errors, total_ms) = match self.runs {
            Some(runs) => runs.await?,
            None => (0, 0, 0),
        };
        let mean_cycle_ms = if gc_runs > 0 { total_ms as f64 / gc_runs as f64 } else { 0.0 };
        Ok(ChurnFigures { churn_transactions, churn_objects, churn_errors, gc_runs, gc_run_errors, mean_cycle_ms })
    }
}
