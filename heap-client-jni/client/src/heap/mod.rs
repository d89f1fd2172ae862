//! The heap as a client sees it: objects read through a bounded cache that the server's change
//! stream keeps honest, writes committed at once or at the release of a cluster lock, ids from
//! ranges leased from the cluster. `HeapClient` is async; `crate::blocking` wraps it for JNI.

mod async_commits;
mod cache;
mod client;
mod error;
mod greedy;
mod greedy_locks;
mod guards;
mod hold_flusher;
mod holds;
mod ids;
mod threads;
mod value;
mod watcher;
mod write_effects;

pub use async_commits::CommitLevel;
pub use client::FieldWrite;
pub use client::HeapClient;
pub use client::PREFETCH_OBJECTS_MAX;
pub use client::SESSION_TTL_MS_DEFAULT;
pub use client::SESSION_TTL_MS_MAX;
pub use client::SESSION_TTL_MS_MIN;
pub use error::HeapError;
pub use value::ObjectKind;
pub use value::Value;
