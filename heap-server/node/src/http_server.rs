//! The node's HTTP port (`--http-listen`, off unless given): `GET /metrics` in Prometheus text
//! format. Plain HTTP and unauthenticated, as scrapers expect: bind it to loopback or an
//! operations network (`heapctl dev up` uses 127.0.0.1:7181-7183). It only reads.

use std::future::Future;
use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use crate::context::NodeContext;

/// The content type of Prometheus' text exposition format.
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

async fn metrics(State(node): State<Arc<NodeContext>>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, PROMETHEUS_TEXT)], crate::metrics::render(&node))
}

/// Serves the HTTP port on `listener` until `stop` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    node: Arc<NodeContext>,
    stop: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = Router::new().route("/metrics", get(metrics)).with_state(node);
    axum::serve(listener, app).with_graceful_shutdown(stop).await
}
