//! The gc checker's model of a history: every acknowledged build's objects and references, the
//! root bindings and session holds that keep them, and the operations that may have ended each
//! of those. `must_exist` answers, for one observation's interval, which objects of one build
//! nothing in the history could have let go.
//!
//! Why it only claims what is certain: a keeper (binding, hold, reference) counts from its
//! acknowledgment on; an operation that ends one (unbind, release, cut, close) counts from its
//! invocation on unless it was refused, because an unknown outcome may land at any later time.
//! A hold also needs its session alive through the observation, and a session may expire
//! unseen (a client cut off past its lease), so a hold counts only when a request of the same
//! session that the state machine answered was invoked after the observation completed (or the
//! observation is that session's own request): sessions never come back, so it was alive
//! throughout. Refusals count (the state machine looks the session up before anything else, and
//! "unknown session" or "expired" answers are recorded as indeterminate); a Close does not.

use std::collections::BTreeMap;

use crate::history::Op;
use crate::history::Operation;
use crate::history::Status;

/// One look at the heap: a read, a hold's answer, a refusal naming a missing object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observation {
    pub op_id: u64,
    pub process: u64,
    pub invoke_us: u64,
    pub complete_us: u64,
    /// A session request: the state machine answering it proves its session was alive then.
    pub in_session: bool,
}

impl Observation {
    /// The observation an operation that completed makes; None while indeterminate.
    pub fn of(operation: &Operation) -> Option<Self> {
        let in_session = !matches!(operation.op, Op::GcRead { .. });
        operation.complete_us.map(|complete_us| Observation {
            op_id: operation.op_id,
            process: operation.process,
            invoke_us: operation.invoke_us,
            complete_us,
            in_session,
        })
    }
}

/// Why an object had to exist: the certain keeper it is reachable from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Anchor {
    /// Root `name`, bound by operation `op_id`.
    Root { name: String, op_id: u64 },
    /// A hold of `process` taken by operation `op_id` (a hold or a build's creation hold);
    /// `proof_op_id` shows the session alive after the observation.
    Hold { process: u64, op_id: u64, proof_op_id: u64 },
}

/// When a keeper took effect (acknowledged) and when something may have ended it (invoked).
#[derive(Debug, Clone, Copy)]
struct Span {
    since_us: u64,
    ended_us: Option<u64>,
}

impl Span {
    fn new(since_us: u64) -> Self {
        Span { since_us, ended_us: None }
    }

    /// Certainly in effect from before `observation` was invoked until after it completed.
    fn covers(self, observation: &Observation) -> bool {
        self.since_us < observation.invoke_us && self.ended_us.is_none_or(|ended| ended > observation.complete_us)
    }

    fn end(&mut self, at_us: u64) {
        self.ended_us = Some(self.ended_us.map_or(at_us, |ended| ended.min(at_us)));
    }
}

#[derive(Debug, Clone)]
struct Edge {
    from: u64,
    field: String,
    to: u64,
    span: Span,
}

#[derive(Debug, Clone)]
struct Binding {
    name: String,
    id: u64,
    op_id: u64,
    span: Span,
}

#[derive(Debug, Clone)]
struct Hold {
    process: u64,
    id: u64,
    op_id: u64,
    span: Span,
}

/// One acknowledged build: its objects, and what refers to and keeps them.
#[derive(Debug, Clone, Default)]
pub struct Build {
    pub op_id: u64,
    pub root: String,
    pub ids: Vec<u64>,
    edges: Vec<Edge>,
    bindings: Vec<Binding>,
    holds: Vec<Hold>,
}

#[derive(Debug, Clone, Default)]
pub struct Model {
    pub builds: Vec<Build>,
    build_of: BTreeMap<u64, usize>,
    /// Per session (process): (invoked at, op id) of its requests the state machine answered,
    /// in invocation order.
    answered: BTreeMap<u64, Vec<(u64, u64)>>,
}

impl Model {
    /// The model of the gc operations `ops` (in invocation order, as `history::operations` gives).
    pub fn new(ops: &[Operation]) -> Model {
        let mut model = Model::default();
        for operation in ops {
            model.add_build(operation);
        }
        for operation in ops {
            model.add_keepers(operation);
        }
        for operation in ops {
            model.add_endings(operation);
        }
        model
    }

    /// The build that created object `id`, if an acknowledged one did.
    pub fn build_of(&self, id: u64) -> Option<usize> {
        self.build_of.get(&id).copied()
    }

    fn add_build(&mut self, operation: &Operation) {
        let (Status::Ok, Some(complete_us)) = (operation.status, operation.complete_us) else {
            return;
        };
        let Op::GcBuild { root, linked, unlinked, edges, created: Some(ids) } = &operation.op else {
            return;
        };
        let handles = (*linked + *unlinked) as usize;
        if *linked == 0 || ids.len() != handles || edges.iter().any(|e| e.from as usize >= handles) {
            return;
        }
        let index = self.builds.len();
        let id_of = |handle: u32| ids.get(handle as usize).copied();
        let edges = edges
            .iter()
            .filter_map(|e| {
                let (from, to) = (id_of(e.from)?, id_of(e.to)?);
                Some(Edge { from, field: e.field.clone(), to, span: Span::new(complete_us) })
            })
            .collect();
        let binding = Binding { name: root.clone(), id: ids[0], op_id: operation.op_id, span: Span::new(complete_us) };
        let holds = ids[*linked as usize..]
            .iter()
            .map(|id| Hold {
                process: operation.process,
                id: *id,
                op_id: operation.op_id,
                span: Span::new(complete_us),
            })
            .collect();
        for id in ids {
            self.build_of.insert(*id, index);
        }
        self.builds.push(Build {
            op_id: operation.op_id,
            root: root.clone(),
            ids: ids.clone(),
            edges,
            bindings: vec![binding],
            holds,
        });
    }

    fn add_keepers(&mut self, operation: &Operation) {
        // A Close is answered "done" for a session already gone too (the client takes "unknown
        // session" for success), so it proves nothing.
        let proves_life = !matches!(operation.op, Op::GcRead { .. } | Op::GcClose);
        if proves_life && matches!(operation.status, Status::Ok | Status::Fail) {
            self.answered.entry(operation.process).or_default().push((operation.invoke_us, operation.op_id));
        }
        let (Status::Ok, Some(complete_us)) = (operation.status, operation.complete_us) else {
            return;
        };
        match &operation.op {
            Op::GcBind { root, id, .. } => {
                if let Some(build) = self.build_of(*id) {
                    let binding =
                        Binding { name: root.clone(), id: *id, op_id: operation.op_id, span: Span::new(complete_us) };
                    self.builds[build].bindings.push(binding);
                }
            }
            Op::GcHold { ids, missing: Some(missing) } => {
                for id in ids.iter().filter(|id| !missing.contains(id)) {
                    if let Some(build) = self.build_of(*id) {
                        let hold = Hold {
                            process: operation.process,
                            id: *id,
                            op_id: operation.op_id,
                            span: Span::new(complete_us),
                        };
                        self.builds[build].holds.push(hold);
                    }
                }
            }
            _ => {}
        }
    }

    /// Ends, from `operation`'s invocation on, every keeper it may have ended (a refused
    /// operation ended nothing).
    fn add_endings(&mut self, operation: &Operation) {
        if operation.status == Status::Fail {
            return;
        }
        let at_us = operation.invoke_us;
        let process = operation.process;
        match &operation.op {
            Op::GcUnbind { root } => {
                self.each_binding(|binding| binding.name == *root, |span| span.end(at_us));
            }
            Op::GcCut { from, field, .. } => {
                if let Some(build) = self.build_of(*from) {
                    let edges = self.builds[build].edges.iter_mut();
                    edges.filter(|e| e.from == *from && e.field == *field).for_each(|e| e.span.end(at_us));
                }
            }
            Op::GcRelease { ids } => {
                for id in ids {
                    if let Some(build) = self.build_of(*id) {
                        let holds = self.builds[build].holds.iter_mut();
                        holds.filter(|h| h.process == process && h.id == *id).for_each(|h| h.span.end(at_us));
                    }
                }
            }
            Op::GcClose => {
                for build in &mut self.builds {
                    build.holds.iter_mut().filter(|h| h.process == process).for_each(|h| h.span.end(at_us));
                }
            }
            _ => {}
        }
    }

    fn each_binding(&mut self, select: impl Fn(&Binding) -> bool, change: impl Fn(&mut Span)) {
        for build in &mut self.builds {
            build.bindings.iter_mut().filter(|b| select(b)).for_each(|b| change(&mut b.span));
        }
    }

    /// A request of `process` the state machine answered that proves its session alive through
    /// `observation`: the observation itself, or one invoked after it completed.
    fn proof_of_life(&self, process: u64, observation: &Observation) -> Option<u64> {
        if observation.in_session && observation.process == process {
            return Some(observation.op_id);
        }
        let answered = self.answered.get(&process)?;
        let later = answered.partition_point(|(invoked_us, _)| *invoked_us <= observation.complete_us);
        answered.get(later).map(|(_, op_id)| *op_id)
    }

    /// The operation that certainly kept root `name` bound through `observation`, if any.
    pub fn root_certain(&self, name: &str, observation: &Observation) -> Option<u64> {
        self.builds
            .iter()
            .flat_map(|build| &build.bindings)
            .find(|b| b.name == name && b.span.covers(observation))
            .map(|b| b.op_id)
    }

    /// The objects of build `build` that had to exist through `observation`, each with the
    /// keeper it is certainly reachable from (a root when both a root and a hold reach it).
    pub fn must_exist(&self, build: usize, observation: &Observation) -> BTreeMap<u64, Anchor> {
        let build = &self.builds[build];
        let mut anchored = BTreeMap::new();
        for binding in build.bindings.iter().filter(|b| b.span.covers(observation)) {
            let anchor = Anchor::Root { name: binding.name.clone(), op_id: binding.op_id };
            reach(build, observation, binding.id, &anchor, &mut anchored);
        }
        for hold in build.holds.iter().filter(|h| h.span.covers(observation)) {
            if let Some(proof_op_id) = self.proof_of_life(hold.process, observation) {
                let anchor = Anchor::Hold { process: hold.process, op_id: hold.op_id, proof_op_id };
                reach(build, observation, hold.id, &anchor, &mut anchored);
            }
        }
        anchored
    }
}

/// Marks `start` and everything it reaches through references certainly intact during
/// `observation` with `anchor` (objects marked before keep their anchor). Each object is
/// marked once, so this ends after at most one visit per object of the build.
fn reach(build: &Build, observation: &Observation, start: u64, anchor: &Anchor, anchored: &mut BTreeMap<u64, Anchor>) {
    let mut open = vec![start];
    while let Some(id) = open.pop() {
        if anchored.contains_key(&id) {
            continue;
        }
        anchored.insert(id, anchor.clone());
        let next = build.edges.iter().filter(|e| e.from == id && e.span.covers(observation)).map(|e| e.to);
        open.extend(next);
    }
}
