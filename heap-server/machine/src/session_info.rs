//! What the server and operators ask about sessions: who is open (`Heap::sessions`), how a
//! request stands (`Heap::request_state`), the machine's clock and the next deadline.

use serde::{Deserialize, Serialize};

use crate::command::SessionId;
use crate::heap::Heap;
use crate::reply::Reply;

/// One open session, as operators see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub id: SessionId,
    pub client: String,
    /// The credential that opened the session and alone may use it.
    pub owner: String,
    pub ttl_ms: u64,
    /// In the machine's clock (`Heap::now_ms`), not the reader's.
    pub expires_at_ms: u64,
}

/// How a session request stands on this replica, borrowed from the heap. The server polls this
/// after each apply to finish an RPC that got `Reply::Pending`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestState<'a> {
    /// The session does not exist: never opened, closed or expired. For a request that was
    /// pending, this means its session ended first: answer `Rejection::SessionExpired`.
    UnknownSession,
    /// The session exists but holds no reply under this sequence: the request is not applied on
    /// this replica yet, was refused without being stored (`SequenceTooOld`, the
    /// `PendingReplies` limit), or its reply was acknowledged and forgotten.
    NotApplied,
    /// Applied; the Lock is queued or the Wait is waiting.
    Pending,
    /// The final reply (never `Reply::Pending`).
    Final(&'a Reply),
}

/// `RequestState` owning its reply, to carry out of a lock on the heap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum OwnedRequestState {
    UnknownSession,
    NotApplied,
    Pending,
    Final(Reply),
}

impl RequestState<'_> {
    pub fn into_owned(self) -> OwnedRequestState {
        match self {
            RequestState::UnknownSession => OwnedRequestState::UnknownSession,
            RequestState::NotApplied => OwnedRequestState::NotApplied,
            RequestState::Pending => OwnedRequestState::Pending,
            RequestState::Final(reply) => OwnedRequestState::Final(reply.clone()),
        }
    }
}

impl Heap {
    /// The machine's clock: the largest `leader_time_ms` of any applied envelope, so it never
    /// goes back even when leaders' clocks differ.
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    /// The id the next `OpenSession` will receive.
    pub fn next_session_id(&self) -> SessionId {
        self.next_session_id
    }

    pub fn request_state(&self, session_id: SessionId, sequence: u64) -> RequestState<'_> {
        if !self.sessions.contains_key(&session_id) {
            return RequestState::UnknownSession;
        }
        match self.replies.get(&(session_id, sequence)) {
            None => RequestState::NotApplied,
            Some(Reply::Pending) => RequestState::Pending,
            Some(reply) => RequestState::Final(reply),
        }
    }

    /// Every open session, sorted by id.
    pub fn sessions(&self) -> Vec<SessionInfo> {
        self.sessions
            .iter()
            .map(|(id, session)| SessionInfo {
                id: *id,
                client: session.client.clone(),
                owner: session.owner.clone(),
                ttl_ms: session.ttl_ms,
                expires_at_ms: session.expires_at_ms,
            })
            .collect()
    }

    /// The earliest session expiry or Lock/Wait timeout, in the machine's clock. Once the
    /// leader's clock reaches it, the leader proposes `Command::Tick`.
    pub fn next_deadline_ms(&self) -> Option<u64> {
        self.index.next_deadline_ms()
    }
}
