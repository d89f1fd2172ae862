//! The objects a chaos run works on, created in one transaction before any fault, and the history
//! key of each (`model:name`; a lock's heap name is the key's name).

use heap_client::tx::bind_root;
use heap_client::tx::create;
use heap_client::tx::new_target;
use heap_client::tx::set_field;
use heap_client::tx::transaction;
use heap_client::tx::value;
use heap_client::ClusterClient;
use proto::heap as pb;

use crate::checker::greedy;
use crate::checker::REGISTER_INITIAL;
use crate::workload::error::WorkloadError;

/// Register keys (each one object with an int field `value`).
pub const REGISTERS: usize = 4;
/// Locks of the lock workload, each with its fence log (a list).
pub const FENCED_LOCKS: usize = 2;
/// Simulated users, each with its own object graph (a step counter and a step log).
pub const USERS: usize = 2;
/// Locks of the greedy-locks workload, each guarding a counter and a log (a list): few, so the
/// sessions contend for them (recalls) and each session also takes them again (local grants).
pub const GREEDY_LOCKS: usize = 3;
/// The int field of register and counter objects.
pub const VALUE_FIELD: &str = "value";

pub fn register_key(index: usize) -> String {
    format!("register:r{index}")
}

pub fn fence_log_key(index: usize) -> String {
    format!("fencelog:fence-{index}")
}

pub const COUNTER_CAS_KEY: &str = "counter:cas";

/// A counter and, optionally, a list written in the same transactions, guarded by one lock:
/// `counter:<name>`, `list:<name>`, `lock:<name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guarded {
    pub name: String,
    pub counter: u64,
    pub list: Option<u64>,
}

impl Guarded {
    pub fn counter_key(&self) -> String {
        format!("counter:{}", self.name)
    }

    pub fn list_key(&self) -> String {
        format!("list:{}", self.name)
    }

    pub fn lock_key(&self) -> String {
        format!("lock:{}", self.name)
    }

    /// The lock's name in the heap.
    pub fn lock_name(&self) -> &str {
        &self.name
    }
}

/// A lock of the greedy-locks workload: its name in the heap (also its keys' name) and the
/// counter and log its critical sections change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GreedyLock {
    pub name: String,
    pub counter: u64,
    pub log: u64,
}

/// Object ids of everything the workloads touch.
#[derive(Debug, Clone)]
pub struct Objects {
    pub registers: Vec<u64>,
    pub counter_cas: u64,
    /// Incremented under `lock:locked` (no list).
    pub counter_locked: Guarded,
    pub fence_logs: Vec<u64>,
    /// Per user: `user-<u>`.
    pub users: Vec<Guarded>,
    /// Shared by every user: `shared`.
    pub shared: Guarded,
    /// The greedy-locks workload's: `greedy-<i>`.
    pub greedy: Vec<GreedyLock>,
}

impl Objects {
    /// Every key read back at the end: (key, object id, whether it is a list).
    pub fn final_keys(&self) -> Vec<(String, u64, bool)> {
        let mut keys = Vec::new();
        for (index, id) in self.registers.iter().enumerate() {
            keys.push((register_key(index), *id, false));
        }
        keys.push((COUNTER_CAS_KEY.to_string(), self.counter_cas, false));
        for guarded in std::iter::once(&self.counter_locked).chain(&self.users).chain(std::iter::once(&self.shared)) {
            keys.push((guarded.counter_key(), guarded.counter, false));
            if let Some(list) = guarded.list {
                keys.push((guarded.list_key(), list, true));
            }
        }
        for (index, id) in self.fence_logs.iter().enumerate() {
            keys.push((fence_log_key(index), *id, true));
        }
        for lock in &self.greedy {
            keys.push((greedy::counter_key(&lock.name), lock.counter, false));
            keys.push((greedy::log_key(&lock.name), lock.log, true));
        }
        keys
    }

    /// Every object id, for the replica comparison.
    pub fn all_ids(&self) -> Vec<u64> {
        self.final_keys().into_iter().map(|(_, id, _)| id).collect()
    }
}

struct Builder {
    ops: Vec<pb::Op>,
    handles: u32,
}

impl Builder {
    fn object(&mut self, root: &str, class: &str, kind: pb::ObjectKind) -> u32 {
        let handle = self.handles;
        self.handles += 1;
        self.ops.push(create(handle, class, kind));
        if kind == pb::ObjectKind::Fields {
            let initial = value(pb::value::Kind::IntValue(REGISTER_INITIAL));
            self.ops.push(set_field(new_target(handle), VALUE_FIELD, initial));
        }
        self.ops.push(bind_root(root, new_target(handle)));
        handle
    }
}

/// Creates every object (bound to roots `chaos-...`, for inspection with heapctl) in one
/// transaction. Runs before any fault, so a plain commit is safe.
pub async fn create_objects(client: &ClusterClient) -> Result<Objects, WorkloadError> {
    let mut builder = Builder { ops: Vec::new(), handles: 0 };
    let registers: Vec<u32> = (0..REGISTERS)
        .map(|i| builder.object(&format!("chaos-register-{i}"), "chaos.Register", pb::ObjectKind::Fields))
        .collect();
    let counter_cas = builder.object("chaos-counter-cas", "chaos.Counter", pb::ObjectKind::Fields);
    let counter_locked = builder.object("chaos-counter-locked", "chaos.Counter", pb::ObjectKind::Fields);
    let fence_logs: Vec<u32> = (0..FENCED_LOCKS)
        .map(|i| builder.object(&format!("chaos-fence-log-{i}"), "chaos.FenceLog", pb::ObjectKind::List))
        .collect();
    let users: Vec<(u32, u32)> = (0..USERS)
        .map(|u| {
            let steps = builder.object(&format!("chaos-user-{u}"), "chaos.User", pb::ObjectKind::Fields);
            let log = builder.object(&format!("chaos-user-{u}-log"), "chaos.UserLog", pb::ObjectKind::List);
            (steps, log)
        })
        .collect();
    let shared = builder.object("chaos-shared", "chaos.Shared", pb::ObjectKind::Fields);
    let shared_log = builder.object("chaos-shared-log", "chaos.SharedLog", pb::ObjectKind::List);
    let greedy: Vec<(u32, u32)> = (0..GREEDY_LOCKS)
        .map(|i| {
            let counter = builder.object(&format!("chaos-greedy-{i}"), "chaos.GreedyCounter", pb::ObjectKind::Fields);
            let log = builder.object(&format!("chaos-greedy-{i}-log"), "chaos.GreedyLog", pb::ObjectKind::List);
            (counter, log)
        })
        .collect();

    let response = client.commit(transaction(builder.ops)).await.map_err(|e| WorkloadError::Setup(e.to_string()))?;
    let created = match response.result {
        Some(pb::commit_response::Result::Committed(committed)) => committed.created,
        other => return Err(WorkloadError::Setup(format!("the setup transaction was not committed: {other:?}"))),
    };
    let id = |handle: u32| {
        created
            .iter()
            .find(|c| c.handle == handle)
            .map(|c| c.id)
            .ok_or_else(|| WorkloadError::Setup(format!("no object created for handle {handle}")))
    };
    let guarded = |name: String, counter: u32, list: Option<u32>| -> Result<Guarded, WorkloadError> {
        Ok(Guarded { name, counter: id(counter)?, list: list.map(id).transpose()? })
    };
    Ok(Objects {
        registers: registers.into_iter().map(id).collect::<Result<_, _>>()?,
        counter_cas: id(counter_cas)?,
        counter_locked: guarded("locked".into(), counter_locked, None)?,
        fence_logs: fence_logs.into_iter().map(id).collect::<Result<_, _>>()?,
        users: users
            .into_iter()
            .enumerate()
            .map(|(u, (steps, log))| guarded(format!("user-{u}"), steps, Some(log)))
            .collect::<Result<_, _>>()?,
        shared: guarded("shared".into(), shared, Some(shared_log))?,
        greedy: greedy
            .into_iter()
            .enumerate()
            .map(|(i, (counter, log))| {
                Ok(GreedyLock { name: format!("greedy-{i}"), counter: id(counter)?, log: id(log)? })
            })
            .collect::<Result<_, WorkloadError>>()?,
    })
}
