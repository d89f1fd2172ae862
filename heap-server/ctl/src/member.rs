//! `heapctl member`: list, add, remove and replace cluster members through the `Admin` service.
//! Any node takes the call and forwards it to the leader; a node that does not answer (down,
//! between leaders) is skipped for the next endpoint. Every change is idempotent, so after a
//! timeout the same command is simply run again.

use std::future::Future;
use std::time::Duration;

use anyhow::bail;
use heap_client::admin_stub;
use heap_client::AdminStub;
use heap_client::ClientSecurity;
use proto::admin as pb;
use tonic::Code;
use tonic::Status;

/// How long a membership change may take: the new node's catch-up (the node allows 60 s) and the
/// commit, with margin. Used instead of --timeout-ms when that is shorter.
const MEMBER_CHANGE_TIMEOUT_MS: u64 = 90_000;

/// Rounds over the endpoints before giving up: right after a leader change (or a removed leader
/// leaving) every node may answer "unavailable" for a moment.
const CALL_ROUNDS_MAX: u32 = 5;
/// Pause between rounds.
const CALL_ROUND_PAUSE_MS: u64 = 500;

/// Calls `call` on the endpoints in turn until one answers, for up to `CALL_ROUNDS_MAX` rounds;
/// an answer that is a refusal (not "unavailable") ends the search, since every node would refuse
/// the same way. Safe for changes too: each is idempotent.
pub async fn call_any<T, F, Fut>(
    endpoints: &[String],
    security: &ClientSecurity,
    timeout: Duration,
    call: F,
) -> anyhow::Result<T>
where
    F: Fn(AdminStub) -> Fut,
    Fut: Future<Output = Result<tonic::Response<T>, Status>>,
{
    let mut failures = Vec::new();
    for round in 0..CALL_ROUNDS_MAX {
        if round > 0 {
            tokio::time::sleep(Duration::from_millis(CALL_ROUND_PAUSE_MS)).await;
        }
        failures.clear();
        for endpoint in endpoints {
            let stub = admin_stub(security, endpoint, timeout, timeout)?;
            match call(stub).await {
                Ok(answer) => return Ok(answer.into_inner()),
                Err(status) if matches!(status.code(), Code::Unavailable | Code::Unknown) => {
                    failures.push(format!("{endpoint}: {}", status.message()));
                }
                Err(status) => bail!("{endpoint} refused: {} ({:?})", status.message(), status.code()),
            }
        }
    }
    bail!(
        "no node could take the call in {CALL_ROUNDS_MAX} rounds ({}); check --endpoints and that a majority of the \
         cluster runs",
        failures.join("; ")
    )
}

fn change_timeout(timeout: Duration) -> Duration {
    timeout.max(Duration::from_millis(MEMBER_CHANGE_TIMEOUT_MS))
}

/// Prints the members (one per line, or JSON).
fn print(members: &pb::MembersResponse, as_json: bool) {
    if as_json {
        let rows: Vec<serde_json::Value> = members
            .members
            .iter()
            .map(|m| {
                serde_json::json!({
                    "id": m.id, "addr": m.addr, "voter": m.voter, "leader": m.id == members.leader_id,
                    "matched_index": m.matched_index, "lag_entries": m.lag_entries,
                })
            })
            .collect();
        let document = serde_json::json!({
            "leader_id": members.leader_id, "term": members.term,
            "membership_index": members.membership_index, "members": rows,
        });
        println!("{document}");
        return;
    }
    println!("term {}, leader {}, membership at index {}", members.term, members.leader_id, members.membership_index);
    for m in &members.members {
        let role = match (m.id == members.leader_id, m.voter) {
            (true, _) => "leader",
            (false, true) => "voter",
            (false, false) => "learner",
        };
        println!("{:>4}  {:<24} {:<8} matched {:>10}  lag {}", m.id, m.addr, role, m.matched_index, m.lag_entries);
    }
}

pub async fn list(
    endpoints: &[String],
    security: &ClientSecurity,
    timeout: Duration,
    as_json: bool,
) -> anyhow::Result<()> {
    let members =
        call_any(endpoints, security, timeout, |mut stub| async move { stub.members(pb::MembersRequest {}).await })
            .await?;
    print(&members, as_json);
    Ok(())
}

pub async fn add(
    endpoints: &[String],
    security: &ClientSecurity,
    timeout: Duration,
    id: u64,
    addr: &str,
) -> anyhow::Result<()> {
    let request = pb::AddMemberRequest { id, addr: addr.to_string() };
    let members = call_any(endpoints, security, change_timeout(timeout), |mut stub| {
        let request = request.clone();
        async move { stub.add_member(request).await }
    })
    .await?;
    println!("node {id} at {addr} is a voter");
    print(&members, false);
    Ok(())
}

pub async fn remove(endpoints: &[String], security: &ClientSecurity, timeout: Duration, id: u64) -> anyhow::Result<()> {
    let members = call_any(endpoints, security, change_timeout(timeout), |mut stub| async move {
        stub.remove_member(pb::RemoveMemberRequest { id }).await
    })
    .await?;
    println!("node {id} is not a member; stop its process (it exits by itself once it learns of the change)");
    print(&members, false);
    Ok(())
}

pub async fn replace(
    endpoints: &[String],
    security: &ClientSecurity,
    timeout: Duration,
    old_id: u64,
    new_id: u64,
    new_addr: &str,
) -> anyhow::Result<()> {
    let request = pb::ReplaceMemberRequest { old_id, new_id, new_addr: new_addr.to_string() };
    let members = call_any(endpoints, security, change_timeout(timeout), |mut stub| {
        let request = request.clone();
        async move { stub.replace_member(request).await }
    })
    .await?;
    println!("node {new_id} at {new_addr} replaced node {old_id}");
    print(&members, false);
    Ok(())
}

pub async fn transfer_leader(
    endpoints: &[String],
    security: &ClientSecurity,
    timeout: Duration,
    id: u64,
) -> anyhow::Result<()> {
    let members = call_any(endpoints, security, timeout, |mut stub| async move {
        stub.transfer_leader(pb::TransferLeaderRequest { id }).await
    })
    .await?;
    println!("node {id} leads");
    print(&members, false);
    Ok(())
}
