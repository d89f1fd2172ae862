//! `Prng`: SplitMix64, a tiny deterministic generator. Everything random in a run (the fault
//! schedule, each worker's choices, the checker's hash keys) derives from the run's seed through it,
//! so a seed names a schedule exactly.

/// SplitMix64 (Steele, Lea, Flood 2014): one u64 of state, full period, good enough statistics for
/// choosing faults and operations; not for anything cryptographic.
#[derive(Debug, Clone)]
pub struct Prng {
    state: u64,
}

const GOLDEN_GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

impl Prng {
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// An independent generator for `stream` (a worker, the schedule, the checker), so adding a
    /// worker does not change the fault schedule of the same seed.
    pub fn derive(seed: u64, stream: u64) -> Self {
        let mut mixer = Self::new(seed ^ stream.wrapping_mul(GOLDEN_GAMMA).rotate_left(17));
        Self::new(mixer.next_u64())
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN_GAMMA);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..bound` (0 when `bound` is 0). Lemire's multiply-shift; the bias is below
    /// 2^-32 for the small bounds used here.
    pub fn below(&mut self, bound: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(bound)) >> 64) as u64
    }

    /// Uniform in `low..=high`.
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        assert!(low <= high, "empty range {low}..={high}");
        low + self.below(high - low + 1)
    }

    /// True with probability `percent`/100.
    pub fn percent(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        assert!(!items.is_empty(), "pick from an empty slice");
        &items[self.below(items.len() as u64) as usize]
    }

    /// `count` distinct elements of `items`, in random order (Fisher-Yates on a copy).
    pub fn sample<T: Clone>(&mut self, items: &[T], count: usize) -> Vec<T> {
        let mut items = items.to_vec();
        let count = count.min(items.len());
        for i in 0..count {
            let j = i + self.below((items.len() - i) as u64) as usize;
            items.swap(i, j);
        }
        items.truncate(count);
        items
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence_and_streams_differ() {
        let a: Vec<u64> = (0..5)
            .map({
                let mut p = Prng::new(7);
                move |_| p.next_u64()
            })
            .collect();
        let b: Vec<u64> = (0..5)
            .map({
                let mut p = Prng::new(7);
                move |_| p.next_u64()
            })
            .collect();
        assert_eq!(a, b);
        assert_ne!(Prng::derive(7, 1).next_u64(), Prng::derive(7, 2).next_u64());
    }

    #[test]
    fn bounded_draws_stay_in_range() {
        let mut p = Prng::new(1);
        for _ in 0..10_000 {
            assert!(p.below(3) < 3);
            let x = p.between(5, 9);
            assert!((5..=9).contains(&x));
        }
        let sample = p.sample(&[1, 2, 3, 4, 5], 2);
        assert_eq!(sample.len(), 2);
        assert_ne!(sample[0], sample[1]);
    }

    /// The benchmark picks keys with `below`: every key must be reachable (this test came with the
    /// benchmark's own SplitMix64, which this generator replaced).
    #[test]
    fn stays_below_the_bound_and_covers_it() {
        let mut prng = Prng::new(7);
        let mut seen = [false; 10];
        for _ in 0..1_000 {
            let v = prng.below(10) as usize;
            assert!(v < 10);
            seen[v] = true;
        }
        assert!(seen.iter().all(|s| *s), "every value below the bound is drawn: {seen:?}");
    }
}
