//! The membership nemesis's plan, pure: which change each membership fault makes (add a new node,
//! remove a member, replace a member with a new node), drawn from the schedule's PRNG so that the
//! voter count the plan expects stays within `VOTERS_MIN..=VOTERS_MAX`. Who exactly leaves (the
//! leader, or the follower of a given rank) and the new node's id are resolved when the fault is
//! injected, against the membership in force then.

use std::fmt;

use heap_testkit::Prng;

/// The fewest voters the nemesis leaves: three still survive one more fault.
pub const VOTERS_MIN: u64 = 3;
/// The most voters the nemesis makes: the cluster sizes the chaos runs accept.
pub const VOTERS_MAX: u64 = 5;
const _: () = assert!(VOTERS_MIN < VOTERS_MAX);
/// Share (percent) of removals and replacements that pick the leader rather than a follower.
pub const LEADER_PICK_PERCENT: u64 = 40;
/// Ranks a follower pick draws from (taken modulo the followers there are when injected).
const FOLLOWER_RANKS: u64 = 8;

/// Which member leaves in a removal or replacement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// The leader at the moment of the change (it commits the change, steps down and exits).
    Leader,
    /// The follower of this rank (modulo their count) among the followers in id order.
    Follower(u64),
}

/// One membership change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A new node (a fresh id and address) starts with `--join` and is added (learner, then voter).
    Add,
    /// A member is removed; it exits by itself (status 78).
    Remove(Pick),
    /// A new node takes a member's place in one change; the old one exits by itself.
    Replace(Pick),
}

impl Change {
    /// The voter count after this change from `voters`.
    pub fn voters_after(self, voters: u64) -> u64 {
        match self {
            Change::Add => voters + 1,
            Change::Remove(_) => voters - 1,
            Change::Replace(_) => voters,
        }
    }

    /// Whether this change keeps a cluster of `voters` within `VOTERS_MIN..=VOTERS_MAX`.
    pub fn allowed_at(self, voters: u64) -> bool {
        let after = match self {
            Change::Remove(_) if voters == 0 => return false,
            other => other.voters_after(voters),
        };
        (VOTERS_MIN..=VOTERS_MAX).contains(&after)
    }

    /// The report's finer kind (`membership-add`, `membership-remove-leader`, ...).
    pub fn kind(self) -> &'static str {
        match self {
            Change::Add => "membership-add",
            Change::Remove(Pick::Leader) => "membership-remove-leader",
            Change::Remove(Pick::Follower(_)) => "membership-remove-follower",
            Change::Replace(Pick::Leader) => "membership-replace-leader",
            Change::Replace(Pick::Follower(_)) => "membership-replace-follower",
        }
    }
}

/// A change allowed at `voters` (which must be within the bounds), from `prng`: with the fewest
/// voters only add or replace, with the most only remove or replace.
pub fn plan(prng: &mut Prng, voters: u64) -> Change {
    assert!((VOTERS_MIN..=VOTERS_MAX).contains(&voters), "the plan starts within the voter bounds, not at {voters}");
    let pick =
        if prng.percent(LEADER_PICK_PERCENT) { Pick::Leader } else { Pick::Follower(prng.below(FOLLOWER_RANKS)) };
    let candidates = [Change::Add, Change::Remove(pick), Change::Replace(pick)];
    let allowed: Vec<Change> = candidates.into_iter().filter(|c| c.allowed_at(voters)).collect();
    *prng.pick(&allowed)
}

impl fmt::Display for Pick {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pick::Leader => write!(f, "the leader"),
            Pick::Follower(rank) => write!(f, "follower #{rank}"),
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Add => write!(f, "add a new node"),
            Change::Remove(pick) => write!(f, "remove {pick}"),
            Change::Replace(pick) => write!(f, "replace {pick} with a new node"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plan never leaves the voter bounds, and at each bound it picks only what the bound
    /// allows; over many draws every kind of change appears.
    #[test]
    fn plans_keep_the_voter_count_within_bounds() {
        let mut prng = Prng::new(7);
        let mut voters = VOTERS_MIN;
        let mut kinds = std::collections::BTreeSet::new();
        for _ in 0..2_000 {
            let change = plan(&mut prng, voters);
            if voters == VOTERS_MIN {
                assert!(!matches!(change, Change::Remove(_)), "a removal at {voters} voters");
            }
            if voters == VOTERS_MAX {
                assert_ne!(change, Change::Add, "an addition at {voters} voters");
            }
            voters = change.voters_after(voters);
            assert!((VOTERS_MIN..=VOTERS_MAX).contains(&voters), "{voters} voters after {change}");
            kinds.insert(change.kind());
        }
        assert_eq!(kinds.len(), 5, "every kind of change is planned: {kinds:?}");
    }
}
