//! The asynchronous commit queue without a cluster: sections leave in order, batched whole within
//! the bounds; the overlay shows queued objects until their batch commits; a refused batch drops
//! everything queued after it and is reported once.

use super::*;

fn section(lock: &str, object_id: u64, ops: usize, token: u64) -> Section {
    let op = tx::set_field(tx::id_target(object_id), "n", None);
    Section {
        lock: lock.to_string(),
        ops: vec![op; ops],
        fences: vec![(lock.to_string(), token)],
        created: Vec::new(),
        overlay: vec![pb::Object { id: object_id, ..Default::default() }],
    }
}

fn seqs(batch: &[(u64, Section)]) -> Vec<u64> {
    batch.iter().map(|(seq, _)| *seq).collect()
}

#[tokio::test]
async fn sections_leave_in_order_in_whole_batches_within_the_bounds() {
    let commits = AsyncCommits::default();
    commits.enqueue(section("L", 1, 4_000, 7)).await.unwrap();
    commits.enqueue(section("L", 2, 4_000, 7)).await.unwrap();
    commits.enqueue(section("L", 3, 4_000, 7)).await.unwrap();
    commits.enqueue(section("M", 4, ASYNC_BATCH_OPS_MAX + 1, 9)).await.unwrap();
    let first = commits.next_batch();
    assert_eq!(seqs(&first), vec![1, 2], "a third section would pass {ASYNC_BATCH_OPS_MAX} ops");
    assert!(commits.overlay_get(1).is_some(), "queued changes are visible until committed");
    commits.finish(2, Ok(()));
    assert!(commits.overlay_get(1).is_none() && commits.overlay_get(2).is_none(), "committed: read from the cluster");
    assert!(commits.overlay_get(3).is_some());
    assert_eq!(seqs(&commits.next_batch()), vec![3]);
    commits.finish(3, Ok(()));
    assert_eq!(seqs(&commits.next_batch()), vec![4], "an oversized section goes alone");
    commits.finish(4, Ok(()));
    assert!(commits.next_batch().is_empty());
    commits.drained().await;
    assert!(commits.take_failure().is_none());
}

#[tokio::test]
async fn a_refused_batch_drops_what_was_queued_after_it_and_is_reported_once() {
    let commits = AsyncCommits::default();
    for id in 1..=3 {
        commits.enqueue(section("L", id, 1, 7)).await.unwrap();
    }
    let batch = commits.next_batch();
    assert_eq!(seqs(&batch), vec![1, 2, 3]);
    commits.enqueue(section("L", 4, 1, 7)).await.unwrap();
    let refusal = HeapError::Conflict("lock \"L\" is no longer held with token 7".into());
    commits.finish(3, Err((refusal, "L".into())));
    assert!(commits.next_batch().is_empty(), "section 4 came after the refused ones: dropped");
    assert!(commits.overlay_get(4).is_none() && commits.overlay_get(1).is_none(), "nothing queued is visible");
    commits.drained().await;
    let reported = commits.enqueue(section("L", 5, 1, 8)).await.unwrap_err();
    assert!(
        matches!(&reported, HeapError::Conflict(m) if m.contains("1 critical sections queued after it")),
        "{reported}"
    );
    assert!(commits.take_failure().is_none(), "reported once");
    assert!(commits.next_batch().is_empty(), "the section that got the report was not queued");
}
