//! The dashboard API's answers: JSON that names the node and the applied index it was read at,
//! and JSON errors whose message says what to do.

use axum::http::header;
use axum::http::HeaderValue;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::response::Response;
use serde::Serialize;

/// One answer: what it shows and from where (this node's applied state, not linearizable).
#[derive(Debug, Serialize)]
pub struct Answer<T> {
    pub node_id: u64,
    /// The last log index this node had applied when it read the answer.
    pub applied_index: u64,
    #[serde(flatten)]
    pub body: T,
}

/// `body` as JSON with `status`; never cached, since it changes with every applied entry.
pub fn json(status: StatusCode, body: &impl Serialize) -> Response {
    match serde_json::to_string(body) {
        Ok(text) => {
            let headers = [
                (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ];
            (status, headers, text).into_response()
        }
        // The views hold only strings, numbers and lists, so this does not happen; if it does,
        // the caller still gets JSON.
        Err(e) => {
            ApiError::internal(format!("cannot encode the answer as JSON ({e}); report this as a bug")).into_response()
        }
    }
}

/// An API error: `{"error": message}` with its status.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn not_found(message: String) -> Self {
        ApiError { status: StatusCode::NOT_FOUND, message }
    }

    pub fn internal(message: String) -> Self {
        ApiError { status: StatusCode::INTERNAL_SERVER_ERROR, message }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.message }).to_string();
        (self.status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
    }
}
