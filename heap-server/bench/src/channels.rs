//! gRPC channels to one endpoint: each `Channel` is its own HTTP/2 connection with TCP_NODELAY;
//! clients are spread over them round-robin.

use std::time::Duration;

use tonic::transport::Channel;
use tonic::transport::Endpoint;

use crate::error::BenchError;
use crate::limits::CONNECT_TIMEOUT_MS;

/// The endpoint settings every channel of heap-bench uses, with `request_timeout` per request.
pub fn endpoint(addr: &str, request_timeout: Duration) -> Result<Endpoint, BenchError> {
    Ok(Endpoint::from_shared(format!("http://{addr}"))
        .map_err(|e| BenchError::InvalidArgument(format!("invalid endpoint {addr:?} (give HOST:PORT): {e}")))?
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_millis(CONNECT_TIMEOUT_MS))
        .timeout(request_timeout))
}

/// `count` connections to `addr`, each established now (so a dead endpoint fails here, not as
/// a flood of request errors).
pub async fn connect(addr: &str, count: usize, request_timeout: Duration) -> Result<Vec<Channel>, BenchError> {
    let endpoint = endpoint(addr, request_timeout)?;
    let mut channels = Vec::with_capacity(count);
    for _ in 0..count {
        let channel = endpoint
            .connect()
            .await
            .map_err(|e| BenchError::Connect { endpoint: addr.to_string(), message: e.to_string() })?;
        channels.push(channel);
    }
    Ok(channels)
}
