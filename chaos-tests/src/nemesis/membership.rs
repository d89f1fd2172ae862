//! Membership faults: add a new node (a fresh id, an address in the right place: a free loopback
//! port, or a namespace of its own under `Network`), remove a member, or replace one with a new
//! node, through the `Admin` service as an operator would. The change is the fault: there is
//! nothing to heal. A change that fails (a timeout, the leader moving) is retried within the
//! fault's window, and the membership the cluster reports decides what happened; one that cannot
//! complete is skipped with the reason, and a new node it started is taken away again. A node
//! asked to leave is expected to exit by itself with status 78 (`Roster::departing`).

use std::collections::BTreeSet;
use std::future::Future;
use std::process::ExitStatus;
use std::time::Duration;
use std::time::Instant;

use heap_client::admin_stub;
use heap_client::AdminStub;
use heap_client::ClientSecurity;
use heap_testkit::free_ports;
use heap_testkit::LocalCluster;
use proto::admin as pb;

use crate::change::Change;
use crate::change::Pick;
use crate::endpoints::Endpoints;
use crate::nemesis::NemesisError;
use crate::netns::Network;
use crate::netns::NODE_PORT;

/// One Admin call gives up after this long: an addition includes the new node's catch-up, which
/// the node bounds at 60 s but which takes a second or two in a chaos run.
pub const ADMIN_CALL_TIMEOUT_MS: u64 = 15_000;
/// Connecting to one node for an Admin call gives up after this long (the next node is tried).
const ADMIN_CONNECT_TIMEOUT_MS: u64 = 1_000;
/// Pause between two attempts of a change within its window.
const RETRY_PAUSE_MS: u64 = 300;
/// A removed node exits by itself within about 2 s; after this long it is killed (not an anomaly:
/// the cluster left it out either way).
pub const REMOVED_EXIT_WAIT_MS: u64 = 4_000;
/// heap-server's exit status when the membership does not name it.
pub const EXIT_NOT_A_MEMBER: i32 = 78;
const POLL_MS: u64 = 50;

/// What the membership nemesis keeps between faults.
#[derive(Debug, Default)]
pub struct Roster {
    /// The id the next new node gets (ids are never reused).
    pub next_id: u64,
    /// Nodes asked to leave (also after a change that seemed to fail: it may commit later):
    /// their exit with status 78 is expected, not a crash.
    pub departing: BTreeSet<u64>,
    /// Exits of other nodes seen while waiting for a removed one, for the crash check.
    pub other_exits: Vec<(u64, ExitStatus)>,
}

impl Roster {
    pub fn new(cluster: &LocalCluster) -> Self {
        Self { next_id: cluster.ids().into_iter().max().unwrap_or(0) + 1, ..Default::default() }
    }

    /// Whether `id` exiting with `status` is a planned departure.
    pub fn departed(&self, id: u64, status: &ExitStatus) -> bool {
        self.departing.contains(&id) && status.code() == Some(EXIT_NOT_A_MEMBER)
    }
}

/// What the fault needs besides the change.
pub struct Scene<'a> {
    pub cluster: &'a mut LocalCluster,
    pub network: Option<&'a mut Network>,
    pub roster: &'a mut Roster,
    pub endpoints: Option<&'a Endpoints>,
}

/// Calls `call` on each of `endpoints` until one answers; Err with every failure otherwise.
pub(crate) async fn call_any<T, F, Fut>(endpoints: &[String], security: &ClientSecurity, call: F) -> Result<T, String>
where
    F: Fn(AdminStub) -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let mut failures = Vec::new();
    let (connect, request) =
        (Duration::from_millis(ADMIN_CONNECT_TIMEOUT_MS), Duration::from_millis(ADMIN_CALL_TIMEOUT_MS));
    for endpoint in endpoints {
        let stub = admin_stub(security, endpoint, connect, request).map_err(|e| e.to_string())?;
        match tokio::time::timeout(request, call(stub)).await {
            Ok(Ok(answer)) => return Ok(answer),
            Ok(Err(e)) => failures.push(format!("{endpoint}: {e}")),
            Err(_) => failures.push(format!("{endpoint}: no answer in {ADMIN_CALL_TIMEOUT_MS} ms")),
        }
    }
    Err(failures.join("; "))
}

fn status_text(status: &impl std::fmt::Display) -> String {
    status.to_string().chars().take(300).collect()
}

/// The membership as the leader reports it.
async fn members(cluster: &LocalCluster) -> Result<pb::MembersResponse, String> {
    call_any(&cluster.endpoints(), &cluster.client_security(), |mut stub| async move {
        stub.members(pb::MembersRequest {}).await.map(|r| r.into_inner()).map_err(|s| status_text(&s))
    })
    .await
}

fn voters(members: &pb::MembersResponse) -> Vec<u64> {
    members.members.iter().filter(|m| m.voter).map(|m| m.id).collect()
}

/// The member `pick` names now; Err(reason) when there is none.
fn resolve(members: &pb::MembersResponse, pick: Pick) -> Result<u64, String> {
    let voters = voters(members);
    match pick {
        Pick::Leader if members.leader_id != 0 => Ok(members.leader_id),
        Pick::Leader => Err("no leader to pick".into()),
        Pick::Follower(rank) => {
            let followers: Vec<u64> = voters.into_iter().filter(|id| *id != members.leader_id).collect();
            followers.get(rank as usize % followers.len().max(1)).copied().ok_or_else(|| "no follower".into())
        }
    }
}

/// Whether the membership shows `change` done (`new`: the new node, `old`: the leaving one).
fn done(members: &pb::MembersResponse, new: Option<u64>, old: Option<u64>) -> bool {
    let voters = voters(members);
    let present = |id: u64| members.members.iter().any(|m| m.id == id);
    new.is_none_or(|id| voters.contains(&id)) && old.is_none_or(|id| !present(id))
}

/// Sends the change once (to any node); the answer or why not.
async fn send(
    cluster: &LocalCluster,
    change: Change,
    new: Option<(u64, &str)>,
    old: Option<u64>,
) -> Result<(), String> {
    let (endpoints, security) = (cluster.endpoints(), cluster.client_security());
    let new = new.map(|(id, addr)| (id, addr.to_string()));
    let outcome = match (change, new, old) {
        (Change::Add, Some((id, addr)), _) => {
            let request = pb::AddMemberRequest { id, addr };
            call_any(&endpoints, &security, |mut stub| {
                let request = request.clone();
                async move { stub.add_member(request).await.map(|_| ()).map_err(|s| status_text(&s)) }
            })
            .await
        }
        (Change::Remove(_), _, Some(id)) => {
            call_any(&endpoints, &security, |mut stub| async move {
                stub.remove_member(pb::RemoveMemberRequest { id }).await.map(|_| ()).map_err(|s| status_text(&s))
            })
            .await
        }
        (Change::Replace(_), Some((new_id, new_addr)), Some(old_id)) => {
            let request = pb::ReplaceMemberRequest { old_id, new_id, new_addr };
            call_any(&endpoints, &security, |mut stub| {
                let request = request.clone();
                async move { stub.replace_member(request).await.map(|_| ()).map_err(|s| status_text(&s)) }
            })
            .await
        }
        other => Err(format!("inconsistent change {other:?}")),
    };
    outcome
}

/// Makes `change` within `window`; (what happened, or why it was skipped).
pub async fn change(
    scene: Scene<'_>,
    change: Change,
    window: Duration,
) -> Result<(String, Option<String>), NemesisError> {
    let deadline = Instant::now() + window;
    let members_now = match members(scene.cluster).await {
        Ok(members) => members,
        Err(e) => return Ok((String::new(), Some(format!("skipped: no membership answer: {e}")))),
    };
    let voter_count = voters(&members_now).len() as u64;
    if !change.allowed_at(voter_count) {
        let reason = format!("skipped: the cluster has {voter_count} voters; `{change}` would leave the bounds");
        return Ok((String::new(), Some(reason)));
    }
    let old = match change {
        Change::Add => None,
        Change::Remove(pick) | Change::Replace(pick) => match resolve(&members_now, pick) {
            Ok(id) => Some(id),
            Err(reason) => return Ok((String::new(), Some(format!("skipped: {reason}")))),
        },
    };
    let Scene { cluster, mut network, roster, endpoints } = scene;
    let new = match change {
        Change::Remove(_) => None,
        Change::Add | Change::Replace(_) => Some(start_new_node(cluster, network.as_deref_mut(), roster)?),
    };
    if let Some(id) = old {
        roster.departing.insert(id);
    }
    let new_ref = new.as_ref().map(|(id, addr)| (*id, addr.as_str()));
    let (attempts, last_error) = drive(cluster, change, new_ref, old, deadline).await;
    let members_after = members(cluster).await;
    let completed = members_after.as_ref().is_ok_and(|m| done(m, new.as_ref().map(|n| n.0), old));
    if !completed {
        let cleanup = match &new {
            Some((id, _)) => take_back(cluster, network.as_deref_mut(), *id).await,
            None => String::new(),
        };
        let reason = format!(
            "skipped: `{change}` not done in {attempts} attempts within {} ms (last error: {}){cleanup}",
            window.as_millis(),
            last_error.unwrap_or_else(|| "none".into())
        );
        return Ok((String::new(), Some(reason)));
    }
    let mut detail = match (&new, old) {
        (Some((id, addr)), None) => format!("added node {id} at {addr}"),
        (None, Some(id)) => format!("removed node {id}"),
        (Some((id, addr)), Some(old_id)) => format!("replaced node {old_id} by node {id} at {addr}"),
        (None, None) => String::new(),
    };
    if attempts > 1 {
        detail.push_str(&format!(" (after {attempts} attempts)"));
    }
    if let Some(id) = old {
        detail.push_str(&let_go(cluster, network, roster, id).await);
    }
    if let Some(endpoints) = endpoints {
        endpoints.set(cluster.endpoints());
    }
    Ok((detail, None))
}

/// Sends the change until the membership shows it done or `deadline` passes (at least once);
/// the attempts made and the last error.
async fn drive(
    cluster: &LocalCluster,
    change: Change,
    new: Option<(u64, &str)>,
    old: Option<u64>,
    deadline: Instant,
) -> (u32, Option<String>) {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let last_error = match send(cluster, change, new, old).await {
            Ok(()) => return (attempts, None),
            Err(e) => Some(e),
        };
        // Each change is idempotent, and a timed-out one may have gone through.
        if members(cluster).await.is_ok_and(|m| done(&m, new.map(|n| n.0), old)) {
            return (attempts, last_error);
        }
        if Instant::now() + Duration::from_millis(RETRY_PAUSE_MS) >= deadline {
            return (attempts, last_error);
        }
        tokio::time::sleep(Duration::from_millis(RETRY_PAUSE_MS)).await;
    }
}

/// Registers and starts a new node with `--join` at a fresh address; its id and address.
fn start_new_node(
    cluster: &mut LocalCluster,
    network: Option<&mut Network>,
    roster: &mut Roster,
) -> Result<(u64, String), NemesisError> {
    let id = roster.next_id;
    roster.next_id += 1;
    let addr = match network {
        Some(network) => {
            let ip = network.add_node(id)?;
            let addr = format!("{ip}:{NODE_PORT}");
            cluster.add_joining_node(id, &addr, Vec::new())?;
            cluster.set_node_launcher(id, network.command_prefix(id))?;
            addr
        }
        None => {
            let port = free_ports(1)?[0];
            let addr = format!("127.0.0.1:{port}");
            cluster.add_joining_node(id, &addr, Vec::new())?;
            addr
        }
    };
    cluster.start(id)?;
    Ok((id, addr))
}

/// Takes a new node back after a change that did not complete: out of the membership if it got
/// in as a learner (never if it votes: that would lower the voter count), then stopped and
/// forgotten. What was done, for the skip reason.
async fn take_back(cluster: &mut LocalCluster, network: Option<&mut Network>, id: u64) -> String {
    let learner = match members(cluster).await {
        Ok(m) => m.members.iter().find(|m| m.id == id).map(|m| !m.voter),
        Err(e) => return format!("; new node {id} left running: membership unknown ({e})"),
    };
    let note = match learner {
        Some(false) => return format!("; new node {id} became a voter after all and stays"),
        Some(true) => match send(cluster, Change::Remove(Pick::Leader), None, Some(id)).await {
            Ok(()) => format!("; learner {id} removed and stopped"),
            Err(e) => format!("; learner {id} stopped, but its removal failed: {e}"),
        },
        None => format!("; new node {id} stopped"),
    };
    cluster.forget_node(id);
    if let Some(network) = network {
        network.remove_node(id);
    }
    note
}

/// Waits (bounded) for removed node `id` to exit by itself, then forgets it; a note on how it went.
async fn let_go(cluster: &mut LocalCluster, network: Option<&mut Network>, roster: &mut Roster, id: u64) -> String {
    let deadline = Instant::now() + Duration::from_millis(REMOVED_EXIT_WAIT_MS);
    let mut note = if cluster.is_running(id) { String::new() } else { "; it was down".to_string() };
    while note.is_empty() {
        for (exited, status) in cluster.exited() {
            if exited == id {
                note = format!("; it exited by itself ({status})");
            } else {
                roster.other_exits.push((exited, status));
            }
        }
        if note.is_empty() && Instant::now() >= deadline {
            note = format!("; still running after {REMOVED_EXIT_WAIT_MS} ms, killed");
        }
        if note.is_empty() {
            tokio::time::sleep(Duration::from_millis(POLL_MS)).await;
        }
    }
    cluster.forget_node(id);
    if let Some(network) = network {
        network.remove_node(id);
    }
    note
}
