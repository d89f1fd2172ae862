//! heap-testkit: real heap-server processes on loopback for `heapctl dev up`, the probes, the
//! benchmark and every process-level test (`LocalCluster`), the heap-server binary of the current
//! build (`server_binary`), and the seeded generator everything random derives from (`Prng`).

mod local_cluster;
mod prng;
mod server_binary;

pub use local_cluster::free_ports;
pub use local_cluster::ClusterError;
pub use local_cluster::LocalCluster;
pub use prng::Prng;
pub use server_binary::built_binary;
pub use server_binary::profile_dir;
pub use server_binary::server_binary_built;
