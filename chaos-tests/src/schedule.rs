//! The fault schedule: which fault, when, for how long and against which node, derived only from
//! the seed, the node count, the nemeses chosen and the duration. Printed at the start of a run;
//! the same arguments give the same schedule. Targets such as "the leader" are resolved when the
//! fault is injected (the leader then is whoever leads at that moment).

use std::fmt;
use std::str::FromStr;

use heap_testkit::Prng;

use crate::change::plan;
use crate::change::Change;
use crate::change::VOTERS_MAX;
use crate::change::VOTERS_MIN;

/// The longest election timeout heap-server uses by default (`--election-timeout-max-ms`).
pub const ELECTION_TIMEOUT_MAX_MS: u64 = 200;

/// Quiet time between the end of one fault and the start of the next.
pub const FAULT_GAP_MS_MIN: u64 = 300;
pub const FAULT_GAP_MS_MAX: u64 = 900;
/// How long a SIGKILLed node stays down before it is restarted on its data.
pub const KILL_DOWN_MS_MIN: u64 = 300;
pub const KILL_DOWN_MS_MAX: u64 = 1_500;
/// How long a SIGSTOPped node stays stopped: always past the election timeout, so a paused
/// leader is replaced and wakes up deposed.
pub const PAUSE_MS_MIN: u64 = 700;
pub const PAUSE_MS_MAX: u64 = 1_600;
const _: () = assert!(PAUSE_MS_MIN > ELECTION_TIMEOUT_MAX_MS);
/// How long a partition lasts: long enough for the majority side to elect a leader and commit.
pub const PARTITION_MS_MIN: u64 = 1_000;
pub const PARTITION_MS_MAX: u64 = 2_500;
const _: () = assert!(PARTITION_MS_MIN > ELECTION_TIMEOUT_MAX_MS);
/// How long every node stays down after `restart-all`.
pub const RESTART_ALL_DOWN_MS_MIN: u64 = 100;
pub const RESTART_ALL_DOWN_MS_MAX: u64 = 800;
/// The window of a membership change: the change (a new node's start and catch-up, the commit)
/// is retried within it; it usually completes in a second or two, and the rest is quiet time.
pub const MEMBERSHIP_MS_MIN: u64 = 1_500;
pub const MEMBERSHIP_MS_MAX: u64 = 4_000;
/// Faults one schedule may hold (a 24-hour run at the fastest pacing stays below it).
pub const FAULTS_MAX: usize = 250_000;

/// PRNG stream of the schedule (workers use other streams of the same seed).
const SCHEDULE_STREAM: u64 = 0x5c4e_d01e;

#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    #[error("unknown nemesis {0:?}: use kill-leader, kill-random, pause, partition, restart-all, membership or all")]
    UnknownNemesis(String),
    #[error(
        "no nemesis given: pass --nemesis with at least one of kill-leader, kill-random, pause, partition, \
         restart-all, membership"
    )]
    NoNemesis,
}

/// One kind of fault, as named on the command line and in the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Nemesis {
    KillLeader,
    KillRandom,
    Pause,
    Partition,
    RestartAll,
    /// Membership changes: add, remove or replace a member (`change.rs`).
    Membership,
}

impl Nemesis {
    pub const ALL: [Nemesis; 6] = [
        Nemesis::KillLeader,
        Nemesis::KillRandom,
        Nemesis::Pause,
        Nemesis::Partition,
        Nemesis::RestartAll,
        Nemesis::Membership,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Nemesis::KillLeader => "kill-leader",
            Nemesis::KillRandom => "kill-random",
            Nemesis::Pause => "pause",
            Nemesis::Partition => "partition",
            Nemesis::RestartAll => "restart-all",
            Nemesis::Membership => "membership",
        }
    }

    /// Parses a comma-separated list (`all` = every nemesis); duplicates collapse.
    pub fn parse_list(text: &str) -> Result<Vec<Nemesis>, ScheduleError> {
        let mut list = Vec::new();
        for word in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            if word == "all" {
                list.extend(Nemesis::ALL);
            } else {
                list.push(word.parse()?);
            }
        }
        list.sort();
        list.dedup();
        if list.is_empty() {
            return Err(ScheduleError::NoNemesis);
        }
        Ok(list)
    }
}

impl FromStr for Nemesis {
    type Err = ScheduleError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Nemesis::ALL.into_iter().find(|n| n.name() == text).ok_or_else(|| ScheduleError::UnknownNemesis(text.into()))
    }
}

/// Which node a fault hits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The leader at the moment of injection.
    Leader,
    /// Node `id` of the starting cluster; if it has left the membership by then, the node of
    /// the same rank among those there are (`nemesis::stand_in`).
    Node(u64),
}

/// How a partition divides the cluster. Clients always reach every node; only node-to-node
/// links are cut.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// The current leader alone on one side: it keeps its clients but loses its followers.
    IsolateLeader,
    /// These nodes (a minority) on one side, the rest (a majority) on the other.
    Split { minority: Vec<u64> },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Kill(Target),
    Pause(Target),
    Partition(Shape),
    RestartAll,
    Membership(Change),
}

/// One planned fault: start `at_ms` after the workload starts (later if the previous fault ran
/// over), hold for `hold_ms`, then heal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub index: usize,
    pub at_ms: u64,
    pub nemesis: Nemesis,
    pub action: Action,
    pub hold_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub seed: u64,
    pub nodes: u64,
    pub faults: Vec<Fault>,
}

impl Schedule {
    /// The faults of a run of `duration_ms` with `nodes` nodes (ids 1..=nodes). Membership
    /// changes are planned so that the voter count, as planned, stays within the bounds of
    /// `change.rs` (a change that does not happen leaves the real count where it was; the
    /// nemesis then checks the bounds again against the real membership).
    pub fn generate(seed: u64, nodes: u64, nemeses: &[Nemesis], duration_ms: u64) -> Self {
        assert!(!nemeses.is_empty(), "a schedule needs at least one nemesis");
        assert!(nodes >= 1, "a cluster has at least one node");
        let mut prng = Prng::derive(seed, SCHEDULE_STREAM);
        let ids: Vec<u64> = (1..=nodes).collect();
        let mut voters = nodes.clamp(VOTERS_MIN, VOTERS_MAX);
        let mut faults = Vec::new();
        let mut at_ms = prng.between(FAULT_GAP_MS_MIN, FAULT_GAP_MS_MAX);
        while at_ms < duration_ms && faults.len() < FAULTS_MAX {
            let nemesis = *prng.pick(nemeses);
            let (action, hold_ms) = match nemesis {
                Nemesis::KillLeader => (Action::Kill(Target::Leader), prng.between(KILL_DOWN_MS_MIN, KILL_DOWN_MS_MAX)),
                Nemesis::KillRandom => {
                    (Action::Kill(Target::Node(*prng.pick(&ids))), prng.between(KILL_DOWN_MS_MIN, KILL_DOWN_MS_MAX))
                }
                Nemesis::Pause => {
                    let target = if prng.percent(50) { Target::Leader } else { Target::Node(*prng.pick(&ids)) };
                    (Action::Pause(target), prng.between(PAUSE_MS_MIN, PAUSE_MS_MAX))
                }
                Nemesis::Partition => {
                    let shape = if prng.percent(50) {
                        Shape::IsolateLeader
                    } else {
                        let mut minority = prng.sample(&ids, ((nodes - 1) / 2).max(1) as usize);
                        minority.sort_unstable();
                        Shape::Split { minority }
                    };
                    (Action::Partition(shape), prng.between(PARTITION_MS_MIN, PARTITION_MS_MAX))
                }
                Nemesis::RestartAll => {
                    (Action::RestartAll, prng.between(RESTART_ALL_DOWN_MS_MIN, RESTART_ALL_DOWN_MS_MAX))
                }
                Nemesis::Membership => {
                    let change = plan(&mut prng, voters);
                    voters = change.voters_after(voters);
                    (Action::Membership(change), prng.between(MEMBERSHIP_MS_MIN, MEMBERSHIP_MS_MAX))
                }
            };
            faults.push(Fault { index: faults.len() + 1, at_ms, nemesis, action, hold_ms });
            at_ms += hold_ms + prng.between(FAULT_GAP_MS_MIN, FAULT_GAP_MS_MAX);
        }
        Self { seed, nodes, faults }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Leader => write!(f, "the leader"),
            Target::Node(id) => write!(f, "node {id}"),
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Kill(target) => write!(f, "SIGKILL {target}, restart it"),
            Action::Pause(target) => write!(f, "SIGSTOP {target}, then SIGCONT"),
            Action::Partition(Shape::IsolateLeader) => write!(f, "isolate the leader from its peers"),
            Action::Partition(Shape::Split { minority }) => write!(f, "split off nodes {minority:?} (minority)"),
            Action::RestartAll => write!(f, "SIGKILL every node, restart all"),
            Action::Membership(change) => write!(f, "{change}"),
        }
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "fault schedule for seed {} ({} nodes, {} faults):", self.seed, self.nodes, self.faults.len())?;
        for fault in &self.faults {
            writeln!(
                f,
                "  #{:<4} at {:>8} ms  {:<11} {} for {} ms",
                fault.index,
                fault.at_ms,
                fault.nemesis.name(),
                fault.action,
                fault.hold_ms
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_names_exactly_one_schedule() {
        let a = Schedule::generate(42, 3, &Nemesis::ALL, 60_000);
        let b = Schedule::generate(42, 3, &Nemesis::ALL, 60_000);
        let c = Schedule::generate(43, 3, &Nemesis::ALL, 60_000);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.to_string(), b.to_string());
    }

    #[test]
    fn faults_are_paced_and_bounded() {
        let schedule = Schedule::generate(1, 5, &Nemesis::ALL, 200_000);
        assert!(schedule.faults.len() >= 100, "{} faults in 200 s", schedule.faults.len());
        for pair in schedule.faults.windows(2) {
            assert!(pair[1].at_ms >= pair[0].at_ms + pair[0].hold_ms + FAULT_GAP_MS_MIN);
        }
        for fault in &schedule.faults {
            if let Action::Pause(_) = fault.action {
                assert!(fault.hold_ms > ELECTION_TIMEOUT_MAX_MS);
            }
            if let Action::Partition(Shape::Split { minority }) = &fault.action {
                assert_eq!(minority.len(), 2, "a 2/3 split of five nodes");
            }
        }
        for nemesis in Nemesis::ALL {
            assert!(schedule.faults.iter().any(|f| f.nemesis == nemesis), "{} never scheduled", nemesis.name());
        }
    }

    /// The membership nemesis's changes follow from the seed alone, and the voter count they
    /// plan stays within 3..=5 from either cluster size; every kind of change is planned.
    #[test]
    fn membership_changes_are_seeded_and_keep_three_to_five_voters() {
        for nodes in [3, 5] {
            let a = Schedule::generate(9, nodes, &[Nemesis::Membership], 600_000);
            assert_eq!(a, Schedule::generate(9, nodes, &[Nemesis::Membership], 600_000));
            assert_ne!(a, Schedule::generate(10, nodes, &[Nemesis::Membership], 600_000));
            let mut voters = nodes;
            let mut kinds = std::collections::BTreeSet::new();
            for fault in &a.faults {
                let Action::Membership(change) = fault.action else { panic!("not a membership fault: {fault:?}") };
                assert!(change.allowed_at(voters), "{change} planned at {voters} voters");
                voters = change.voters_after(voters);
                assert!((VOTERS_MIN..=VOTERS_MAX).contains(&voters), "{voters} voters after fault #{}", fault.index);
                assert!((MEMBERSHIP_MS_MIN..=MEMBERSHIP_MS_MAX).contains(&fault.hold_ms));
                kinds.insert(change.kind());
            }
            assert_eq!(kinds.len(), 5, "{nodes} nodes: every kind of change planned: {kinds:?}");
        }
    }

    #[test]
    fn nemesis_lists_parse() {
        assert_eq!(Nemesis::parse_list("all").unwrap(), Nemesis::ALL.to_vec());
        assert_eq!(Nemesis::parse_list("pause, partition,pause").unwrap(), vec![Nemesis::Pause, Nemesis::Partition]);
        assert!(Nemesis::parse_list("").is_err());
        assert!(Nemesis::parse_list("kill-everything").is_err());
        assert_eq!(Nemesis::parse_list("membership").unwrap(), vec![Nemesis::Membership]);
    }
}
