//! The counter check: a counter that starts at 0 and only sees increments must end between the
//! acknowledged increments and the acknowledged plus indeterminate ones. Below: an acknowledged
//! increment was lost. Above: an increment landed twice (exactly-once broken).

use crate::checker::final_read;
use crate::checker::Anomaly;
use crate::checker::AnomalyKind;
use crate::history::Op;
use crate::history::Operation;
use crate::history::Status;

pub fn check(key: &str, ops: &[Operation]) -> Vec<Anomaly> {
    let increments = |status| ops.iter().filter(|o| o.op == Op::Increment && o.status == status).count() as u64;
    let (acknowledged, indeterminate) = (increments(Status::Ok), increments(Status::Indeterminate));
    let Some(Op::Read { value: Some(value) }) = final_read(ops).map(|o| &o.op) else {
        return vec![Anomaly::new(AnomalyKind::MissingFinalRead, key, 1, "the counter was never read at the end")];
    };
    bounds(key, acknowledged, indeterminate, *value).into_iter().collect()
}

/// The anomaly, if `value` is outside `[acknowledged, acknowledged + indeterminate]`.
pub fn bounds(key: &str, acknowledged: u64, indeterminate: u64, value: i64) -> Option<Anomaly> {
    let value = u64::try_from(value).unwrap_or(0);
    let range =
        format!("{acknowledged}..={} (acknowledged..=acknowledged+indeterminate)", acknowledged + indeterminate);
    if value < acknowledged {
        let lost = acknowledged - value;
        Some(Anomaly::new(AnomalyKind::LostWrite, key, lost, format!("ended at {value}, expected {range}")))
    } else if value > acknowledged + indeterminate {
        let extra = value - acknowledged - indeterminate;
        Some(Anomaly::new(AnomalyKind::DuplicatedWrite, key, extra, format!("ended at {value}, expected {range}")))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checker::FINAL_PROCESS;

    fn op(op_id: u64, process: u64, status: Status, op: Op) -> Operation {
        Operation {
            op_id,
            process,
            key: "counter:c".into(),
            invoke_us: op_id,
            complete_us: Some(op_id + 1),
            status,
            op,
        }
    }

    fn history(final_value: i64) -> Vec<Operation> {
        vec![
            op(1, 1, Status::Ok, Op::Increment),
            op(2, 1, Status::Ok, Op::Increment),
            op(3, 2, Status::Indeterminate, Op::Increment),
            op(4, 2, Status::Fail, Op::Increment),
            op(5, FINAL_PROCESS, Status::Ok, Op::Read { value: Some(final_value) }),
        ]
    }

    #[test]
    fn a_final_value_within_bounds_is_clean() {
        assert!(check("counter:c", &history(2)).is_empty());
        assert!(check("counter:c", &history(3)).is_empty());
    }

    #[test]
    fn lost_and_duplicated_increments_are_found() {
        let lost = check("counter:c", &history(1));
        assert_eq!((lost[0].kind, lost[0].count), (AnomalyKind::LostWrite, 1));
        let duplicated = check("counter:c", &history(5));
        assert_eq!((duplicated[0].kind, duplicated[0].count), (AnomalyKind::DuplicatedWrite, 2));
    }

    #[test]
    fn a_counter_never_read_at_the_end_is_reported() {
        let mut ops = history(2);
        ops.pop();
        assert_eq!(check("counter:c", &ops)[0].kind, AnomalyKind::MissingFinalRead);
    }
}
