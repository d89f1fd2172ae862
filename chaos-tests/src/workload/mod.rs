//! The workloads: concurrent client workers, each with its own `ClusterClient` and `Session`, that
//! record every operation in the history while the nemesis breaks the cluster. Each operation has
//! a deadline; one that times out or fails ambiguously is recorded as indeterminate and its
//! session is abandoned (Jepsen's "crashed process": the next operations run in a new session
//! under a new process id, so no operation waits behind one that may still land).

pub mod counters;
mod error;
pub mod final_reads;
pub mod gc;
pub mod gc_final;
pub mod greedy_locks;
mod greedy_section;
pub mod locks;
mod mix;
pub mod objects;
pub mod registers;
pub mod users;

use std::future::Future;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::AtomicI64;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use heap_client::ClientError;
use heap_client::ClientSecurity;
use heap_client::ClusterClient;
use heap_client::Session;
use proto::heap as pb;
use tokio::task::JoinHandle;

pub use error::WorkloadError;
pub use mix::Workload;

use crate::endpoints::Endpoints;
use crate::history::History;
use crate::workload::objects::Objects;
use crate::workload::objects::VALUE_FIELD;
use heap_testkit::Prng;

/// One request round of the client (all endpoints, retries included) gives up after this long.
pub const CLIENT_DEADLINE_MS: u64 = 8_000;
/// One operation gives up after this long and is recorded as indeterminate.
pub const OP_DEADLINE_MS: u64 = 12_000;
const _: () = assert!(CLIENT_DEADLINE_MS < OP_DEADLINE_MS);
/// Session lease: longer than any single fault, so only a client cut off for longer loses it.
pub const SESSION_TTL_MS: u64 = 5_000;
/// How long a lock request waits in the queue (server-side) before it answers "timed out".
pub const LOCK_WAIT_MS: u64 = 3_000;
const _: () = assert!(LOCK_WAIT_MS < OP_DEADLINE_MS);
/// Pause between two operations of one worker, at most.
pub const THINK_MS_MAX: u64 = 20;
/// Attempts to open a session before the worker waits for the next round.
const SESSION_OPEN_ATTEMPTS_MAX: u32 = 100;
const SESSION_OPEN_BACKOFF_MS: u64 = 200;
/// Closing an abandoned session (so its locks free at once) gives up after this long; its lease
/// then frees them.
const SESSION_CLOSE_TIMEOUT_MS: u64 = 2_000;

/// Workers per workload.
pub const REGISTER_WORKERS: usize = 4;
pub const COUNTER_WORKERS: usize = 2;
pub const LOCK_WORKERS: usize = 3;
pub const TABS_PER_USER: usize = 2;
pub const GC_WORKERS: usize = 3;
/// Clients of the greedy-locks workload (each with 2-3 threads).
pub const GREEDY_WORKERS: usize = 3;

/// What every worker shares.
pub struct Context {
    pub history: Arc<History>,
    /// The nodes' addresses; the membership nemesis changes them as members come and go.
    pub endpoints: Arc<Endpoints>,
    /// How every client reaches the nodes (the cluster's CA and admin token, or plaintext).
    pub security: ClientSecurity,
    pub objects: Objects,
    pub seed: u64,
    stop: AtomicBool,
    next_value: AtomicI64,
    next_process: AtomicU64,
}

impl Context {
    pub fn new(
        history: Arc<History>,
        endpoints: Arc<Endpoints>,
        security: ClientSecurity,
        objects: Objects,
        seed: u64,
    ) -> Self {
        Self {
            history,
            endpoints,
            security,
            objects,
            seed,
            stop: AtomicBool::new(false),
            // Register values and element ids start above the initial value 0.
            next_value: AtomicI64::new(1),
            // Process 0 is the final reader.
            next_process: AtomicU64::new(1),
        }
    }

    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst) || self.history.is_full()
    }

    /// A value never used before in this run.
    pub fn unique(&self) -> i64 {
        self.next_value.fetch_add(1, Ordering::Relaxed)
    }

    fn new_process(&self) -> u64 {
        self.next_process.fetch_add(1, Ordering::Relaxed)
    }
}

/// How a session request ended, for the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Committed,
    Granted(u64),
    LockTimedOut,
    /// A hold was taken of every id that exists; these do not.
    Held {
        missing: Vec<u64>,
    },
    /// Applied and refused by the state machine: nothing changed.
    Refused {
        kind: i32,
        message: String,
    },
    /// Maybe applied, maybe not.
    Unknown(String),
}

impl Answer {
    pub fn refused_because(&self, kind: pb::RejectionKind) -> bool {
        matches!(self, Answer::Refused { kind: k, .. } if *k == kind as i32)
    }
}

/// Classifies a session request's result. Rejections that say the session is gone are ambiguous:
/// the request may have been applied before the session ended.
pub fn classify(result: Result<Result<pb::SessionResponse, ClientError>, tokio::time::error::Elapsed>) -> Answer {
    use pb::session_response::Result as R;
    let response = match result {
        Err(_) => return Answer::Unknown(format!("no answer within {OP_DEADLINE_MS} ms")),
        Ok(Err(e)) => return Answer::Unknown(e.to_string()),
        Ok(Ok(response)) => response,
    };
    match response.result {
        Some(R::Committed(_)) | Some(R::Unlocked(_)) | Some(R::Done(_)) => Answer::Committed,
        Some(R::Granted(granted)) => Answer::Granted(granted.token),
        Some(R::TimedOut(_)) => Answer::LockTimedOut,
        Some(R::Held(held)) => Answer::Held { missing: held.missing },
        Some(R::Rejected(r)) => {
            let ambiguous = [
                pb::RejectionKind::UnknownSession,
                pb::RejectionKind::SessionExpired,
                pb::RejectionKind::SequenceTooOld,
            ];
            if ambiguous.iter().any(|k| *k as i32 == r.kind) {
                Answer::Unknown(r.message)
            } else {
                Answer::Refused { kind: r.kind, message: r.message }
            }
        }
        other => Answer::Unknown(format!("unexpected answer {other:?}")),
    }
}

/// Runs `future` with the operation deadline.
pub async fn within<T>(future: impl Future<Output = T>) -> Result<T, tokio::time::error::Elapsed> {
    tokio::time::timeout(Duration::from_millis(OP_DEADLINE_MS), future).await
}

/// One client worker: its client, its session (opened on demand), its process id.
pub struct Worker {
    pub context: Arc<Context>,
    pub client: Arc<ClusterClient>,
    pub prng: Prng,
    pub process: u64,
    name: String,
    session: Option<Session>,
    index: usize,
    /// The `Endpoints` generation `client` was built for.
    client_generation: u64,
}

/// A client for `endpoints` that tries node `index % count` first.
fn rotated_client(context: &Context, endpoints: &[String], index: usize) -> Result<ClusterClient, ClientError> {
    let mut endpoints = endpoints.to_vec();
    let count = endpoints.len().max(1);
    endpoints.rotate_left(index % count);
    ClusterClient::connect(&endpoints, &context.security, Duration::from_millis(CLIENT_DEADLINE_MS))
}

impl Worker {
    /// Worker `index` prefers node `index % nodes`: workers spread over every node, so some of
    /// them talk to a deposed or isolated leader while the others talk to the new one.
    pub fn new(context: Arc<Context>, index: usize, name: &str) -> Result<Self, WorkloadError> {
        let (endpoints, client_generation) = context.endpoints.current();
        let client = Arc::new(rotated_client(&context, &endpoints, index)?);
        let prng = Prng::derive(context.seed, 1_000 + index as u64);
        let process = context.new_process();
        let name = format!("chaos-{name}-{index}");
        Ok(Self { context, client, prng, process, name, session: None, index, client_generation })
    }

    /// Rebuilds the client when the nodes' addresses changed (a member was added or left). An
    /// open session keeps the client it was opened with; the next one uses the new client.
    fn refresh_client(&mut self) {
        if self.context.endpoints.generation() == self.client_generation {
            return;
        }
        let (endpoints, generation) = self.context.endpoints.current();
        // The addresses were valid when the run started and the nemesis only adds HOST:PORT
        // ones; should building fail all the same, the old client goes on.
        if let Ok(client) = rotated_client(&self.context, &endpoints, self.index) {
            self.client = Arc::new(client);
            self.client_generation = generation;
        }
    }

    pub fn stopped(&self) -> bool {
        self.context.stopped()
    }

    pub fn history(&self) -> &History {
        &self.context.history
    }

    pub async fn think(&mut self) {
        let pause = self.prng.below(THINK_MS_MAX + 1);
        tokio::time::sleep(Duration::from_millis(pause)).await;
    }

    /// The worker's session, opening one (under a new process id) if needed; None once the run
    /// stops or the cluster does not open one in time.
    pub async fn session(&mut self) -> Option<&Session> {
        if self.session.is_none() {
            for _ in 0..SESSION_OPEN_ATTEMPTS_MAX {
                if self.stopped() {
                    return None;
                }
                self.refresh_client();
                let opened = within(Session::open(Arc::clone(&self.client), &self.name, SESSION_TTL_MS)).await;
                if let Ok(Ok(session)) = opened {
                    self.session = Some(session);
                    self.process = self.context.new_process();
                    break;
                }
                tokio::time::sleep(Duration::from_millis(SESSION_OPEN_BACKOFF_MS)).await;
            }
        }
        self.session.as_ref()
    }

    pub fn has_session(&self) -> bool {
        self.session.is_some()
    }

    /// Gives up the session after an indeterminate request: it is closed in the background (so
    /// its locks free at once), and the worker continues in a new one.
    pub fn abandon_session(&mut self) {
        if let Some(session) = self.session.take() {
            session.stop_keepalive();
            tokio::spawn(async move {
                let timeout = Duration::from_millis(SESSION_CLOSE_TIMEOUT_MS);
                let _ = tokio::time::timeout(timeout, session.close()).await;
            });
        }
    }

    /// Closes the session now (its locks and holds end); the next request opens a new one under
    /// a new process id. None when there was none; Err(why) when the outcome is unknown.
    pub async fn close_session(&mut self) -> Option<Result<(), String>> {
        let session = self.session.take()?;
        Some(match within(session.close()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {OP_DEADLINE_MS} ms")),
        })
    }

    /// Closes the session at the end of the run.
    pub async fn finish(&mut self) {
        if let Some(session) = self.session.take() {
            let _ = tokio::time::timeout(Duration::from_millis(SESSION_CLOSE_TIMEOUT_MS), session.close()).await;
        }
    }

    /// Sends one session command with the operation deadline; an unknown outcome abandons the
    /// session. None when there is no session (the run is stopping).
    pub async fn request(&mut self, command: pb::session_request::Command) -> Option<Answer> {
        self.request_with_response(command).await.map(|(answer, _)| answer)
    }

    /// `request`, with the response itself when one came (for what `Answer` leaves out, such
    /// as the ids a transaction created).
    pub async fn request_with_response(
        &mut self,
        command: pb::session_request::Command,
    ) -> Option<(Answer, Option<pb::SessionResponse>)> {
        let session = self.session().await?;
        let result = within(session.call(command)).await;
        let response = match &result {
            Ok(Ok(response)) => Some(response.clone()),
            _ => None,
        };
        let answer = classify(result);
        if matches!(answer, Answer::Unknown(_)) {
            self.abandon_session();
        }
        Some((answer, response))
    }

    /// A linearizable read of one object (with a client for the current addresses).
    pub async fn read_object(&mut self, id: u64) -> Result<pb::Object, String> {
        self.refresh_client();
        read_object(&self.client, id).await
    }

    /// A linearizable graph read (with a client for the current addresses).
    pub async fn read_graph(&mut self, request: pb::ReadRequest) -> Result<pb::ReadResponse, String> {
        self.refresh_client();
        read_graph(&self.client, request).await
    }
}

/// A linearizable graph read with the operation deadline.
pub async fn read_graph(client: &ClusterClient, request: pb::ReadRequest) -> Result<pb::ReadResponse, String> {
    match within(client.read(request)).await {
        Err(_) => Err(format!("no answer within {OP_DEADLINE_MS} ms")),
        Ok(Err(e)) => Err(e.to_string()),
        Ok(Ok(response)) => Ok(response),
    }
}

/// A linearizable read of object `id` with the operation deadline.
pub async fn read_object(client: &ClusterClient, id: u64) -> Result<pb::Object, String> {
    let request = pb::ReadRequest { ids: vec![id], ..Default::default() };
    let response = read_graph(client, request).await?;
    response.objects.into_iter().find(|o| o.id == id).ok_or_else(|| format!("object {id} missing from the read"))
}

/// The int field `value` of a register or counter object.
pub fn int_value(object: &pb::Object) -> Option<i64> {
    match object.entries.get(VALUE_FIELD).and_then(|v| v.kind.as_ref()) {
        Some(pb::value::Kind::IntValue(value)) => Some(*value),
        _ => None,
    }
}

/// The string elements of a list object.
pub fn string_items(object: &pb::Object) -> Vec<String> {
    object
        .items
        .iter()
        .map(|item| match &item.kind {
            Some(pb::value::Kind::StringValue(text)) => text.clone(),
            other => format!("<not a string: {other:?}>"),
        })
        .collect()
}

pub fn int(value: i64) -> Option<pb::Value> {
    heap_client::tx::value(pb::value::Kind::IntValue(value))
}

pub fn string(text: &str) -> Option<pb::Value> {
    heap_client::tx::value(pb::value::Kind::StringValue(text.to_string()))
}

/// Starts every worker of the chosen workloads; they run until `Context::stop`.
pub fn spawn_all(context: &Arc<Context>, workloads: &[Workload]) -> Result<Vec<JoinHandle<()>>, WorkloadError> {
    let mut handles = Vec::new();
    let mut index = 0;
    let mut next = || {
        index += 1;
        index - 1
    };
    let workers = |workload: Workload, count: usize| if workloads.contains(&workload) { count } else { 0 };
    for _ in 0..workers(Workload::Registers, REGISTER_WORKERS) {
        handles.push(tokio::spawn(registers::run(Worker::new(Arc::clone(context), next(), "register")?)));
    }
    for _ in 0..workers(Workload::Counters, COUNTER_WORKERS) {
        handles.push(tokio::spawn(counters::run(Worker::new(Arc::clone(context), next(), "counter")?)));
    }
    for _ in 0..workers(Workload::Locks, LOCK_WORKERS) {
        handles.push(tokio::spawn(locks::run(Worker::new(Arc::clone(context), next(), "lock")?)));
    }
    for user in 0..workers(Workload::Users, context.objects.users.len()) {
        for _ in 0..TABS_PER_USER {
            let worker = Worker::new(Arc::clone(context), next(), &format!("user{user}"))?;
            handles.push(tokio::spawn(users::run(worker, user)));
        }
    }
    for gc_worker in 0..workers(Workload::Gc, GC_WORKERS) {
        handles.push(tokio::spawn(gc::run(Worker::new(Arc::clone(context), next(), "gc")?, gc_worker)));
    }
    for greedy_worker in 0..workers(Workload::GreedyLocks, GREEDY_WORKERS) {
        handles.push(tokio::spawn(greedy_locks::run(Arc::clone(context), next(), greedy_worker)));
    }
    Ok(handles)
}
