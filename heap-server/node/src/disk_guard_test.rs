//! Unit tests of `DiskGuard`: the levels against the thresholds, which commands a low disk
//! refuses, the refusal and warning texts, and the validation of the two settings.
#![allow(clippy::unwrap_used)]

use clap::Parser;

use super::*;
use crate::config::Args;
use crate::config::NodeConfig;

const THRESHOLDS: DiskThresholds = DiskThresholds { warn_free_bytes: 96 * MIB_BYTES, min_free_bytes: 48 * MIB_BYTES };

fn transaction() -> hm::Transaction {
    hm::Transaction { expect: Vec::new(), fences: Vec::new(), ops: Vec::new() }
}

fn session(command: hm::SessionCommand) -> hm::Command {
    hm::Command::Session(hm::SessionRequest {
        session_id: 1,
        caller: hm::Caller { name: "app".into(), admin: false },
        sequence: 1,
        acknowledged_below: 0,
        command,
    })
}

/// A guard on a path statvfs cannot read, so only `record` moves it.
fn guard() -> DiskGuard {
    DiskGuard::new(2, PathBuf::from("/no/such/data/dir"), THRESHOLDS)
}

/// The thresholds are strict lower bounds: exactly the threshold is still on the good side.
#[test]
fn levels_switch_strictly_below_each_threshold() {
    assert_eq!(THRESHOLDS.level(u64::MAX), DiskLevel::Fine);
    assert_eq!(THRESHOLDS.level(96 * MIB_BYTES), DiskLevel::Fine);
    assert_eq!(THRESHOLDS.level(96 * MIB_BYTES - 1), DiskLevel::Low);
    assert_eq!(THRESHOLDS.level(48 * MIB_BYTES), DiskLevel::Low);
    assert_eq!(THRESHOLDS.level(48 * MIB_BYTES - 1), DiskLevel::Refusing);
    assert_eq!(THRESHOLDS.level(0), DiskLevel::Refusing);
}

/// New work is refused; what keeps leases alive, releases locks or is the leader's own duty is not.
#[test]
fn a_low_disk_refuses_new_work_only() {
    use hm::SessionCommand as S;
    let refused = [
        hm::Command::Transaction(transaction()),
        hm::Command::AllocateIds { count: 10 },
        hm::Command::OpenSession { client: "c".into(), ttl_ms: 10_000, owner: "app".into() },
        session(S::Transaction(transaction())),
        session(S::Lock { name: "l".into(), thread: 1, mode: hm::LockMode::Write, timeout_ms: None }),
        session(S::Unlock { name: "l".into(), thread: 1, commit: Some(transaction()) }),
    ];
    let accepted = [
        hm::Command::Tick,
        hm::Command::Grace,
        session(S::KeepAlive),
        session(S::Close),
        session(S::Unlock { name: "l".into(), thread: 1, commit: None }),
        session(S::Wait { name: "l".into(), thread: 1, timeout_ms: Some(10) }),
        session(S::Notify { name: "l".into(), thread: 1, all: true }),
    ];
    for command in &refused {
        assert!(is_refused_when_disk_low(command), "{command:?} should be refused");
    }
    for command in &accepted {
        assert!(!is_refused_when_disk_low(command), "{command:?} should pass");
    }
}

/// Down through both thresholds and back up: the warning appears below warn, writes are refused
/// below min with a message naming the node, its free space, the threshold and the fix, and both
/// clear when space returns. A failed statvfs leaves the level alone.
#[test]
fn the_guard_warns_then_refuses_then_recovers() {
    let guard = guard();
    assert_eq!(guard.free_bytes(), u64::MAX, "an unreadable path refuses nothing");
    let write = hm::Command::Transaction(transaction());
    assert_eq!(guard.record(200 * MIB_BYTES), DiskLevel::Fine);
    assert_eq!(guard.warning(), None);
    assert!(guard.admit(&write).is_ok());

    assert_eq!(guard.record(80 * MIB_BYTES), DiskLevel::Low);
    let warning = guard.warning().expect("a warning below warn");
    assert!(warning.contains("node 2") && warning.contains("80 MiB free") && warning.contains("96 MiB"), "{warning}");
    assert!(guard.admit(&write).is_ok(), "low is only a warning");

    assert_eq!(guard.record(12 * MIB_BYTES), DiskLevel::Refusing);
    let status = guard.admit(&write).unwrap_err();
    assert_eq!(status.code(), tonic::Code::ResourceExhausted);
    for part in ["node 2", "/no/such/data/dir", "12 MiB free", "48 MiB", "--disk-min-free-bytes", "Free disk space"] {
        assert!(status.message().contains(part), "{part:?} missing from {:?}", status.message());
    }
    assert!(guard.admit(&session(hm::SessionCommand::KeepAlive)).is_ok(), "keep-alives pass");
    assert_eq!(guard.warning().as_deref(), Some(status.message()), "status shows the refusal itself");
    assert_eq!(guard.sample(), DiskLevel::Refusing, "a failed statvfs keeps the last sample");

    assert_eq!(guard.record(60 * MIB_BYTES), DiskLevel::Low);
    assert!(guard.admit(&write).is_ok(), "writes accepted again above min");
    assert_eq!(guard.record(97 * MIB_BYTES), DiskLevel::Fine);
    assert_eq!(guard.warning(), None);
}

/// A real data dir is sampled when the guard is made: its free space is known at once.
#[test]
fn a_new_guard_has_sampled_its_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let guard = DiskGuard::new(1, dir.path().to_path_buf(), DiskThresholds { warn_free_bytes: 2, min_free_bytes: 1 });
    assert!(guard.free_bytes() > 0 && guard.free_bytes() < u64::MAX, "{}", guard.free_bytes());
    assert_eq!(guard.level(), DiskLevel::Fine);
}

fn config(extra: &[&str]) -> Result<NodeConfig, crate::config::ConfigError> {
    let mut args =
        vec!["heap-server", "--id", "1", "--peers", "1=127.0.0.1:7101", "--data-dir", "/tmp/x", "--insecure-plaintext"];
    args.extend_from_slice(extra);
    NodeConfig::from_args(Args::parse_from(args))
}

/// The defaults hold; min must keep the floor and stay below warn, with a message saying so.
#[test]
fn the_thresholds_are_validated() {
    let defaults = config(&[]).unwrap();
    assert_eq!(defaults.disk_warn_free_bytes, crate::limits::DISK_WARN_FREE_BYTES_DEFAULT);
    assert_eq!(defaults.disk_min_free_bytes, crate::limits::DISK_MIN_FREE_BYTES_DEFAULT);
    let scaled = config(&["--disk-warn-free-bytes", "100663296", "--disk-min-free-bytes", "50331648"]).unwrap();
    assert_eq!((scaled.disk_warn_free_bytes, scaled.disk_min_free_bytes), (96 * MIB_BYTES, 48 * MIB_BYTES));
    let below_floor = config(&["--disk-min-free-bytes", "1048576"]).unwrap_err().to_string();
    assert!(below_floor.contains("floor"), "{below_floor}");
    let above_warn =
        config(&["--disk-warn-free-bytes", "50331648", "--disk-min-free-bytes", "50331648"]).unwrap_err().to_string();
    assert!(above_warn.contains("below --disk-warn-free-bytes"), "{above_warn}");
}
