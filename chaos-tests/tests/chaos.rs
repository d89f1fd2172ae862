//! Chaos tests with real processes, as CI runs them: the CI profile (every nemesis, at least 100
//! faults, a clean report), the gc profile (collection every second under leader kills and
//! partitions, nothing live collected), the greedy-locks profile (critical sections under leader
//! kills and vanished holders) and the planted bug (stale reads that the checker must catch).
//! One test binary; the tests take turns (one cluster at a time on a 2-core machine).

mod chaos {
    pub mod support;
    mod t05_network;
    mod t10_ci_profile;
    mod t15_gc;
    mod t17_greedy_locks;
    mod t20_planted_bug;
}
