//! chaos-tests: Jepsen-style tests of a real Sovereign cluster. Workers record every operation
//! (invoke / ok / fail / indeterminate) while a seeded nemesis kills, pauses, partitions and
//! restarts heap-server processes and adds, removes and replaces members; checkers then verify
//! linearizability per key (Wing-Gong-Lowe), exactly-once counters, lock exclusion and fencing,
//! durability of every acknowledged write, and that the garbage collector never frees an object
//! still rooted or held and never leaves a reference dangling (the gc workload and checker).

pub mod change;
pub mod checker;
pub mod config;
pub mod endpoints;
pub mod evidence;
pub mod history;
pub mod history_gc;
pub mod nemesis;
pub mod netns;
pub mod report;
pub mod run;
pub mod schedule;
pub mod workload;
