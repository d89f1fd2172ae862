//! heap-bench's tests with real processes: `compare` against real Sovereign and etcd clusters,
//! `memory` and `gc` against real Sovereign clusters, and the refusals of bad input. One test
//! binary; the runs take turns (one cluster at a time on a 2-core machine).

mod bench {
    pub mod support;
    mod t10_compare;
    mod t20_bad_input;
    mod t30_lifecycle;
}
