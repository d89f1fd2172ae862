//! The register workload: per key, linearizable reads, writes of unique values (exactly-once in a
//! session) and compare-and-set through the object's version (`expect` precondition). Checked
//! for linearizability per key.

use heap_client::tx::id_target;
use heap_client::tx::set_field;
use heap_client::tx::transaction;
use proto::heap as pb;

use crate::history::Op;
use crate::workload::int;
use crate::workload::int_value;
use crate::workload::objects::register_key;
use crate::workload::objects::VALUE_FIELD;
use crate::workload::Answer;
use crate::workload::Worker;

/// Operation mix, in percent: reads, then writes; the rest compare-and-set.
const READ_PERCENT: u64 = 40;
const WRITE_PERCENT: u64 = 30;
const _: () = assert!(READ_PERCENT + WRITE_PERCENT <= 100);

pub async fn run(mut worker: Worker) {
    let registers = worker.context.objects.registers.clone();
    while !worker.stopped() {
        let index = worker.prng.below(registers.len() as u64) as usize;
        let choice = worker.prng.below(100);
        if choice < READ_PERCENT {
            read(&mut worker, index, registers[index]).await;
        } else if choice < READ_PERCENT + WRITE_PERCENT {
            write(&mut worker, index, registers[index], None).await;
        } else if let Some((value, version)) = read(&mut worker, index, registers[index]).await {
            write(&mut worker, index, registers[index], Some((value, version))).await;
        }
        worker.think().await;
    }
    worker.finish().await;
}

/// A recorded linearizable read; returns the value and the object's version.
async fn read(worker: &mut Worker, index: usize, id: u64) -> Option<(i64, u64)> {
    let key = register_key(index);
    let pending = worker.history().invoke(worker.process, &key, Op::Read { value: None });
    match worker.read_object(id).await {
        Ok(object) => match int_value(&object) {
            Some(value) => {
                worker.history().ok(pending, Op::Read { value: Some(value) });
                Some((value, object.version))
            }
            None => {
                worker.history().info(pending, format!("register object {id} has no int field: {object:?}"));
                None
            }
        },
        // A read changes nothing: whatever went wrong, it is simply not part of the order.
        Err(e) => {
            worker.history().info(pending, e);
            None
        }
    }
}

/// A write of a fresh unique value; with `expected` (value, version) a compare-and-set.
async fn write(worker: &mut Worker, index: usize, id: u64, expected: Option<(i64, u64)>) {
    let key = register_key(index);
    let new = worker.context.unique();
    let mut tx = transaction(vec![set_field(id_target(id), VALUE_FIELD, int(new))]);
    let op = match expected {
        Some((value, version)) => {
            tx.expect = vec![pb::ExpectVersion { id, version }];
            Op::Cas { expected: value, new }
        }
        None => Op::Write { value: new },
    };
    if worker.session().await.is_none() {
        return;
    }
    let pending = worker.history().invoke(worker.process, &key, op.clone());
    match worker.request(pb::session_request::Command::Transaction(tx)).await {
        Some(Answer::Committed) => worker.history().ok(pending, op),
        Some(Answer::Refused { message, .. }) => worker.history().fail(pending, message),
        Some(Answer::Unknown(message)) => worker.history().info(pending, message),
        Some(other) => worker.history().info(pending, format!("unexpected answer {other:?}")),
        None => worker.history().info(pending, "the session was lost while the run stopped"),
    }
}
