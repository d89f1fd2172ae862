//! Ids for new objects, taken from ranges leased from the cluster (`AllocateIds`), so creating an
//! object costs no round trip and its id is known before the commit.

/// Ids leased per round trip.
pub const ID_LEASE_SIZE: u32 = 1_000;

#[derive(Default)]
pub struct IdPool {
    next: u64,
    end: u64,
}

impl IdPool {
    /// The next id, or None when the range is used up.
    pub fn take(&mut self) -> Option<u64> {
        if self.next < self.end {
            self.next += 1;
            Some(self.next - 1)
        } else {
            None
        }
    }

    pub fn refill(&mut self, first: u64, count: u32) {
        self.next = first;
        self.end = first + u64::from(count);
    }
}
