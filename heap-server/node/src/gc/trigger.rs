//! `GcTrigger`: how `heapctl gc run` (the `GcRun` call) asks the leader's collector for a cycle
//! now and waits until a cycle that started after its request has finished. A leaf: it imports
//! no node module.

use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;

use tokio::sync::watch;
use tokio::sync::Notify;

pub struct GcTrigger {
    /// Requests made so far; request `n` is served by a cycle that starts once it is made.
    requested: AtomicU64,
    wake: Notify,
    /// The highest request number a finished cycle served.
    served: watch::Sender<u64>,
}

impl Default for GcTrigger {
    fn default() -> Self {
        GcTrigger { requested: AtomicU64::new(0), wake: Notify::new(), served: watch::channel(0).0 }
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
}
