//! `HeapClient`: one application's connection to the heap — a session (lease, exactly-once
//! requests), a cache kept honest by the change stream, leased id ranges, and per-thread lock
//! state so that changes made under a cluster lock commit with its release, and the hold table
//! that keeps what the application references from being collected (`holds.rs`).
//!
//! Visibility rules (issue 4): after `lock` returns, the caller sees every change committed before
//! the grant (the cache has been evicted up to the grant's log index, and uncached reads wait for
//! it); outside locks, a read is never older than the client's own last write.
//!
//! The read path (`object_local`, `get_local`) is read-mostly: a cached read takes the cache's
//! read lock only, and the hold table and thread table only while they can change its answer
//! (some object is known collected; some thread holds a lock or has uncommitted changes), which
//! two counters kept under those tables' mutexes tell without locking them.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::RwLock;
use std::time::Duration;

use proto::heap as pb;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::async_commits;
use super::async_commits::AsyncCommits;
use super::async_commits::CommitLevel;
use super::async_commits::CommitSink;
use super::cache::Cache;
use super::error::HeapError;
use super::greedy_locks;
use super::greedy_locks::GreedyLocks;
use super::guards::lock;
use super::guards::read_lock;
use super::guards::write_lock;
use super::hold_flusher;
use super::holds::HoldTable;
use super::holds::ServerHold;
use super::ids::IdPool;
use super::ids::ID_LEASE_SIZE;
use super::threads::ThreadState;
use super::threads::PENDING_OPS_MAX;
use super::value::ObjectKind;
use super::value::Value;
use super::watcher;
use super::write_effects::after_write;
use super::write_effects::creates_ended;
use super::write_effects::CreatesEnded;
use crate::cluster::ClusterClient;
use crate::security::ClientSecurity;
use crate::session::Session;
use crate::tx;

mod batch;
mod locks;

pub use batch::FieldWrite;
pub use batch::PREFETCH_OBJECTS_MAX;

/// The lease of a client's session: its locks are freed this long after the process dies.
pub const SESSION_TTL_MS_DEFAULT: u64 = 10_000;
/// Shortest lease `connect_with` accepts. The session renews its lease every third of it
/// (`session.rs`, `KEEPALIVES_PER_TTL`), so a lease survives a stall of two thirds of it in which
/// no keep-alive gets through: 1 s at this bound. That covers the stall the hold protocol already
/// tolerates (`hold_flusher.rs`: a hold must land within the collector's 1 s grace and is sent
/// every `HOLD_FLUSH_INTERVAL_MS`, so about 800 ms); a shorter lease would make a stall that
/// leaves every object alive end the session instead, freeing its locks and everything it holds.
/// A leader change does not count against it (the new leader extends every lease by the time it
/// took). Three times the server's own minimum (`heap_machine::SESSION_TTL_MS_MIN`).
pub const SESSION_TTL_MS_MIN: u64 = 1_500;
/// Longest lease `connect_with` accepts: the server's (a dead client keeps its locks this long).
pub const SESSION_TTL_MS_MAX: u64 = heap_machine::SESSION_TTL_MS_MAX;
const _: () = assert!(SESSION_TTL_MS_MIN >= heap_machine::SESSION_TTL_MS_MIN);
const _: () = assert!(SESSION_TTL_MS_MIN <= SESSION_TTL_MS_DEFAULT);
const _: () = assert!(SESSION_TTL_MS_DEFAULT <= SESSION_TTL_MS_MAX);
/// How long `lock` waits for the change stream to reach the grant before it drops the whole cache
/// instead (correct either way; the wait keeps the cache).
pub(crate) const WATCH_CATCH_UP_MS: u64 = 2_000;
/// How long connecting may take, retries included.
const CONNECT_DEADLINE_MS: u64 = 10_000;
/// How long `connect` waits for the change stream's first message, so the first reads are cached
/// for good rather than dropped by the clear that message brings (correct either way; a stream
/// that is slower costs only cache misses until it arrives).
const WATCH_START_MS: u64 = 2_000;
/// Class name of the objects `root` creates.
const ROOT_CLASS: &str = "java.lang.Object";

pub struct HeapClient {
    cluster: Arc<ClusterClient>,
    session: Arc<Session>,
    cache: Arc<RwLock<Cache>>,
    seen: watch::Receiver<u64>,
    ids: tokio::sync::Mutex<IdPool>,
    threads: Mutex<BTreeMap<u64, ThreadState>>,
    /// `threads.len()`, stored under `threads`' mutex after every insert or removal: while it is
    /// 0 no thread has a state, so a read need not lock `threads`. A thread's own state is made
    /// and removed by its own calls, so it always sees its own state counted.
    threads_with_state: AtomicUsize,
    /// `HoldTable::missing_counter` of `holds`.
    missing_holds: Arc<AtomicUsize>,
    /// Reads must reflect at least this applied index (own writes).
    min_read_index: Arc<AtomicU64>,
    closed: AtomicBool,
    watcher: JoinHandle<()>,
    /// What the application references and what the server holds for this session.
    holds: Arc<Mutex<HoldTable>>,
    hold_flusher: JoinHandle<()>,
    /// The cluster locks the session keeps greedily, and who has each locally (`locks.rs`).
    greedy: Arc<GreedyLocks>,
    /// Gives recalled locks that no local thread holds back to the cluster.
    releaser: JoinHandle<()>,
    /// Critical sections of locks at the asynchronous commit level, queued, and their committer.
    async_commits: Arc<AsyncCommits>,
    committer: JoinHandle<()>,
    /// Locks set to a commit level other than the default (`set_commit_level`).
    commit_levels: Mutex<BTreeMap<String, CommitLevel>>,
}

/// What `object_local` found without I/O: what its caller made of the object, or the freshness
/// a read from the cluster must have because the object is neither uncommitted nor cached.
enum Local<R> {
    Found(R),
    Absent { grant_index: u64, seen_index: u64 },
}

fn unexpected(what: &str, response: &impl std::fmt::Debug) -> HeapError {
    HeapError::Internal(format!("unexpected answer to {what}: {response:?}"))
}

fn find_entry(object: &pb::Object, key: &str) -> Value {
    Value::from_pb(object.entries.get(key))
}

/// Entry `key` of object `id` for `get`: null when unset; lists have no keys.
fn entry_of(object: &pb::Object, id: u64, key: &str) -> Result<Value, HeapError> {
    if object.kind == pb::ObjectKind::List as i32 {
        return Err(HeapError::TypeMismatch(format!("object {id} is a list; use the list operations")));
    }
    Ok(find_entry(object, key))
}

impl HeapClient {
    /// Connects to the cluster at `endpoints` ("host:port,host:port,..."), reached as `security`
    /// says (`ClientSecurity::discover()` finds what `heapctl dev up` wrote), with the default
    /// session lease (`SESSION_TTL_MS_DEFAULT`).
    pub async fn connect(endpoints: &str, security: &ClientSecurity) -> Result<Self, HeapError> {
        Self::connect_with(endpoints, security, SESSION_TTL_MS_DEFAULT).await
    }

    /// As `connect`, with a session lease of `session_ttl_ms`: if this process dies (or is cut
    /// off), its locks go to other clients this long after its last keep-alive, and what only it
    /// held is collected. Shorter means a quicker takeover and less tolerance for a stalled
    /// client. Outside `SESSION_TTL_MS_MIN..=SESSION_TTL_MS_MAX` it is `HeapError::Rejected`,
    /// before any connection is made.
    pub async fn connect_with(
        endpoints: &str,
        security: &ClientSecurity,
        session_ttl_ms: u64,
    ) -> Result<Self, HeapError> {
        check_session_ttl(session_ttl_ms)?;
        let endpoints: Vec<String> =
            endpoints.split(',').map(str::trim).filter(|e| !e.is_empty()).map(String::from).collect();
        let deadline = Duration::from_millis(CONNECT_DEADLINE_MS);
        let cluster = Arc::new(ClusterClient::connect(&endpoints, security, deadline)?);
        let session = Arc::new(Session::open(Arc::clone(&cluster), "heap-client", session_ttl_ms).await?);
        let holds = HoldTable::default();
        let missing_holds = holds.missing_counter();
        let holds = Arc::new(Mutex::new(holds));
        let hold_flusher = tokio::spawn(hold_flusher::run(Arc::clone(&session), Arc::clone(&holds)));
        let cache = Arc::new(RwLock::new(Cache::default()));
        let (seen_sender, seen) = watch::channel(0);
        let min_read_index = Arc::new(AtomicU64::new(0));
        let async_commits = Arc::new(AsyncCommits::default());
        let sink = CommitSink {
            session: Arc::clone(&session),
            cache: Arc::clone(&cache),
            holds: Arc::clone(&holds),
            min_read_index: Arc::clone(&min_read_index),
        };
        let committer = tokio::spawn(async_commits::run_committer(Arc::clone(&async_commits), sink));
        let greedy = Arc::new(GreedyLocks::default());
        let releaser = tokio::spawn(greedy_locks::run_releaser(
            Arc::clone(&greedy),
            Arc::clone(&session),
            Arc::clone(&async_commits),
        ));
        let watcher = tokio::spawn(watcher::run(
            Arc::clone(&cluster),
            Arc::clone(&cache),
            Arc::new(seen_sender),
            Arc::clone(&greedy),
        ));
        let mut started = seen.clone();
        let _ = tokio::time::timeout(Duration::from_millis(WATCH_START_MS), started.wait_for(|seen| *seen > 0)).await;
        Ok(Self {
            cluster,
            session,
            cache,
            seen,
            ids: tokio::sync::Mutex::new(IdPool::default()),
            threads: Mutex::new(BTreeMap::new()),
            threads_with_state: AtomicUsize::new(0),
            missing_holds,
            min_read_index,
            closed: AtomicBool::new(false),
            watcher,
            holds,
            hold_flusher,
            greedy,
            releaser,
            async_commits,
            committer,
            commit_levels: Mutex::new(BTreeMap::new()),
        })
    }

    fn check_open(&self) -> Result<(), HeapError> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(HeapError::Closed);
        }
        Ok(())
    }

    /// Ends the session (its locks and holds are released) and stops the change stream.
    /// Idempotent.
    pub async fn close(&self) -> Result<(), HeapError> {
        if self.closed.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        // Queued asynchronous sections go out first: a clean close loses nothing.
        self.async_commits.drained().await;
        self.watcher.abort();
        self.hold_flusher.abort();
        self.releaser.abort();
        self.committer.abort();
        self.session.close().await.map_err(HeapError::from)
    }

    // ---- ids and objects ----

    async fn new_id(&self) -> Result<u64, HeapError> {
        let mut ids = self.ids.lock().await;
        if let Some(id) = ids.take() {
            return Ok(id);
        }
        let range = self.cluster.allocate_ids(ID_LEASE_SIZE).await?;
        ids.refill(range.first, range.count);
        ids.take().ok_or_else(|| HeapError::Internal("the cluster reserved an empty id range".into()))
    }

    /// The object `id` as this thread sees it, when that needs no I/O: an error if the server
    /// reported it collected, else the thread's own uncommitted copy, else the cached one, given
    /// to `found` (under the cache's read lock: a cached read copies nothing it does not return).
    fn object_local<R>(
        &self,
        thread: u64,
        id: u64,
        found: impl FnOnce(&Arc<pb::Object>) -> R,
    ) -> Result<Local<R>, HeapError> {
        if self.missing_holds.load(Ordering::SeqCst) > 0 && lock(&self.holds)?.is_missing(id) {
            return Err(collected(id));
        }
        let mut grant_index = 0;
        if self.threads_with_state.load(Ordering::SeqCst) > 0 {
            let threads = lock(&self.threads)?;
            let state = threads.get(&thread);
            if let Some(object) = state.and_then(|s| s.overlay.get(&id)) {
                return Ok(Local::Found(found(&Arc::new(object.clone()))));
            }
            grant_index = state.map(|s| s.grant_index).unwrap_or(0);
        }
        if let Some(object) = self.async_commits.overlay_get(id) {
            return Ok(Local::Found(found(&object)));
        }
        let cache = read_lock(&self.cache)?;
        Ok(match cache.get(id) {
            Some(object) => Local::Found(found(object)),
            None => Local::Absent { grant_index, seen_index: cache.seen_index() },
        })
    }

    /// The object `id` as this thread sees it (`object_local`), else a read from the cluster (no
    /// older than the client's last write or the thread's last grant), which is then cached.
    async fn object_shared(&self, thread: u64, id: u64) -> Result<Arc<pb::Object>, HeapError> {
        let (grant_index, seen_index) = match self.object_local(thread, id, Arc::clone)? {
            Local::Found(object) => return Ok(object),
            Local::Absent { grant_index, seen_index } => (grant_index, seen_index),
        };
        // Read at least as fresh as the change stream, so the result may be cached.
        let min_index = self.min_read_index.load(Ordering::SeqCst).max(grant_index).max(seen_index);
        let read = self
            .cluster
            .read(pb::ReadRequest { ids: vec![id], local: true, min_applied_index: min_index, ..Default::default() })
            .await?;
        let object = Arc::new(read.objects.into_iter().next().ok_or_else(|| self.missing(id))?);
        write_lock(&self.cache)?.insert_read_at(Arc::clone(&object), read.applied_index);
        Ok(object)
    }

    /// `object_shared` as a copy the caller may change.
    async fn object(&self, thread: u64, id: u64) -> Result<pb::Object, HeapError> {
        Ok(Arc::unwrap_or_clone(self.object_shared(thread, id).await?))
    }

    pub async fn kind(&self, thread: u64, id: u64) -> Result<ObjectKind, HeapError> {
        self.check_open()?;
        // An object's kind never changes, so any thread's uncommitted copy answers it: the JNI
        // layer asks without a thread when it wraps a reference the caller's thread created under
        // a lock it still holds (that object is not in the cluster yet).
        let uncommitted = lock(&self.threads)?.values().find_map(|state| state.overlay.get(&id).map(|o| o.kind));
        if let Some(kind) = uncommitted {
            return ObjectKind::from_pb(kind);
        }
        ObjectKind::from_pb(self.object(thread, id).await?.kind)
    }

    /// The object bound to root `name`, created empty (of `kind`) if the root is unbound.
    pub async fn root(&self, thread: u64, name: &str, kind: ObjectKind) -> Result<u64, HeapError> {
        self.check_open()?;
        let read = self.cluster.read(pb::ReadRequest { roots: vec![name.to_string()], ..Default::default() }).await?;
        // Later reads of the object must be at least as fresh as this linearizable read, or a
        // lagging node could answer that the root's object does not exist yet.
        self.min_read_index.fetch_max(read.applied_index, Ordering::SeqCst);
        let id = match read.roots.first() {
            Some(root) => root.id,
            None => {
                let id = self.new_id().await?;
                let tx = tx::transaction(vec![
                    tx::create_with_id(id, ROOT_CLASS, kind.to_pb()),
                    tx::bind_new_root(name, tx::id_target(id)),
                ]);
                match self.commit_now(tx).await {
                    Ok(_) => id,
                    // Another client created it first: use theirs.
                    Err(RootRace::Exists(existing)) => existing,
                    Err(RootRace::Error(e)) => return Err(e),
                }
            }
        };
        let actual = self.kind(thread, id).await?;
        if actual != kind {
            return Err(HeapError::TypeMismatch(format!(
                "root {name:?} is a {actual:?} object, not a {kind:?} object; open it with the matching type"
            )));
        }
        Ok(id)
    }

    /// The error for a read that found no object `id`.
    fn missing(&self, id: u64) -> HeapError {
        match lock(&self.holds) {
            Ok(holds) if holds.is_discarded(id) => HeapError::Rejected(format!(
                "object {id} was never stored: the changes made under the cluster lock that created it were \
                 refused; create it again"
            )),
            Ok(holds) if holds.is_missing(id) => collected(id),
            _ => HeapError::Rejected(format!(
                "object {id} does not exist: it was never created, or it was collected because nothing \
                 referenced it and no session held it"
            )),
        }
    }

    /// A new empty object; its id is known at once. Under a lock it is created with the release.
    /// The id comes pinned once (see `pin`): the caller's reference, to `unpin` when it drops it.
    /// Until then the session holds the object, linked or not.
    pub async fn create(&self, thread: u64, class_name: &str, kind: ObjectKind) -> Result<u64, HeapError> {
        self.check_open()?;
        let id = self.new_id().await?;
        lock(&self.holds)?.create(id)?;
        let create = tx::create_with_id(id, class_name, kind.to_pb());
        let object = pb::Object { id, class_name: class_name.into(), kind: kind.to_pb() as i32, ..Default::default() };
        match self.change(thread, Some(object), vec![create], Some(id)).await {
            // A lone create: nothing references the object, so the server made a creation hold.
            Ok(Recorded::Committed) => lock(&self.holds)?.committed(&[id], ServerHold::Yes),
            Ok(Recorded::Pending) => {}
            Err(error) => {
                // The caller gets no id: drop its pin; whatever the server did, a Release settles it.
                let mut holds = lock(&self.holds)?;
                holds.committed(&[id], ServerHold::Maybe);
                holds.unpin(id)?;
                return Err(error);
            }
        }
        Ok(id)
    }

    // ---- holds ----

    /// One more live reference to object `id` in the application: until as many `unpin`s, this
    /// client's session holds the object (within `HOLD_FLUSH_INTERVAL_MS`), so it is not
    /// collected even when nothing in the heap references it. No I/O. Fails only when the client
    /// already tracks `HOLD_TABLE_IDS_MAX` objects.
    pub fn pin(&self, id: u64) -> Result<(), HeapError> {
        self.check_open()?;
        lock(&self.holds)?.pin(id)
    }

    /// One live reference fewer; at zero the session releases the object (batched), and it is
    /// collected if nothing else references or holds it. A no-op once the client is closed.
    pub fn unpin(&self, id: u64) -> Result<(), HeapError> {
        if self.closed.load(Ordering::SeqCst) {
            return Ok(());
        }
        lock(&self.holds)?.unpin(id)
    }

    /// Objects the hold table tracks: referenced by the application, or released and not yet
    /// acknowledged (for tests and measurements).
    pub fn tracked_objects(&self) -> usize {
        self.holds.lock().map(|holds| holds.len()).unwrap_or(0)
    }

    /// Unbinds root `name` (unbinding an unbound name changes nothing): committed at once, or
    /// under a lock with its release. The objects only that root kept are then collected, once
    /// no session holds them.
    pub async fn delete_root(&self, thread: u64, name: &str) -> Result<(), HeapError> {
        self.check_open()?;
        self.change(thread, None::<pb::Object>, vec![tx::unbind_root(name)], None).await.map(|_| ())
    }

    /// Records how the commit of objects created under a lock ended.
    fn creates_ended(&self, created: &[u64], outcome: CreatesEnded) -> Result<(), HeapError> {
        creates_ended(&self.holds, created, outcome)
    }

    // ---- reads ----

    pub async fn get(&self, thread: u64, id: u64, key: &str) -> Result<Value, HeapError> {
        self.check_open()?;
        entry_of(&*self.object_shared(thread, id).await?, id, key)
    }

    /// `get` when it needs no I/O (the object is cached, or this thread's uncommitted copy, or
    /// known collected): the answer `get` would give, without a trip through the runtime; None
    /// when the object must be read from the cluster (then call `get`).
    pub fn get_local(&self, thread: u64, id: u64, key: &str) -> Option<Result<Value, HeapError>> {
        match self.check_open().and_then(|()| self.object_local(thread, id, |object| entry_of(object, id, key))) {
            Ok(Local::Found(answer)) => Some(answer),
            Ok(Local::Absent { .. }) => None,
            Err(error) => Some(Err(error)),
        }
    }

    pub async fn keys(&self, thread: u64, id: u64) -> Result<Vec<String>, HeapError> {
        self.check_open()?;
        Ok(self.object(thread, id).await?.entries.keys().cloned().collect())
    }

    pub async fn list_len(&self, thread: u64, id: u64) -> Result<u32, HeapError> {
        self.check_open()?;
        Ok(self.list(thread, id).await?.items.len() as u32)
    }

    pub async fn list_get(&self, thread: u64, id: u64, index: u32) -> Result<Value, HeapError> {
        self.check_open()?;
        let list = self.list(thread, id).await?;
        list.items.get(index as usize).map(|v| Value::from_pb(Some(v))).ok_or_else(|| {
            HeapError::Rejected(format!("index {index} is out of range for list {id} of length {}", list.items.len()))
        })
    }

    async fn list(&self, thread: u64, id: u64) -> Result<pb::Object, HeapError> {
        let object = self.object(thread, id).await?;
        if object.kind != pb::ObjectKind::List as i32 {
            return Err(HeapError::TypeMismatch(format!("object {id} is not a list")));
        }
        Ok(object)
    }

    // ---- writes ----

    pub async fn set(&self, thread: u64, id: u64, key: &str, value: Value) -> Result<(), HeapError> {
        self.check_open()?;
        let mut object = self.object(thread, id).await?;
        let change = entry_change(&object, key, &value)?;
        object.entries.insert(key.to_string(), value.to_pb());
        self.change(thread, Some(object), vec![change], None).await.map(|_| ())
    }

    pub async fn remove(&self, thread: u64, id: u64, key: &str) -> Result<(), HeapError> {
        self.check_open()?;
        let mut object = self.object(thread, id).await?;
        let change = match ObjectKind::from_pb(object.kind)? {
            ObjectKind::Fields => tx::remove_field(tx::id_target(id), key),
            ObjectKind::Map => tx::map_remove(tx::id_target(id), key),
            ObjectKind::List => {
                return Err(HeapError::TypeMismatch(format!("object {id} is a list; use the list operations")))
            }
        };
        object.entries.remove(key);
        self.change(thread, Some(object), vec![change], None).await.map(|_| ())
    }

    pub async fn list_push(&self, thread: u64, id: u64, value: Value) -> Result<(), HeapError> {
        self.check_open()?;
        let mut list = self.list(thread, id).await?;
        list.items.push(value.to_pb());
        let change = tx::list_push(tx::id_target(id), Some(value.to_pb()));
        self.change(thread, Some(list), vec![change], None).await.map(|_| ())
    }

    pub async fn list_insert(&self, thread: u64, id: u64, index: u32, value: Value) -> Result<(), HeapError> {
        self.check_open()?;
        let mut list = self.list(thread, id).await?;
        if index as usize > list.items.len() {
            return Err(HeapError::Rejected(format!(
                "index {index} is out of range for inserting into list {id} of length {}",
                list.items.len()
            )));
        }
        list.items.insert(index as usize, value.to_pb());
        let change = tx::list_insert(tx::id_target(id), index, Some(value.to_pb()));
        self.change(thread, Some(list), vec![change], None).await.map(|_| ())
    }

    pub async fn list_set(&self, thread: u64, id: u64, index: u32, value: Value) -> Result<(), HeapError> {
        self.check_open()?;
        let mut list = self.list(thread, id).await?;
        let Some(slot) = list.items.get_mut(index as usize) else {
            return Err(HeapError::Rejected(format!("index {index} is out of range for list {id}")));
        };
        *slot = value.to_pb();
        let change = tx::list_set(tx::id_target(id), index, Some(value.to_pb()));
        self.change(thread, Some(list), vec![change], None).await.map(|_| ())
    }

    pub async fn list_remove(&self, thread: u64, id: u64, index: u32) -> Result<(), HeapError> {
        self.check_open()?;
        let mut list = self.list(thread, id).await?;
        if index as usize >= list.items.len() {
            return Err(HeapError::Rejected(format!("index {index} is out of range for list {id}")));
        }
        list.items.remove(index as usize);
        let change = tx::list_remove(tx::id_target(id), index);
        self.change(thread, Some(list), vec![change], None).await.map(|_| ())
    }

    /// Records a change: under a lock it joins the thread's pending transaction (with the
    /// thread's view of the changed object, `updated`, and the id of an object it creates);
    /// otherwise it is committed before this returns.
    async fn change(
        &self,
        thread: u64,
        updated: impl IntoIterator<Item = pb::Object>,
        ops: Vec<pb::Op>,
        created: Option<u64>,
    ) -> Result<Recorded, HeapError> {
        {
            let mut threads = lock(&self.threads)?;
            if let Some(state) = threads.get_mut(&thread).filter(|s| s.holds_any()) {
                if state.ops.len() + ops.len() > PENDING_OPS_MAX {
                    return Err(HeapError::Rejected(format!(
                        "more than {PENDING_OPS_MAX} changes under one lock; release it more often"
                    )));
                }
                state.ops.extend(ops);
                for object in updated {
                    state.overlay.insert(object.id, object);
                }
                state.created.extend(created);
                return Ok(Recorded::Pending);
            }
        }
        match self.commit_now(tx::transaction(ops)).await {
            Ok(()) => Ok(Recorded::Committed),
            Err(RootRace::Exists(existing)) => {
                Err(HeapError::Internal(format!("unexpected root conflict on object {existing}")))
            }
            Err(RootRace::Error(e)) => Err(e),
        }
    }

    /// Commits `tx` exactly once in the session and records the write for read-your-writes.
    async fn commit_now(&self, tx: pb::Transaction) -> Result<(), RootRace> {
        // After every queued asynchronous section: commits go out in the order they were made.
        self.async_commits.drained().await;
        let written: Vec<u64> = tx.ops.iter().filter_map(op_target).collect();
        let response = self.session.commit(tx).await.map_err(|e| RootRace::Error(e.into()))?;
        match response.result {
            Some(pb::session_response::Result::Committed(committed)) => {
                self.after_write(committed.log_index, &written).map_err(RootRace::Error)
            }
            Some(pb::session_response::Result::Rejected(r)) if r.kind == pb::RejectionKind::RootExists as i32 => {
                Err(RootRace::Exists(r.object_id))
            }
            Some(pb::session_response::Result::Rejected(r)) => Err(RootRace::Error(HeapError::from_rejection(&r))),
            other => Err(RootRace::Error(unexpected("a commit", &other))),
        }
    }

    fn after_write(&self, log_index: u64, written: &[u64]) -> Result<(), HeapError> {
        after_write(&self.min_read_index, &self.cache, log_index, written)
    }

    /// Read RPCs this client has sent (every attempt): the round trips its reads cost (for tests
    /// and measurements).
    pub fn read_requests(&self) -> u64 {
        self.cluster.read_requests()
    }

    /// Session RPCs (locks, commits, releases; not keep-alives) this client has sent, every
    /// attempt: the round trips its locks cost (for tests and measurements).
    pub fn session_requests(&self) -> u64 {
        self.cluster.session_requests()
    }

    /// Objects currently cached (for tests and measurements).
    pub fn cached_objects(&self) -> usize {
        self.cache.read().map(|c| c.len()).unwrap_or(0)
    }
}

impl Drop for HeapClient {
    fn drop(&mut self) {
        self.watcher.abort();
        self.hold_flusher.abort();
        self.releaser.abort();
        self.committer.abort();
    }
}

/// Whether `connect_with` accepts `session_ttl_ms`: if not, the error naming the bounds.
fn check_session_ttl(session_ttl_ms: u64) -> Result<(), HeapError> {
    if (SESSION_TTL_MS_MIN..=SESSION_TTL_MS_MAX).contains(&session_ttl_ms) {
        return Ok(());
    }
    Err(HeapError::Rejected(format!(
        "a session lease (ttl) of {session_ttl_ms} ms is outside {SESSION_TTL_MS_MIN}..={SESSION_TTL_MS_MAX} ms; \
         choose one in that range (the default is {SESSION_TTL_MS_DEFAULT} ms)"
    )))
}

/// Where `change` left a change.
enum Recorded {
    /// Committed before `change` returned.
    Committed,
    /// Joined the thread's pending transaction, committed at the release of its lock.
    Pending,
}

/// The error for using an object the server reported collected.
fn collected(id: u64) -> HeapError {
    HeapError::Rejected(format!(
        "object {id} was collected: nothing referenced it and no session held it; keep a reference to \
         objects still in use, or link them from a root or from a reachable object"
    ))
}

/// A commit's outcome when it may race another client's root creation.
enum RootRace {
    Exists(u64),
    Error(HeapError),
}

/// The op that sets entry `key` of `object` (a field, or a map entry) to `value`.
fn entry_change(object: &pb::Object, key: &str, value: &Value) -> Result<pb::Op, HeapError> {
    let id = object.id;
    Ok(match ObjectKind::from_pb(object.kind)? {
        ObjectKind::Fields => tx::set_field(tx::id_target(id), key, Some(value.to_pb())),
        ObjectKind::Map => tx::map_put(tx::id_target(id), key, Some(value.to_pb())),
        ObjectKind::List => {
            return Err(HeapError::TypeMismatch(format!("object {id} is a list; use the list operations")))
        }
    })
}

/// The object an op changes.
fn op_target(op: &pb::Op) -> Option<u64> {
    use pb::op::Op as P;
    let target = match op.op.as_ref()? {
        P::CreateWithId(c) => return Some(c.id),
        P::SetField(o) => &o.target,
        P::RemoveField(o) => &o.target,
        P::MapPut(o) => &o.target,
        P::MapRemove(o) => &o.target,
        P::ListPush(o) => &o.target,
        P::ListInsert(o) => &o.target,
        P::ListSet(o) => &o.target,
        P::ListRemove(o) => &o.target,
        P::Clear(o) => &o.target,
        _ => return None,
    };
    match target.as_ref()?.kind {
        Some(pb::target::Kind::Id(id)) => Some(id),
        _ => None,
    }
}
