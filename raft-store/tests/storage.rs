//! raft-store's integration tests: openraft's storage conformance suite against the real log and
//! state machine stores, and restart/snapshot behaviour of the state machine store.
#![allow(clippy::unwrap_used)]

mod storage {
    mod t10_log_suite;
    mod t20_state_machine;
    mod t21_runtime_not_blocked;
}
