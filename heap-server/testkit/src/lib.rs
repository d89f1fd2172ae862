//! heap-testkit: real heap-server processes for `heapctl dev up`, the probes, the benchmark, every
//! process-level test and the chaos runs (`LocalCluster`: start, kill, terminate, pause, resume,
//! restart on the same data, optionally inside a network namespace, and wait for a leader), the
//! heap-server binary to run (`server_binary_built` in tests, `locate_server_binary` in
//! tools), and the seeded generator everything random derives from (`Prng`).

mod cluster_error;
mod local_cluster;
mod prng;
mod server_binary;
mod status;

pub use cluster_error::ClusterError;
pub use local_cluster::free_ports;
pub use local_cluster::LocalCluster;
pub use prng::Prng;
pub use server_binary::built_binary;
pub use server_binary::locate_server_binary;
pub use server_binary::profile_dir;
pub use server_binary::server_binary_built;
