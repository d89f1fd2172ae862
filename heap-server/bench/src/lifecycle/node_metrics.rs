//! What a node says about its progress on its `/metrics` port (`--http-listen`, plain HTTP):
//! its applied index, the snapshots it built and its object count, for telling when a cluster
//! is idle. A bare HTTP/1.0 GET: one request per connection, the body ends with it.

use std::time::Duration;

use anyhow::Context;
use serde::Serialize;
use tokio::io::AsyncReadExt;
use tokio::io::AsyncWriteExt;

use crate::limits::METRICS_BYTES_MAX;
use crate::limits::METRICS_TIMEOUT_MS;

/// One node's progress figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct NodeProgress {
    pub applied_index: u64,
    pub snapshots_built: u64,
    pub objects: u64,
}

/// The value of the unlabelled sample `name` in a Prometheus text, if there is one.
pub fn sample_value(text: &str, name: &str) -> Option<f64> {
    text.lines().find_map(|line| {
        let rest = line.strip_prefix(name)?;
        let value = rest.strip_prefix(' ')?;
        value.split_whitespace().next()?.parse().ok()
    })
}

/// The progress figures of a `/metrics` text.
pub fn progress_of(text: &str) -> anyhow::Result<NodeProgress> {
    let figure = |name: &str| {
        sample_value(text, name)
            .map(|value| value as u64)
            .with_context(|| format!("/metrics has no {name}; is this heap-server's metrics port?"))
    };
    Ok(NodeProgress {
        applied_index: figure("sovereign_raft_applied_index")?,
        snapshots_built: figure("sovereign_snapshots_built_total")?,
        objects: figure("sovereign_heap_objects")?,
    })
}

/// The body of an HTTP response, if its status is 200.
fn body_of(response: &[u8]) -> anyhow::Result<&str> {
    let text = std::str::from_utf8(response).context("the answer is not UTF-8")?;
    let (head, body) = text.split_once("\r\n\r\n").context("the answer has no end of headers")?;
    let status = head.lines().next().unwrap_or_default();
    if status.split_whitespace().nth(1) != Some("200") {
        anyhow::bail!("answered {status:?}, expected 200");
    }
    Ok(body)
}

async fn get_metrics(addr: &str) -> anyhow::Result<String> {
    let mut stream = tokio::net::TcpStream::connect(addr).await.context("cannot connect")?;
    stream.write_all(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n").await.context("cannot send")?;
    let mut response = Vec::new();
    let limit = METRICS_BYTES_MAX as u64 + 1;
    (&mut stream).take(limit).read_to_end(&mut response).await.context("cannot read the answer")?;
    if response.len() > METRICS_BYTES_MAX {
        anyhow::bail!("the answer is over {METRICS_BYTES_MAX} bytes");
    }
    Ok(body_of(&response)?.to_string())
}

/// Node progress from the metrics port at `addr` (HOST:PORT).
pub async fn fetch(addr: &str) -> anyhow::Result<NodeProgress> {
    let timeout = Duration::from_millis(METRICS_TIMEOUT_MS);
    let text = tokio::time::timeout(timeout, get_metrics(addr))
        .await
        .map_err(|_| anyhow::anyhow!("no answer within {METRICS_TIMEOUT_MS} ms"))
        .and_then(|result| result)
        .with_context(|| format!("GET http://{addr}/metrics failed (is the node up with --http-listen {addr}?)"))?;
    progress_of(&text).with_context(|| format!("http://{addr}/metrics"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const METRICS: &str = "# HELP sovereign_raft_applied_index Highest index applied.\n\
        # TYPE sovereign_raft_applied_index gauge\n\
        sovereign_raft_applied_index 1234\n\
        sovereign_raft_applied_index_lag 9\n\
        sovereign_snapshots_built_total 2\n\
        sovereign_raft_role{role=\"leader\"} 1\n\
        sovereign_heap_objects 1001001\n";

    #[test]
    fn unlabelled_samples_are_found_by_their_exact_name() {
        assert_eq!(sample_value(METRICS, "sovereign_raft_applied_index"), Some(1234.0));
        assert_eq!(sample_value(METRICS, "sovereign_raft_role"), None, "labelled samples are not read");
        assert_eq!(sample_value(METRICS, "sovereign_absent"), None);
        let progress = progress_of(METRICS).expect("all three figures");
        assert_eq!(progress, NodeProgress { applied_index: 1234, snapshots_built: 2, objects: 1_001_001 });
        assert!(progress_of("sovereign_raft_applied_index 1\n").is_err());
    }

    #[test]
    fn only_a_200_answer_has_a_body() {
        let ok = b"HTTP/1.0 200 OK\r\ncontent-type: text/plain\r\n\r\nsovereign_heap_objects 3\n";
        assert_eq!(body_of(ok).expect("200"), "sovereign_heap_objects 3\n");
        assert!(body_of(b"HTTP/1.1 404 Not Found\r\n\r\nno").is_err());
        assert!(body_of(b"HTTP/1.1 200 OK\r\nno end").is_err());
    }

    #[tokio::test]
    async fn a_closed_port_is_an_error_naming_the_flag() {
        let port = heap_testkit::free_ports(1).expect("a port")[0];
        let error = fetch(&format!("127.0.0.1:{port}")).await.expect_err("nothing listens");
        assert!(format!("{error:#}").contains("--http-listen"), "{error:#}");
    }
}
