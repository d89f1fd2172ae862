//! The node's HTTP port (`--http-listen`, off unless given): `GET /metrics` in Prometheus text
//! format, and the dashboard (`GET /` and `/api/*`, see `dashboard/`), which SHOWS HEAP CONTENTS
//! (roots, objects, lock and session names). Plain HTTP, unauthenticated and read-only: bind it to
//! loopback or an operations network only (`heapctl dev up` uses 127.0.0.1:7181-7183).

use std::future::Future;
use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use crate::context::NodeContext;
use crate::election_log::ElectionLog;

/// The content type of Prometheus' text exposition format.
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

async fn metrics(State(node): State<Arc<NodeContext>>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, PROMETHEUS_TEXT)], crate::metrics::render(&node))
}

/// Serves the HTTP port on `listener` until `stop` resolves. Also records the elections this
/// node sees for the dashboard, its only reader, for as long as it serves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    node: Arc<NodeContext>,
    stop: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let election_log = Arc::new(ElectionLog::default());
    let watcher = tokio::spawn(crate::election_log::watch(node.raft.clone(), Arc::clone(&election_log)));
    let app = Router::new()
        .route("/metrics", get(metrics))
        .with_state(Arc::clone(&node))
        .merge(crate::dashboard::router(node, election_log));
    let served = axum::serve(listener, app).with_graceful_shutdown(stop).await;
    watcher.abort();
    served
}
