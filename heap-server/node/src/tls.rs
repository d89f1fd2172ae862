//! The node's TLS material: the server side of its one port (client certificates optional, so
//! clients may come with a token alone; peers present their node certificate), the client side it
//! uses toward peers (its own node certificate as the client identity, the peer's node name
//! checked), and the check that a presented certificate names a given node.
//!
//! Certificates are PEM files made by `heapctl cert` or by the operator's own CA; the names they
//! must carry are in `proto::security`. Only ring is linked as the crypto provider.

use std::path::Path;
use std::sync::Arc;

use proto::security::node_server_name;
use proto::security::ALPN_APPEND_LINK;
use proto::security::ALPN_GRPC;
use proto::security::CLUSTER_SERVER_NAME;
use raft_store::NodeId;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::PrivateKeyDer;
use rustls::pki_types::ServerName;
use rustls::pki_types::UnixTime;
use rustls::server::WebPkiClientVerifier;
use rustls::ClientConfig;
use rustls::RootCertStore;
use rustls::ServerConfig;

use crate::config::SecurityFiles;

/// Largest certificate or key file the node reads.
pub const PEM_FILE_BYTES_MAX: u64 = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {reason}; check the path (heapctl dev up writes data/security/)")]
    Read { path: String, reason: String },
    #[error("{path} holds no PEM {what}; give the file `heapctl cert` wrote, or one from your CA")]
    Empty { path: String, what: &'static str },
    #[error("the TLS material is not usable: {0}; check that the certificate and key belong together and the CA issued the certificate")]
    Config(String),
    #[error("the certificate in {path} is not valid for {name}: this node's certificate must name it (heapctl cert node --id N makes one)")]
    WrongName { path: String, name: String },
    #[error("the certificate in {path} is not usable now: {reason}; peers and clients would refuse it. Issue a new one from the cluster's CA (heapctl cert node --replace) and restart")]
    NotValidNow { path: String, reason: String },
}

/// A node warns at start when its certificate expires within this many days.
pub const CERTIFICATE_EXPIRY_WARNING_DAYS: u64 = 14;

fn read_pem_file(path: &Path) -> Result<Vec<u8>, TlsError> {
    let read_error = |reason: String| TlsError::Read { path: path.display().to_string(), reason };
    let length = std::fs::metadata(path).map_err(|e| read_error(e.to_string()))?.len();
    if length > PEM_FILE_BYTES_MAX {
        return Err(read_error(format!("{length} bytes, more than {PEM_FILE_BYTES_MAX}")));
    }
    std::fs::read(path).map_err(|e| read_error(e.to_string()))
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read_pem_file(path)?;
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Read { path: path.display().to_string(), reason: e.to_string() })?;
    if certificates.is_empty() {
        return Err(TlsError::Empty { path: path.display().to_string(), what: "certificate" });
    }
    Ok(certificates)
}

fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = read_pem_file(path)?;
    PrivateKeyDer::from_pem_slice(&pem)
        .map_err(|_| TlsError::Empty { path: path.display().to_string(), what: "private key" })
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Whether `certificate` (already verified against the CA by the handshake) is valid for `name`.
pub fn names(certificate: &CertificateDer<'_>, name: &str) -> bool {
    let Ok(server_name) = ServerName::try_from(name) else {
        return false;
    };
    match webpki::EndEntityCert::try_from(certificate) {
        Ok(end_entity) => end_entity.verify_is_valid_for_subject_name(&server_name).is_ok(),
        Err(_) => false,
    }
}

/// Whether a connection's client certificate proves it comes from node `id`.
pub fn proves_node(certificate: &CertificateDer<'_>, id: NodeId) -> bool {
    names(certificate, &node_server_name(id))
}

/// One node's TLS configuration, loaded once at start.
pub struct NodeTls {
    pub server: Arc<ServerConfig>,
    /// Toward peers' append links: ALPN `ALPN_APPEND_LINK`, this node's certificate as identity.
    pub link_client: Arc<ClientConfig>,
    /// The same material in the form tonic's channels take (votes, snapshots, forwarded requests).
    ca_pem: Vec<u8>,
    cert_pem: Vec<u8>,
    key_pem: Vec<u8>,
}

impl NodeTls {
    /// Loads the files and checks that this node's certificate names node `id`.
    pub fn load(files: &SecurityFiles, id: NodeId) -> Result<Self, TlsError> {
        let ca = certificates(&files.ca)?;
        let chain = certificates(&files.cert)?;
        let key = private_key(&files.key)?;
        if !proves_node(&chain[0], id) {
            return Err(TlsError::WrongName { path: files.cert.display().to_string(), name: node_server_name(id) });
        }
        if !names(&chain[0], CLUSTER_SERVER_NAME) {
            return Err(TlsError::WrongName {
                path: files.cert.display().to_string(),
                name: CLUSTER_SERVER_NAME.into(),
            });
        }
        check_own_certificate(&files.cert, &ca, &chain)?;
        let mut roots = RootCertStore::empty();
        for certificate in &ca {
            roots.add(certificate.clone()).map_err(|e| TlsError::Config(format!("the CA certificate: {e}")))?;
        }
        let roots = Arc::new(roots);
        let server = server_config(&roots, chain.clone(), key.clone_key())?;
        let link_client = link_client_config(&roots, chain, key)?;
        Ok(Self {
            server,
            link_client,
            ca_pem: read_pem_file(&files.ca)?,
            cert_pem: read_pem_file(&files.cert)?,
            key_pem: read_pem_file(&files.key)?,
        })
    }

    /// tonic's client TLS toward a peer: the CA, this node's identity, and the name to check
    /// (`node-N.sovereign` for a known peer, `cluster.sovereign` for any node).
    pub fn grpc_client(&self, server_name: &str) -> tonic::transport::ClientTlsConfig {
        tonic::transport::ClientTlsConfig::new()
            .ca_certificate(tonic::transport::Certificate::from_pem(&self.ca_pem))
            .identity(tonic::transport::Identity::from_pem(&self.cert_pem, &self.key_pem))
            .domain_name(server_name)
    }
}

/// Checks that this node's certificate chains to the CA and is valid now (as its peers will
/// check it), and warns when it expires soon.
fn check_own_certificate(
    path: &Path,
    ca: &[CertificateDer<'static>],
    chain: &[CertificateDer<'static>],
) -> Result<(), TlsError> {
    let not_valid = |reason: String| TlsError::NotValidNow { path: path.display().to_string(), reason };
    let anchors = ca
        .iter()
        .map(|certificate| webpki::anchor_from_trusted_cert(certificate).map(|anchor| anchor.to_owned()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| not_valid(format!("the CA certificate is unusable ({e})")))?;
    let end_entity = webpki::EndEntityCert::try_from(&chain[0]).map_err(|e| not_valid(e.to_string()))?;
    let algorithms = rustls::crypto::ring::default_provider().signature_verification_algorithms.all;
    let verify_at = |time: UnixTime| {
        end_entity
            .verify_for_usage(algorithms, &anchors, &chain[1..], time, webpki::KeyUsage::server_auth(), None, None)
            .map(|_| ())
    };
    verify_at(UnixTime::now()).map_err(|e| not_valid(validity_reason(&e)))?;
    let soon = std::time::SystemTime::now() + std::time::Duration::from_secs(CERTIFICATE_EXPIRY_WARNING_DAYS * 86_400);
    let soon = soon.duration_since(std::time::UNIX_EPOCH).map(UnixTime::since_unix_epoch).unwrap_or(UnixTime::now());
    if verify_at(soon).is_err() {
        tracing::warn!(
            path = %path.display(),
            "this node's certificate expires within {CERTIFICATE_EXPIRY_WARNING_DAYS} days: issue a new one and restart"
        );
    }
    Ok(())
}

/// A webpki refusal in words (the expiry ones with how long ago or how far ahead).
fn validity_reason(error: &webpki::Error) -> String {
    match error {
        webpki::Error::CertExpired { time, not_after } => {
            format!("it expired {} s ago", time.as_secs().saturating_sub(not_after.as_secs()))
        }
        webpki::Error::CertNotValidYet { time, not_before } => format!(
            "it is valid only from {} s from now (check the clock)",
            not_before.as_secs().saturating_sub(time.as_secs())
        ),
        other => format!("{other:?}"),
    }
}

fn server_config(
    roots: &Arc<RootCertStore>,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<ServerConfig>, TlsError> {
    // Clients may come without a certificate (a token authenticates them); a certificate that is
    // presented must come from the CA. Raft traffic additionally needs a node certificate.
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::clone(roots), provider())
        .allow_unauthenticated()
        .build()
        .map_err(|e| TlsError::Config(e.to_string()))?;
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    config.alpn_protocols = vec![ALPN_GRPC.to_vec(), ALPN_APPEND_LINK.to_vec()];
    Ok(Arc::new(config))
}

fn link_client_config(
    roots: &Arc<RootCertStore>,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<ClientConfig>, TlsError> {
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_root_certificates(Arc::clone(roots))
        .with_client_auth_cert(chain, key)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    config.alpn_protocols = vec![ALPN_APPEND_LINK.to_vec()];
    Ok(Arc::new(config))
}

/// The gRPC endpoint of the node at `addr`: https checked for `server_name` with this node's
/// certificate as identity, or plain http on a plaintext test cluster (`tls` is `None`).
pub fn peer_endpoint(
    tls: Option<&NodeTls>,
    addr: &str,
    server_name: &str,
) -> Result<tonic::transport::Endpoint, String> {
    let invalid = |e: &dyn std::fmt::Display| format!("invalid node address {addr:?}: {e}");
    match tls {
        None => tonic::transport::Endpoint::from_shared(format!("http://{addr}")).map_err(|e| invalid(&e)),
        Some(tls) => tonic::transport::Endpoint::from_shared(format!("https://{addr}"))
            .map_err(|e| invalid(&e))?
            .tls_config(tls.grpc_client(server_name))
            .map_err(|e| invalid(&e)),
    }
}
