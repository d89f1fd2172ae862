//! `BlockingHeap`: the blocking facade over `heap::HeapClient` that the JNI layer calls. It owns a
//! small tokio runtime; any number of caller threads may block on it at once.

use crate::heap::CommitLevel;
pub use crate::heap::FieldWrite;
use crate::heap::HeapClient;
pub use crate::heap::HeapError;
pub use crate::heap::ObjectKind;
pub use crate::heap::Value;
use crate::heap::SESSION_TTL_MS_DEFAULT;
use crate::security::ClientSecurity;

/// Runtime threads behind one client: the change stream, keep-alives and in-flight requests.
const RUNTIME_WORKER_THREADS: usize = 2;

pub struct BlockingHeap {
    runtime: tokio::runtime::Runtime,
    heap: HeapClient,
}

impl BlockingHeap {
    /// Connects to the cluster at `endpoints` ("host:port,host:port,..."), reached as `security` says.
    pub fn connect(endpoints: &str, security: &ClientSecurity) -> Result<BlockingHeap, HeapError> {
        Self::connect_with(endpoints, security, SESSION_TTL_MS_DEFAULT)
    }

    /// As `connect`, with a session lease of `session_ttl_ms` (see `HeapClient::connect_with`).
    pub fn connect_with(
        endpoints: &str,
        security: &ClientSecurity,
        session_ttl_ms: u64,
    ) -> Result<BlockingHeap, HeapError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(RUNTIME_WORKER_THREADS)
            .thread_name("sovereign-client")
            .enable_all()
            .build()
            .map_err(|e| HeapError::Internal(format!("cannot start the client runtime: {e}")))?;
        let heap = runtime.block_on(HeapClient::connect_with(endpoints, security, session_ttl_ms))?;
        Ok(Self { runtime, heap })
    }

    pub fn close(&self) -> Result<(), HeapError> {
        self.runtime.block_on(self.heap.close())
    }

    pub fn root(&self, thread: u64, name: &str, kind: ObjectKind) -> Result<u64, HeapError> {
        self.runtime.block_on(self.heap.root(thread, name, kind))
    }

    /// A new object, its id pinned once for the caller (see `HeapClient::create`).
    pub fn create(&self, thread: u64, class_name: &str, kind: ObjectKind) -> Result<u64, HeapError> {
        self.runtime.block_on(self.heap.create(thread, class_name, kind))
    }

    pub fn kind(&self, id: u64) -> Result<ObjectKind, HeapError> {
        self.runtime.block_on(self.heap.kind(0, id))
    }

    /// `get` when it needs no I/O (`HeapClient::get_local`); None when it must read from the
    /// cluster. Never blocks on the network.
    pub fn get_local(&self, thread: u64, id: u64, key: &str) -> Option<Result<Value, HeapError>> {
        self.heap.get_local(thread, id, key)
    }

    /// Answered in the calling thread when no I/O is needed (`get_local`): a cached read does
    /// not pay for entering the runtime.
    pub fn get(&self, thread: u64, id: u64, key: &str) -> Result<Value, HeapError> {
        match self.heap.get_local(thread, id, key) {
            Some(answer) => answer,
            None => self.runtime.block_on(self.heap.get(thread, id, key)),
        }
    }

    pub fn set(&self, thread: u64, id: u64, key: &str, value: Value) -> Result<(), HeapError> {
        self.runtime.block_on(self.heap.set(thread, id, key, value))
    }

    pub fn remove(&self, thread: u64, id: u64, key: &str) -> Result<(), HeapError> {
        self.runtime.block_on(self.heap.remove(thread, id, key))
    }

    pub fn keys(&self, thread: u64, id: u64) -> Result<Vec<String>, HeapError> {
        self.runtime.block_on(self.heap.keys(thread, id))
    }

    pub fn list_len(&self, thread: u64, id: u64) -> Result<u32, HeapError> {
        self.runtime.block_on(self.heap.list_len(thread, id))
    }

    pub fn list_get(&self, thread: u64, id: u64, index: u32) -> Result<Value, HeapError> {
        self.runtime.block_on(self.heap.list_get(thread, id, index))
    }

    pub fn list_set(&self, thread: u64, id: u64, index: u32, value: Value) -> Result<(), HeapError> {
        self.runtime.block_on(self.heap.list_set(thread, id, index, value))
    }

    pub fn list_push(&self, thread: u64, id: u64, value: Value) -> Result<(), HeapError> {
        self.runtime.block_on(self.heap.list_push(thread, id, value))
    }

    pub fn list_insert(&self, thread: u64, id: u64, index: u32, value: Value) -> Result<(), HeapError> {
        self.runtime.block_on(self.heap.list_insert(thread, id, index, value))
    }

    pub fn list_remove(&self, thread: u64, id: u64, index: u32) -> Result<(), HeapError> {
        self.runtime.block_on(self.heap.list_remove(thread, id, index))
    }

    /// Makes `ids` (and what they reach within `depth`, at most `max_objects`) cached in one Read
    /// per `PREFETCH_OBJECTS_MAX` missing ids, walking through what is cached when `walk`; returns
    /// how many objects were read (see `HeapClient::prefetch`).
    pub fn prefetch(
        &self,
        thread: u64,
        ids: &[u64],
        depth: u32,
        max_objects: u32,
        walk: bool,
    ) -> Result<u32, HeapError> {
        self.runtime.block_on(self.heap.prefetch(thread, ids, depth, max_objects, walk))
    }

    /// Elements `from..to` of list `id`, the objects they reference prefetched (see `HeapClient::list_values`).
    pub fn list_values(
        &self,
        thread: u64,
        id: u64,
        from: u32,
        to: u32,
        depth: u32,
        max_objects: u32,
    ) -> Result<Vec<Value>, HeapError> {
        self.runtime.block_on(self.heap.list_values(thread, id, from, to, depth, max_objects))
    }

    /// Every entry of object `id`, the objects they reference prefetched (see `HeapClient::entries`).
    pub fn entries(
        &self,
        thread: u64,
        id: u64,
        depth: u32,
        max_objects: u32,
    ) -> Result<Vec<(String, Value)>, HeapError> {
        self.runtime.block_on(self.heap.entries(thread, id, depth, max_objects))
    }

    /// Records `writes` as that many `set`s in one call (see `HeapClient::set_many`).
    pub fn set_many(&self, thread: u64, writes: Vec<FieldWrite>) -> Result<(), HeapError> {
        self.runtime.block_on(self.heap.set_many(thread, writes))
    }

    /// Read RPCs sent so far (every attempt): the round trips reads cost (for tests and measurements).
    pub fn read_requests(&self) -> u64 {
        self.heap.read_requests()
    }

    /// Returns false when the lock was not granted within `timeout_ms` (Some(0): try once).
    pub fn lock(&self, thread: u64, name: &str, read: bool, timeout_ms: Option<u64>) -> Result<bool, HeapError> {
        self.runtime.block_on(self.heap.lock(thread, name, read, timeout_ms))
    }

    /// How critical sections under lock `name` commit, for this client (`CommitLevel`).
    pub fn set_commit_level(&self, name: &str, level: CommitLevel) -> Result<(), HeapError> {
        self.heap.set_commit_level(name, level)
    }

    /// Whether this client keeps locks named `name_prefix...` after their last local holder.
    pub fn set_locks_kept(&self, name_prefix: &str, kept: bool) -> Result<(), HeapError> {
        self.heap.set_locks_kept(name_prefix, kept)
    }

    pub fn unlock(&self, thread: u64, name: &str) -> Result<(), HeapError> {
        self.runtime.block_on(self.heap.unlock(thread, name))
    }

    /// Returns true when notified, false when the wait timed out; the lock is held again.
    pub fn wait(&self, thread: u64, name: &str, timeout_ms: Option<u64>) -> Result<bool, HeapError> {
        self.runtime.block_on(self.heap.wait(thread, name, timeout_ms))
    }

    pub fn notify(&self, thread: u64, name: &str, all: bool) -> Result<(), HeapError> {
        self.runtime.block_on(self.heap.notify(thread, name, all))
    }

    /// Unbinds root `name`; what only it kept is then collected (see `HeapClient::delete_root`).
    pub fn delete_root(&self, thread: u64, name: &str) -> Result<(), HeapError> {
        self.runtime.block_on(self.heap.delete_root(thread, name))
    }

    /// One more live reference to object `id`; the session holds it until as many `unpin`s.
    /// No I/O: it does not block.
    pub fn pin(&self, id: u64) -> Result<(), HeapError> {
        self.heap.pin(id)
    }

    /// One live reference to object `id` fewer; a no-op once the client is closed.
    pub fn unpin(&self, id: u64) -> Result<(), HeapError> {
        self.heap.unpin(id)
    }

    /// Objects currently cached (for tests and measurements).
    pub fn cached_objects(&self) -> usize {
        self.heap.cached_objects()
    }

    /// Objects the hold table tracks (for tests and measurements).
    pub fn tracked_objects(&self) -> usize {
        self.heap.tracked_objects()
    }
}
