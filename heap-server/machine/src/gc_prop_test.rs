//! Property test of object lifecycle against a reference model: random graphs of Fields
//! objects and lists (small ones, and big ones with more references than one shared batch may
//! hold, so their references are decremented over several entries), roots, session holds
//! (explicit and creation holds), sessions closed and expired, and `Collect` entries with
//! arbitrary (often wrong) batches, planned batches and empty ones interleaved with everything
//! else, while freed lists still have references waiting to be decremented.
//!
//! Proves: (1) an object reachable from a root or from an object held by a live session is
//! never freed; (2) nothing but `Collect` removes objects, and `Collect` removes only what the
//! model says is unreachable; (3) every reference count is exact: the model's references from
//! bodies, roots and freed objects' references not yet decremented (the model decrements them
//! as the heap must: in id order, last references first, at most
//! `COLLECT_DECREMENTS_PER_STEP_MAX` per entry, pending ones before the batch's own); (4) no
//! reference dangles and the image round-trips (the `Driver` checks both after every entry);
//! (5) with exact batches and every session ended, the heap shrinks to exactly what the roots
//! reach, plus the garbage cycles through a big list, which no bounded batch can free.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;

use crate::command::{Command, Op, SessionCommand, SessionId, Target, Transaction};
use crate::limits::{Limit, COLLECT_DECREMENTS_PER_STEP_MAX, COLLECT_REFS_PER_STEP_MAX};
use crate::object::{Body, ObjectKind};
use crate::reply::{Rejection, Reply};
use crate::test_support::Driver;
use crate::value::{ObjectId, Value};

const CASES: u32 = 192;
const FIELDS: [&str; 2] = ["a", "b"];
const ROOTS: [&str; 3] = ["r0", "r1", "r2"];
const SESSION_TTL_MS: u64 = 10_000;
/// Small lists stay far below a shared batch's reference bound, so all garbage that is not a
/// big list fits one batch.
const SMALL_LIST_LENGTH_MAX: usize = 20;
/// Big lists: over a shared batch's bound, and within one transaction's ops.
const BIG_LIST_LENGTH_MAX: usize = 9_000;

#[derive(Debug, Clone)]
enum Action {
    /// Creates one Fields object, or a list referencing `targets` (existing objects, in turn)
    /// `length` times, in session `session` (if that session is open) or outside any; links
    /// it from an existing Fields object's field when `from` picks one.
    Create {
        session: Index,
        in_session: bool,
        from: Option<(Index, usize)>,
        list: Option<(usize, Vec<Index>)>,
    },
    Link {
        from: Index,
        field: usize,
        to: Index,
    },
    Unlink {
        from: Index,
        field: usize,
    },
    Bind {
        root: usize,
        to: Index,
    },
    Unbind {
        root: usize,
    },
    Hold {
        session: Index,
        ids: Vec<Index>,
    },
    Release {
        session: Index,
        ids: Vec<Index>,
    },
    Close {
        session: Index,
    },
    Open,
    /// Every open session's lease runs out.
    Expire,
    /// An arbitrary batch: what a stale or wrong collector might propose.
    Collect {
        ids: Vec<Index>,
    },
    /// What the real collector proposes: unreferenced objects and what they reach.
    CollectUnreferenced,
    /// What the collector proposes while decrements are pending: no batch.
    CollectNothing,
}

fn list() -> impl Strategy<Value = (usize, Vec<Index>)> {
    let length = prop_oneof![1..=SMALL_LIST_LENGTH_MAX, COLLECT_REFS_PER_STEP_MAX as usize + 1..=BIG_LIST_LENGTH_MAX];
    (length, vec(any::<Index>(), 1..4))
}

fn action() -> impl Strategy<Value = Action> {
    let field = 0..FIELDS.len();
    let root = 0..ROOTS.len();
    let from = proptest::option::of((any::<Index>(), field.clone()));
    prop_oneof![
        4 => (any::<Index>(), any::<bool>(), from.clone())
            .prop_map(|(session, in_session, from)| Action::Create { session, in_session, from, list: None }),
        2 => (any::<Index>(), any::<bool>(), from, list()).prop_map(|(session, in_session, from, list)| {
            Action::Create { session, in_session, from, list: Some(list) }
        }),
        3 => (any::<Index>(), field.clone(), any::<Index>()).prop_map(|(from, field, to)| Action::Link { from, field, to }),
        2 => (any::<Index>(), field).prop_map(|(from, field)| Action::Unlink { from, field }),
        2 => (root.clone(), any::<Index>()).prop_map(|(root, to)| Action::Bind { root, to }),
        1 => root.prop_map(|root| Action::Unbind { root }),
        2 => (any::<Index>(), vec(any::<Index>(), 1..4)).prop_map(|(session, ids)| Action::Hold { session, ids }),
        2 => (any::<Index>(), vec(any::<Index>(), 1..4)).prop_map(|(session, ids)| Action::Release { session, ids }),
        1 => any::<Index>().prop_map(|session| Action::Close { session }),
        1 => Just(Action::Open),
        1 => Just(Action::Expire),
        3 => vec(any::<Index>(), 1..8).prop_map(|ids| Action::Collect { ids }),
        2 => Just(Action::CollectUnreferenced),
        1 => Just(Action::CollectNothing),
    ]
}

/// One model object: a Fields object's `a` and `b`, or a list's elements.
#[derive(Debug, Clone)]
enum Shape {
    Fields([Option<ObjectId>; 2]),
    List(Vec<ObjectId>),
}

impl Shape {
    /// The references in body order (field name order, or list order), as the heap reads them.
    fn references(&self) -> Vec<ObjectId> {
        match self {
            Shape::Fields(fields) => fields.iter().flatten().copied().collect(),
            Shape::List(elements) => elements.clone(),
        }
    }

    /// A list over the bound of a shared batch: it is always collected alone.
    fn is_big(&self) -> bool {
        matches!(self, Shape::List(elements) if elements.len() as u64 > COLLECT_REFS_PER_STEP_MAX)
    }
}

/// The reference model: the graph, roots, live holds and freed objects' references still to
/// be decremented, kept from the commands that committed.
#[derive(Debug, Default)]
struct Model {
    objects: BTreeMap<ObjectId, Shape>,
    roots: BTreeMap<&'static str, ObjectId>,
    /// Holds of open sessions (an ended session's holds no longer protect anything).
    holds: BTreeMap<SessionId, BTreeSet<ObjectId>>,
    /// For each freed object whose references are not all decremented, those left.
    dying: BTreeMap<ObjectId, Vec<ObjectId>>,
}

impl Model {
    fn ids(&self) -> Vec<ObjectId> {
        self.objects.keys().copied().collect()
    }

    fn pick(&self, index: &Index) -> Option<ObjectId> {
        let ids = self.ids();
        (!ids.is_empty()).then(|| ids[index.index(ids.len())])
    }

    /// An existing Fields object (lists have no fields to link).
    fn pick_fields(&self, index: &Index) -> Option<ObjectId> {
        let ids: Vec<ObjectId> =
            self.objects.iter().filter(|(_, shape)| matches!(shape, Shape::Fields(_))).map(|(id, _)| *id).collect();
        (!ids.is_empty()).then(|| ids[index.index(ids.len())])
    }

    fn sessions(&self) -> Vec<SessionId> {
        self.holds.keys().copied().collect()
    }

    fn pick_session(&self, index: &Index) -> Option<SessionId> {
        let sessions = self.sessions();
        (!sessions.is_empty()).then(|| sessions[index.index(sessions.len())])
    }

    /// References to each object: from bodies, roots and dying objects, repeats counted.
    fn reference_counts(&self) -> BTreeMap<ObjectId, u32> {
        let mut counts = BTreeMap::new();
        let bodies = self.objects.values().flat_map(Shape::references);
        let dying = self.dying.values().flatten().copied();
        for to in bodies.chain(self.roots.values().copied()).chain(dying) {
            *counts.entry(to).or_insert(0) += 1;
        }
        counts
    }

    fn decrements_pending(&self) -> u64 {
        self.dying.values().map(|references| references.len() as u64).sum()
    }

    /// Everything reachable from `starts` through the objects that exist.
    fn reach(&self, starts: impl IntoIterator<Item = ObjectId>) -> BTreeSet<ObjectId> {
        let mut reached = BTreeSet::new();
        let mut stack: Vec<ObjectId> = starts.into_iter().collect();
        while let Some(id) = stack.pop() {
            if let Some(shape) = self.objects.get(&id) {
                if reached.insert(id) {
                    stack.extend(shape.references());
                }
            }
        }
        reached
    }

    /// Everything reachable from a root or from an object a live session holds.
    fn live(&self) -> BTreeSet<ObjectId> {
        self.reach(self.roots.values().copied().chain(self.holds.values().flatten().copied()))
    }

    /// Garbage no bounded batch frees: a big list (always alone in its batch) on a cycle
    /// through another object is referenced from outside its batch for good, and so is
    /// whatever it reaches.
    fn stuck(&self, live: &BTreeSet<ObjectId>) -> BTreeSet<ObjectId> {
        let on_cycle = |id: ObjectId| {
            let others = self.objects[&id].references().into_iter().filter(|to| *to != id);
            self.reach(others).contains(&id)
        };
        let big_garbage = self.objects.iter().filter(|(id, shape)| shape.is_big() && !live.contains(id));
        let stuck_lists: Vec<ObjectId> = big_garbage.map(|(id, _)| *id).filter(|id| on_cycle(*id)).collect();
        self.reach(stuck_lists).difference(live).copied().collect()
    }

    /// Applies what one Collect must have done: decrements pending references first (objects
    /// in id order, last references first), then frees `freed` (in id order), decrementing
    /// its references while the budget lasts and keeping the rest dying. Returns the count.
    fn collected(&mut self, freed: &[ObjectId]) -> u64 {
        let mut budget = COLLECT_DECREMENTS_PER_STEP_MAX as usize;
        for references in self.dying.values_mut() {
            let taken = budget.min(references.len());
            references.truncate(references.len() - taken);
            budget -= taken;
        }
        self.dying.retain(|_, references| !references.is_empty());
        for id in freed {
            let references = self.objects.remove(id).unwrap().references();
            let keep = references.len().saturating_sub(budget);
            budget -= references.len() - keep;
            if keep > 0 {
                self.dying.insert(*id, references[..keep].to_vec());
            }
        }
        COLLECT_DECREMENTS_PER_STEP_MAX - budget as u64
    }
}

struct Run {
    driver: Driver,
    model: Model,
}

impl Run {
    fn new() -> Self {
        Run { driver: Driver::new(), model: Model::default() }
    }

    fn transaction(&mut self, session: Option<SessionId>, ops: Vec<Op>) -> Reply {
        let transaction = Transaction { expect: Vec::new(), fences: Vec::new(), ops };
        match session {
            Some(session) => self.driver.send(session, SessionCommand::Transaction(transaction)).1,
            None => self.driver.apply(Command::Transaction(transaction)),
        }
    }

    fn set(&mut self, from: ObjectId, field: usize, to: Option<ObjectId>) {
        let value = to.map_or(Value::Null, Value::Ref);
        let op = Op::SetField { target: Target::Id(from), field: FIELDS[field].to_string(), value };
        let reply = self.transaction(None, vec![op]);
        assert!(matches!(reply, Reply::Committed { .. }), "{reply:?}");
        let Some(Shape::Fields(fields)) = self.model.objects.get_mut(&from) else { panic!("{from} is not Fields") };
        fields[field] = to;
    }

    /// Creates a Fields object, or a list of `elements` when given.
    fn create(&mut self, session: Option<SessionId>, from: Option<(ObjectId, usize)>, elements: Option<Vec<ObjectId>>) {
        let (kind, shape) = match &elements {
            None => (ObjectKind::Fields, Shape::Fields([None, None])),
            Some(elements) => (ObjectKind::List, Shape::List(elements.clone())),
        };
        let mut ops = vec![Op::Create { handle: 0, class: "C".to_string(), kind }];
        for to in elements.iter().flatten() {
            ops.push(Op::ListPush { target: Target::New(0), value: Value::Ref(*to) });
        }
        if let Some((from, field)) = from {
            let value = Value::NewRef(0);
            ops.push(Op::SetField { target: Target::Id(from), field: FIELDS[field].to_string(), value });
        }
        let reply = self.transaction(session, ops);
        let Reply::Committed { created, .. } = reply else { panic!("create failed: {reply:?}") };
        let id = created[0].1;
        self.model.objects.insert(id, shape);
        if let Some((from, field)) = from {
            let Some(Shape::Fields(fields)) = self.model.objects.get_mut(&from) else { panic!("{from} is not Fields") };
            fields[field] = Some(id);
        }
        if let Some(session) = session {
            if !self.model.reference_counts().contains_key(&id) {
                self.model.holds.get_mut(&session).unwrap().insert(id);
            }
        }
    }

    fn collect(&mut self, ids: Vec<ObjectId>) {
        let live = self.model.live();
        let named: BTreeSet<ObjectId> = ids.iter().copied().collect();
        let references: usize = named.iter().map(|id| self.model.objects[id].references().len()).sum();
        let refused = named.len() > 1 && references as u64 > COLLECT_REFS_PER_STEP_MAX;
        let reply = self.driver.apply(Command::Collect { ids });
        if refused {
            let over_bound =
                matches!(reply, Reply::Rejected(Rejection::LimitExceeded { what: Limit::CollectRefs, .. }));
            assert!(over_bound, "a batch of several objects over the reference bound gave {reply:?}");
            return;
        }
        let Reply::Collected { decremented, decrements_pending, .. } = reply else { panic!("{reply:?}") };
        let freed: Vec<ObjectId> =
            self.model.ids().into_iter().filter(|id| self.driver.heap.get(*id).is_none()).collect();
        for id in &freed {
            assert!(!live.contains(id), "object {id} was freed while reachable or held by a live session");
        }
        assert_eq!(decremented, self.model.collected(&freed), "the entry decremented other references");
        assert!(decremented <= COLLECT_DECREMENTS_PER_STEP_MAX);
        assert_eq!(decrements_pending, self.model.decrements_pending());
        let dying: BTreeMap<ObjectId, Vec<ObjectId>> = self.driver.heap.dying.iter().collect();
        assert_eq!(dying, self.model.dying, "the dying set differs from the model");
        self.check_reference_counts();
    }

    /// Every object's reference count is the model's.
    fn check_reference_counts(&self) {
        let counts = self.model.reference_counts();
        let ids = self.model.objects.keys().chain(counts.keys());
        for id in ids {
            let expected = counts.get(id).copied().unwrap_or(0);
            assert_eq!(self.driver.heap.reference_count(*id), expected, "reference count of {id}");
        }
    }

    fn step(&mut self, action: &Action) {
        let model = &self.model;
        match action {
            Action::Create { session, in_session, from, list } => {
                let session = if *in_session { model.pick_session(session) } else { None };
                let from = from.as_ref().and_then(|(index, field)| Some((model.pick_fields(index)?, *field)));
                let elements = list.as_ref().map(|(length, targets)| {
                    let targets: Vec<ObjectId> = targets.iter().filter_map(|index| model.pick(index)).collect();
                    targets.iter().copied().cycle().take(*length).collect()
                });
                self.create(session, from, elements);
            }
            Action::Link { from, field, to } => {
                if let (Some(from), Some(to)) = (model.pick_fields(from), model.pick(to)) {
                    self.set(from, *field, Some(to));
                }
            }
            Action::Unlink { from, field } => {
                if let Some(from) = model.pick_fields(from) {
                    self.set(from, *field, None);
                }
            }
            Action::Bind { root, to } => {
                if let Some(to) = model.pick(to) {
                    let op = Op::BindRoot { name: ROOTS[*root].to_string(), target: Target::Id(to) };
                    self.transaction(None, vec![op]);
                    self.model.roots.insert(ROOTS[*root], to);
                }
            }
            Action::Unbind { root } => {
                self.transaction(None, vec![Op::UnbindRoot { name: ROOTS[*root].to_string() }]);
                self.model.roots.remove(ROOTS[*root]);
            }
            Action::Hold { session, ids } => self.hold(session, ids),
            Action::Release { session, ids } => self.release(session, ids),
            Action::Close { session } => {
                if let Some(session) = model.pick_session(session) {
                    self.driver.send(session, SessionCommand::Close);
                    self.model.holds.remove(&session);
                }
            }
            Action::Open => {
                let session = self.driver.open(SESSION_TTL_MS);
                self.model.holds.insert(session, BTreeSet::new());
            }
            Action::Expire => {
                let now_ms = self.driver.leader_time_ms + SESSION_TTL_MS + 1;
                self.driver.tick_at(now_ms);
                self.model.holds.clear();
            }
            Action::Collect { ids } => {
                let ids = ids.iter().filter_map(|index| model.pick(index)).collect();
                self.collect(ids);
            }
            Action::CollectUnreferenced => {
                let seeds = self.driver.heap.unreferenced_after(0, 4);
                let batch = self.driver.heap.plan_collect(&seeds, |_| true).batch;
                self.collect(batch);
            }
            Action::CollectNothing => self.collect(Vec::new()),
        }
        let heap_ids = self.driver.heap.object_ids_after(0, usize::MAX);
        assert_eq!(heap_ids, self.model.ids(), "objects appeared or vanished outside Collect");
    }

    fn hold(&mut self, session: &Index, ids: &[Index]) {
        let Some(session) = self.model.pick_session(session) else { return };
        let ids: Vec<ObjectId> = ids.iter().filter_map(|index| self.model.pick(index)).collect();
        let (_, reply) = self.driver.send(session, SessionCommand::Hold { ids: ids.clone() });
        assert_eq!(reply, Reply::Held { missing: Vec::new() });
        self.model.holds.get_mut(&session).unwrap().extend(ids);
    }

    fn release(&mut self, session: &Index, ids: &[Index]) {
        let Some(session) = self.model.pick_session(session) else { return };
        let ids: Vec<ObjectId> = ids.iter().filter_map(|index| self.model.pick(index)).collect();
        self.driver.send(session, SessionCommand::Release { ids: ids.clone() });
        let held = self.model.holds.get_mut(&session).unwrap();
        ids.iter().for_each(|id| {
            held.remove(id);
        });
    }

    /// Ends every session, then collects exactly the model's garbage (each big list alone,
    /// everything else in one batch) until none is left and no decrement is pending: the heap
    /// must come down to what the roots reach, plus the garbage stuck behind big lists.
    fn drain(&mut self) {
        for session in self.model.sessions() {
            self.driver.send(session, SessionCommand::Close);
        }
        self.model.holds.clear();
        let list_references: usize = self.model.objects.values().map(|shape| shape.references().len()).sum();
        let rounds = self.model.objects.len() + list_references / COLLECT_DECREMENTS_PER_STEP_MAX as usize + 3;
        let live = self.model.live();
        let stuck = self.model.stuck(&live);
        for _ in 0..rounds {
            let garbage: Vec<ObjectId> =
                (self.model.ids().into_iter()).filter(|id| !live.contains(id) && !stuck.contains(id)).collect();
            if garbage.is_empty() && self.model.dying.is_empty() && self.driver.heap.gc_summary().ended_holds == 0 {
                break;
            }
            let (big, small): (Vec<ObjectId>, Vec<ObjectId>) =
                garbage.into_iter().partition(|id| self.model.objects[id].is_big());
            for id in big {
                self.collect(vec![id]);
            }
            self.collect(small);
        }
        let summary = self.driver.heap.gc_summary();
        assert_eq!(summary.holds, 0, "ended sessions' holds were all dropped");
        assert_eq!((summary.dying, summary.decrements_pending), (0, 0), "every freed reference was decremented");
        let remaining: BTreeSet<ObjectId> = self.model.ids().into_iter().collect();
        assert_eq!(remaining, live.union(&stuck).copied().collect(), "garbage survived exact batches");
        for id in &live {
            let references: Vec<ObjectId> = match &self.driver.heap.get(*id).unwrap().body {
                Body::Fields(values) => values.values().filter_map(Value::referenced_id).collect(),
                Body::List(values) => values.iter().filter_map(Value::referenced_id).collect(),
                Body::Map(_) => panic!("the model makes no maps"),
            };
            assert_eq!(references, self.model.objects[id].references(), "object {id} differs from the model");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, ..ProptestConfig::default() })]

    #[test]
    fn nothing_reachable_or_held_is_ever_freed_counts_stay_exact_and_all_garbage_goes(
        actions in vec(action(), 1..60),
    ) {
        let mut run = Run::new();
        run.step(&Action::Open);
        for action in &actions {
            run.step(action);
        }
        run.drain();
    }
}
