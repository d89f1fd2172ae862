//! The dashboard on the HTTP port: `GET /` is one self-contained page (`page.html`, compiled into
//! the binary: inline CSS and JavaScript, no external assets) that polls the read-only JSON
//! endpoints below and shows the members, recent elections, locks, sessions and a browser of
//! roots and objects (`/#object/{id}` opens one).
//!
//! Every answer is this node's own applied state, named in it (`node_id`, `applied_index`): not
//! linearizable, which is fine for watching a cluster. Every list is cut to a named bound with the
//! rest counted, every string to `text::TEXT_CHARS_MAX`. 64-bit ids and tokens are decimal strings.
//! Unknown objects and paths answer 404 with a JSON error.
//!
//! - `GET /api/cluster`: role, term, leader, indexes, members (`cluster_view.rs`).
//! - `GET /api/elections`: changes of term or leader this node saw (`election_log.rs`).
//! - `GET /api/locks`, `/api/sessions`, `/api/roots` (`heap_views.rs`).
//! - `GET /api/objects/{id}` (`object_view.rs`).

mod cluster_view;
mod heap_views;
mod object_view;
mod response;
mod text;

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::http::HeaderValue;
use axum::http::StatusCode;
use axum::http::Uri;
use axum::response::IntoResponse;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use openraft::async_runtime::WatchReceiver;
use serde::Serialize;

use crate::context::NodeContext;
use crate::election_log::Election;
use crate::election_log::ElectionLog;
use crate::election_log::ELECTION_LOG_CAPACITY;
use crate::machine_adapter::HeapMachine;
use crate::proposer::now_ms;
use response::json;
use response::Answer;
use response::ApiError;

/// The page, compiled in: the port serves it without any file on disk.
const PAGE_HTML: &str = include_str!("page.html");

/// What the page may load: nothing but its own inline script and style, and JSON from this
/// node. Heap contents are user data; the page never puts them into HTML, and this is the second
/// line of defence.
const PAGE_CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:";

/// Where the object API lives; the rest of the path is the object id.
const OBJECTS_PATH_PREFIX: &str = "/api/objects/";

/// What the dashboard's handlers share.
struct Dashboard {
    node: Arc<NodeContext>,
    elections: Arc<ElectionLog>,
}

impl Dashboard {
    /// Reads this node's applied heap into an `Answer`.
    fn read<T: Serialize>(&self, view: impl FnOnce(&HeapMachine) -> T) -> Result<Response, ApiError> {
        let answer = self
            .node
            .store
            .read(|machine, applied_index| Answer { node_id: self.node.id, applied_index, body: view(machine) })
            .map_err(|e| {
                ApiError::internal(format!(
                    "node {} cannot read its state machine ({e}); it is stopping: use another node's dashboard",
                    self.node.id
                ))
            })?;
        Ok(json(StatusCode::OK, &answer))
    }
}

async fn page() -> Response {
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")),
        (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_CONTENT_SECURITY_POLICY)),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
    ];
    (headers, PAGE_HTML).into_response()
}

async fn cluster(State(dashboard): State<Arc<Dashboard>>) -> Response {
    let metrics = dashboard.node.raft.metrics().borrow_watched().clone();
    let applied_index = metrics.last_applied.map(|id| id.index).unwrap_or(0);
    let body = cluster_view::cluster_view(dashboard.node.id, &metrics);
    json(StatusCode::OK, &Answer { node_id: dashboard.node.id, applied_index, body })
}

#[derive(Serialize)]
struct Elections {
    capacity: usize,
    /// Newest first.
    elections: Vec<Election>,
}

async fn elections(State(dashboard): State<Arc<Dashboard>>) -> Result<Response, ApiError> {
    let elections = dashboard.elections.recent();
    dashboard.read(|_| Elections { capacity: ELECTION_LOG_CAPACITY, elections })
}

async fn locks(State(dashboard): State<Arc<Dashboard>>) -> Result<Response, ApiError> {
    let now = now_ms();
    dashboard.read(|machine| heap_views::locks(&machine.heap, now))
}

async fn sessions(State(dashboard): State<Arc<Dashboard>>) -> Result<Response, ApiError> {
    let now = now_ms();
    dashboard.read(|machine| heap_views::sessions(&machine.heap, now))
}

async fn roots(State(dashboard): State<Arc<Dashboard>>) -> Result<Response, ApiError> {
    dashboard.read(|machine| heap_views::roots(&machine.heap))
}

/// `GET /api/objects/{id}`. The id is parsed here, not by an extractor, so a bad one gets the
/// same JSON 404 as an unknown one.
async fn object(State(dashboard): State<Arc<Dashboard>>, uri: Uri) -> Result<Response, ApiError> {
    let text = uri.path().strip_prefix(OBJECTS_PATH_PREFIX).unwrap_or_default();
    let Ok(id) = text.parse::<u64>() else {
        return Err(ApiError::not_found(format!(
            "{:?} is not an object id: ask for {OBJECTS_PATH_PREFIX}<decimal id>, e.g. an id from /api/roots",
            text::Text::cut(text).text
        )));
    };
    let node_id = dashboard.node.id;
    let found = dashboard.node.store.read(|machine, applied_index| {
        object_view::find_object(&machine.heap, id).map(|body| Answer { node_id, applied_index, body }).ok_or_else(
            || {
                ApiError::not_found(format!(
                    "node {node_id} has no object {id} at applied index {applied_index}: it was never created, was \
                     deleted, or this node has not applied it yet (reload, or look on the leader's dashboard)"
                ))
            },
        )
    });
    let answer = found.map_err(|e| {
        ApiError::internal(format!("node {node_id} cannot read its state machine ({e}); use another node's dashboard"))
    })??;
    Ok(json(StatusCode::OK, &answer))
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::not_found(format!(
        "nothing at {:?}: this port serves / (the dashboard), /metrics and /api/{{cluster,elections,locks,sessions,\
         roots,objects/<id>}}",
        text::Text::cut(uri.path()).text
    ))
}

/// The dashboard's routes (the page and its API) for `node`, showing `election_log`.
pub fn router(node: Arc<NodeContext>, election_log: Arc<ElectionLog>) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/api/cluster", get(cluster))
        .route("/api/elections", get(elections))
        .route("/api/locks", get(locks))
        .route("/api/sessions", get(sessions))
        .route("/api/roots", get(roots))
        .route("/api/objects/{id}", get(object))
        .fallback(not_found)
        .with_state(Arc::new(Dashboard { node, elections: election_log }))
}
