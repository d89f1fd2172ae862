//! The objects the lifecycle scenarios create and abandon, streamed so the load generator's
//! memory does not grow with `--objects`: transaction `i` creates a list bound to root
//! `<prefix>/<i>` and `batch` small items in it (`demo.Item{count, name, price}`: an int, a short
//! string, a float); garbage cycles are pairs of objects referencing each other that no root
//! reaches; abandoning unbinds the roots, up to `UNBINDS_PER_TRANSACTION` per transaction.

use std::time::Duration;
use std::time::Instant;

use anyhow::Context;
use heap_client::tx;
use heap_client::HeapStub;
use proto::heap as pb;
use serde::Serialize;
use tokio::task::JoinSet;

use crate::limits::CREATE_TRANSACTIONS_IN_FLIGHT;
use crate::limits::GARBAGE_CYCLES_PER_TRANSACTION;
use crate::limits::LIFECYCLE_REQUEST_TIMEOUT_MS;
use crate::limits::PROGRESS_INTERVAL_MS;
use crate::limits::UNBINDS_PER_TRANSACTION;

pub const ITEM_CLASS: &str = "demo.Item";
pub const ITEM_LIST_CLASS: &str = "heap-bench.ItemList";
pub const CYCLE_CLASS: &str = "heap-bench.CycleNode";
/// The list of a creating transaction has this handle; its items follow it.
const LIST_HANDLE: u32 = 0;

/// The root of creating transaction `index` under `prefix`.
pub fn root_name(prefix: &str, index: u64) -> String {
    format!("{prefix}/{index}")
}

/// How many creating transactions `objects` items take at `batch` per transaction, and how
/// many items transaction `index` creates (the last one may be short).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemPlan {
    pub objects: u64,
    pub batch: usize,
}

impl ItemPlan {
    pub fn transactions(&self) -> u64 {
        self.objects.div_ceil(self.batch as u64)
    }

    pub fn items_in(&self, index: u64) -> usize {
        let before = index * self.batch as u64;
        self.objects.saturating_sub(before).min(self.batch as u64) as usize
    }
}

/// Next free handle of a transaction being built.
struct Handles(u32);

impl Handles {
    fn next(&mut self) -> u32 {
        let handle = self.0;
        self.0 += 1;
        handle
    }
}

/// The ops of one item with `serial` (its number in the whole population), pushed into `list`.
fn push_item(ops: &mut Vec<pb::Op>, handles: &mut Handles, list: u32, serial: u64) {
    let handle = handles.next();
    let field = |name: &str, kind| tx::set_field(tx::new_target(handle), name, tx::value(kind));
    ops.push(tx::create(handle, ITEM_CLASS, pb::ObjectKind::Fields));
    ops.push(field("count", pb::value::Kind::IntValue(serial as i64)));
    ops.push(field("name", pb::value::Kind::StringValue(format!("i{serial}"))));
    ops.push(field("price", pb::value::Kind::FloatValue(serial as f64 / 100.0)));
    ops.push(tx::list_push(tx::new_target(list), tx::value(pb::value::Kind::NewRef(handle))));
}

/// The ops of `cycles` garbage cycles: two objects referencing each other, unrooted.
fn push_cycles(ops: &mut Vec<pb::Op>, handles: &mut Handles, cycles: usize) {
    for _ in 0..cycles {
        let (a, b) = (handles.next(), handles.next());
        ops.push(tx::create(a, CYCLE_CLASS, pb::ObjectKind::Fields));
        ops.push(tx::create(b, CYCLE_CLASS, pb::ObjectKind::Fields));
        ops.push(tx::set_field(tx::new_target(a), "next", tx::value(pb::value::Kind::NewRef(b))));
        ops.push(tx::set_field(tx::new_target(b), "next", tx::value(pb::value::Kind::NewRef(a))));
    }
}

/// A list bound to `root` with `items` items numbered from `first_serial`; then `cycles`
/// garbage cycles, and the unbinding of `unbind` (the churn's previous root), if given.
pub fn item_transaction(
    root: &str,
    items: usize,
    first_serial: u64,
    cycles: usize,
    unbind: Option<&str>,
) -> pb::Transaction {
    let mut handles = Handles(LIST_HANDLE + 1);
    let mut ops = Vec::with_capacity(3 + 5 * items + 4 * cycles);
    ops.push(tx::create(LIST_HANDLE, ITEM_LIST_CLASS, pb::ObjectKind::List));
    ops.push(tx::bind_root(root, tx::new_target(LIST_HANDLE)));
    for serial in first_serial..first_serial + items as u64 {
        push_item(&mut ops, &mut handles, LIST_HANDLE, serial);
    }
    push_cycles(&mut ops, &mut handles, cycles);
    if let Some(previous) = unbind {
        ops.push(tx::unbind_root(previous));
    }
    tx::transaction(ops)
}

pub fn garbage_cycles_transaction(cycles: usize) -> pb::Transaction {
    let mut ops = Vec::with_capacity(4 * cycles);
    push_cycles(&mut ops, &mut Handles(0), cycles);
    tx::transaction(ops)
}

/// Unbinds the roots of creating transactions `first..end` under `prefix`.
pub fn unbind_transaction(prefix: &str, first: u64, end: u64) -> pb::Transaction {
    tx::transaction((first..end).map(|index| tx::unbind_root(&root_name(prefix, index))).collect())
}

/// Commits `transaction`; anything but `Committed` is an error saying what came back.
pub async fn commit(stub: &mut HeapStub, transaction: pb::Transaction, what: &str) -> anyhow::Result<()> {
    let request = pb::CommitRequest { transaction: Some(transaction) };
    let answer = tokio::time::timeout(Duration::from_millis(LIFECYCLE_REQUEST_TIMEOUT_MS), stub.commit(request))
        .await
        .map_err(|_| anyhow::anyhow!("no answer within {LIFECYCLE_REQUEST_TIMEOUT_MS} ms"))
        .with_context(|| format!("{what}: is the cluster overloaded or without a leader?"))?
        .map_err(|status| anyhow::anyhow!("{:?}: {}", status.code(), status.message()))
        .with_context(|| format!("{what} failed (a leader change during the run makes this; run again)"))?;
    match answer.into_inner().result {
        Some(pb::commit_response::Result::Committed(_)) => Ok(()),
        other => anyhow::bail!("{what} was not committed: {other:?}"),
    }
}

/// What a stream of transactions did, and how fast.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Throughput {
    /// Objects the transactions created (items and lists, or both halves of every cycle).
    pub objects: u64,
    pub transactions: u64,
    pub elapsed_s: f64,
    pub objects_per_s: f64,
    pub transactions_per_s: f64,
}

impl Throughput {
    fn new(objects: u64, transactions: u64, elapsed: Duration) -> Self {
        let elapsed_s = elapsed.as_secs_f64();
        let rate = |count: u64| if elapsed_s > 0.0 { count as f64 / elapsed_s } else { 0.0 };
        Self { objects, transactions, elapsed_s, objects_per_s: rate(objects), transactions_per_s: rate(transactions) }
    }
}

/// Commits `count` transactions, `make(i)` building the i-th, with up to
/// `CREATE_TRANSACTIONS_IN_FLIGHT` in flight; a progress line on stderr about once a second.
async fn stream(
    stub: &HeapStub,
    count: u64,
    label: &str,
    make: impl Fn(u64) -> pb::Transaction,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let mut in_flight = JoinSet::new();
    let mut next = 0;
    let mut done = 0u64;
    let mut shown = Instant::now();
    while done < count {
        while next < count && in_flight.len() < CREATE_TRANSACTIONS_IN_FLIGHT {
            let (mut stub, transaction, what) = (stub.clone(), make(next), format!("{label} transaction {next}"));
            in_flight.spawn(async move { commit(&mut stub, transaction, &what).await });
            next += 1;
        }
        match in_flight.join_next().await {
            Some(joined) => joined.context("a committing task failed")??,
            None => anyhow::bail!("{label}: nothing in flight before the end; this is a bug in heap-bench"),
        }
        done += 1;
        if shown.elapsed() >= Duration::from_millis(PROGRESS_INTERVAL_MS) {
            eprintln!("[{label}] {done}/{count} transactions, {:.0} s", started.elapsed().as_secs_f64());
            shown = Instant::now();
        }
    }
    Ok(started.elapsed())
}

/// Creates `plan.objects` items under roots `<prefix>/<i>`.
pub async fn create_items(stub: &HeapStub, prefix: &str, plan: ItemPlan) -> anyhow::Result<Throughput> {
    let make = |index: u64| {
        item_transaction(&root_name(prefix, index), plan.items_in(index), index * plan.batch as u64, 0, None)
    };
    let transactions = plan.transactions();
    let elapsed = stream(stub, transactions, &format!("create {prefix}"), make).await?;
    Ok(Throughput::new(plan.objects + transactions, transactions, elapsed))
}

/// Creates `cycles` garbage cycles.
pub async fn create_garbage_cycles(stub: &HeapStub, cycles: u64) -> anyhow::Result<Throughput> {
    let per = GARBAGE_CYCLES_PER_TRANSACTION as u64;
    let transactions = cycles.div_ceil(per);
    let make = |index: u64| garbage_cycles_transaction(cycles.saturating_sub(index * per).min(per) as usize);
    let elapsed = stream(stub, transactions, "garbage cycles", make).await?;
    Ok(Throughput::new(2 * cycles, transactions, elapsed))
}

/// Unbinds the roots of `plan`'s transactions under `prefix`; `objects` in the answer counts
/// the roots unbound.
pub async fn abandon(stub: &HeapStub, prefix: &str, plan: ItemPlan) -> anyhow::Result<Throughput> {
    let roots = plan.transactions();
    let per = UNBINDS_PER_TRANSACTION as u64;
    let transactions = roots.div_ceil(per);
    let make = |index: u64| unbind_transaction(prefix, index * per, ((index + 1) * per).min(roots));
    let elapsed = stream(stub, transactions, &format!("abandon {prefix}"), make).await?;
    Ok(Throughput::new(roots, transactions, elapsed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::ITEMS_PER_TRANSACTION_MAX;
    use crate::limits::OPS_PER_ITEM;
    use crate::limits::OPS_PER_ITEM_TRANSACTION_BASE;

    fn count(transaction: &pb::Transaction, matches: fn(&pb::op::Op) -> bool) -> usize {
        transaction.ops.iter().filter(|op| op.op.as_ref().is_some_and(matches)).count()
    }

    #[test]
    fn a_plan_covers_every_object_once_with_a_short_last_transaction() {
        let plan = ItemPlan { objects: 2_500, batch: 1_000 };
        assert_eq!(plan.transactions(), 3);
        let items: Vec<usize> = (0..3).map(|i| plan.items_in(i)).collect();
        assert_eq!(items, [1_000, 1_000, 500]);
        assert_eq!(plan.items_in(3), 0);
        let ten_million = ItemPlan { objects: 10_000_000, batch: 1_000 };
        assert_eq!(ten_million.transactions(), 10_000);
    }

    #[test]
    fn an_item_transaction_binds_a_list_of_three_field_items() {
        let transaction = item_transaction("mem/7", 3, 7_000, 0, None);
        assert_eq!(transaction.ops.len(), OPS_PER_ITEM_TRANSACTION_BASE + 3 * OPS_PER_ITEM);
        assert_eq!(count(&transaction, |op| matches!(op, pb::op::Op::Create(_))), 4);
        assert_eq!(count(&transaction, |op| matches!(op, pb::op::Op::SetField(_))), 9);
        assert_eq!(count(&transaction, |op| matches!(op, pb::op::Op::ListPush(_))), 3);
        let Some(pb::op::Op::BindRoot(bind)) = &transaction.ops[1].op else { panic!("the list is bound second") };
        assert_eq!(bind.name, "mem/7");
        let Some(pb::op::Op::SetField(name)) = &transaction.ops[4].op else { panic!("the first item's name") };
        assert_eq!(name.value, tx::value(pb::value::Kind::StringValue("i7000".into())));
    }

    #[test]
    fn the_largest_batch_fits_the_heaps_ops_limit() {
        let transaction = item_transaction("mem/0", ITEMS_PER_TRANSACTION_MAX, 0, 0, None);
        assert!(transaction.ops.len() as u64 <= heap_machine::TRANSACTION_OPS_MAX);
    }

    #[test]
    fn cycles_reference_each_other_and_churn_unbinds_its_previous_root() {
        let garbage = garbage_cycles_transaction(2);
        assert_eq!(count(&garbage, |op| matches!(op, pb::op::Op::Create(_))), 4);
        assert_eq!(count(&garbage, |op| matches!(op, pb::op::Op::BindRoot(_))), 0, "nothing roots a cycle");
        let Some(pb::op::Op::SetField(a_to_b)) = &garbage.ops[2].op else { panic!("a references b") };
        assert_eq!(a_to_b.value, tx::value(pb::value::Kind::NewRef(1)));
        let churn = item_transaction("churn/5", 2, 0, 1, Some("churn/4"));
        let Some(pb::op::Op::UnbindRoot(unbind)) = &churn.ops.last().and_then(|op| op.op.clone()) else {
            panic!("the previous root is unbound last")
        };
        assert_eq!(unbind.name, "churn/4");
    }

    #[test]
    fn unbinding_names_each_root_of_the_range() {
        let transaction = unbind_transaction("mem", 1_000, 1_003);
        let names: Vec<String> = transaction
            .ops
            .iter()
            .filter_map(|op| match &op.op {
                Some(pb::op::Op::UnbindRoot(unbind)) => Some(unbind.name.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(names, ["mem/1000", "mem/1001", "mem/1002"]);
    }
}
