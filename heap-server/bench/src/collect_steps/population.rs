//! The heap `collect-steps` measures, built in this process by the same transactions a node
//! applies: live small objects (`demo.Item{count, name, price}`, as `heap-bench gc` creates them)
//! in lists bound to roots, plus whatever garbage a shape adds. Time and log indexes advance one
//! per entry, as they would on a node.

use anyhow::Context;
use heap_machine as hm;
use heap_machine::{Command, Envelope, Heap, ObjectId, ObjectKind, Op, Reply, Target, Value};

use crate::lifecycle::population::{ITEM_CLASS, ITEM_LIST_CLASS};
use crate::limits::ITEMS_PER_TRANSACTION_DEFAULT;

/// The pure heap with the log index of its last entry.
pub struct Population {
    heap: Heap,
    log_index: u64,
}

/// The ops that create one small item with `serial` and append it to the list made by handle 0
/// (or to the existing list `list`).
fn push_item(ops: &mut Vec<Op>, handle: u32, serial: u64, list: Target) {
    let field = |name: &str, value| Op::SetField { target: Target::New(handle), field: name.into(), value };
    ops.push(Op::Create { handle, class: ITEM_CLASS.into(), kind: ObjectKind::Fields });
    ops.push(field("count", Value::Int(serial as i64)));
    ops.push(field("name", Value::Str(format!("i{serial}"))));
    ops.push(field("price", Value::Float(serial as f64 / 100.0)));
    ops.push(Op::ListPush { target: list, value: Value::NewRef(handle) });
}

impl Population {
    /// A heap with `objects` live items, `ITEMS_PER_TRANSACTION_DEFAULT` per rooted list.
    pub fn build(objects: u64) -> anyhow::Result<Population> {
        let mut population = Population { heap: Heap::new(), log_index: 0 };
        let per_list = ITEMS_PER_TRANSACTION_DEFAULT as u64;
        for list in 0..objects.div_ceil(per_list) {
            let items = per_list.min(objects - list * per_list) as usize;
            population.rooted_list(&format!("live/{list}"), items)?;
        }
        Ok(population)
    }

    pub fn heap(&self) -> &Heap {
        &self.heap
    }

    pub fn live_objects(&self) -> u64 {
        self.heap.object_count()
    }

    /// Applies one command as the next entry; returns its reply and the apply's wall and CPU
    /// time in microseconds.
    pub fn apply(&mut self, command: Command) -> (Reply, u64, u64) {
        self.log_index += 1;
        let envelope = hm::encode_envelope(&Envelope { leader_time_ms: self.log_index, command });
        let mut writes = Vec::new();
        let (reply, wall_us, cpu_us) = super::timing::timed(|| self.heap.apply(self.log_index, &envelope, &mut writes));
        let reply = hm::decode_reply(&reply).expect("the heap's own replies decode");
        (reply, wall_us, cpu_us)
    }

    /// Commits `command` (a transaction or session request); returns the ids it created.
    pub fn commit(&mut self, command: Command) -> anyhow::Result<Vec<ObjectId>> {
        match self.apply(command).0 {
            Reply::Committed { created, .. } => Ok(created.into_iter().map(|(_, id)| id).collect()),
            other => anyhow::bail!("a setup transaction was not committed: {other:?}"),
        }
    }

    /// A list bound to `root` with `items` new items; returns the list's and the items' ids.
    pub fn rooted_list(&mut self, root: &str, items: usize) -> anyhow::Result<Vec<ObjectId>> {
        let mut ops = Vec::with_capacity(2 + 5 * items);
        ops.push(Op::Create { handle: 0, class: ITEM_LIST_CLASS.into(), kind: ObjectKind::List });
        ops.push(Op::BindRoot { name: root.into(), target: Target::New(0) });
        for handle in 1..=items as u32 {
            push_item(&mut ops, handle, u64::from(handle), Target::New(0));
        }
        self.commit(transaction(ops)).with_context(|| format!("creating list {root}"))
    }

    /// Appends `items` new items to the existing list `list`.
    pub fn append_items(&mut self, list: ObjectId, items: usize) -> anyhow::Result<Vec<ObjectId>> {
        let mut ops = Vec::with_capacity(5 * items);
        for handle in 0..items as u32 {
            push_item(&mut ops, handle, u64::from(handle), Target::Id(list));
        }
        self.commit(transaction(ops)).with_context(|| format!("appending to list {list}"))
    }
}

/// A transaction outside any session.
pub fn transaction(ops: Vec<Op>) -> Command {
    Command::Transaction(hm::Transaction { expect: Vec::new(), fences: Vec::new(), ops })
}
