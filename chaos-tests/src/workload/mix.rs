//! `Workload`: the workloads a run can mix, as named on the command line (`--workload`) and in
//! the report. Every run creates every workload's objects and reads them back at the end; the
//! mix only decides which workers run. `all` is the CI profile's mix; `greedy-locks` is named
//! on its own: it has its own short run (`t17_greedy_locks`), and its workers would change the
//! load the CI profile was sized for.

use std::str::FromStr;

#[derive(Debug, thiserror::Error)]
pub enum WorkloadNameError {
    #[error("unknown workload {0:?}: use registers, counters, locks, users, gc, greedy-locks or all")]
    Unknown(String),
    #[error(
        "no workload given: pass --workload with at least one of registers, counters, locks, users, gc, greedy-locks"
    )]
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Workload {
    /// Reads, writes and compare-and-set on registers (`registers.rs`).
    Registers,
    /// Exactly-once increments, by compare-and-set and under a lock (`counters.rs`).
    Counters,
    /// Fenced writes under write locks (`locks.rs`).
    Locks,
    /// Users' lock-protected steps on their own and shared objects (`users.rs`).
    Users,
    /// Subgraphs built, held, detached, re-attached and released under collection (`gc.rs`).
    Gc,
    /// Critical sections under greedy cluster locks, several threads per client, holders that
    /// vanish inside a section (`greedy_locks.rs`).
    GreedyLocks,
}

impl Workload {
    /// What `all` picks.
    pub const ALL: [Workload; 5] =
        [Workload::Registers, Workload::Counters, Workload::Locks, Workload::Users, Workload::Gc];
    /// Every workload a name picks.
    const NAMED: [Workload; 6] = [
        Workload::Registers,
        Workload::Counters,
        Workload::Locks,
        Workload::Users,
        Workload::Gc,
        Workload::GreedyLocks,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Workload::Registers => "registers",
            Workload::Counters => "counters",
            Workload::Locks => "locks",
            Workload::Users => "users",
            Workload::Gc => "gc",
            Workload::GreedyLocks => "greedy-locks",
        }
    }

    /// Parses a comma-separated list (`all` = every workload); duplicates collapse.
    pub fn parse_list(text: &str) -> Result<Vec<Workload>, WorkloadNameError> {
        let mut list = Vec::new();
        for word in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            if word == "all" {
                list.extend(Workload::ALL);
            } else {
                list.push(word.parse()?);
            }
        }
        list.sort();
        list.dedup();
        if list.is_empty() {
            return Err(WorkloadNameError::None);
        }
        Ok(list)
    }
}

impl FromStr for Workload {
    type Err = WorkloadNameError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Workload::NAMED.into_iter().find(|w| w.name() == text).ok_or_else(|| WorkloadNameError::Unknown(text.into()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn workload_lists_parse() {
        assert_eq!(Workload::parse_list("all").unwrap(), Workload::ALL.to_vec());
        assert_eq!(Workload::parse_list("gc, registers,gc").unwrap(), vec![Workload::Registers, Workload::Gc]);
        assert!(matches!(Workload::parse_list(""), Err(WorkloadNameError::None)));
        assert!(matches!(Workload::parse_list("gc,objects"), Err(WorkloadNameError::Unknown(_))));
        assert_eq!(Workload::parse_list("greedy-locks").unwrap(), vec![Workload::GreedyLocks]);
        assert!(!Workload::parse_list("all").unwrap().contains(&Workload::GreedyLocks), "all is the CI mix");
    }
}
