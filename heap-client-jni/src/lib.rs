//! The Sovereign client library: `ClusterClient` (the heap service over several endpoints, with
//! failover and bounded retries), `Session` (a lease kept alive in the background, exactly-once
//! requests, cluster locks), `heap::HeapClient` (objects through a cache kept honest by the change
//! stream, commit at lock release, leased ids), `blocking::BlockingHeap` for the JNI bindings, and
//! `jni` (the `Java_org_sovereign_heap_Native_*` functions the Java jar calls).

pub mod blocking;
pub mod cluster;
pub mod heap;
pub mod jni;
pub mod session;
