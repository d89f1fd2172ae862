//! After the faults: read every key back (recorded in the history as process 0, so the checkers
//! see the final state), and compare the objects every node holds once it has applied as far as
//! the leader (replicas must not diverge). Every client uses the run's `ClientSecurity`.

use std::collections::BTreeMap;
use std::time::Duration;
use std::time::Instant;

use heap_client::ClientSecurity;
use heap_client::ClusterClient;
use proto::heap as pb;

use crate::checker::Anomaly;
use crate::checker::AnomalyKind;
use crate::checker::FINAL_PROCESS;
use crate::history::Op;
use crate::workload::int_value;
use crate::workload::read_object;
use crate::workload::string_items;
use crate::workload::Context;
use crate::workload::CLIENT_DEADLINE_MS;

/// How long the final reads (and, separately, the replica comparison) keep retrying.
pub const FINAL_READ_TIMEOUT_MS: u64 = 60_000;
pub const FINAL_READ_RETRY_MS: u64 = 200;

/// Reads every key back and records it.
pub async fn read_back(context: &Context, client: &ClusterClient) {
    let history = &context.history;
    for (key, id, is_list) in context.objects.final_keys() {
        let op = if is_list { Op::ReadList { elements: None } } else { Op::Read { value: None } };
        let pending = history.invoke(FINAL_PROCESS, &key, op);
        let started = Instant::now();
        loop {
            match read_object(client, id).await {
                Ok(object) => {
                    let result = if is_list {
                        Op::ReadList { elements: Some(string_items(&object)) }
                    } else {
                        Op::Read { value: int_value(&object) }
                    };
                    history.ok(pending, result);
                    break;
                }
                Err(e) if started.elapsed() > Duration::from_millis(FINAL_READ_TIMEOUT_MS) => {
                    history.info(pending, format!("no final read within {FINAL_READ_TIMEOUT_MS} ms: {e}"));
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(FINAL_READ_RETRY_MS)).await,
            }
        }
    }
}

type Snapshot = BTreeMap<u64, pb::Object>;

/// One read of `ids`, linearizable or from the answering node's state at `min_applied_index`.
async fn snapshot(client: &ClusterClient, ids: &[u64], local_at: Option<u64>) -> Result<(u64, Snapshot), String> {
    let request = pb::ReadRequest {
        ids: ids.to_vec(),
        local: local_at.is_some(),
        min_applied_index: local_at.unwrap_or(0),
        ..Default::default()
    };
    let response = client.read(request).await.map_err(|e| e.to_string())?;
    Ok((response.applied_index, response.objects.into_iter().map(|o| (o.id, o)).collect()))
}

/// What differs between two snapshots, in words (None when equal).
fn difference(expected: &Snapshot, actual: &Snapshot) -> Option<String> {
    for (id, object) in expected {
        match actual.get(id) {
            None => return Some(format!("object {id} is missing")),
            Some(other) if other != object => {
                return Some(format!("object {id} differs: {other:?} instead of {object:?}"));
            }
            Some(_) => {}
        }
    }
    (actual.len() != expected.len()).then(|| format!("{} objects instead of {}", actual.len(), expected.len()))
}

/// Compares every node's objects with the leader's, retrying while a node catches up; an
/// anomaly per node still different (or unreachable) at the deadline.
pub async fn compare_replicas(endpoints: &[String], security: &ClientSecurity, ids: &[u64]) -> Vec<Anomaly> {
    let deadline = Instant::now() + Duration::from_millis(FINAL_READ_TIMEOUT_MS);
    let client_deadline = Duration::from_millis(CLIENT_DEADLINE_MS);
    let mut problems: Vec<(String, String)> = Vec::new();
    loop {
        problems.clear();
        let leader = match ClusterClient::connect(endpoints, security, client_deadline) {
            Ok(client) => snapshot(&client, ids, None).await,
            Err(e) => Err(e.to_string()),
        };
        match leader {
            Err(e) => problems.push(("cluster".into(), format!("no linearizable read: {e}"))),
            Ok((applied_index, expected)) => {
                for endpoint in endpoints {
                    let node = match ClusterClient::connect(std::slice::from_ref(endpoint), security, client_deadline) {
                        Ok(client) => snapshot(&client, ids, Some(applied_index)).await,
                        Err(e) => Err(e.to_string()),
                    };
                    match node {
                        Err(e) => problems.push((endpoint.clone(), format!("no read at index {applied_index}: {e}"))),
                        Ok((_, actual)) => {
                            if let Some(difference) = difference(&expected, &actual) {
                                problems.push((endpoint.clone(), format!("at index {applied_index}: {difference}")));
                            }
                        }
                    }
                }
            }
        }
        if problems.is_empty() || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(FINAL_READ_RETRY_MS)).await;
    }
    problems
        .into_iter()
        .map(|(node, detail)| Anomaly::new(AnomalyKind::ReplicaDivergence, &format!("node:{node}"), 1, detail))
        .collect()
}
