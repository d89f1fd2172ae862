//! The names every side of a secured cluster agrees on: certificate identities, TLS protocol
//! names, the token header and the files `heapctl dev up` writes. Nodes, clients, heapctl and the
//! test clusters all take them from here, so a certificate made by one is accepted by the others.

/// The DNS name every node certificate carries: a client checks it, so it talks only to nodes
/// whose certificate the cluster's CA issued (it does not care which node).
pub const CLUSTER_SERVER_NAME: &str = "cluster.sovereign";

/// Suffix of a node's own certificate name: node 3's certificate carries `node-3.sovereign`.
/// A node accepts Raft traffic claiming to be from node N only over a connection whose client
/// certificate is valid for node N's name, and a node dialing node N checks N's name.
pub const NODE_NAME_SUFFIX: &str = ".sovereign";

/// The certificate name of node `id` (`node-<id>.sovereign`).
pub fn node_server_name(id: u64) -> String {
    format!("node-{id}{NODE_NAME_SUFFIX}")
}

/// ALPN name of the gRPC protocol (clients, votes, snapshots, forwarded requests).
pub const ALPN_GRPC: &[u8] = b"h2";
/// ALPN name of the append link (AppendEntries from the leader): it needs a node certificate.
pub const ALPN_APPEND_LINK: &[u8] = b"sovereign-link/1";

/// The request header carrying a client's token: `authorization: Bearer <token>`.
pub const TOKEN_HEADER: &str = "authorization";
/// The scheme word before the token in `TOKEN_HEADER`.
pub const TOKEN_SCHEME: &str = "Bearer";
/// Hex digits of a token `heapctl` makes (32 random bytes).
pub const TOKEN_HEX_DIGITS: usize = 64;

/// Where `heapctl dev up` writes the dev CA, node certificates and tokens, under its data dir;
/// clients look for `DEV_SECURITY_DIR` relative to where they run (the repository root in the
/// README's commands) unless `SECURITY_DIR_ENV` names another folder.
pub const DEV_SECURITY_DIR: &str = "data/security";
/// Environment variable naming a security folder (with `CA_FILE` and `ADMIN_TOKEN_FILE`).
pub const SECURITY_DIR_ENV: &str = "SOVEREIGN_SECURITY_DIR";
/// Environment variable with a token; it wins over any token file.
pub const TOKEN_ENV: &str = "SOVEREIGN_TOKEN";
/// Environment variable with the path of a CA certificate (PEM); it wins over the folder's.
pub const CA_ENV: &str = "SOVEREIGN_CA";
/// Environment variable that makes clients use plaintext and no token (test clusters only).
pub const PLAINTEXT_ENV: &str = "SOVEREIGN_PLAINTEXT";

/// What a credential may do; each role may do everything the roles before it may. The node
/// enforces it; token files and heapctl name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Read, ListRoots, Watch, Status, ListLocks, ListSessions; sessions with read locks.
    Read,
    /// Read, plus Commit, AllocateIds, write locks, commits at unlock, wait and notify.
    Write,
    /// Write, plus closing anyone's session (and later membership, snapshots, GC).
    Admin,
}

impl Role {
    /// Every role, weakest first.
    pub const ALL: [Role; 3] = [Role::Read, Role::Write, Role::Admin];

    /// The name used in token files and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Read => "read",
            Role::Write => "write",
            Role::Admin => "admin",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// A role name that is not `read`, `write` or `admin`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownRole(pub String);

impl std::fmt::Display for UnknownRole {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "role {:?} is not one of read, write, admin (lowercase)", self.0)
    }
}

impl std::error::Error for UnknownRole {}

impl std::str::FromStr for Role {
    type Err = UnknownRole;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Role::ALL.into_iter().find(|role| role.as_str() == text).ok_or_else(|| UnknownRole(text.to_owned()))
    }
}

/// Files in a security folder.
pub const CA_FILE: &str = "ca.pem";
/// The CA's private key: only a dev CA keeps it beside the certificates.
pub const CA_KEY_FILE: &str = "ca.key";
/// The token file nodes read (`--tokens`): names, roles and SHA-256 digests, never tokens.
pub const TOKENS_FILE: &str = "tokens.toml";
/// The admin token `heapctl dev up` makes, for heapctl, the samples and the benchmark.
pub const ADMIN_TOKEN_FILE: &str = "admin.token";

/// Node `id`'s certificate file in a security folder.
pub fn node_cert_file(id: u64) -> String {
    format!("node{id}.pem")
}

/// Node `id`'s private key file in a security folder.
pub fn node_key_file(id: u64) -> String {
    format!("node{id}.key")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_names_carry_the_id_and_the_suffix() {
        assert_eq!(node_server_name(3), "node-3.sovereign");
        assert!(node_server_name(3).ends_with(NODE_NAME_SUFFIX));
        assert_eq!(node_cert_file(2), "node2.pem");
        assert_eq!(node_key_file(2), "node2.key");
    }

    #[test]
    fn roles_are_ordered_and_round_trip_through_their_names() {
        assert!(Role::Read < Role::Write && Role::Write < Role::Admin);
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("Admin".parse::<Role>().is_err());
    }
}
