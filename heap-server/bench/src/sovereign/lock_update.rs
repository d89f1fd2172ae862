//! `LockUpdateClient`: one closed-loop client of lock-update through the client library's
//! `Session`: acquire its own cluster lock, read its object (from the leader's state once it has
//! applied the grant, as the library's cache does), and write the incremented counter as the
//! release's transaction (commit at release, with the version read as a precondition).

use std::sync::Arc;
use std::time::Duration;

use heap_client::tx::id_target;
use heap_client::tx::set_field;
use heap_client::tx::value;
use heap_client::ClusterClient;
use heap_client::LockOutcome;
use heap_client::Session;
use heap_machine::token_log_index;
use proto::heap as pb;

use crate::driver::LoadClient;
use crate::error::BenchError;
use crate::limits::SESSION_CLOSE_TIMEOUT_MS;
use crate::limits::SESSION_TTL_MS;

/// The field lock-update increments.
const COUNTER_FIELD: &str = "counter";
/// Every client holds its lock from one thread of its own session.
const THREAD: u64 = 1;
const _: () = assert!(heap_machine::SESSION_TTL_MS_MIN <= SESSION_TTL_MS);
const _: () = assert!(SESSION_TTL_MS <= heap_machine::SESSION_TTL_MS_MAX);

pub struct LockUpdateClient {
    session: Session,
    cluster: Arc<ClusterClient>,
    lock: String,
    id: u64,
}

fn request_error(what: &str, error: impl std::fmt::Display) -> BenchError {
    BenchError::Request(format!("{what}: {error}"))
}

impl LockUpdateClient {
    /// Opens the client's session; `lock` is its own lock, `id` its own object.
    pub async fn open(cluster: Arc<ClusterClient>, lock: String, id: u64) -> Result<Self, BenchError> {
        let session = Session::open(Arc::clone(&cluster), "heap-bench lock-update", SESSION_TTL_MS)
            .await
            .map_err(|e| BenchError::Setup(format!("cannot open a session: {e}")))?;
        Ok(Self { session, cluster, lock, id })
    }

    /// Reads the object once the answering node has applied `grant_index`.
    async fn read(&self, grant_index: u64) -> Result<pb::Object, BenchError> {
        let request = pb::ReadRequest {
            ids: vec![self.id],
            depth: 0,
            max_objects: 1,
            local: true,
            min_applied_index: grant_index,
            ..Default::default()
        };
        let read = self.cluster.read(request).await.map_err(|e| request_error("read", e))?;
        read.objects.into_iter().next().ok_or_else(|| BenchError::Request(format!("object {} is missing", self.id)))
    }

    async fn update(&self, token: u64) -> Result<(), BenchError> {
        let object = self.read(token_log_index(token)).await?;
        let counter = match object.entries.get(COUNTER_FIELD).and_then(|v| v.kind.as_ref()) {
            Some(pb::value::Kind::IntValue(n)) => *n,
            _ => 0,
        };
        let commit = pb::Transaction {
            expect: vec![pb::ExpectVersion { id: self.id, version: object.version }],
            ops: vec![set_field(id_target(self.id), COUNTER_FIELD, value(pb::value::Kind::IntValue(counter + 1)))],
            fences: Vec::new(),
        };
        let response =
            self.session.unlock(&self.lock, THREAD, Some(commit)).await.map_err(|e| request_error("unlock", e))?;
        match response.result {
            Some(pb::session_response::Result::Unlocked(pb::Unlocked { commit: Some(c) })) if c.log_index > 0 => Ok(()),
            Some(pb::session_response::Result::Rejected(r)) => {
                Err(BenchError::Request(format!("commit at release rejected: {}", r.message)))
            }
            other => Err(BenchError::Request(format!("unexpected answer to unlock: {other:?}"))),
        }
    }
}

impl LoadClient for LockUpdateClient {
    async fn op(&mut self) -> Result<(), BenchError> {
        let token = match self.session.lock(&self.lock, THREAD, pb::LockMode::Write, None).await {
            Ok(LockOutcome::Granted { token }) => token,
            Ok(LockOutcome::TimedOut) => return Err(BenchError::Request("lock timed out".into())),
            Err(e) => return Err(request_error("lock", e)),
        };
        let updated = self.update(token).await;
        if updated.is_err() {
            // A rejected commit keeps the lock held, and a failed read never reached the unlock:
            // release without a transaction so the next request starts from a free lock. If this
            // fails too, the lock is still held and the next lock request is merely reentrant.
            let _ = self.session.unlock(&self.lock, THREAD, None).await;
        }
        updated
    }

    async fn finish(self) {
        let _ = tokio::time::timeout(Duration::from_millis(SESSION_CLOSE_TIMEOUT_MS), self.session.close()).await;
    }
}
