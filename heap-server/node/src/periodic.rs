//! The wait between two checks of a node's periodic tasks (snapshot policy, snapshot after
//! collection, memory release), ended early by the node's stop signal.

use std::time::Duration;

/// Waits `interval_ms`, or until `stop` changes. False when the task should end: `stop` turned
/// true, changed, or its sender is gone.
pub async fn wait_or_stop(stop: &mut tokio::sync::watch::Receiver<bool>, interval_ms: u64) -> bool {
    tokio::select! {
        () = tokio::time::sleep(Duration::from_millis(interval_ms)) => !*stop.borrow(),
        _ = stop.changed() => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_wait_goes_on_until_stop_is_sent_or_dropped() {
        let (sender, mut stop) = tokio::sync::watch::channel(false);
        assert!(wait_or_stop(&mut stop, 1).await, "nothing sent: go on");
        sender.send(true).expect("the receiver is alive");
        assert!(!wait_or_stop(&mut stop, 60_000).await, "stop sent: end at once");
        let (sender, mut stop) = tokio::sync::watch::channel(false);
        drop(sender);
        assert!(!wait_or_stop(&mut stop, 60_000).await, "sender gone: end");
    }
}
