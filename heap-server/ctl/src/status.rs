//! `heapctl status`: asks every endpoint and every member for its view and merges them.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::bail;
use heap_client::ClusterClient;
use proto::heap as pb;

pub async fn run(endpoints: &[String], timeout: Duration, as_json: bool) -> anyhow::Result<()> {
    let views = ask_all(endpoints, timeout).await?;
    if views.iter().all(|v| v.1.is_none()) {
        bail!("no node answered (tried {}); start the cluster or fix --endpoints", endpoints.join(","));
    }
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
        views.extend(ask_all(&extra, timeout).await?);
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
        match leader {
            Some(id) => println!("leader: node {id}   term: {term}"),
            None => println!("leader: none (election running or no majority)   term: {term}"),
        }
        println!("{:<4} {:<22} {:<10} {:<10} {:>12}", "id", "addr", "reachable", "state", "last_applied");
        for m in &known {
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
    }
    Ok(())
}

async fn ask_all(endpoints: &[String], timeout: Duration) -> anyhow::Result<Vec<(String, Option<pb::StatusResponse>)>> {
    let client = ClusterClient::with_deadline(endpoints, timeout)?;
    let asks = (0..endpoints.len()).map(|i| client.status_of(i));
    let answers = futures::future::join_all(asks).await;
    Ok(endpoints.iter().cloned().zip(answers.into_iter().map(Result::ok)).collect())
}
