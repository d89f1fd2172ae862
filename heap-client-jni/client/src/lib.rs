//! The Sovereign client library: `ClusterClient` (the heap service over several endpoints, with
//! failover and bounded retries), `Session` (a lease kept alive in the background, exactly-once
//! requests, cluster locks), `HeapClient` (objects through a cache kept honest by the change
//! stream, commit at lock release, leased ids), `ClientSecurity` (TLS and the token), `BlockingHeap` (the same for callers without an
//! async runtime, such as the JNI bindings), and `tx` (builders for wire transactions).

mod blocking;
mod cluster;
mod heap;
mod security;
mod sequences;
mod session;
pub mod tx;

pub use blocking::BlockingHeap;
pub use cluster::ClientError;
pub use cluster::ClusterClient;
pub use heap::CommitLevel;
pub use heap::FieldWrite;
pub use heap::HeapClient;
pub use heap::HeapError;
pub use heap::ObjectKind;
pub use heap::Value;
pub use heap::PREFETCH_OBJECTS_MAX;
pub use heap::SESSION_TTL_MS_DEFAULT;
pub use heap::SESSION_TTL_MS_MAX;
pub use heap::SESSION_TTL_MS_MIN;
pub use security::admin_stub;
pub use security::heap_stub;
pub use security::AdminStub;
pub use security::ClientSecurity;
pub use security::HeapStub;
pub use security::SecurityError;
pub use security::TokenInterceptor;
pub use security::CA_FILE_BYTES_MAX;
pub use session::LockOutcome;
pub use session::Session;
pub use session::PENDING_ROUNDS_MAX;
