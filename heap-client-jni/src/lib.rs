//! The Sovereign client library: `ClusterClient` (the heap service over several endpoints, with
//! failover and bounded retries) and `Session` (a lease kept alive in the background, exactly-once
//! requests, cluster locks). The JNI bindings for the Java jar build on it.

pub mod cluster;
pub mod session;
