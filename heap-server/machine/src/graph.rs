//! Graph reads: breadth-first from named roots and ids, to a depth and an object budget, all
//! from one applied index, in an order every replica reproduces.

use std::collections::{BTreeSet, VecDeque};

use serde::{Deserialize, Serialize};

use crate::heap::Heap;
use crate::limits::{
    Limit, GRAPH_QUERY_STARTS_MAX, GRAPH_READ_BYTES_MAX, GRAPH_READ_OBJECTS_MAX, OBJECT_SIZE_BYTES_MAX,
};
use crate::names::{check_name, NameKind};
use crate::object::Object;
use crate::reply::Rejection;
use crate::value::ObjectId;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphQuery {
    /// Root names to start from, in the order their objects should come first.
    pub roots: Vec<String>,
    /// Object ids to start from, after the roots.
    pub ids: Vec<ObjectId>,
    /// How many reference hops to follow; 0 returns only the start objects.
    pub depth: u32,
    /// Most objects to return; capped at `GRAPH_READ_OBJECTS_MAX`. 0 returns no objects.
    pub max_objects: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Graph {
    /// The applied index the whole graph was read at.
    pub applied_index: u64,
    /// The query's roots that exist, in query order, with the ids they name.
    pub roots: Vec<(String, ObjectId)>,
    /// Breadth-first order: start objects first (roots, then ids, in query order), then each
    /// level in the order references appear in the bodies. Each object at most once.
    pub objects: Vec<Object>,
    pub missing_roots: Vec<String>,
    pub missing_ids: Vec<ObjectId>,
    /// True if the object budget or `GRAPH_READ_BYTES_MAX` stopped the read before every reachable object was returned.
    pub truncated: bool,
}

// A read can always return at least one object of any size.
const _: () = assert!(OBJECT_SIZE_BYTES_MAX <= GRAPH_READ_BYTES_MAX);

/// Collects objects breadth-first, each once, within both budgets.
struct Walk<'h> {
    heap: &'h Heap,
    budget: usize,
    /// Encoded bytes still allowed, so a read of many large objects cannot copy gigabytes.
    budget_bytes: u64,
    seen: BTreeSet<ObjectId>,
    /// Positions in `objects` still to expand, with their level.
    queue: VecDeque<(usize, u32)>,
    objects: Vec<Object>,
    truncated: bool,
}

impl<'h> Walk<'h> {
    fn new(heap: &'h Heap, budget: usize) -> Self {
        Walk {
            heap,
            budget,
            budget_bytes: GRAPH_READ_BYTES_MAX,
            seen: BTreeSet::new(),
            queue: VecDeque::new(),
            objects: Vec::new(),
            truncated: false,
        }
    }

    /// Queues `id` at `level` unless already seen; returns false once the budget is spent.
    fn visit(&mut self, id: ObjectId, level: u32) -> bool {
        if self.seen.contains(&id) {
            return true;
        }
        let Some(encoded) = self.heap.objects.encoded(&id) else {
            // validate() guarantees references resolve; a missing start id is reported apart.
            return true;
        };
        // The stored bytes are the object's encoding, so their length is its encoded size.
        let size_bytes = encoded.len() as u64;
        if self.objects.len() >= self.budget || size_bytes > self.budget_bytes {
            self.truncated = true;
            return false;
        }
        self.budget_bytes -= size_bytes;
        self.seen.insert(id);
        let object = self.heap.get(id).expect("the object was found just above");
        self.queue.push_back((self.objects.len(), level));
        self.objects.push(object);
        true
    }

    /// Visits `start_ids` in order, then follows references breadth-first up to `depth` hops
    /// until everything reachable is collected or a budget is spent.
    fn run(&mut self, start_ids: Vec<ObjectId>, depth: u32) {
        let mut open = start_ids.into_iter().all(|id| self.visit(id, 0));
        // Each object enters the queue once, so this loop runs at most `budget` times.
        while open {
            let Some((position, level)) = self.queue.pop_front() else {
                break;
            };
            if level >= depth {
                continue;
            }
            let references: Vec<ObjectId> = self.objects[position].references().collect();
            open = references.into_iter().all(|to| self.visit(to, level + 1));
        }
    }
}

/// A query's starting points, resolved: duplicates dropped, missing ones set apart.
struct Starts {
    /// The roots that exist, in query order, with the ids they name.
    roots: Vec<(String, ObjectId)>,
    missing_roots: Vec<String>,
    missing_ids: Vec<ObjectId>,
    /// The objects to start from: the roots' objects, then the ids, in query order.
    ids: Vec<ObjectId>,
}

/// Refuses a query with too many starting points or an invalid root name.
fn check_query(query: &GraphQuery) -> Result<(), Rejection> {
    let starts = query.roots.len() + query.ids.len();
    if starts as u64 > GRAPH_QUERY_STARTS_MAX {
        return Err(Rejection::LimitExceeded {
            what: Limit::GraphReadObjects,
            limit: GRAPH_QUERY_STARTS_MAX,
            actual: starts as u64,
        });
    }
    for name in &query.roots {
        check_name(NameKind::Root, name)?;
    }
    Ok(())
}

impl Heap {
    pub fn read_graph(&self, query: &GraphQuery) -> Result<Graph, Rejection> {
        check_query(query)?;
        let starts = self.graph_starts(query);
        let budget = u64::from(query.max_objects).min(GRAPH_READ_OBJECTS_MAX) as usize;
        let mut walk = Walk::new(self, budget);
        walk.run(starts.ids, query.depth);
        Ok(Graph {
            applied_index: self.applied_index,
            roots: starts.roots,
            objects: walk.objects,
            missing_roots: starts.missing_roots,
            missing_ids: starts.missing_ids,
            truncated: walk.truncated,
        })
    }

    /// Resolves the query's roots and ids against this heap.
    fn graph_starts(&self, query: &GraphQuery) -> Starts {
        let mut starts = Starts {
            roots: Vec::new(),
            missing_roots: Vec::new(),
            missing_ids: Vec::new(),
            ids: Vec::with_capacity(query.roots.len() + query.ids.len()),
        };
        let mut names_seen = BTreeSet::new();
        for name in &query.roots {
            if !names_seen.insert(name.as_str()) {
                continue;
            }
            match self.root(name) {
                Some(id) => {
                    starts.roots.push((name.clone(), id));
                    starts.ids.push(id);
                }
                None => starts.missing_roots.push(name.clone()),
            }
        }
        for &id in &query.ids {
            if self.get(id).is_some() {
                starts.ids.push(id);
            } else if !starts.missing_ids.contains(&id) {
                starts.missing_ids.push(id);
            }
        }
        starts
    }
}

#[cfg(test)]
#[path = "graph_test.rs"]
mod tests;
