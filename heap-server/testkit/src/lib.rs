//! heap-testkit: real heap-server processes for `heapctl dev up`, the probes, the benchmark, every
//! process-level test and the chaos runs (`LocalCluster`: start, kill, terminate, pause, resume,
//! restart on the same data, optionally inside a network namespace, and wait for a leader), the
//! heap-server binary to run (`server_binary_built` in tests, `locate_server_binary` in
//! tools), the seeded generator everything random derives from (`Prng`), and the development
//! PKI: a cluster CA, node certificates and client tokens (`ClusterSecurity`, with the pieces in
//! `CertificateAuthority`, `Validity` and the token functions), which secured clusters, `heapctl
//! dev up` and `heapctl cert|token` use.

mod cluster_error;
mod cluster_security;
mod files;
mod local_cluster;
mod pki;
mod pki_error;
mod prng;
mod server_binary;
mod status;
mod tokens;

pub use cluster_error::ClusterError;
pub use cluster_security::ClusterSecurity;
pub use cluster_security::ADMIN_TOKEN_NAME;
pub use cluster_security::APP_TOKEN_NAME;
pub use cluster_security::SECURITY_DIR_NAME;
pub use cluster_security::TOKEN_FILE_SUFFIX;
pub use local_cluster::free_ports;
pub use local_cluster::LocalCluster;
pub use pki::host_of;
pub use pki::node_subject_alt_names;
pub use pki::verify_node_certificate;
pub use pki::CertificateAuthority;
pub use pki::NodeCertificate;
pub use pki::Validity;
pub use pki::DEV_VALIDITY_DAYS;
pub use pki::VALIDITY_DAYS_MAX;
pub use pki_error::PkiError;
pub use prng::Prng;
pub use server_binary::built_binary;
pub use server_binary::locate_server_binary;
pub use server_binary::profile_dir;
pub use server_binary::server_binary_built;
pub use tokens::append_token;
pub use tokens::check_token_name;
pub use tokens::new_token;
pub use tokens::read_tokens_file;
pub use tokens::token_digest;
pub use tokens::write_token_file;
pub use tokens::Role;
pub use tokens::TokenEntry;
pub use tokens::TOKENS_MAX;
