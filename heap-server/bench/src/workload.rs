//! `Workload`: what one measurement does, with its command-line and JSON spellings.

use std::fmt;
use std::str::FromStr;

use crate::error::BenchError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Workload {
    /// A durable write of one 256-byte value to one of `OBJECTS_K` keys/objects.
    Put,
    /// A linearizable read of one of them.
    Get,
    /// Sovereign only: lock, read, write at release (commit at unlock), one lock per client.
    LockUpdate,
    /// Sovereign only: a linearizable read of a 100-object subgraph.
    GraphRead,
}

impl Workload {
    pub const ALL: [Workload; 4] = [Workload::Put, Workload::Get, Workload::LockUpdate, Workload::GraphRead];

    pub fn as_str(self) -> &'static str {
        match self {
            Workload::Put => "put",
            Workload::Get => "get",
            Workload::LockUpdate => "lock-update",
            Workload::GraphRead => "graph-read",
        }
    }
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Workload {
    type Err = BenchError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Workload::ALL.into_iter().find(|w| w.as_str() == text).ok_or_else(|| {
            BenchError::InvalidArgument(format!("unknown workload {text:?}: use put, get, lock-update or graph-read"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for workload in Workload::ALL {
            assert_eq!(workload.as_str().parse::<Workload>().ok(), Some(workload));
        }
        assert!("scan".parse::<Workload>().is_err());
    }
}
