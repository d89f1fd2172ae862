//! The membership plans: which changes go ahead, which are done already, and which are refused
//! with a reason. The scene: voters 1, 2, 3 and learner 4.

use super::*;

fn members() -> Members {
    Members { nodes: (1..=4).map(|id| (id, format!("127.0.0.1:710{id}"))).collect(), voters: BTreeSet::from([1, 2, 3]) }
}

#[test]
fn adding_a_new_node_or_a_learner_catches_up_first_and_a_voter_is_done() {
    assert_eq!(plan_add(&members(), 5, "127.0.0.1:7105"), Ok(AddPlan::CatchUpThenPromote));
    assert_eq!(plan_add(&members(), 4, "127.0.0.1:7104"), Ok(AddPlan::CatchUpThenPromote));
    assert_eq!(plan_add(&members(), 2, "127.0.0.1:7102"), Ok(AddPlan::AlreadyVoter));
}

#[test]
fn adding_is_refused_for_a_member_at_another_address_a_zero_id_and_bad_addresses() {
    assert!(matches!(plan_add(&members(), 2, "127.0.0.1:9999"), Err(PlanError::OtherAddr { id: 2, .. })));
    assert_eq!(plan_add(&members(), 0, "127.0.0.1:7105"), Err(PlanError::ZeroId));
    for bad in ["", "nohost", ":7105", "host:99999", "a b:1", "a:1,b:2", &"x".repeat(300)] {
        assert!(matches!(plan_add(&members(), 5, bad), Err(PlanError::BadAddr(_))), "{bad:?} accepted");
    }
}

#[test]
fn adding_beyond_the_supported_size_is_refused() {
    let mut big = members();
    big.nodes = (1..=PEERS_MAX as u64).map(|id| (id, format!("h:{id}"))).collect();
    assert_eq!(plan_add(&big, PEERS_MAX as u64 + 1, "h:1"), Err(PlanError::TooMany));
}

#[test]
fn removing_a_member_goes_ahead_a_non_member_is_done_and_the_last_voter_stays() {
    assert_eq!(plan_remove(&members(), 2), Ok(true));
    assert_eq!(plan_remove(&members(), 4), Ok(true));
    assert_eq!(plan_remove(&members(), 9), Ok(false));
    let alone = Members { nodes: BTreeMap::from([(1, "h:1".to_string())]), voters: BTreeSet::from([1]) };
    assert_eq!(plan_remove(&alone, 1), Err(PlanError::LastVoter(1)));
}

#[test]
fn replacing_swaps_one_voter_and_is_done_once_swapped() {
    assert_eq!(plan_replace(&members(), 3, 5, "127.0.0.1:7105"), Ok(Some(BTreeSet::from([1, 2, 5]))));
    let swapped = Members {
        nodes: BTreeMap::from([(1, "a:1".into()), (2, "a:2".into()), (5, "127.0.0.1:7105".into())]),
        voters: BTreeSet::from([1, 2, 5]),
    };
    assert_eq!(plan_replace(&swapped, 3, 5, "127.0.0.1:7105"), Ok(None));
}

#[test]
fn replacing_a_learner_or_a_stranger_is_refused() {
    assert_eq!(plan_replace(&members(), 4, 5, "127.0.0.1:7105"), Err(PlanError::NotVoter(4)));
    assert_eq!(plan_replace(&members(), 9, 5, "127.0.0.1:7105"), Err(PlanError::NotMember(9)));
    assert!(matches!(plan_replace(&members(), 3, 2, "127.0.0.1:9999"), Err(PlanError::OtherAddr { .. })));
}
