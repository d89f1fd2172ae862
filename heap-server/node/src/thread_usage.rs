//! What else the calling thread went through besides using the CPU (`getrusage(RUSAGE_THREAD)`):
//! page faults and context switches. Logged with a slow `Collect` apply, so its wall time can be
//! told apart: involuntary switches are waits for a core, voluntary ones blocking (a page fault
//! behind another thread's `munmap`, a lock), and faults the kernel's share of its CPU time.

/// Counters of the calling thread since it started (all zero if they cannot be read).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ThreadUsage {
    pub minor_faults: u64,
    pub major_faults: u64,
    pub voluntary_switches: u64,
    pub involuntary_switches: u64,
}

impl ThreadUsage {
    pub fn now() -> Self {
        // SAFETY: an all-zero rusage is a valid value of this plain C struct.
        #[allow(unsafe_code)]
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: getrusage only writes the struct we pass, which lives on this stack frame.
        #[allow(unsafe_code)]
        let read = unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut usage) };
        if read != 0 {
            return ThreadUsage::default();
        }
        let count = |value: libc::c_long| u64::try_from(value).unwrap_or(0);
        ThreadUsage {
            minor_faults: count(usage.ru_minflt),
            major_faults: count(usage.ru_majflt),
            voluntary_switches: count(usage.ru_nvcsw),
            involuntary_switches: count(usage.ru_nivcsw),
        }
    }

    /// What happened between `earlier` and `self`.
    pub fn since(&self, earlier: &ThreadUsage) -> ThreadUsage {
        ThreadUsage {
            minor_faults: self.minor_faults.saturating_sub(earlier.minor_faults),
            major_faults: self.major_faults.saturating_sub(earlier.major_faults),
            voluntary_switches: self.voluntary_switches.saturating_sub(earlier.voluntary_switches),
            involuntary_switches: self.involuntary_switches.saturating_sub(earlier.involuntary_switches),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn touching_new_pages_counts_faults_and_sleeping_counts_a_voluntary_switch() {
        const PAGE_BYTES: usize = 4096;
        let pages = 256;
        let length = pages * PAGE_BYTES;
        // A fresh anonymous mapping, not the allocator's memory: its pages are surely untouched
        // (a Vec may reuse pages an earlier test already faulted in, as CI found).
        // SAFETY: a new private anonymous mapping aliases nothing; it is unmapped below.
        #[allow(unsafe_code)]
        let memory = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                length,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(memory, libc::MAP_FAILED, "mmap of {length} bytes failed");
        let before = ThreadUsage::now();
        for page in 0..pages {
            // SAFETY: every offset is inside the mapping of `length` bytes made above.
            #[allow(unsafe_code)]
            unsafe {
                std::ptr::write_volatile(memory.cast::<u8>().add(page * PAGE_BYTES), 1);
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
        let delta = ThreadUsage::now().since(&before);
        // SAFETY: the mapping made above, of that length, is no longer used.
        #[allow(unsafe_code)]
        let unmapped = unsafe { libc::munmap(memory, length) };
        assert_eq!(unmapped, 0, "munmap failed");
        assert!(delta.minor_faults > 0, "touching {pages} fresh pages faulted none: {delta:?}");
        assert!(delta.voluntary_switches > 0, "a sleep is a voluntary switch: {delta:?}");
    }
}
