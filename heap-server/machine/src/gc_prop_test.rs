//! Property test of object lifecycle against a reference model: random graphs of Fields
//! objects, roots, session holds (explicit and creation holds), sessions closed and expired,
//! and `Collect` entries with arbitrary (often wrong) batches interleaved with everything else.
//!
//! Proves: (1) an object reachable from a root or from an object held by a live session is
//! never freed; (2) nothing but `Collect` removes objects, and `Collect` removes only what the
//! model says is unreachable; (3) no reference dangles and the image round-trips (the `Driver`
//! checks both after every entry); (4) with exact batches and every session ended, the heap
//! shrinks to exactly what the roots reach.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;

use crate::command::{Command, Op, SessionCommand, SessionId, Target, Transaction};
use crate::object::{Body, ObjectKind};
use crate::reply::Reply;
use crate::test_support::Driver;
use crate::value::{ObjectId, Value};

const CASES: u32 = 192;
const FIELDS: [&str; 2] = ["a", "b"];
const ROOTS: [&str; 3] = ["r0", "r1", "r2"];
const SESSION_TTL_MS: u64 = 10_000;

#[derive(Debug, Clone)]
enum Action {
    /// Creates one object, in session `session` (if that session is open) or outside any;
    /// links it from an existing object's field when `from` picks one.
    Create {
        session: Index,
        in_session: bool,
        from: Option<(Index, usize)>,
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
}

fn action() -> impl Strategy<Value = Action> {
    let field = 0..FIELDS.len();
    let root = 0..ROOTS.len();
    prop_oneof![
        4 => (any::<Index>(), any::<bool>(), proptest::option::of((any::<Index>(), field.clone())))
            .prop_map(|(session, in_session, from)| Action::Create { session, in_session, from }),
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
    ]
}

/// The reference model: the graph, roots and live holds, kept from the commands that committed.
#[derive(Debug, Default)]
struct Model {
    /// Each object's `a` and `b` references.
    objects: BTreeMap<ObjectId, [Option<ObjectId>; 2]>,
    roots: BTreeMap<&'static str, ObjectId>,
    /// Holds of open sessions (an ended session's holds no longer protect anything).
    holds: BTreeMap<SessionId, BTreeSet<ObjectId>>,
}

impl Model {
    fn ids(&self) -> Vec<ObjectId> {
        self.objects.keys().copied().collect()
    }

    fn pick(&self, index: &Index) -> Option<ObjectId> {
        let ids = self.ids();
        (!ids.is_empty()).then(|| ids[index.index(ids.len())])
    }

    fn sessions(&self) -> Vec<SessionId> {
        self.holds.keys().copied().collect()
    }

    fn pick_session(&self, index: &Index) -> Option<SessionId> {
        let sessions = self.sessions();
        (!sessions.is_empty()).then(|| sessions[index.index(sessions.len())])
    }

    fn is_referenced(&self, id: ObjectId) -> bool {
        self.roots.values().any(|to| *to == id) || self.objects.values().flatten().flatten().any(|to| *to == id)
    }

    /// Everything reachable from a root or from an object a live session holds.
    fn live(&self) -> BTreeSet<ObjectId> {
        let mut live = BTreeSet::new();
        let mut stack: Vec<ObjectId> = self.roots.values().copied().collect();
        stack.extend(self.holds.values().flatten().copied());
        while let Some(id) = stack.pop() {
            if live.insert(id) {
                stack.extend(self.objects[&id].iter().flatten().copied());
            }
        }
        live
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
        self.model.objects.get_mut(&from).unwrap()[field] = to;
    }

    fn create(&mut self, session: Option<SessionId>, from: Option<(ObjectId, usize)>) {
        let mut ops = vec![Op::Create { handle: 0, class: "C".to_string(), kind: ObjectKind::Fields }];
        if let Some((from, field)) = from {
            ops.push(Op::SetField {
                target: Target::Id(from),
                field: FIELDS[field].to_string(),
                value: Value::NewRef(0),
            });
        }
        let reply = self.transaction(session, ops);
        let Reply::Committed { created, .. } = reply else { panic!("create failed: {reply:?}") };
        let id = created[0].1;
        self.model.objects.insert(id, [None, None]);
        if let Some((from, field)) = from {
            self.model.objects.get_mut(&from).unwrap()[field] = Some(id);
        }
        if let Some(session) = session {
            if !self.model.is_referenced(id) {
                self.model.holds.get_mut(&session).unwrap().insert(id);
            }
        }
    }

    fn collect(&mut self, ids: Vec<ObjectId>) {
        let live = self.model.live();
        let reply = self.driver.apply(Command::Collect { ids });
        assert!(matches!(reply, Reply::Collected { .. }), "{reply:?}");
        let freed: Vec<ObjectId> =
            self.model.ids().into_iter().filter(|id| self.driver.heap.get(*id).is_none()).collect();
        for id in &freed {
            assert!(!live.contains(id), "object {id} was freed while reachable or held by a live session");
        }
        for id in freed {
            self.model.objects.remove(&id);
        }
    }

    fn step(&mut self, action: &Action) {
        let model = &self.model;
        match action {
            Action::Create { session, in_session, from } => {
                let session = if *in_session { model.pick_session(session) } else { None };
                let from = from.as_ref().and_then(|(index, field)| Some((model.pick(index)?, *field)));
                self.create(session, from);
            }
            Action::Link { from, field, to } => {
                if let (Some(from), Some(to)) = (model.pick(from), model.pick(to)) {
                    self.set(from, *field, Some(to));
                }
            }
            Action::Unlink { from, field } => {
                if let Some(from) = model.pick(from) {
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
            Action::Release { session, ids } => {
                if let Some(session) = model.pick_session(session) {
                    let ids: Vec<ObjectId> = ids.iter().filter_map(|index| model.pick(index)).collect();
                    self.driver.send(session, SessionCommand::Release { ids: ids.clone() });
                    let held = self.model.holds.get_mut(&session).unwrap();
                    ids.iter().for_each(|id| {
                        held.remove(id);
                    });
                }
            }
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

    /// Ends every session, then collects exactly the model's garbage until none is left:
    /// the heap must come down to what the roots reach.
    fn drain(&mut self) {
        for session in self.model.sessions() {
            self.driver.send(session, SessionCommand::Close);
        }
        self.model.holds.clear();
        for _ in 0..self.model.objects.len() + 2 {
            let live = self.model.live();
            let garbage: Vec<ObjectId> = self.model.ids().into_iter().filter(|id| !live.contains(id)).collect();
            self.collect(garbage);
        }
        assert_eq!(self.driver.heap.gc_summary().holds, 0, "ended sessions' holds were all dropped");
        let live = self.model.live();
        assert_eq!(self.model.ids().into_iter().collect::<BTreeSet<_>>(), live, "garbage survived exact batches");
        for id in &live {
            let Body::Fields(fields) = &self.driver.heap.get(*id).unwrap().body else { panic!("not Fields") };
            let refs: Vec<ObjectId> = fields.values().filter_map(Value::referenced_id).collect();
            let model_refs: Vec<ObjectId> = self.model.objects[id].iter().flatten().copied().collect();
            assert_eq!(refs, model_refs, "object {id} differs from the model");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, ..ProptestConfig::default() })]

    #[test]
    fn nothing_reachable_or_held_is_ever_freed_and_all_garbage_goes(actions in vec(action(), 1..60)) {
        let mut run = Run::new();
        run.step(&Action::Open);
        for action in &actions {
            run.step(action);
        }
        run.drain();
    }
}
