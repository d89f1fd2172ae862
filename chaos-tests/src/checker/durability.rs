//! Durability checks on the state read back after every node is healed: each acknowledged
//! append is in its list exactly once (an indeterminate one at most once, a refused one never,
//! nothing unknown), each register ends on a value no acknowledged later write superseded, and a
//! counter and the list written in the same transactions agree.

use std::collections::BTreeMap;

use crate::checker::final_read;
use crate::checker::Anomaly;
use crate::checker::AnomalyKind;
use crate::checker::REGISTER_INITIAL;
use crate::history::name_of;
use crate::history::Op;
use crate::history::Operation;
use crate::history::Status;

/// Elements named in one anomaly detail.
const ELEMENTS_SHOWN_MAX: usize = 10;

fn shown(elements: &[&str]) -> String {
    let mut text = elements.iter().take(ELEMENTS_SHOWN_MAX).copied().collect::<Vec<_>>().join(", ");
    if elements.len() > ELEMENTS_SHOWN_MAX {
        text.push_str(&format!(" and {} more", elements.len() - ELEMENTS_SHOWN_MAX));
    }
    text
}

/// Appends against the list read at the end.
pub fn check_list(key: &str, ops: &[Operation]) -> Vec<Anomaly> {
    let Some(Op::ReadList { elements: Some(elements) }) = final_read(ops).map(|o| &o.op) else {
        return vec![Anomaly::new(AnomalyKind::MissingFinalRead, key, 1, "the list was never read at the end")];
    };
    let mut present: BTreeMap<&str, u64> = BTreeMap::new();
    for element in elements {
        *present.entry(element.as_str()).or_default() += 1;
    }
    let mut appended: BTreeMap<&str, Status> = BTreeMap::new();
    for o in ops {
        if let Op::Append { element } = &o.op {
            appended.insert(element.as_str(), o.status);
        }
    }
    let mut anomalies = Vec::new();
    let lost: Vec<&str> =
        appended.iter().filter(|(e, s)| **s == Status::Ok && !present.contains_key(*e)).map(|(e, _)| *e).collect();
    if !lost.is_empty() {
        let detail = format!("acknowledged appends missing at the end: {}", shown(&lost));
        anomalies.push(Anomaly::new(AnomalyKind::LostWrite, key, lost.len() as u64, detail));
    }
    let duplicated: Vec<&str> = present.iter().filter(|(_, n)| **n > 1).map(|(e, _)| *e).collect();
    if !duplicated.is_empty() {
        let extra = present.values().filter(|n| **n > 1).map(|n| n - 1).sum();
        let detail = format!("elements present more than once: {}", shown(&duplicated));
        anomalies.push(Anomaly::new(AnomalyKind::DuplicatedWrite, key, extra, detail));
    }
    let phantom: Vec<&str> = present.keys().filter(|e| !appended.contains_key(*e)).copied().collect();
    if !phantom.is_empty() {
        let detail = format!("elements nobody appended: {}", shown(&phantom));
        anomalies.push(Anomaly::new(AnomalyKind::PhantomWrite, key, phantom.len() as u64, detail));
    }
    let refused: Vec<&str> =
        appended.iter().filter(|(e, s)| **s == Status::Fail && present.contains_key(*e)).map(|(e, _)| *e).collect();
    if !refused.is_empty() {
        let detail = format!("appends that were refused are present: {}", shown(&refused));
        anomalies.push(Anomaly::new(AnomalyKind::FailedWriteVisible, key, refused.len() as u64, detail));
    }
    anomalies
}

/// The register's final value against its writes: the write of that value must not have been
/// superseded by an acknowledged write invoked after it completed (each such write was lost).
pub fn check_register(key: &str, ops: &[Operation]) -> Vec<Anomaly> {
    let Some(Op::Read { value: Some(value) }) = final_read(ops).map(|o| &o.op) else {
        return vec![Anomaly::new(AnomalyKind::MissingFinalRead, key, 1, "the register was never read at the end")];
    };
    let written = |o: &&Operation| match o.op {
        Op::Write { value: v } | Op::Cas { new: v, .. } => Some(v),
        _ => None,
    };
    // When the write of the final value completed (0 for the initial value, written before all).
    let written_by_us = if *value == REGISTER_INITIAL {
        Some(0)
    } else {
        match ops.iter().find(|o| written(o) == Some(*value)) {
            // An indeterminate write may have landed any time after its invocation.
            Some(writer) => writer.complete_us,
            // Unwritten values are the linearizability checker's to report.
            None => return Vec::new(),
        }
    };
    let Some(written_us) = written_by_us else {
        return Vec::new();
    };
    let superseding: Vec<String> = ops
        .iter()
        .filter(|o| o.status == Status::Ok && written(o).is_some() && o.invoke_us > written_us)
        .map(|o| o.op_id.to_string())
        .collect();
    if superseding.is_empty() {
        return Vec::new();
    }
    let ids: Vec<&str> = superseding.iter().map(String::as_str).collect();
    let detail = format!(
        "ended on {value}, but acknowledged writes invoked after that value was written are gone (operations {})",
        shown(&ids)
    );
    vec![Anomaly::new(AnomalyKind::LostWrite, key, superseding.len() as u64, detail)]
}

/// `counter:X` and `list:X` are written in the same transactions: at the end the counter equals
/// the list's length.
pub fn check_counters_match_lists(by_key: &BTreeMap<&str, Vec<Operation>>) -> Vec<Anomaly> {
    let mut anomalies = Vec::new();
    for (key, ops) in by_key {
        if !key.starts_with("counter:") {
            continue;
        }
        let Some(list_ops) = by_key.get(format!("list:{}", name_of(key)).as_str()) else {
            continue;
        };
        let counter = final_read(ops).and_then(|o| match o.op {
            Op::Read { value } => value,
            _ => None,
        });
        let length = final_read(list_ops).and_then(|o| match &o.op {
            Op::ReadList { elements } => elements.as_ref().map(Vec::len),
            _ => None,
        });
        if let (Some(counter), Some(length)) = (counter, length) {
            if counter != length as i64 {
                let detail = format!("the counter says {counter} but its list holds {length} elements");
                anomalies.push(Anomaly::new(AnomalyKind::TornTransaction, key, 1, detail));
            }
        }
    }
    anomalies
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::checker::FINAL_PROCESS;

    fn op(op_id: u64, process: u64, status: Status, op: Op) -> Operation {
        let complete_us = (status != Status::Indeterminate).then_some(op_id * 10 + 5);
        Operation { op_id, process, key: "list:l".into(), invoke_us: op_id * 10, complete_us, status, op }
    }

    fn append(op_id: u64, status: Status, element: &str) -> Operation {
        op(op_id, 1, status, Op::Append { element: element.into() })
    }

    fn read_list(op_id: u64, elements: &[&str]) -> Operation {
        let elements = Some(elements.iter().map(|e| e.to_string()).collect());
        op(op_id, FINAL_PROCESS, Status::Ok, Op::ReadList { elements })
    }

    #[test]
    fn a_complete_list_is_clean() {
        let ops = [
            append(1, Status::Ok, "a"),
            append(2, Status::Indeterminate, "b"),
            append(3, Status::Indeterminate, "c"),
            append(4, Status::Fail, "d"),
            read_list(5, &["a", "c"]),
        ];
        assert_eq!(check_list("list:l", &ops), vec![]);
    }

    #[test]
    fn lost_duplicated_phantom_and_refused_elements_are_found() {
        let ops = [
            append(1, Status::Ok, "a"),
            append(2, Status::Ok, "b"),
            append(3, Status::Fail, "d"),
            read_list(5, &["b", "b", "z", "d"]),
        ];
        let kinds: Vec<(AnomalyKind, u64)> = check_list("list:l", &ops).iter().map(|a| (a.kind, a.count)).collect();
        assert_eq!(
            kinds,
            [
                (AnomalyKind::LostWrite, 1),
                (AnomalyKind::DuplicatedWrite, 1),
                (AnomalyKind::PhantomWrite, 1),
                (AnomalyKind::FailedWriteVisible, 1)
            ]
        );
    }

    #[test]
    fn a_register_ending_on_a_superseded_value_lost_writes() {
        let write = |id, status, value| op(id, 1, status, Op::Write { value });
        let final_read = |id, value| op(id, FINAL_PROCESS, Status::Ok, Op::Read { value: Some(value) });
        // 1 then 2 acknowledged in sequence; ending on 1 loses 2.
        let ops = [write(1, Status::Ok, 1), write(2, Status::Ok, 2), final_read(3, 1)];
        assert_eq!(check_register("register:r", &ops)[0].count, 1);
        // Ending on 2 is fine; so is ending on an indeterminate write's value.
        assert!(check_register("register:r", &[write(1, Status::Ok, 1), write(2, Status::Ok, 2), final_read(3, 2)])
            .is_empty());
        let ops = [write(1, Status::Indeterminate, 1), write(2, Status::Ok, 2), final_read(3, 1)];
        assert!(check_register("register:r", &ops).is_empty());
        // Ending on the initial value loses every acknowledged write.
        let ops = [write(1, Status::Ok, 1), write(2, Status::Ok, 2), final_read(3, REGISTER_INITIAL)];
        assert_eq!(check_register("register:r", &ops)[0].count, 2);
    }

    #[test]
    fn a_counter_and_its_list_must_agree() {
        let counter = vec![op(1, FINAL_PROCESS, Status::Ok, Op::Read { value: Some(3) })];
        let list = vec![read_list(2, &["a", "b"])];
        let by_key = BTreeMap::from([("counter:u", counter), ("list:u", list)]);
        assert_eq!(check_counters_match_lists(&by_key)[0].kind, AnomalyKind::TornTransaction);
    }
}
