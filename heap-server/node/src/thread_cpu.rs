//! The CPU time the calling thread has used (`CLOCK_THREAD_CPUTIME_ID`): what an applied entry
//! costs the state machine itself, apart from wall time, which on a loaded machine also counts
//! the time the thread waited for a core.

use std::time::Duration;

/// CPU time this thread has used since it started (zero if the clock cannot be read).
pub fn thread_cpu_time() -> Duration {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime only writes the timespec we pass, which lives on this stack frame.
    #[allow(unsafe_code)]
    let read = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    if read != 0 {
        return Duration::ZERO;
    }
    Duration::new(u64::try_from(now.tv_sec).unwrap_or(0), u32::try_from(now.tv_nsec).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_thread_uses_cpu_time_and_a_sleeping_one_does_not() {
        let start = thread_cpu_time();
        let mut x: u64 = 1;
        let spin_until = std::time::Instant::now() + Duration::from_millis(30);
        while std::time::Instant::now() < spin_until {
            x = std::hint::black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1));
        }
        let busy = thread_cpu_time() - start;
        assert!(busy >= Duration::from_millis(10), "30 ms of spinning counted {busy:?}");
        let before_sleep = thread_cpu_time();
        std::thread::sleep(Duration::from_millis(50));
        let asleep = thread_cpu_time() - before_sleep;
        assert!(asleep < Duration::from_millis(20), "a 50 ms sleep counted {asleep:?}");
    }
}
