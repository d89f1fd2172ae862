//! The acknowledgement never passes a request still in flight, whatever order requests end in and
//! however many threads begin them at once.

use std::sync::Arc;

use super::*;

#[test]
fn the_acknowledgement_stops_at_the_oldest_request_in_flight() {
    let sequences = Sequences::default();
    let begin = || sequences.begin().expect("a new sequence");
    let (first, second, third) = (begin(), begin(), begin());
    assert_eq!((first, second, third), (1, 2, 3));
    sequences.end(second);
    assert_eq!(sequences.acknowledged_below(third).expect("acknowledgement"), first, "2 answered, 1 still in flight");
    sequences.end(first);
    assert_eq!(sequences.acknowledged_below(third).expect("acknowledgement"), third);
    sequences.end(third);
    let fourth = sequences.begin().expect("a new sequence");
    assert_eq!(sequences.acknowledged_below(fourth).expect("acknowledgement"), fourth, "everything before it answered");
}

/// Threads begin requests and, as soon as each has its number, check that no acknowledgement any
/// thread computed so far has passed it; then record the acknowledgement it would send. With the
/// number allocated first and marked in flight after, another thread acknowledges past it.
#[test]
fn no_thread_acknowledges_past_a_request_another_thread_just_began() {
    const THREADS: usize = 8;
    const REQUESTS_PER_THREAD: usize = 5_000;
    let sequences = Arc::new(Sequences::default());
    let highest_ack = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let workers: Vec<_> = (0..THREADS)
        .map(|_| {
            let (sequences, highest_ack) = (Arc::clone(&sequences), Arc::clone(&highest_ack));
            std::thread::spawn(move || {
                for _ in 0..REQUESTS_PER_THREAD {
                    let sequence = sequences.begin().expect("a new sequence");
                    // Anyone's acknowledgement so far must not have passed this request.
                    let passed = highest_ack.load(std::sync::atomic::Ordering::SeqCst);
                    assert!(passed <= sequence, "an acknowledgement of {passed} passed request {sequence} in flight");
                    let ack = sequences.acknowledged_below(sequence).expect("acknowledgement");
                    highest_ack.fetch_max(ack, std::sync::atomic::Ordering::SeqCst);
                    sequences.end(sequence);
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("no worker saw an acknowledgement pass its request");
    }
}
