//! Threads that spin while `collect-steps` frees garbage: on a cluster node the applying thread
//! shares the cores with the other replicas and the clients, and this shows what that does to
//! the same applies' wall and CPU time.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

pub struct Competition {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Competition {
    /// Starts `threads` spinning threads.
    pub fn start(threads: usize) -> Competition {
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..threads)
            .map(|_| {
                let stop = Arc::clone(&stop);
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::hint::spin_loop();
                    }
                })
            })
            .collect();
        Competition { stop, threads }
    }

    /// Stops the threads and waits for them.
    pub fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads {
            // A spinning thread cannot panic; if one did, the measurement is over anyway.
            let _ = thread.join();
        }
    }
}
