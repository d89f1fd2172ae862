//! `heapctl status`: asks every endpoint and every member for its view and merges them. A node
//! that does not answer (down, paused, refusing our certificate or token) is reported as not
//! reachable and the others are used; only when none answers is it an error, naming why. A node
//! whose disk is low (its `disk_warning`) gets a `WARNING:` line after the table.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::bail;
use heap_client::ClientSecurity;
use heap_client::ClusterClient;
use proto::heap as pb;

/// A node's answer, or why it gave none.
type View = (String, Result<pb::StatusResponse, String>);

pub async fn run(
    endpoints: &[String],
    security: &ClientSecurity,
    timeout: Duration,
    as_json: bool,
) -> anyhow::Result<()> {
    let views = ask_all(endpoints, security, timeout).await?;
    if views.iter().all(|v| v.1.is_err()) {
        let why: Vec<String> =
            views.iter().filter_map(|(addr, r)| r.as_ref().err().map(|e| format!("{addr}: {e}"))).collect();
        bail!(
            "no node answered (tried {}; {}); start the cluster, fix --endpoints, or give the cluster's security \
             (--ca, --token-file, or --plaintext for a test cluster)",
            endpoints.join(","),
            why.join("; ").replace('\n', " ")
        );
    }
    let views: Vec<(String, Option<pb::StatusResponse>)> = views.into_iter().map(|(a, r)| (a, r.ok())).collect();
    // Members: from the answering node with the highest term; they may live at other addresses
    // than the endpoints given, so ask those too.
    let known = views
        .iter()
        .filter_map(|(_, s)| s.as_ref())
        .max_by_key(|s| s.term)
        .map(|s| s.members.clone())
        .unwrap_or_default();
    let mut views = views;
    let extra: Vec<String> =
        known.iter().map(|m| m.addr.clone()).filter(|addr| !views.iter().any(|(a, _)| a == addr)).collect();
    if !extra.is_empty() {
        views.extend(ask_all(&extra, security, timeout).await?.into_iter().map(|(a, r)| (a, r.ok())));
    }
    let by_id: BTreeMap<u64, &pb::StatusResponse> =
        views.iter().filter_map(|(_, s)| s.as_ref()).map(|s| (s.node_id, s)).collect();
    let term = by_id.values().map(|s| s.term).max().unwrap_or(0);
    let leader = by_id
        .values()
        .filter(|s| s.term == term && s.state == "Leader")
        .map(|s| s.node_id)
        .next()
        .or_else(|| by_id.values().filter(|s| s.term == term && s.leader_id != 0).map(|s| s.leader_id).next());
    let nodes: Vec<serde_json::Value> = known
        .iter()
        .map(|m| {
            let status = by_id.get(&m.id);
            serde_json::json!({
                "id": m.id,
                "addr": m.addr,
                "reachable": status.is_some(),
                "last_applied": status.map(|s| s.last_applied),
                "disk_free_bytes": status.map(|s| s.disk_free_bytes),
                // null when unreachable, "" when the disk is fine.
                "disk_warning": status.map(|s| s.disk_warning.clone()),
            })
        })
        .collect();
    if as_json {
        let report = serde_json::json!({
            "leader": leader,
            "term": term,
            "members": known.iter().map(|m| m.id).collect::<Vec<_>>(),
            "nodes": nodes,
        });
        println!("{report}");
    } else {
        print_table(leader, term, &known, &by_id);
    }
    Ok(())
}

/// Every endpoint's status, asked at once; one that fails does not stop the others.
async fn ask_all(endpoints: &[String], security: &ClientSecurity, timeout: Duration) -> anyhow::Result<Vec<View>> {
    let client = ClusterClient::connect(endpoints, security, timeout)?;
    let asks = (0..endpoints.len()).map(|i| client.status_of(i));
    let answers = futures::future::join_all(asks).await;
    Ok(endpoints.iter().cloned().zip(answers.into_iter().map(|r| r.map_err(|s| s.message().to_string()))).collect())
}

/// The human-readable view: the leader, one row per member, then a line per disk warning.
fn print_table(leader: Option<u64>, term: u64, known: &[pb::Member], by_id: &BTreeMap<u64, &pb::StatusResponse>) {
    match leader {
        Some(id) => println!("leader: node {id}   term: {term}"),
        None => println!("leader: none (election running or no majority)   term: {term}"),
    }
    println!("{:<4} {:<22} {:<10} {:<10} {:>12}", "id", "addr", "reachable", "state", "last_applied");
    for m in known {
        let status = by_id.get(&m.id);
        println!(
            "{:<4} {:<22} {:<10} {:<10} {:>12}",
            m.id,
            m.addr,
            if status.is_some() { "yes" } else { "no" },
            status.map(|s| s.state.as_str()).unwrap_or("-"),
            status.map(|s| s.last_applied.to_string()).unwrap_or_else(|| "-".into()),
        );
    }
    // After the table, so its columns stay aligned; one line per node whose disk is low.
    for status in by_id.values().filter(|s| !s.disk_warning.is_empty()) {
        println!("WARNING: {}", status.disk_warning);
    }
}
