//! Process-level tests: real heap-server processes on loopback, killed and restarted as users'
//! machines would be. One test binary; each topic in its own file.

mod cluster {
    pub mod forger;
    pub mod support;
    mod t10_basic;
    mod t20_failover;
    mod t30_snapshot;
    mod t32_wiped_node;
    mod t34_restart_from_snapshot;
    mod t35_disk_full;
    mod t36_metrics;
    mod t37_dashboard;
    mod t38_backup;
    mod t39_membership;
    mod t40_bad_input;
    mod t41_gc;
    mod t42_gc_compaction;
    mod t50_heapctl;
    mod t60_locks;
    mod t70_client_support;
    mod t80_heap_client;
    mod t82_client_holds;
    mod t84_greedy_locks;
    mod t86_session_ttl;
    mod t90_security;
    mod t91_credentials;
    mod t92_snapshot_bound;
    mod t95_deploy;
}
