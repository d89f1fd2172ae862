//! The background task that keeps the cache honest: it follows one node's change stream, evicts
//! every object the stream names, and publishes how far it has read (`seen` applied index). When
//! the stream breaks it drops the whole cache and follows another node. It also delivers the
//! stream's recalls of greedy locks (locks other sessions wait for); a stream that starts or
//! resets may have missed some, so it recalls every greedy lock then.

use std::sync::Arc;
use std::sync::RwLock;
use std::time::Duration;

use tokio::sync::watch;

use super::cache::Cache;
use super::greedy_locks::GreedyLocks;
use crate::cluster::ClusterClient;

/// Pause before following the next node after a stream broke.
const RECONNECT_PAUSE_MS: u64 = 100;

pub async fn run(
    cluster: Arc<ClusterClient>,
    cache: Arc<RwLock<Cache>>,
    seen: Arc<watch::Sender<u64>>,
    greedy: Arc<GreedyLocks>,
) {
    let endpoints = cluster.endpoints().len();
    let mut endpoint = 0;
    loop {
        // Follow the leader when one answers as such: it applies first, so `lock` rarely waits
        // for the stream to reach a grant (a follower lags by up to a heartbeat).
        for index in 0..endpoints {
            if cluster.status_of(index).await.is_ok_and(|status| status.state == "Leader") {
                endpoint = index;
                break;
            }
        }
        if let Ok(mut stream) = cluster.watch_at(endpoint).await {
            // A stream reports changes from its first message on; whatever was cached before it
            // may have changed in between, so the first message drops the cache.
            let mut first = true;
            while let Ok(Some(changes)) = stream.message().await {
                // Evict and advance under one lock, so a reader never caches an object read
                // before a change the watcher has already passed (see `Cache::insert_read_at`).
                if let Ok(mut cache) = cache.write() {
                    if changes.reset || first {
                        cache.clear();
                    }
                    for id in &changes.changed_ids {
                        cache.changed(*id, changes.applied_index);
                    }
                    cache.advance(changes.applied_index);
                }
                if changes.reset || first {
                    greedy.recall_all(changes.applied_index);
                }
                greedy.recall(&changes.contended_locks, changes.applied_index);
                first = false;
                seen.send_modify(|seen| *seen = (*seen).max(changes.applied_index));
            }
        }
        // Changes (and recalls) may have been missed while no stream was followed.
        if let Ok(mut cache) = cache.write() {
            cache.clear();
        }
        greedy.recall_all(*seen.borrow());
        endpoint = (endpoint + 1) % endpoints.max(1);
        tokio::time::sleep(Duration::from_millis(RECONNECT_PAUSE_MS)).await;
    }
}
