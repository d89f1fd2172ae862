//! The etcd side: finding the leader with Maintenance `Status` (`discover`), the put and get
//! clients over etcd's KV API (`kv_ops`), one measurement end to end (`measure`), and a local
//! three-member etcd cluster for `compare` (`cluster`, `install`).

pub mod cluster;
pub mod discover;
pub mod install;
pub mod kv_ops;
pub mod measure;

/// etcd 3.4's KV `Put`/`Range` and Maintenance `Status` (package `etcdserverpb`), client side only,
/// compiled from `proto/etcd_kv.proto` by this crate's build script.
pub mod schema {
    #![allow(clippy::all)]
    tonic::include_proto!("etcdserverpb");
}
