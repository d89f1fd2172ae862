//! The `Watch` stream behind client cache invalidation and greedy locks: merges the change feed
//! (which objects each entry changed, which locks it left contended) with the applied index, and
//! sends one `Changes` message per applied batch.

use std::collections::BTreeSet;

use proto::heap as pb;
use tokio::sync::broadcast;
use tokio::sync::mpsc;
use tokio::sync::watch;
use tonic::Status;

use crate::limits::WATCH_CONTENDED_LOCKS_MAX;
use crate::limits::WATCH_IDS_MAX;
use crate::machine_adapter::FeedEvent;

/// What a watcher has seen since its last message.
#[derive(Default)]
struct Pending {
    ids: BTreeSet<u64>,
    /// Locks some entry left held with a queue behind the holder; sorted, so messages are stable.
    contended: BTreeSet<String>,
    reset: bool,
}

impl Pending {
    fn add(&mut self, event: Result<FeedEvent, broadcast::error::TryRecvError>) -> bool {
        match event {
            Ok(FeedEvent::Changed { ids, contended_locks, .. }) => {
                self.ids.extend(ids);
                self.contended.extend(contended_locks);
                // A reset tells the client to drop its cache and give back every greedy lock, so
                // it stands in for both sets.
                if self.ids.len() > WATCH_IDS_MAX || self.contended.len() > WATCH_CONTENDED_LOCKS_MAX {
                    self.reset();
                }
            }
            Ok(FeedEvent::Reset) | Err(broadcast::error::TryRecvError::Lagged(_)) => self.reset(),
            Err(broadcast::error::TryRecvError::Empty) => return false,
            Err(broadcast::error::TryRecvError::Closed) => return false,
        }
        true
    }

    fn reset(&mut self) {
        self.ids.clear();
        self.contended.clear();
        self.reset = true;
    }

    /// The message for everything seen so far, at `applied_index`; leaves nothing pending.
    fn take(&mut self, applied_index: u64) -> pb::Changes {
        pb::Changes {
            applied_index,
            changed_ids: std::mem::take(&mut self.ids).into_iter().collect(),
            reset: std::mem::take(&mut self.reset),
            contended_locks: std::mem::take(&mut self.contended).into_iter().collect(),
        }
    }
}

/// Runs until the client goes away or the node shuts down. Every id changed at or before the
/// applied index of a message is in that message or an earlier one: the feed is published during
/// apply, the applied index after it, and the feed is drained before each message is sent.
pub async fn pump(
    mut events: broadcast::Receiver<FeedEvent>,
    mut applied: watch::Receiver<u64>,
    sender: mpsc::Sender<Result<pb::Changes, Status>>,
) {
    let mut pending = Pending::default();
    // The first message tells the client where the stream starts.
    let mut index = *applied.borrow_and_update();
    loop {
        while pending.add(events.try_recv()) {}
        if sender.send(Ok(pending.take(index))).await.is_err() {
            return;
        }
        tokio::select! {
            changed = applied.changed() => {
                if changed.is_err() {
                    return;
                }
                index = *applied.borrow_and_update();
            }
            () = sender.closed() => return,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn changed(ids: Vec<u64>, names: &[&str]) -> Result<FeedEvent, broadcast::error::TryRecvError> {
        let contended_locks = names.iter().map(|name| name.to_string()).collect();
        Ok(FeedEvent::Changed { log_index: 1, ids, contended_locks })
    }

    #[test]
    fn contended_locks_reach_the_message_once_each_and_sorted() {
        let mut pending = Pending::default();
        assert!(pending.add(changed(vec![7], &["orders", "accounts"])));
        assert!(pending.add(changed(vec![], &["orders"])));
        let message = pending.take(9);
        assert_eq!(message.applied_index, 9);
        assert_eq!(message.changed_ids, vec![7]);
        assert_eq!(message.contended_locks, vec!["accounts".to_string(), "orders".to_string()]);
        assert!(!message.reset);
        assert!(pending.take(10).contended_locks.is_empty(), "a message leaves nothing pending");
    }

    #[test]
    fn too_many_contended_locks_become_a_reset() {
        let mut pending = Pending::default();
        let names: Vec<String> = (0..WATCH_CONTENDED_LOCKS_MAX).map(|number| format!("lock-{number}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        assert!(pending.add(changed(vec![7], &names)));
        assert!(!pending.reset, "exactly the limit still fits");
        assert!(pending.add(changed(vec![], &["one-more"])));
        let message = pending.take(9);
        assert!(message.reset);
        assert!(message.changed_ids.is_empty(), "a reset covers the ids too");
        assert!(message.contended_locks.is_empty(), "a reset covers every lock");
    }

    #[test]
    fn a_reset_drops_contended_locks_seen_before_it() {
        let mut pending = Pending::default();
        assert!(pending.add(changed(vec![], &["orders"])));
        assert!(pending.add(Ok(FeedEvent::Reset)));
        assert!(pending.add(changed(vec![], &["accounts"])));
        let message = pending.take(9);
        assert!(message.reset);
        assert_eq!(message.contended_locks, vec!["accounts".to_string()], "names after the reset are kept");
    }

    /// Long enough for a loaded test machine; the pump answers in microseconds.
    const MESSAGE_TIMEOUT: Duration = Duration::from_secs(30);

    async fn next_message(messages: &mut mpsc::Receiver<Result<pb::Changes, Status>>) -> pb::Changes {
        tokio::time::timeout(MESSAGE_TIMEOUT, messages.recv()).await.expect("no message in time").unwrap().unwrap()
    }

    /// The pump drains the feed before each message, so a name published before the applied index
    /// moves is in the message for that index.
    #[tokio::test]
    async fn the_pump_sends_contended_locks_with_the_applied_index() {
        let (feed, events) = broadcast::channel(16);
        let (applied_sender, applied) = watch::channel(3);
        let (sender, mut messages) = mpsc::channel(4);
        let pump = tokio::spawn(pump(events, applied, sender));
        assert_eq!(next_message(&mut messages).await, pb::Changes { applied_index: 3, ..Default::default() });
        feed.send(FeedEvent::Changed { log_index: 4, ids: vec![], contended_locks: vec!["orders".to_string()] })
            .unwrap();
        applied_sender.send(4).unwrap();
        let message = next_message(&mut messages).await;
        assert_eq!(message.applied_index, 4);
        assert_eq!(message.contended_locks, vec!["orders".to_string()]);
        drop(messages);
        tokio::time::timeout(MESSAGE_TIMEOUT, pump).await.expect("the pump stops when the client goes").unwrap();
    }
}
