//! The background task that sends what the hold table made due: every
//! `HOLD_FLUSH_INTERVAL_MS` it takes requests from the table (`HoldTable::next_request`), sends
//! each in the client's session and records the answer, until nothing is due. A request that
//! fails or is refused ends the round; its ids are due again at the next one.

use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use proto::heap as pb;

use super::holds::HoldAnswer;
use super::holds::HoldRequest;
use super::holds::HoldTable;
use super::holds::HOLD_REQUEST_IDS_MAX;
use super::holds::HOLD_TABLE_IDS_MAX;
use crate::session::Session;

/// How often due holds and releases are sent. An object the application reads may be detached
/// by another client at once; the leader's collector frees an object only after it has been
/// unreferenced and unheld for a whole poll (`COLLECTOR_GRACE_MS`), so the hold must land
/// within that: one interval plus a round trip, with room to spare.
pub const HOLD_FLUSH_INTERVAL_MS: u64 = 200;
/// The grace the collector gives an object that became unreferenced and unheld (heap-server's
/// `GC_POLL_INTERVAL_MS`, which the client cannot import).
const COLLECTOR_GRACE_MS: u64 = 1_000;
/// Requests per round: enough to send the whole table at once.
const REQUESTS_PER_ROUND_MAX: usize = HOLD_TABLE_IDS_MAX / HOLD_REQUEST_IDS_MAX + 1;

const _: () = assert!(HOLD_FLUSH_INTERVAL_MS * 4 <= COLLECTOR_GRACE_MS);

/// Runs until aborted (at `HeapClient::close` or drop).
pub async fn run(session: Arc<Session>, table: Arc<Mutex<HoldTable>>) {
    // Warn once per run of failures, not five times a second while a cluster is down.
    let mut failing = false;
    loop {
        tokio::time::sleep(Duration::from_millis(HOLD_FLUSH_INTERVAL_MS)).await;
        match round(&session, &table).await {
            Ok(()) => failing = false,
            Err(message) if failing => tracing::debug!(session = session.id(), %message, "holds not sent"),
            Err(message) => {
                failing = true;
                tracing::warn!(session = session.id(), %message, "holds not sent; retrying");
            }
        }
    }
}

/// Sends requests until nothing is due; stops at the first one that does not apply.
async fn round(session: &Session, table: &Mutex<HoldTable>) -> Result<(), String> {
    for _ in 0..REQUESTS_PER_ROUND_MAX {
        let request = match table.lock() {
            Ok(mut table) => table.next_request(),
            Err(_) => return Err("the hold table lock was poisoned by a panic".into()),
        };
        let Some(request) = request else { return Ok(()) };
        let (answer, problem) = send(session, &request).await;
        if let Ok(mut table) = table.lock() {
            table.answered(&request, &answer);
        }
        if let Some(problem) = problem {
            return Err(problem);
        }
    }
    Ok(())
}

/// One request and its answer; the text says why it did not apply, if it did not.
async fn send(session: &Session, request: &HoldRequest) -> (HoldAnswer, Option<String>) {
    use pb::session_request::Command;
    use pb::session_response::Result as R;
    let command = match request {
        HoldRequest::Hold(ids) => Command::Hold(pb::Hold { ids: ids.clone() }),
        HoldRequest::Release(ids) => Command::Release(pb::Release { ids: ids.clone() }),
    };
    let result = match session.call(command).await {
        Ok(response) => response.result,
        Err(error) => return (HoldAnswer::Failed, Some(error.to_string())),
    };
    match (request, result) {
        (HoldRequest::Hold(_), Some(R::Held(held))) => (HoldAnswer::Held { missing: held.missing }, None),
        (HoldRequest::Release(_), Some(R::Done(_))) => (HoldAnswer::Released, None),
        (_, Some(R::Rejected(rejection))) => (HoldAnswer::Refused, Some(rejection.message)),
        (_, other) => (HoldAnswer::Failed, Some(format!("unexpected answer to a hold request: {other:?}"))),
    }
}
