//! The `Watch` stream behind client cache invalidation: merges the change feed (which objects each
//! entry changed) with the applied index, and sends one `Changes` message per applied batch.

use std::collections::BTreeSet;

use proto::heap as pb;
use tokio::sync::broadcast;
use tokio::sync::mpsc;
use tokio::sync::watch;
use tonic::Status;

use crate::limits::WATCH_IDS_MAX;
use crate::machine_adapter::FeedEvent;

/// What a watcher has seen since its last message.
#[derive(Default)]
struct Pending {
    ids: BTreeSet<u64>,
    reset: bool,
}

impl Pending {
    fn add(&mut self, event: Result<FeedEvent, broadcast::error::TryRecvError>) -> bool {
        match event {
            Ok(FeedEvent::Changed { ids, .. }) => {
                self.ids.extend(ids);
                if self.ids.len() > WATCH_IDS_MAX {
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
        self.reset = true;
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
        let message = pb::Changes {
            applied_index: index,
            changed_ids: std::mem::take(&mut pending.ids).into_iter().collect(),
            reset: std::mem::take(&mut pending.reset),
        };
        if sender.send(Ok(message)).await.is_err() {
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
