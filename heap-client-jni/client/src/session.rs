//! `Session`: a client session with a lease kept alive in the background, and exactly-once requests
//! (every request carries the session id and its own sequence number; retries reuse them).

use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use proto::heap as pb;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::cluster::ClientError;
use crate::cluster::ClusterClient;
use crate::sequences::Sequences;

/// A lock or wait still pending is re-sent at most this many times (each send waits up to the
/// server's `PENDING_WAIT_MS_MAX`); past that the caller gets `ClientError::Request`.
pub const PENDING_ROUNDS_MAX: u32 = 10_000;
/// Keep-alives per TTL: the lease survives two lost keep-alives in a row.
const KEEPALIVES_PER_TTL: u64 = 3;

/// What a lock request ended with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockOutcome {
    Granted { token: u64 },
    TimedOut,
}

struct Shared {
    client: Arc<ClusterClient>,
    id: u64,
    sequences: Sequences,
    /// Set once the cluster answered that the session is unknown or expired.
    expired: AtomicBool,
}

pub struct Session {
    shared: Arc<Shared>,
    ttl_ms: u64,
    keepalive: Mutex<Option<JoinHandle<()>>>,
}

fn rejected(response: &pb::SessionResponse) -> Option<&pb::Rejection> {
    match &response.result {
        Some(pb::session_response::Result::Rejected(r)) => Some(r),
        _ => None,
    }
}

impl Shared {
    /// Sends one request until it has a final answer (a pending lock or wait is re-sent).
    /// `pending` is told at the first Pending answer (see `Session::call_noting_pending`).
    async fn call(
        &self,
        command: pb::session_request::Command,
        pending: Option<oneshot::Sender<()>>,
    ) -> Result<pb::SessionResponse, ClientError> {
        let sequence = self.sequences.begin()?;
        let result = self.call_with(sequence, command, pending).await;
        self.sequences.end(sequence);
        if let Ok(response) = &result {
            let kind = rejected(response).map(|r| r.kind);
            if kind == Some(pb::RejectionKind::UnknownSession as i32)
                || kind == Some(pb::RejectionKind::SessionExpired as i32)
            {
                self.expired.store(true, Ordering::SeqCst);
            }
        }
        result
    }

    async fn call_with(
        &self,
        sequence: u64,
        command: pb::session_request::Command,
        mut pending: Option<oneshot::Sender<()>>,
    ) -> Result<pb::SessionResponse, ClientError> {
        for _ in 0..PENDING_ROUNDS_MAX {
            let acknowledged_below = self.sequences.acknowledged_below(sequence)?;
            let request = pb::SessionRequest {
                session_id: self.id,
                sequence,
                acknowledged_below,
                command: Some(command.clone()),
            };
            let response = self.client.session(request).await?;
            if !matches!(response.result, Some(pb::session_response::Result::Pending(_))) {
                return Ok(response);
            }
            if let Some(pending) = pending.take() {
                let _ = pending.send(());
            }
        }
        Err(ClientError::Request(format!("request {sequence} still pending after {PENDING_ROUNDS_MAX} rounds")))
    }
}

impl Session {
    /// Opens a session with lease `ttl_ms` and starts keeping it alive.
    pub async fn open(client: Arc<ClusterClient>, name: &str, ttl_ms: u64) -> Result<Self, ClientError> {
        let opened = client.open_session(name, ttl_ms).await?;
        let shared = Arc::new(Shared {
            client,
            id: opened.session_id,
            sequences: Sequences::default(),
            expired: AtomicBool::new(false),
        });
        let session = Self { shared, ttl_ms: opened.ttl_ms, keepalive: Mutex::new(None) };
        session.start_keepalive();
        Ok(session)
    }

    pub fn id(&self) -> u64 {
        self.shared.id
    }

    pub fn ttl_ms(&self) -> u64 {
        self.ttl_ms
    }

    fn start_keepalive(&self) {
        let shared = Arc::clone(&self.shared);
        let interval = Duration::from_millis((self.ttl_ms / KEEPALIVES_PER_TTL).max(1));
        let task = tokio::spawn(async move {
            while !shared.expired.load(Ordering::SeqCst) {
                tokio::time::sleep(interval).await;
                if let Err(e) = shared.call(pb::session_request::Command::KeepAlive(pb::KeepAlive {}), None).await {
                    tracing::warn!(session = shared.id, error = %e, "keep-alive failed; retrying");
                }
            }
        });
        if let Ok(mut keepalive) = self.keepalive.lock() {
            if let Some(old) = keepalive.replace(task) {
                old.abort();
            }
        }
    }

    /// Stops sending keep-alives (the lease then runs out): what a client cut off by a
    /// partition looks like to the cluster. For tests and tools.
    pub fn stop_keepalive(&self) {
        if let Ok(mut keepalive) = self.keepalive.lock() {
            if let Some(task) = keepalive.take() {
                task.abort();
            }
        }
    }

    pub async fn call(&self, command: pb::session_request::Command) -> Result<pb::SessionResponse, ClientError> {
        self.shared.call(command, None).await
    }

    /// `call`, telling `pending` when a first answer says Pending: the request was applied and
    /// waits (a Wait then holds nothing until its final answer). Dropped unsent otherwise.
    pub async fn call_noting_pending(
        &self,
        command: pb::session_request::Command,
        pending: oneshot::Sender<()>,
    ) -> Result<pb::SessionResponse, ClientError> {
        self.shared.call(command, Some(pending)).await
    }

    /// Acquires lock `name` for `thread`; `timeout_ms` None waits until granted, Some(0) tries
    /// once. The one place a lock request and its answer are handled; a refusal (e.g. a read ->
    /// write upgrade) is `ClientError::Rejected`.
    pub async fn lock(
        &self,
        name: &str,
        thread: u64,
        mode: pb::LockMode,
        timeout_ms: Option<u64>,
    ) -> Result<LockOutcome, ClientError> {
        let command =
            pb::session_request::Command::Lock(pb::Lock { name: name.into(), thread, mode: mode as i32, timeout_ms });
        let response = self.call(command).await?;
        match response.result {
            Some(pb::session_response::Result::Granted(g)) => Ok(LockOutcome::Granted { token: g.token }),
            Some(pb::session_response::Result::TimedOut(_)) => Ok(LockOutcome::TimedOut),
            Some(pb::session_response::Result::Rejected(r)) => Err(ClientError::Rejected(r)),
            other => Err(ClientError::Request(format!("unexpected answer to lock: {other:?}"))),
        }
    }

    /// Releases one hold of lock `name`, committing `commit` in the same log entry.
    pub async fn unlock(
        &self,
        name: &str,
        thread: u64,
        commit: Option<pb::Transaction>,
    ) -> Result<pb::SessionResponse, ClientError> {
        self.call(pb::session_request::Command::Unlock(pb::Unlock { name: name.into(), thread, commit })).await
    }

    /// Commits `transaction` exactly once.
    pub async fn commit(&self, transaction: pb::Transaction) -> Result<pb::SessionResponse, ClientError> {
        self.call(pb::session_request::Command::Transaction(transaction)).await
    }

    /// Ends the session: its locks are released at once.
    pub async fn close(&self) -> Result<(), ClientError> {
        self.stop_keepalive();
        let response = self.call(pb::session_request::Command::Close(pb::CloseSession {})).await?;
        match rejected(&response) {
            // A retried Close finds the session already gone: that is success.
            Some(r) if r.kind == pb::RejectionKind::UnknownSession as i32 => Ok(()),
            Some(r) => Err(ClientError::Request(r.message.clone())),
            None => Ok(()),
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.stop_keepalive();
    }
}
