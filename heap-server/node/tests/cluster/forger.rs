//! An attacker's toolkit for the security tests: TLS connections with a chosen identity (none, a
//! certificate from another CA, a member's real certificate) and hand-made Raft messages (votes,
//! snapshot streams, append-link frames) claiming to come from any node.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use heap_server::wire::encode_raft;
use openraft::raft::AppendEntriesRequest;
use openraft::raft::VoteRequest;
use openraft::vote::RaftLeaderIdExt;
use proto::raft::raft_transport_client::RaftTransportClient;
use proto::raft::RaftMessage;
use proto::raft::SnapshotChunk;
use proto::security::node_server_name;
use proto::security::ALPN_APPEND_LINK;
use proto::security::CLUSTER_SERVER_NAME;
use raft_store::LogId;
use raft_store::SnapshotMeta;
use raft_store::TypeConfig;
use raft_store::Vote;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::PrivateKeyDer;
use rustls::pki_types::ServerName;
use tokio::io::AsyncReadExt;
use tokio::io::AsyncWriteExt;
use tonic::transport::Certificate;
use tonic::transport::Channel;
use tonic::transport::ClientTlsConfig;
use tonic::transport::Endpoint;
use tonic::transport::Identity;

/// How long a forged exchange may take before the test counts the node as not answering.
pub const FORGED_CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// The append link's magic, as the node expects it first on a link connection.
pub const LINK_MAGIC: &[u8; 8] = b"SOVLINK1";

/// Who the attacker pretends to be at the TLS level.
#[derive(Clone)]
pub struct Forger {
    pub label: &'static str,
    /// The real cluster CA: the forger checks the node's certificate as a real client would.
    ca_pem: Vec<u8>,
    /// The client certificate and key presented, if any.
    identity: Option<(Vec<u8>, Vec<u8>)>,
}

impl Forger {
    /// TLS with no client certificate: anyone on the network.
    pub fn anonymous(ca_pem: &[u8]) -> Self {
        Self { label: "no certificate", ca_pem: ca_pem.to_vec(), identity: None }
    }

    /// A certificate for node `id` from a CA the cluster never trusted.
    pub fn rogue(ca_pem: &[u8], id: u64) -> Self {
        let rogue_ca = heap_testkit::CertificateAuthority::create(1).expect("a rogue CA");
        let cert =
            rogue_ca.issue_node(id, "127.0.0.1", heap_testkit::Validity::dev().expect("validity")).expect("cert");
        Self {
            label: "certificate from another CA",
            ca_pem: ca_pem.to_vec(),
            identity: Some((cert.cert_pem.into_bytes(), cert.key_pem.into_bytes())),
        }
    }

    /// A member's real certificate and key (as if that member's key leaked or it misbehaves).
    pub fn member(ca_pem: &[u8], cert_file: &Path, key_file: &Path) -> Self {
        Self {
            label: "a member's certificate",
            ca_pem: ca_pem.to_vec(),
            identity: Some((std::fs::read(cert_file).expect("cert"), std::fs::read(key_file).expect("key"))),
        }
    }

    /// A gRPC channel to `addr` (any node: checked for the cluster name).
    pub fn channel(&self, addr: &str) -> Channel {
        let mut tls =
            ClientTlsConfig::new().ca_certificate(Certificate::from_pem(&self.ca_pem)).domain_name(CLUSTER_SERVER_NAME);
        if let Some((cert, key)) = &self.identity {
            tls = tls.identity(Identity::from_pem(cert, key));
        }
        Endpoint::from_shared(format!("https://{addr}"))
            .expect("endpoint")
            .tls_config(tls)
            .expect("tls config")
            .connect_timeout(FORGED_CALL_TIMEOUT)
            .timeout(FORGED_CALL_TIMEOUT)
            .connect_lazy()
    }

    pub fn raft(&self, addr: &str) -> RaftTransportClient<Channel> {
        RaftTransportClient::new(self.channel(addr))
    }

    fn rustls_config(&self) -> rustls::ClientConfig {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(&self.ca_pem) {
            roots.add(cert.expect("CA pem")).expect("CA cert");
        }
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocols")
            .with_root_certificates(roots);
        let mut config = match &self.identity {
            None => builder.with_no_client_auth(),
            Some((cert, key)) => builder
                .with_client_auth_cert(
                    CertificateDer::pem_slice_iter(cert).map(|c| c.expect("cert pem")).collect(),
                    PrivateKeyDer::from_pem_slice(key).expect("key pem"),
                )
                .expect("client auth"),
        };
        config.alpn_protocols = vec![ALPN_APPEND_LINK.to_vec()];
        config
    }

    /// Opens an append link to node `target` at `addr` (TLS, link ALPN, the magic sent);
    /// `Err` when the node refuses the handshake.
    pub async fn open_link(
        &self,
        addr: &str,
        target: u64,
    ) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
        let tcp = tokio::net::TcpStream::connect(addr).await?;
        let name = ServerName::try_from(node_server_name(target)).expect("server name");
        let connector = tokio_rustls::TlsConnector::from(Arc::new(self.rustls_config()));
        let mut stream = connector.connect(name, tcp).await?;
        stream.write_all(LINK_MAGIC).await?;
        stream.flush().await?;
        Ok(stream)
    }
}

/// What became of one forged append-link frame.
#[derive(Debug)]
pub enum LinkOutcome {
    /// The TLS handshake or the first write failed.
    HandshakeRefused(String),
    /// The node closed the connection without answering.
    Closed,
    /// The node answered with an error (the message), then (normally) closed.
    Refused(String),
    /// The node took the entries (the attack worked).
    Accepted,
}

impl LinkOutcome {
    /// What the node or the TLS layer said, if anything.
    pub fn reason(&self) -> &str {
        match self {
            LinkOutcome::HandshakeRefused(reason) | LinkOutcome::Refused(reason) => reason,
            LinkOutcome::Closed => "closed without an answer",
            LinkOutcome::Accepted => "accepted",
        }
    }
}

/// Sends one AppendEntries frame claiming `rpc.vote`'s leader over a forged link.
pub async fn forge_append(
    forger: &Forger,
    addr: &str,
    target: u64,
    rpc: &AppendEntriesRequest<TypeConfig>,
) -> LinkOutcome {
    let exchange = async {
        let mut stream = match forger.open_link(addr, target).await {
            Ok(stream) => stream,
            Err(e) => return LinkOutcome::HandshakeRefused(e.to_string()),
        };
        let payload = encode_raft(&(0u64, rpc)).expect("encode");
        let mut frame = (payload.len() as u32).to_be_bytes().to_vec();
        frame.extend_from_slice(&payload);
        if let Err(e) = stream.write_all(&frame).await {
            return LinkOutcome::HandshakeRefused(e.to_string());
        }
        let _ = stream.flush().await;
        let mut header = [0u8; 4];
        if stream.read_exact(&mut header).await.is_err() {
            return LinkOutcome::Closed;
        }
        let mut answer = vec![0u8; u32::from_be_bytes(header) as usize];
        if stream.read_exact(&mut answer).await.is_err() {
            return LinkOutcome::Closed;
        }
        let (_, reply): (u64, Result<openraft::raft::AppendEntriesResponse<TypeConfig>, String>) =
            heap_server::wire::decode_raft(&answer).expect("decodable answer");
        match reply {
            Ok(_) => LinkOutcome::Accepted,
            Err(message) => LinkOutcome::Refused(message),
        }
    };
    tokio::time::timeout(FORGED_CALL_TIMEOUT, exchange).await.unwrap_or(LinkOutcome::Closed)
}

/// A vote request from `candidate` at `term`, claiming a long log, asking for a leadership transfer
/// (so a lease would not protect the current leader): the message that bricked clusters.
pub fn forged_vote(candidate: u64, term: u64) -> VoteRequest<TypeConfig> {
    let leader = openraft::alias::LeaderIdOf::<TypeConfig>::new_committed(term, candidate);
    VoteRequest {
        vote: Vote::new(term, candidate),
        last_log_id: Some(LogId::new(leader, 1_000_000)),
        leadership_transfer: true,
    }
}

/// A heartbeat from a fake leader `leader` at `term`, telling followers everything is committed.
pub fn forged_heartbeat(leader: u64, term: u64) -> AppendEntriesRequest<TypeConfig> {
    AppendEntriesRequest {
        vote: Vote::new_committed(term, leader),
        prev_log_id: None,
        leader_commit: None,
        entries: vec![],
    }
}

/// The first chunk of a snapshot stream from `leader` at `term` replacing the heap with `data`.
pub fn forged_snapshot_chunk(leader: u64, term: u64, data: Vec<u8>) -> SnapshotChunk {
    let log_leader = openraft::alias::LeaderIdOf::<TypeConfig>::new_committed(term, leader);
    let meta =
        SnapshotMeta { last_log_id: Some(LogId::new(log_leader, 1_000_000)), last_membership: Default::default() };
    SnapshotChunk { meta: encode_raft(&(Vote::new_committed(term, leader), meta)).expect("encode"), data }
}

/// Sends a vote; `Err` with the refusal (a status or a transport error).
pub async fn forge_vote(forger: &Forger, addr: &str, rpc: &VoteRequest<TypeConfig>) -> Result<(), String> {
    let payload = encode_raft(rpc).expect("encode");
    match forger.raft(addr).vote(RaftMessage { payload }).await {
        Ok(_) => Ok(()),
        Err(status) => Err(format!("{:?}: {}", status.code(), status.message())),
    }
}

/// Streams a one-chunk snapshot; `Err` with the refusal.
pub async fn forge_snapshot(forger: &Forger, addr: &str, chunk: SnapshotChunk) -> Result<(), String> {
    match forger.raft(addr).install_snapshot(tokio_stream::iter(vec![chunk])).await {
        Ok(_) => Ok(()),
        Err(status) => Err(format!("{:?}: {}", status.code(), status.message())),
    }
}

/// Streams a snapshot of `chunk_count` chunks of `chunk_bytes` bytes each, the first carrying
/// `first`'s meta, cut lazily so the forger never holds the whole stream; `Err` with the refusal.
pub async fn forge_snapshot_stream(
    forger: &Forger,
    addr: &str,
    first: SnapshotChunk,
    chunk_count: usize,
    chunk_bytes: usize,
) -> Result<(), String> {
    let meta = first.meta;
    let chunks = (0..chunk_count).map(move |i| SnapshotChunk {
        meta: if i == 0 { meta.clone() } else { Vec::new() },
        data: vec![0x5a; chunk_bytes],
    });
    match forger.raft(addr).install_snapshot(tokio_stream::iter(chunks)).await {
        Ok(_) => Ok(()),
        Err(status) => Err(format!("{:?}: {}", status.code(), status.message())),
    }
}
