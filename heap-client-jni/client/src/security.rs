//! `ClientSecurity`: how a client proves who it talks to and who it is. With a CA certificate the
//! client speaks TLS and accepts only nodes whose certificate that CA issued (for the name
//! `proto::security::CLUSTER_SERVER_NAME`); with a token every request carries it, and the node
//! maps it to a credential and a role. `discover` finds what `heapctl dev up` wrote, so the
//! README's commands need no flags.

use std::path::Path;
use std::path::PathBuf;
use std::time::Duration;

use proto::admin::admin_client::AdminClient;
use proto::heap::heap_client::HeapClient;
use proto::security::ADMIN_TOKEN_FILE;
use proto::security::CA_ENV;
use proto::security::CA_FILE;
use proto::security::CLUSTER_SERVER_NAME;
use proto::security::DEV_SECURITY_DIR;
use proto::security::PLAINTEXT_ENV;
use proto::security::SECURITY_DIR_ENV;
use proto::security::TOKEN_ENV;
use proto::security::TOKEN_HEADER;
use proto::security::TOKEN_SCHEME;
use proto::CLIENT_MESSAGE_SIZE_BYTES_MAX;
use tonic::metadata::MetadataValue;
use tonic::service::interceptor::InterceptedService;
use tonic::service::Interceptor;
use tonic::transport::Certificate;
use tonic::transport::Channel;
use tonic::transport::ClientTlsConfig;
use tonic::transport::Endpoint;
use tonic::Request;
use tonic::Status;

/// Largest CA certificate file a client reads.
pub const CA_FILE_BYTES_MAX: u64 = 64 * 1024;
/// Largest token a client sends (a heapctl token is 64 hex digits; an operator's may be longer).
pub const TOKEN_BYTES_MAX: usize = 4 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum SecurityError {
    #[error("cannot read {path}: {reason}; check the path, or set {SECURITY_DIR_ENV} to the folder `heapctl dev up` wrote (data/security)")]
    Read { path: String, reason: String },
    #[error("the token in {source_name} is not usable: {reason}; give the token text alone, as `heapctl` printed it")]
    Token { source_name: String, reason: String },
    #[error("invalid endpoint {endpoint:?} with TLS: {reason}")]
    Endpoint { endpoint: String, reason: String },
}

/// What a client uses to reach a cluster: plaintext and anonymous, or TLS and/or a token.
#[derive(Clone, Default)]
pub struct ClientSecurity {
    /// The cluster CA's certificate (PEM); `None` speaks plaintext (test clusters only).
    pub ca_pem: Option<Vec<u8>>,
    /// Sent as `authorization: Bearer <token>` on every request.
    pub token: Option<String>,
}

impl std::fmt::Debug for ClientSecurity {
    // Never print the token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientSecurity")
            .field("tls", &self.ca_pem.is_some())
            .field("token", &self.token.as_ref().map(|_| "<set>"))
            .finish()
    }
}

fn read_limited(path: &Path, bytes_max: u64) -> Result<Vec<u8>, SecurityError> {
    let read_error = |reason: String| SecurityError::Read { path: path.display().to_string(), reason };
    let metadata = std::fs::metadata(path).map_err(|e| read_error(e.to_string()))?;
    if metadata.len() > bytes_max {
        return Err(read_error(format!("{} bytes, more than the {bytes_max} a client reads", metadata.len())));
    }
    std::fs::read(path).map_err(|e| read_error(e.to_string()))
}

/// Checks a token's text: trimmed, non-empty, bounded, and valid as a header value.
fn checked_token(text: &str, source_name: &str) -> Result<String, SecurityError> {
    let token_error = |reason: &str| SecurityError::Token { source_name: source_name.into(), reason: reason.into() };
    let token = text.trim();
    if token.is_empty() {
        return Err(token_error("it is empty"));
    }
    if token.len() > TOKEN_BYTES_MAX {
        return Err(token_error("it is too long"));
    }
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(token_error("it has spaces or characters outside printable ASCII"));
    }
    Ok(token.to_string())
}

impl ClientSecurity {
    /// No TLS, no token: only for clusters started with `--insecure-plaintext` (tests).
    pub fn plaintext() -> Self {
        Self::default()
    }

    pub fn is_tls(&self) -> bool {
        self.ca_pem.is_some()
    }

    /// The CA and admin token in `dir` (a folder as `heapctl dev up` writes it); a missing token
    /// file leaves the token unset.
    pub fn from_dir(dir: &Path) -> Result<Self, SecurityError> {
        let ca_pem = read_limited(&dir.join(CA_FILE), CA_FILE_BYTES_MAX)?;
        let token_path = dir.join(ADMIN_TOKEN_FILE);
        let token = if token_path.exists() { Some(Self::token_from_file(&token_path)?) } else { None };
        Ok(Self { ca_pem: Some(ca_pem), token })
    }

    /// The token in `path` (its text, surrounding whitespace ignored).
    pub fn token_from_file(path: &Path) -> Result<String, SecurityError> {
        let bytes = read_limited(path, TOKEN_BYTES_MAX as u64)?;
        checked_token(&String::from_utf8_lossy(&bytes), &path.display().to_string())
    }

    pub fn with_token(mut self, token: &str) -> Result<Self, SecurityError> {
        self.token = Some(checked_token(token, "the given token")?);
        Ok(self)
    }

    /// What this process should use, from its environment: `SOVEREIGN_PLAINTEXT=1` gives
    /// plaintext; otherwise the folder `SOVEREIGN_SECURITY_DIR` (or `./data/security` if it
    /// exists), with `SOVEREIGN_CA` and `SOVEREIGN_TOKEN` overriding its files; nothing found
    /// gives plaintext.
    pub fn discover() -> Result<Self, SecurityError> {
        if std::env::var(PLAINTEXT_ENV).is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true")) {
            return Ok(Self::plaintext());
        }
        let dir = match std::env::var_os(SECURITY_DIR_ENV) {
            Some(dir) => Some(PathBuf::from(dir)),
            None => Some(PathBuf::from(DEV_SECURITY_DIR)).filter(|dir| dir.join(CA_FILE).exists()),
        };
        let mut security = match &dir {
            Some(dir) => Self::from_dir(dir)?,
            None => Self::plaintext(),
        };
        if let Some(ca) = std::env::var_os(CA_ENV) {
            security.ca_pem = Some(read_limited(Path::new(&ca), CA_FILE_BYTES_MAX)?);
        }
        if let Ok(token) = std::env::var(TOKEN_ENV) {
            security.token = Some(checked_token(&token, TOKEN_ENV)?);
        }
        Ok(security)
    }

    /// The gRPC endpoint for `addr` (HOST:PORT): https checked against the CA, or plain http.
    pub fn endpoint(&self, addr: &str) -> Result<Endpoint, SecurityError> {
        let endpoint_error = |reason: String| SecurityError::Endpoint { endpoint: addr.to_string(), reason };
        match &self.ca_pem {
            None => Endpoint::from_shared(format!("http://{addr}")).map_err(|e| endpoint_error(e.to_string())),
            Some(ca_pem) => {
                let tls = ClientTlsConfig::new()
                    .ca_certificate(Certificate::from_pem(ca_pem))
                    .domain_name(CLUSTER_SERVER_NAME);
                Endpoint::from_shared(format!("https://{addr}"))
                    .map_err(|e| endpoint_error(e.to_string()))?
                    .tls_config(tls)
                    .map_err(|e| endpoint_error(e.to_string()))
            }
        }
    }

    /// The interceptor that puts the token on every request.
    pub fn interceptor(&self) -> Result<TokenInterceptor, SecurityError> {
        let header = match &self.token {
            None => None,
            Some(token) => Some(format!("{TOKEN_SCHEME} {token}").parse().map_err(|_| SecurityError::Token {
                source_name: "the token".into(),
                reason: "it is not a valid header value".into(),
            })?),
        };
        Ok(TokenInterceptor { header })
    }
}

/// Adds `authorization: Bearer <token>` to each request (nothing without a token).
#[derive(Clone)]
pub struct TokenInterceptor {
    header: Option<MetadataValue<tonic::metadata::Ascii>>,
}

impl Interceptor for TokenInterceptor {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if let Some(header) = &self.header {
            request.metadata_mut().insert(TOKEN_HEADER, header.clone());
        }
        Ok(request)
    }
}

/// A channel to `addr` that connects on first use, with the given timeouts.
fn lazy_channel(
    security: &ClientSecurity,
    addr: &str,
    connect_timeout: Duration,
    request_timeout: Duration,
) -> Result<Channel, SecurityError> {
    Ok(security
        .endpoint(addr)?
        .connect_timeout(connect_timeout)
        .timeout(request_timeout)
        .tcp_nodelay(true)
        .connect_lazy())
}

/// The heap service stub a client calls: a lazily connected channel with the token interceptor.
pub type HeapStub = HeapClient<InterceptedService<Channel, TokenInterceptor>>;

/// A stub for `addr`, connecting on first use, with the given timeouts and message bound.
pub fn heap_stub(
    security: &ClientSecurity,
    addr: &str,
    connect_timeout: Duration,
    request_timeout: Duration,
) -> Result<HeapStub, SecurityError> {
    let channel = lazy_channel(security, addr, connect_timeout, request_timeout)?;
    Ok(HeapClient::with_interceptor(channel, security.interceptor()?)
        .max_decoding_message_size(CLIENT_MESSAGE_SIZE_BYTES_MAX)
        .max_encoding_message_size(CLIENT_MESSAGE_SIZE_BYTES_MAX))
}

/// The operator service stub (membership, backups): the same channel settings as `HeapStub`.
pub type AdminStub = AdminClient<InterceptedService<Channel, TokenInterceptor>>;

/// An `Admin` stub for `addr`, connecting on first use. Admin calls need a token with the admin
/// role.
pub fn admin_stub(
    security: &ClientSecurity,
    addr: &str,
    connect_timeout: Duration,
    request_timeout: Duration,
) -> Result<AdminStub, SecurityError> {
    let channel = lazy_channel(security, addr, connect_timeout, request_timeout)?;
    Ok(AdminClient::with_interceptor(channel, security.interceptor()?)
        .max_decoding_message_size(CLIENT_MESSAGE_SIZE_BYTES_MAX)
        .max_encoding_message_size(CLIENT_MESSAGE_SIZE_BYTES_MAX))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn tokens_are_trimmed_and_bad_ones_refused() {
        assert_eq!(checked_token(" abc\n", "t").unwrap(), "abc");
        assert!(checked_token("", "t").is_err());
        assert!(checked_token("a b", "t").is_err());
        assert!(checked_token(&"x".repeat(TOKEN_BYTES_MAX + 1), "t").is_err());
    }

    #[test]
    fn a_folder_without_a_ca_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let error = ClientSecurity::from_dir(dir.path()).unwrap_err().to_string();
        assert!(error.contains("ca.pem"), "{error}");
    }

    #[test]
    fn the_token_is_never_printed() {
        let security = ClientSecurity::plaintext().with_token("secret-token").unwrap();
        assert!(!format!("{security:?}").contains("secret-token"));
    }

    #[test]
    fn plaintext_endpoints_are_http_and_tls_ones_https() {
        let plain = ClientSecurity::plaintext().endpoint("127.0.0.1:1").unwrap();
        assert_eq!(plain.uri().scheme_str(), Some("http"));
        let tls = ClientSecurity { ca_pem: Some(b"not checked until connect".to_vec()), token: None };
        assert_eq!(tls.endpoint("127.0.0.1:1").unwrap().uri().scheme_str(), Some("https"));
    }
}
