//! `HeapError`: what a heap operation can fail with, grouped by what the caller can do about it.

use proto::heap as pb;

use crate::cluster::ClientError;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HeapError {
    #[error("the heap client is closed; connect a new one")]
    Closed,
    #[error("{0}")]
    Unavailable(String),
    /// The cluster ended this client's session (its lease ran out: a stall, a partition): its
    /// locks and holds are gone and every later call fails the same way; connect a new client.
    #[error("{0}")]
    SessionEnded(String),
    /// Someone else changed the data first (version conflict, stale fencing token): retry.
    #[error("{0}")]
    Conflict(String),
    /// The cluster refused the request (dangling reference, limit, bad name): fix the request.
    #[error("{0}")]
    Rejected(String),
    /// The object or value is not of the kind asked for.
    #[error("{0}")]
    TypeMismatch(String),
    /// The caller does not hold the lock it releases, waits on or notifies.
    #[error("{0}")]
    IllegalState(String),
    #[error("internal error: {0}; please report it")]
    Internal(String),
}

impl From<ClientError> for HeapError {
    fn from(e: ClientError) -> Self {
        match &e {
            ClientError::Request(message) => HeapError::Rejected(message.clone()),
            ClientError::Rejected(rejection) => HeapError::from_rejection(rejection),
            // Bad configuration (endpoints, CA or token files) is the caller's to fix, not a
            // cluster outage to wait out.
            ClientError::Security(_)
            | ClientError::InvalidEndpoint(_)
            | ClientError::NoEndpoints
            | ClientError::TooManyEndpoints => HeapError::Rejected(e.to_string()),
            ClientError::Unavailable { .. } => HeapError::Unavailable(e.to_string()),
        }
    }
}

impl HeapError {
    /// This error with `note` after its message.
    pub fn with_note(self, note: &str) -> Self {
        self.map_message(|message| format!("{message}; {note}"))
    }

    /// This error, saying that the changes made under lock `name` were discarded with it.
    pub fn discarded_under(self, name: &str) -> Self {
        self.map_message(|message| format!("{message} (the changes made under lock {name:?} were discarded)"))
    }

    /// The same kind of error with its message rewritten (kinds without a message stay as they are).
    fn map_message(self, rewrite: impl FnOnce(String) -> String) -> Self {
        match self {
            HeapError::Unavailable(m) => HeapError::Unavailable(rewrite(m)),
            HeapError::SessionEnded(m) => HeapError::SessionEnded(rewrite(m)),
            HeapError::Conflict(m) => HeapError::Conflict(rewrite(m)),
            HeapError::Rejected(m) => HeapError::Rejected(rewrite(m)),
            HeapError::TypeMismatch(m) => HeapError::TypeMismatch(rewrite(m)),
            HeapError::IllegalState(m) => HeapError::IllegalState(rewrite(m)),
            other => other,
        }
    }

    /// The error for a rejection from the state machine.
    pub fn from_rejection(rejection: &pb::Rejection) -> Self {
        use pb::RejectionKind as K;
        let message = rejection.message.clone();
        match K::try_from(rejection.kind) {
            Ok(K::VersionConflict | K::StaleFence) => HeapError::Conflict(message),
            Ok(K::WrongKind) => HeapError::TypeMismatch(message),
            Ok(K::NotHolder) => HeapError::IllegalState(message),
            Ok(K::UnknownSession | K::SessionExpired) => HeapError::SessionEnded(message),
            _ => HeapError::Rejected(message),
        }
    }
}
