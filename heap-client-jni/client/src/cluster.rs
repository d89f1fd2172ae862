//! `ClusterClient`: the `Heap` service over several endpoints: it tries them in turn, remembers the
//! one that answered, retries with bounded backoff within an overall deadline.

use std::sync::atomic::AtomicU64;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering;
use std::time::Duration;
use std::time::Instant;

use proto::heap as pb;
use tonic::Code;
use tonic::Status;

use crate::security::heap_stub;
use crate::security::ClientSecurity;
use crate::security::HeapStub;
use crate::security::SecurityError;

/// Connecting to one endpoint gives up after this long (the next endpoint is tried).
pub const CONNECT_TIMEOUT_MS: u64 = 1_000;
/// One attempt on one endpoint gives up after this long, so a hung or isolated node cannot use
/// up the whole deadline. Above the server's bound for a pending lock or wait (5 s), so such a
/// request is answered `Pending` rather than cut off.
pub const ATTEMPT_TIMEOUT_MS: u64 = 7_000;
const _: () = assert!(proto::PENDING_WAIT_MS_MAX < ATTEMPT_TIMEOUT_MS);
/// An upper bound on attempts per request across all endpoints; the deadline normally ends the
/// retries first.
pub const CLIENT_ATTEMPTS_MAX: u32 = 1_000;
const RETRY_BACKOFF_MS_MIN: u64 = 20;
/// The longest wait between rounds: a client finds a new leader at most this long after it is
/// elected. At 100 ms that added up to 90 ms to a 0.4 s failover; an idle round costs one small
/// refused request per endpoint.
const RETRY_BACKOFF_MS_MAX: u64 = 50;
/// Endpoints one client accepts.
pub const ENDPOINTS_MAX: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("invalid endpoint {0:?}: give HOST:PORT")]
    InvalidEndpoint(String),
    #[error(transparent)]
    Security(#[from] SecurityError),
    #[error("no endpoint given: pass --endpoints HOST:PORT,...")]
    NoEndpoints,
    #[error("too many endpoints (at most {ENDPOINTS_MAX})")]
    TooManyEndpoints,
    #[error("the cluster did not answer (tried {endpoints} {attempts} times over {elapsed_ms} ms); last error: {last}. Check that the nodes run and a majority can reach each other")]
    Unavailable { endpoints: String, attempts: u32, elapsed_ms: u64, last: String },
    #[error("{0}")]
    Request(String),
    /// The state machine refused a session request (lock upgrade, a limit, an expired session):
    /// the rejection says which and what to fix.
    #[error("{}", .0.message)]
    Rejected(pb::Rejection),
}

pub struct ClusterClient {
    endpoints: Vec<String>,
    clients: Vec<HeapStub>,
    preferred: AtomicUsize,
    deadline: Duration,
    /// Whether requests go over TLS (for the hint when a plaintext client meets a TLS node).
    tls: bool,
    /// Read RPCs sent so far, every attempt counted: the round trips graph reads cost (issue 10's
    /// "a 1,000-object graph in under 20 round trips" is measured with it).
    read_requests: AtomicU64,
    /// Session RPCs sent so far other than keep-alives, every attempt counted: the round trips
    /// locks and commits cost (issue 12's "round trips per hand-over" is measured with it).
    session_requests: AtomicU64,
}

/// Whether TLS refused the node's certificate (not issued by the client's CA, expired, or for
/// another name): no retry can change that.
fn is_certificate_refusal(status: &Status) -> bool {
    status.message().contains("invalid peer certificate")
}

/// Whether a failed request may be tried again elsewhere without risk of applying it twice.
fn retryable(status: &Status, is_commit: bool) -> bool {
    match status.code() {
        Code::Unavailable | Code::Cancelled | Code::DeadlineExceeded | Code::Unknown => {
            !(is_commit && status.message().contains("outcome is unknown"))
        }
        _ => false,
    }
}

impl ClusterClient {
    /// A client of the cluster at `endpoints`, reached as `security` says; each request (its
    /// retries included) ends within `deadline`. Connects on first use.
    pub fn connect(endpoints: &[String], security: &ClientSecurity, deadline: Duration) -> Result<Self, ClientError> {
        if endpoints.is_empty() {
            return Err(ClientError::NoEndpoints);
        }
        if endpoints.len() > ENDPOINTS_MAX {
            return Err(ClientError::TooManyEndpoints);
        }
        if let Some(bad) = endpoints.iter().find(|addr| addr.rsplit_once(':').is_none()) {
            return Err(ClientError::InvalidEndpoint(bad.clone()));
        }
        let connect_timeout = Duration::from_millis(CONNECT_TIMEOUT_MS);
        let clients = endpoints
            .iter()
            .map(|addr| heap_stub(security, addr, connect_timeout, deadline))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            endpoints: endpoints.to_vec(),
            clients,
            preferred: AtomicUsize::new(0),
            deadline,
            tls: security.is_tls(),
            read_requests: AtomicU64::new(0),
            session_requests: AtomicU64::new(0),
        })
    }

    /// Advice for a connection that broke at the protocol or TLS level: a plaintext client meeting
    /// a TLS node, or a certificate the client's CA does not vouch for (or that expired).
    fn hint(&self, status: &Status) -> &'static str {
        let message = status.message();
        if !self.tls && message.contains("protocol error") {
            " (the node may require TLS: give the cluster's CA with --ca or SOVEREIGN_CA, or run where \
             data/security holds it)"
        } else if self.tls && message.contains("certificate") {
            " (TLS refused the node's certificate: check that the CA you gave is this cluster's, and that \
             the node's certificate has not expired)"
        } else {
            ""
        }
    }

    pub fn endpoints(&self) -> &[String] {
        &self.endpoints
    }

    /// Runs `call` against the endpoints in turn until one answers, the deadline passes or the
    /// attempts run out.
    async fn call<T, F, Fut>(&self, is_commit: bool, mut call: F) -> Result<T, ClientError>
    where
        F: FnMut(HeapStub) -> Fut,
        Fut: std::future::Future<Output = Result<tonic::Response<T>, Status>>,
    {
        let started = Instant::now();
        let mut backoff_ms = RETRY_BACKOFF_MS_MIN;
        let mut last = String::from("no attempt made");
        let mut attempts = 0;
        for attempt in 0..CLIENT_ATTEMPTS_MAX {
            attempts = attempt + 1;
            let index = (self.preferred.load(Ordering::Relaxed) + attempt as usize) % self.clients.len();
            let remaining = self.deadline.saturating_sub(started.elapsed());
            if remaining.is_zero() {
                break;
            }
            // One node may hang (paused, cut off): give it a bounded share, then try the next.
            let attempt_timeout = remaining.min(Duration::from_millis(ATTEMPT_TIMEOUT_MS));
            match tokio::time::timeout(attempt_timeout, call(self.clients[index].clone())).await {
                Ok(Ok(response)) => {
                    self.preferred.store(index, Ordering::Relaxed);
                    return Ok(response.into_inner());
                }
                // Every node's certificate comes from the same CA: if this one's is refused, the
                // others' will be too, and retrying until the deadline would look like an outage.
                Ok(Err(status)) if self.tls && is_certificate_refusal(&status) => {
                    return Err(ClientError::Request(format!(
                        "{}: {}{}",
                        self.endpoints[index],
                        status.message(),
                        self.hint(&status)
                    )))
                }
                Ok(Err(status)) if retryable(&status, is_commit) => {
                    last = format!("{}: {}{}", self.endpoints[index], status.message(), self.hint(&status));
                }
                Ok(Err(status)) => {
                    return Err(ClientError::Request(format!("{}{}", status.message(), self.hint(&status))))
                }
                Err(_) => last = format!("{}: no answer in time", self.endpoints[index]),
            }
            // A full round over every endpoint failed: wait before the next round.
            if (attempt as usize + 1).is_multiple_of(self.clients.len()) {
                tokio::time::sleep(Duration::from_millis(backoff_ms)).await;
                backoff_ms = (backoff_ms * 2).min(RETRY_BACKOFF_MS_MAX);
            }
        }
        Err(ClientError::Unavailable {
            endpoints: self.endpoints.join(","),
            attempts,
            elapsed_ms: started.elapsed().as_millis() as u64,
            last,
        })
    }

    pub async fn commit(&self, transaction: pb::Transaction) -> Result<pb::CommitResponse, ClientError> {
        let request = pb::CommitRequest { transaction: Some(transaction) };
        self.call(true, |mut c| {
            let request = request.clone();
            async move { c.commit(request).await }
        })
        .await
    }

    pub async fn read(&self, request: pb::ReadRequest) -> Result<pb::ReadResponse, ClientError> {
        self.call(false, |mut c| {
            self.read_requests.fetch_add(1, Ordering::Relaxed);
            let request = request.clone();
            async move { c.read(request).await }
        })
        .await
    }

    /// How many session RPCs other than keep-alives this client has sent (each attempt).
    pub fn session_requests(&self) -> u64 {
        self.session_requests.load(Ordering::Relaxed)
    }

    /// How many Read RPCs this client has sent (each attempt of each `read`).
    pub fn read_requests(&self) -> u64 {
        self.read_requests.load(Ordering::Relaxed)
    }

    pub async fn list_roots(&self) -> Result<pb::ListRootsResponse, ClientError> {
        self.call(false, |mut c| async move { c.list_roots(pb::ListRootsRequest {}).await }).await
    }

    pub async fn open_session(&self, client: &str, ttl_ms: u64) -> Result<pb::OpenSessionResponse, ClientError> {
        let request = pb::OpenSessionRequest { client: client.to_string(), ttl_ms };
        // Not exactly-once (there is no session yet): a retry after a lost answer opens a second
        // session, and the first one simply expires.
        self.call(false, |mut c| {
            let request = request.clone();
            async move { c.open_session(request).await }
        })
        .await
    }

    /// One attempt round of a session request; retries reuse its (session, sequence), so the
    /// request applies once however often it is sent.
    pub async fn session(&self, request: pb::SessionRequest) -> Result<pb::SessionResponse, ClientError> {
        let counted = !matches!(request.command, Some(pb::session_request::Command::KeepAlive(_)));
        self.call(false, |mut c| {
            if counted {
                self.session_requests.fetch_add(1, Ordering::Relaxed);
            }
            let request = request.clone();
            async move { c.session(request).await }
        })
        .await
    }

    /// Reserves `count` object ids (for `CreateWithId`). Not exactly-once: a retry after a lost
    /// answer reserves a second range, and the first is simply never used.
    pub async fn allocate_ids(&self, count: u32) -> Result<pb::AllocateIdsResponse, ClientError> {
        self.call(false, |mut c| async move { c.allocate_ids(pb::AllocateIdsRequest { count }).await }).await
    }

    /// The change stream of the node at endpoint `index` (no failover: the caller reconnects
    /// elsewhere and drops its cache when the stream ends).
    pub async fn watch_at(&self, index: usize) -> Result<tonic::Streaming<pb::Changes>, Status> {
        let mut client =
            self.clients.get(index).cloned().ok_or_else(|| Status::invalid_argument("no such endpoint"))?;
        Ok(client.watch(pb::WatchRequest {}).await?.into_inner())
    }

    pub async fn list_locks(&self) -> Result<pb::ListLocksResponse, ClientError> {
        self.call(false, |mut c| async move { c.list_locks(pb::ListLocksRequest {}).await }).await
    }

    pub async fn list_sessions(&self) -> Result<pb::ListSessionsResponse, ClientError> {
        self.call(false, |mut c| async move { c.list_sessions(pb::ListSessionsRequest {}).await }).await
    }

    /// The status of the node at endpoint `index` only (no failover).
    pub async fn status_of(&self, index: usize) -> Result<pb::StatusResponse, Status> {
        let mut client =
            self.clients.get(index).cloned().ok_or_else(|| Status::invalid_argument("no such endpoint"))?;
        let deadline = self.deadline.min(Duration::from_millis(2 * CONNECT_TIMEOUT_MS));
        match tokio::time::timeout(deadline, client.status(pb::StatusRequest {})).await {
            Ok(result) => result.map(tonic::Response::into_inner),
            Err(_) => Err(Status::deadline_exceeded("no answer in time")),
        }
    }
}
