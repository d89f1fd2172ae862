//! Lock checks. From the clients' view of one write lock: a hold confirmed at both ends (granted,
//! then released while still held) covers at least [grant answered, release sent], and no two
//! such intervals may overlap; a grant answered before another was requested has the smaller
//! token; no token is granted twice. From the lock's own history (its fence log: each holder
//! appends `<token>:begin` and `<token>:end` with its fencing token): tokens never go down along
//! the log, and every token in it was granted.

use std::collections::BTreeMap;
use std::collections::BTreeSet;

use crate::checker::final_read;
use crate::checker::Anomaly;
use crate::checker::AnomalyKind;
use crate::checker::ANOMALY_DETAILS_MAX;
use crate::history::Op;
use crate::history::Operation;
use crate::history::Status;

/// One granted hold as the client saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Hold {
    token: u64,
    acquire_invoke_us: u64,
    acquire_ok_us: u64,
    /// When the release was sent and answered, if it was answered "released" (the hold was
    /// continuous until then: a lost lock answers "not holder").
    released_us: Option<(u64, u64)>,
}

fn holds(ops: &[Operation]) -> Vec<Hold> {
    let mut released: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
    for o in ops {
        if let (Op::Release { token }, Status::Ok, Some(complete_us)) = (&o.op, o.status, o.complete_us) {
            released.insert(*token, (o.invoke_us, complete_us));
        }
    }
    ops.iter()
        .filter_map(|o| match (&o.op, o.status, o.complete_us) {
            (Op::Acquire { token: Some(token) }, Status::Ok, Some(acquire_ok_us)) => Some(Hold {
                token: *token,
                acquire_invoke_us: o.invoke_us,
                acquire_ok_us,
                released_us: released.get(token).copied(),
            }),
            _ => None,
        })
        .collect()
}

/// The client-side checks of one lock's acquires and releases.
pub fn check(key: &str, ops: &[Operation]) -> Vec<Anomaly> {
    let mut holds = holds(ops);
    let mut anomalies = Vec::new();
    anomalies.extend(tokens_granted_twice(key, &holds));
    anomalies.extend(overlapping_holds(key, &holds));
    holds.sort_by_key(|h| h.acquire_ok_us);
    anomalies.extend(tokens_out_of_real_time_order(key, &holds));
    anomalies
}

/// The first `ANOMALY_DETAILS_MAX` findings, for an anomaly's detail.
fn first_details(findings: &[String]) -> String {
    findings.iter().take(ANOMALY_DETAILS_MAX).cloned().collect::<Vec<_>>().join("; ")
}

/// No token is granted twice.
fn tokens_granted_twice(key: &str, holds: &[Hold]) -> Option<Anomaly> {
    let mut seen = BTreeSet::new();
    let twice: Vec<u64> = holds.iter().filter(|h| !seen.insert(h.token)).map(|h| h.token).collect();
    if twice.is_empty() {
        return None;
    }
    let detail = format!("tokens granted more than once: {twice:?}");
    Some(Anomaly::new(AnomalyKind::LockTokenOrder, key, twice.len() as u64, detail))
}

/// Confirmed holds, by grant time: each must begin after every earlier one ended.
fn overlapping_holds(key: &str, holds: &[Hold]) -> Option<Anomaly> {
    let mut confirmed: Vec<(u64, u64, u64)> = holds
        .iter()
        .filter_map(|h| h.released_us.map(|(release_invoke_us, _)| (h.acquire_ok_us, release_invoke_us, h.token)))
        .collect();
    confirmed.sort_unstable();
    let mut overlaps = Vec::new();
    let mut latest_end: Option<(u64, u64)> = None;
    for (start_us, end_us, token) in confirmed {
        if let Some((other_end_us, other_token)) = latest_end {
            if start_us < other_end_us {
                overlaps.push(format!(
                    "token {token} granted at {start_us} us while token {other_token} was held until {other_end_us} us"
                ));
            }
        }
        if latest_end.is_none_or(|(other_end_us, _)| end_us > other_end_us) {
            latest_end = Some((end_us, token));
        }
    }
    if overlaps.is_empty() {
        return None;
    }
    Some(Anomaly::new(AnomalyKind::LockOverlap, key, overlaps.len() as u64, first_details(&overlaps)))
}

/// Grant order follows real time: with `holds` sorted by answer time, every grant requested after
/// an earlier answer must carry a larger token than all of those.
fn tokens_out_of_real_time_order(key: &str, holds: &[Hold]) -> Option<Anomaly> {
    let mut prefix_max = Vec::with_capacity(holds.len());
    let mut max_token = 0;
    for hold in holds {
        max_token = max_token.max(hold.token);
        prefix_max.push(max_token);
    }
    let mut out_of_order = Vec::new();
    for hold in holds {
        // Holds answered strictly before this one was requested.
        let before = holds.partition_point(|h| h.acquire_ok_us < hold.acquire_invoke_us);
        if before > 0 && prefix_max[before - 1] >= hold.token {
            out_of_order.push(format!(
                "token {} requested at {} us after a grant of token {} had been answered",
                hold.token,
                hold.acquire_invoke_us,
                prefix_max[before - 1]
            ));
        }
    }
    if out_of_order.is_empty() {
        return None;
    }
    Some(Anomaly::new(AnomalyKind::LockTokenOrder, key, out_of_order.len() as u64, first_details(&out_of_order)))
}

/// Parses a fence log element `<token>:<phase>`.
pub fn parse_fence_element(element: &str) -> Option<(u64, &str)> {
    let (token, phase) = element.split_once(':')?;
    Some((token.parse().ok()?, phase))
}

/// The lock's own history: its fence log, read at the end, against the grants clients saw.
pub fn check_fence_log(key: &str, log_ops: &[Operation], lock_ops: &[Operation]) -> Vec<Anomaly> {
    let Some(Op::ReadList { elements: Some(elements) }) = final_read(log_ops).map(|o| &o.op) else {
        return Vec::new(); // reported as a missing final read by the durability check
    };
    let granted: BTreeSet<u64> = holds(lock_ops).iter().map(|h| h.token).collect();
    let mut anomalies = Vec::new();
    let mut previous: Option<u64> = None;
    let mut problems = Vec::new();
    for (position, element) in elements.iter().enumerate() {
        let Some((token, _phase)) = parse_fence_element(element) else {
            problems.push(format!("entry {position} ({element:?}) is not <token>:<phase>"));
            continue;
        };
        if !granted.contains(&token) {
            problems.push(format!("entry {position} was written under token {token}, which no client was granted"));
        }
        if let Some(previous) = previous {
            if token < previous {
                problems.push(format!(
                    "entry {position} was written under token {token} after a write under token {previous}: \
                     an older holder wrote after a newer one"
                ));
            }
        }
        previous = Some(previous.map_or(token, |p| p.max(token)));
    }
    if !problems.is_empty() {
        anomalies.push(Anomaly::new(AnomalyKind::FenceOrder, key, problems.len() as u64, first_details(&problems)));
    }
    anomalies
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checker::FINAL_PROCESS;

    fn op(op_id: u64, invoke_us: u64, complete_us: u64, status: Status, op: Op) -> Operation {
        Operation { op_id, process: op_id, key: "lock:l".into(), invoke_us, complete_us: Some(complete_us), status, op }
    }

    /// A hold: acquire [a0, a1] with `token`, release [r0, r1] answered with `release`.
    fn hold(id: u64, token: u64, times: [u64; 4], release: Status) -> Vec<Operation> {
        vec![
            op(id, times[0], times[1], Status::Ok, Op::Acquire { token: Some(token) }),
            op(id + 1, times[2], times[3], release, Op::Release { token }),
        ]
    }

    #[test]
    fn sequential_holds_with_increasing_tokens_are_clean() {
        let mut ops = hold(1, 10, [0, 1, 5, 6], Status::Ok);
        ops.extend(hold(3, 11, [2, 7, 8, 9], Status::Ok));
        assert_eq!(check("lock:l", &ops), vec![]);
    }

    #[test]
    fn overlapping_confirmed_holds_are_a_violation() {
        let mut ops = hold(1, 10, [0, 1, 5, 6], Status::Ok);
        ops.extend(hold(3, 11, [2, 3, 8, 9], Status::Ok));
        let anomalies = check("lock:l", &ops);
        assert_eq!(anomalies[0].kind, AnomalyKind::LockOverlap);
    }

    #[test]
    fn a_lost_hold_may_overlap_the_next() {
        // The first holder's lease ran out: its release answered "not holder".
        let mut ops = hold(1, 10, [0, 1, 5, 6], Status::Fail);
        ops.extend(hold(3, 11, [2, 3, 8, 9], Status::Ok));
        assert_eq!(check("lock:l", &ops), vec![]);
    }

    #[test]
    fn tokens_must_follow_real_time_and_be_unique() {
        let mut ops = hold(1, 11, [0, 1, 2, 3], Status::Ok);
        ops.extend(hold(3, 10, [4, 5, 6, 7], Status::Ok));
        assert_eq!(check("lock:l", &ops)[0].kind, AnomalyKind::LockTokenOrder);
        let mut ops = hold(1, 10, [0, 1, 2, 3], Status::Fail);
        ops.extend(hold(3, 10, [4, 5, 6, 7], Status::Fail));
        assert_eq!(check("lock:l", &ops)[0].kind, AnomalyKind::LockTokenOrder);
    }

    fn log(elements: &[&str]) -> Vec<Operation> {
        let elements = Some(elements.iter().map(|e| e.to_string()).collect());
        vec![Operation {
            op_id: 99,
            process: FINAL_PROCESS,
            key: "fencelog:l".into(),
            invoke_us: 100,
            complete_us: Some(101),
            status: Status::Ok,
            op: Op::ReadList { elements },
        }]
    }

    #[test]
    fn the_fence_log_must_follow_token_order_and_granted_tokens() {
        let mut locks = hold(1, 10, [0, 1, 5, 6], Status::Fail);
        locks.extend(hold(3, 11, [2, 3, 8, 9], Status::Ok));
        // The first holder lost the lock before writing "end": clean.
        assert_eq!(check_fence_log("fencelog:l", &log(&["10:begin", "11:begin", "11:end"]), &locks), vec![]);
        // An old holder writing after the new one: fencing failed.
        let anomalies = check_fence_log("fencelog:l", &log(&["10:begin", "11:begin", "10:end", "11:end"]), &locks);
        assert_eq!((anomalies[0].kind, anomalies[0].count), (AnomalyKind::FenceOrder, 1));
        // A token nobody was granted.
        let anomalies = check_fence_log("fencelog:l", &log(&["12:begin"]), &locks);
        assert_eq!(anomalies[0].kind, AnomalyKind::FenceOrder);
    }
}
