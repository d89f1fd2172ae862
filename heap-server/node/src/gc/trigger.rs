//! `GcTrigger`: the operator's hand on this node's collector. `heapctl gc run` (the `GcRun` call)
//! asks the leader's collector for a cycle now and waits until a cycle that started after its
//! request has finished; `heapctl gc pause|resume` (`GcPause`) stops and restarts every Collect
//! proposal of this node. The pause is node-local and in memory: a node that becomes leader while
//! paused stays paused, a restarted node starts resumed. A leaf: it imports no node module.

use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;

use tokio::sync::watch;
use tokio::sync::Notify;
use tokio::sync::RwLock;
use tokio::sync::RwLockReadGuard;

pub struct GcTrigger {
    /// Requests made so far; request `n` is served by a cycle that starts once it is made.
    requested: AtomicU64,
    wake: Notify,
    /// The highest request number a finished cycle served.
    served: watch::Sender<u64>,
    /// True while an operator has paused the collector.
    paused: watch::Sender<bool>,
    /// Held (shared) by each Collect proposal from its pause check until it is answered, so a
    /// pause can wait (exclusive) until none proposed before it is still in flight.
    in_flight: RwLock<()>,
}

impl Default for GcTrigger {
    fn default() -> Self {
        GcTrigger {
            requested: AtomicU64::new(0),
            wake: Notify::new(),
            served: watch::channel(0).0,
            paused: watch::channel(false).0,
            in_flight: RwLock::new(()),
        }
    }
}

impl GcTrigger {
    /// Asks for a cycle; returns the request's number, to wait for with `served`.
    pub fn request(&self) -> u64 {
        let number = self.requested.fetch_add(1, Ordering::SeqCst) + 1;
        self.wake.notify_one();
        number
    }

    /// Resolves when someone asks for a cycle.
    pub async fn requested(&self) {
        self.wake.notified().await;
    }

    /// Whether a request is waiting; if so, the number a cycle starting now serves.
    pub fn pending(&self) -> Option<u64> {
        let requested = self.requested.load(Ordering::SeqCst);
        (requested > *self.served.borrow()).then_some(requested)
    }

    /// A cycle that started when request `number` was the latest has finished.
    pub fn finished(&self, number: u64) {
        self.served.send_if_modified(|served| {
            let newer = number > *served;
            if newer {
                *served = number;
            }
            newer
        });
    }

    /// Resolves once request `number` has been served.
    pub async fn served(&self, number: u64) {
        let mut served = self.served.subscribe();
        // The sender lives as long as `self`, so the channel cannot close while we wait.
        let _ = served.wait_for(|served| *served >= number).await;
    }

    /// Pauses (`true`) or resumes the collector; returns whether it was paused before. Resuming
    /// wakes the collector, so garbage that waited goes at its next poll.
    pub fn set_paused(&self, paused: bool) -> bool {
        let was_paused = self.paused.send_replace(paused);
        if was_paused && !paused {
            self.wake.notify_one();
        }
        was_paused
    }

    pub fn is_paused(&self) -> bool {
        *self.paused.borrow()
    }

    /// Leave to propose one Collect, held until it is answered; None while paused.
    pub async fn collect_permit(&self) -> Option<RwLockReadGuard<'_, ()>> {
        // The lock first, then the flag: a pause that set the flag and waits in `drained` is
        // queued ahead of this (tokio's lock is fair), so this sees the flag.
        let permit = self.in_flight.read().await;
        (!self.is_paused()).then_some(permit)
    }

    /// Resolves once no Collect proposed before now is in flight (after a pause: none will be).
    pub async fn drained(&self) {
        drop(self.in_flight.write().await);
    }

    /// Resolves once the collector is paused (at once if it is).
    pub async fn until_paused(&self) {
        let mut paused = self.paused.subscribe();
        // The sender lives as long as `self`, so the channel cannot close while we wait.
        let _ = paused.wait_for(|paused| *paused).await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_request_is_served_by_a_cycle_that_starts_after_it() {
        let trigger = Arc::new(GcTrigger::default());
        assert_eq!(trigger.pending(), None);
        let first = trigger.request();
        let second = trigger.request();
        assert_eq!(trigger.pending(), Some(second), "a cycle starting now serves both");
        trigger.finished(second);
        assert_eq!(trigger.pending(), None);
        trigger.served(first).await;
        let third = trigger.request();
        let waiter = {
            let trigger = Arc::clone(&trigger);
            tokio::spawn(async move { trigger.served(third).await })
        };
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished(), "request {third} waits for its cycle");
        trigger.finished(third);
        let served = tokio::time::timeout(Duration::from_secs(5), waiter).await;
        assert!(matches!(served, Ok(Ok(()))), "request {third} is served once its cycle finished");
    }

    #[tokio::test]
    async fn pausing_is_idempotent_and_wakes_whoever_waits_for_it() {
        let trigger = Arc::new(GcTrigger::default());
        assert!(!trigger.is_paused(), "a new node's collector runs");
        let waiter = {
            let trigger = Arc::clone(&trigger);
            tokio::spawn(async move { trigger.until_paused().await })
        };
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished(), "nothing paused the collector yet");
        assert!(!trigger.set_paused(true), "it was running before");
        assert!(trigger.set_paused(true), "a second pause finds it paused");
        assert!(trigger.is_paused());
        let woken = tokio::time::timeout(Duration::from_secs(5), waiter).await;
        assert!(matches!(woken, Ok(Ok(()))), "a waiter learns of the pause");
        assert!(trigger.set_paused(false), "resume reports the pause it ended");
        assert!(!trigger.is_paused());
        let resumed = tokio::time::timeout(Duration::from_secs(5), trigger.requested()).await;
        assert!(resumed.is_ok(), "resuming wakes the collector's loop");
    }

    #[tokio::test]
    async fn a_pause_waits_for_the_collect_in_flight_and_refuses_the_next() {
        let trigger = Arc::new(GcTrigger::default());
        let permit = trigger.collect_permit().await;
        assert!(permit.is_some(), "a running collector may propose");
        trigger.set_paused(true);
        let drained = {
            let trigger = Arc::clone(&trigger);
            tokio::spawn(async move { trigger.drained().await })
        };
        tokio::task::yield_now().await;
        assert!(!drained.is_finished(), "the Collect proposed before the pause is still in flight");
        drop(permit);
        let drained = tokio::time::timeout(Duration::from_secs(5), drained).await;
        assert!(matches!(drained, Ok(Ok(()))), "the pause is drained once that Collect is answered");
        assert!(trigger.collect_permit().await.is_none(), "a paused collector may not propose");
        trigger.set_paused(false);
        assert!(trigger.collect_permit().await.is_some(), "a resumed one may again");
    }
}
