//! The counter workload: increments that must land exactly once. `counter:cas` is incremented by
//! a compare-and-set loop on the object version, `counter:locked` by a read-modify-write under a
//! cluster lock with the write committed at release, fenced by the grant's token. Both run in a
//! session, so a retried request applies once.

use heap_client::tx::id_target;
use heap_client::tx::list_push;
use heap_client::tx::set_field;
use heap_client::tx::transaction;
use proto::heap as pb;

use crate::history::Op;
use crate::history::Pending;
use crate::workload::int;
use crate::workload::int_value;
use crate::workload::objects::Guarded;
use crate::workload::objects::COUNTER_CAS_KEY;
use crate::workload::objects::VALUE_FIELD;
use crate::workload::string;
use crate::workload::Answer;
use crate::workload::Worker;
use crate::workload::LOCK_WAIT_MS;

/// Compare-and-set attempts of one increment before it gives up (each lost to a concurrent one).
const CAS_ATTEMPTS_MAX: u32 = 20;

pub async fn run(mut worker: Worker) {
    let locked = worker.context.objects.counter_locked.clone();
    while !worker.stopped() {
        if worker.prng.percent(50) {
            cas_increment(&mut worker).await;
        } else {
            locked_increment(&mut worker, &locked, None).await;
        }
        worker.think().await;
    }
    worker.finish().await;
}

async fn cas_increment(worker: &mut Worker) {
    let id = worker.context.objects.counter_cas;
    if worker.session().await.is_none() {
        return;
    }
    let pending = worker.history().invoke(worker.process, COUNTER_CAS_KEY, Op::Increment);
    for _ in 0..CAS_ATTEMPTS_MAX {
        // Every earlier attempt was refused, so a failure here means nothing was applied.
        let object = match worker.read_object(id).await {
            Ok(object) => object,
            Err(e) => return worker.history().fail(pending, format!("read before the increment failed: {e}")),
        };
        let Some(value) = int_value(&object) else {
            return worker.history().fail(pending, "the counter object has no int value");
        };
        let mut tx = transaction(vec![set_field(id_target(id), VALUE_FIELD, int(value + 1))]);
        tx.expect = vec![pb::ExpectVersion { id, version: object.version }];
        match worker.request(pb::session_request::Command::Transaction(tx)).await {
            Some(Answer::Committed) => return worker.history().ok(pending, Op::Increment),
            Some(answer) if answer.refused_because(pb::RejectionKind::VersionConflict) => continue,
            Some(Answer::Refused { message, .. }) => return worker.history().fail(pending, message),
            Some(Answer::Unknown(message)) => return worker.history().info(pending, message),
            other => return worker.history().info(pending, format!("unexpected answer {other:?}")),
        }
    }
    worker.history().fail(pending, format!("{CAS_ATTEMPTS_MAX} compare-and-set attempts lost to others"))
}

/// Acquires `guarded`'s write lock, reads its counter, and releases the lock committing the
/// counter + 1 (and `element` appended to its list) fenced by the token: one exactly-once
/// read-modify-write under the lock, as a web request would do it.
pub async fn locked_increment(worker: &mut Worker, guarded: &Guarded, element: Option<String>) {
    let Some(token) = acquire(worker, guarded).await else {
        return;
    };
    let history = std::sync::Arc::clone(&worker.context.history);
    let increment = history.invoke(worker.process, &guarded.counter_key(), Op::Increment);
    let append = match (&element, guarded.list) {
        (Some(element), Some(_)) => {
            Some(history.invoke(worker.process, &guarded.list_key(), Op::Append { element: element.clone() }))
        }
        _ => None,
    };
    let complete = |answer: &Answer, increment: Pending, append: Option<Pending>| {
        let mut pendings = vec![(increment, Op::Increment)];
        if let (Some(pending), Some(element)) = (append, &element) {
            pendings.push((pending, Op::Append { element: element.clone() }));
        }
        for (pending, op) in pendings {
            match answer {
                Answer::Committed => history.ok(pending, op),
                Answer::Refused { message, .. } => history.fail(pending, message.clone()),
                Answer::Unknown(message) => history.info(pending, message.clone()),
                other => history.info(pending, format!("unexpected answer {other:?}")),
            }
        }
    };
    let value = match worker.read_object(guarded.counter).await.map(|o| int_value(&o)) {
        Ok(Some(value)) => value,
        other => {
            let reason = Answer::Refused { kind: 0, message: format!("read under the lock failed: {other:?}") };
            complete(&reason, increment, append);
            if worker.has_session() {
                release(worker, guarded, token, None).await;
            }
            return;
        }
    };
    let mut ops = vec![set_field(id_target(guarded.counter), VALUE_FIELD, int(value + 1))];
    if let (Some(element), Some(list)) = (&element, guarded.list) {
        ops.push(list_push(id_target(list), string(element)));
    }
    let mut tx = transaction(ops);
    tx.fences = vec![pb::Fence { lock: guarded.lock_name().to_string(), token }];
    let answer = release(worker, guarded, token, Some(tx)).await;
    complete(&answer, increment, append);
    if matches!(answer, Answer::Refused { .. })
        && !answer.refused_because(pb::RejectionKind::StaleFence)
        && worker.has_session()
    {
        // A refused commit leaves the lock held (if it still is ours): release it plainly.
        release(worker, guarded, token, None).await;
    }
}

/// Acquires `guarded`'s write lock (waiting at most `LOCK_WAIT_MS`), recorded; the token if granted.
pub async fn acquire(worker: &mut Worker, guarded: &Guarded) -> Option<u64> {
    worker.session().await?;
    let pending = worker.history().invoke(worker.process, &guarded.lock_key(), Op::Acquire { token: None });
    let command = pb::session_request::Command::Lock(pb::Lock {
        name: guarded.lock_name().to_string(),
        thread: 1,
        mode: pb::LockMode::Write as i32,
        timeout_ms: Some(LOCK_WAIT_MS),
    });
    match worker.request(command).await {
        Some(Answer::Granted(token)) => {
            worker.history().ok(pending, Op::Acquire { token: Some(token) });
            Some(token)
        }
        Some(Answer::LockTimedOut) => {
            worker.history().fail(pending, format!("not granted within {LOCK_WAIT_MS} ms"));
            None
        }
        Some(Answer::Refused { message, .. }) => {
            worker.history().fail(pending, message);
            None
        }
        Some(other) => {
            worker.history().info(pending, format!("{other:?}"));
            None
        }
        None => {
            worker.history().info(pending, "the session was lost while the run stopped");
            None
        }
    }
}

/// Releases the lock (committing `commit` in the same entry), recorded; the answer.
pub async fn release(worker: &mut Worker, guarded: &Guarded, token: u64, commit: Option<pb::Transaction>) -> Answer {
    let pending = worker.history().invoke(worker.process, &guarded.lock_key(), Op::Release { token });
    let command =
        pb::session_request::Command::Unlock(pb::Unlock { name: guarded.lock_name().to_string(), thread: 1, commit });
    let answer = worker.request(command).await.unwrap_or_else(|| Answer::Unknown("no session".into()));
    match &answer {
        Answer::Committed => worker.history().ok(pending, Op::Release { token }),
        Answer::Refused { message, .. } => worker.history().fail(pending, message.clone()),
        other => worker.history().info(pending, format!("{other:?}")),
    }
    answer
}
