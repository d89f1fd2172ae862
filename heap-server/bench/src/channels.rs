//! gRPC channels to one endpoint: each `Channel` is its own HTTP/2 connection with TCP_NODELAY,
//! over TLS or plaintext as the `ClientSecurity` says; clients are spread over them round-robin.
//! The token is not on the channel: the Sovereign side wraps each channel with the security's
//! interceptor (`heap_ops::stub`).

use std::time::Duration;

use heap_client::ClientSecurity;
use tonic::transport::Channel;
use tonic::transport::Endpoint;

use crate::error::BenchError;
use crate::limits::CONNECT_TIMEOUT_MS;

/// The endpoint settings every channel of heap-bench uses, with `request_timeout` per request:
/// https checked against `security`'s CA, or plain http without one.
pub fn endpoint(security: &ClientSecurity, addr: &str, request_timeout: Duration) -> Result<Endpoint, BenchError> {
    if addr.rsplit_once(':').is_none() {
        return Err(BenchError::InvalidArgument(format!("invalid endpoint {addr:?}: give HOST:PORT")));
    }
    Ok(security
        .endpoint(addr)?
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_millis(CONNECT_TIMEOUT_MS))
        .timeout(request_timeout))
}

/// `count` connections to `addr`, each established now (so a dead endpoint, or one that refuses
/// the TLS handshake, fails here, not as a flood of request errors).
pub async fn connect(
    security: &ClientSecurity,
    addr: &str,
    count: usize,
    request_timeout: Duration,
) -> Result<Vec<Channel>, BenchError> {
    let endpoint = endpoint(security, addr, request_timeout)?;
    let mut channels = Vec::with_capacity(count);
    for _ in 0..count {
        let channel = endpoint
            .connect()
            .await
            .map_err(|e| BenchError::Connect { endpoint: addr.to_string(), message: connect_message(&e) })?;
        channels.push(channel);
    }
    Ok(channels)
}

/// The transport error with its causes (tonic's own text is only "transport error"), so a TLS
/// failure names the certificate problem.
fn connect_message(error: &tonic::transport::Error) -> String {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    message
}
