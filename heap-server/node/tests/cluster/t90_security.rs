//! Attacks from the network against real secured nodes, each now refused while the cluster keeps
//! serving with its data intact: forged votes (including `u64::MAX` terms), snapshots and
//! heartbeats from a process with no certificate, with another CA's certificate, and with a
//! member's certificate claiming another node; the removed Propose door; append-link frames over
//! the size limit or beyond the memory budget; a second snapshot stream; and connection floods on
//! a node with few file descriptors while writes and snapshots continue.

use std::time::Duration;
use std::time::Instant;

use heap_server::consensus_guard::TERM_MAX;
use proto::raft::RaftMessage;
use proto::raft::SnapshotChunk;
use tokio::io::AsyncReadExt;
use tokio::io::AsyncWriteExt;

use super::forger::*;
use super::support::*;

/// A term no real election reaches in a test: every node's term must stay below it.
const TERM_SANE_MAX: u64 = 1_000;

fn security_paths(test: &TestCluster) -> (Vec<u8>, std::path::PathBuf) {
    let security = test.cluster.security().expect("a secured cluster");
    (std::fs::read(security.ca_file()).expect("ca.pem"), security.dir().to_path_buf())
}

fn member_forger(test: &TestCluster, id: u64) -> Forger {
    let security = test.cluster.security().expect("a secured cluster");
    let (ca_pem, _) = security_paths(test);
    Forger::member(&ca_pem, &security.node_cert_file(id), &security.node_key_file(id))
}

/// Every node's current term (via a client of that node only).
async fn terms(test: &TestCluster) -> Vec<u64> {
    let mut terms = Vec::new();
    for id in test.cluster.ids() {
        let status = test.node_client(id).status_of(0).await.expect("node answers status");
        terms.push(status.term);
    }
    terms
}

async fn assert_data_intact(test: &TestCluster, sequence: u64) {
    let client = test.client();
    assert_eq!(get_root(&client, "before", None).await.expect("read"), Some(document("before", sequence)));
    set_root(&client, "after", sequence).await.expect("the cluster still takes writes");
    for term in terms(test).await {
        assert!(term < TERM_SANE_MAX, "a forged message moved a term to {term}");
    }
}

/// Forged consensus traffic is refused at the door, never reaches Raft, and leaves nothing to
/// panic on after a restart: the attack that used to brick a cluster for good.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_raft_traffic_is_refused_and_the_cluster_keeps_its_data() {
    let test = TestCluster::start("forged-raft", 3, &[]);
    test.leader().await;
    set_root(&test.client(), "before", 1).await.expect("write");
    let (ca_pem, _) = security_paths(&test);
    let outsiders = [(Forger::anonymous(&ca_pem), 1), (Forger::rogue(&ca_pem, 1), 1), (member_forger(&test, 2), 3)];
    let non_member = (member_forger(&test, 2), 9);
    test.phase(
        "cluster up with root `before`; forging as: no certificate, another CA, node 2's certificate claiming 3 and 9",
    );

    for id in test.cluster.ids() {
        let addr = test.cluster.addr(id).expect("addr").to_string();
        for (forger, claimed) in outsiders.iter().chain([&non_member]) {
            let (forger, claimed) = (forger, *claimed);
            for term in [u64::MAX, 2] {
                let vote = forge_vote(forger, &addr, &forged_vote(claimed, term)).await;
                assert!(vote.is_err(), "node {id} granted a vote to {} claiming {claimed} at {term}", forger.label);
                let snapshot = forge_snapshot(forger, &addr, forged_snapshot_chunk(claimed, term, vec![7; 64])).await;
                assert!(snapshot.is_err(), "node {id} took a snapshot from {} claiming {claimed}", forger.label);
                let append = forge_append(forger, &addr, id, &forged_heartbeat(claimed, term)).await;
                assert!(
                    !matches!(append, LinkOutcome::Accepted),
                    "node {id} took a heartbeat from {} claiming {claimed}: {}",
                    forger.label,
                    append.reason()
                );
            }
        }
    }
    test.phase("votes, snapshots and heartbeats from outsiders and impostors refused by every node");

    // A member speaking for itself, with messages no legitimate member sends.
    let member = member_forger(&test, 2);
    for id in [1, 3] {
        let addr = test.cluster.addr(id).expect("addr").to_string();
        for term in [u64::MAX, u64::MAX - 1, TERM_MAX] {
            let refusal = forge_vote(&member, &addr, &forged_vote(2, term)).await.expect_err("absurd vote refused");
            assert!(refusal.contains("term"), "the refusal names the term: {refusal}");
            assert!(forge_snapshot(&member, &addr, forged_snapshot_chunk(2, term, vec![1; 8])).await.is_err());
            let append = forge_append(&member, &addr, id, &forged_heartbeat(2, term)).await;
            assert!(matches!(append, LinkOutcome::Refused(_)), "absurd heartbeat: {}", append.reason());
            assert!(append.reason().contains("term"), "the refusal names the term: {}", append.reason());
        }
    }
    test.phase("a member's votes, snapshots and heartbeats at terms near u64::MAX refused, with the reason");

    // The old Propose door (Grace kept dead clients' leases alive) is gone from the transport.
    let mut grpc = tonic::client::Grpc::new(member.channel(test.cluster.addr(1).expect("addr")));
    grpc.ready().await.expect("channel ready");
    let path = tonic::codegen::http::uri::PathAndQuery::from_static("/sovereign.raft.v1.RaftTransport/Propose");
    let codec = tonic_prost::ProstCodec::<RaftMessage, RaftMessage>::default();
    let status = grpc
        .unary(tonic::Request::new(RaftMessage { payload: vec![1, 2, 3] }), path, codec)
        .await
        .expect_err("no Propose method");
    assert_eq!(status.code(), tonic::Code::Unimplemented, "{status:?}");
    test.phase("Propose is not served (Grace and Tick are proposed by the leader only)");

    assert_data_intact(&test, 1).await;
    let mut test = test;
    test.cluster.kill_all();
    test.cluster.start_all().expect("restart");
    test.leader().await;
    assert_data_intact(&test, 1).await;
    assert!(test.cluster.exited().is_empty(), "no node exited after the restart");
    test.phase("after SIGKILL and restart of every node: a leader, the data, sane terms, no crash loop");
}

/// Peak resident memory of process `pid` in bytes (VmHWM).
fn peak_rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).expect("VmHWM line");
    let kib: u64 = line.split_whitespace().nth(1).and_then(|v| v.parse().ok()).expect("a number");
    kib * 1024
}

/// Link frames are read only within the node's frame budget: a frame over the size limit closes
/// the link at once, and many large frames at the same time raise the node's memory by about the
/// budget, not by what they announce, while the cluster keeps committing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_frames_stay_within_the_size_limit_and_the_memory_budget() {
    const FRAMES: usize = 8;
    const FRAME_BYTES: usize = 100 * 1024 * 1024;
    let test = TestCluster::start("link-budget", 3, &[]);
    let leader = test.leader().await;
    let target = test.cluster.ids().into_iter().find(|id| *id != leader).expect("a follower");
    let sender = test.cluster.ids().into_iter().find(|id| *id != target).expect("another node");
    let addr = test.cluster.addr(target).expect("addr").to_string();
    let member = member_forger(&test, sender);
    set_root(&test.client(), "before", 1).await.expect("write");

    let mut link = member.open_link(&addr, target).await.expect("a member opens a link");
    link.write_all(&(heap_server::limits::RAFT_MESSAGE_SIZE_BYTES_MAX as u32 + 1).to_be_bytes()).await.expect("write");
    link.flush().await.expect("flush");
    let mut byte = [0u8; 1];
    let read = tokio::time::timeout(FORGED_CALL_TIMEOUT, link.read(&mut byte)).await.expect("closed in time");
    assert!(matches!(read, Ok(0) | Err(_)), "an oversize frame closes the link: {read:?}");
    test.phase("a frame announcing more than the limit closed the link");

    let pid = test.cluster.pid(target).expect("target runs");
    let before = peak_rss_bytes(pid);
    let mut senders = tokio::task::JoinSet::new();
    for _ in 0..FRAMES {
        let mut link = member.open_link(&addr, target).await.expect("link");
        senders.spawn(async move {
            let mut frame = (FRAME_BYTES as u32).to_be_bytes().to_vec();
            frame.resize(4 + FRAME_BYTES, 0xab);
            let _ = link.write_all(&frame).await;
            let _ = link.flush().await;
            let mut byte = [0u8; 1];
            let _ = link.read(&mut byte).await;
        });
    }
    let client = test.client();
    for sequence in 2..=20 {
        set_root(&client, "before", sequence).await.expect("writes continue during the frame flood");
    }
    let deadline = Instant::now() + CONDITION_TIMEOUT * 2;
    while !senders.is_empty() && Instant::now() < deadline {
        let _ = tokio::time::timeout(Duration::from_secs(1), senders.join_next()).await;
    }
    assert!(senders.is_empty(), "every frame was read and refused in time");
    let growth = peak_rss_bytes(pid).saturating_sub(before);
    test.phase(&format!(
        "{FRAMES} frames of {} MiB: peak memory of node {target} grew {} MiB (budget {} MiB)",
        FRAME_BYTES >> 20,
        growth >> 20,
        heap_server::limits::LINK_FRAME_BUDGET_BYTES >> 20
    ));
    let unbudgeted = (FRAMES * FRAME_BYTES) as u64;
    assert!(growth < unbudgeted * 2 / 3, "memory followed the frames, not the budget: grew {growth} bytes");
    assert_data_intact(&test, 20).await;
}

/// One snapshot install at a time per node: a second stream is refused while one is open, and an
/// abandoned stream installs nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_snapshot_stream_is_refused_while_one_is_open() {
    let test = TestCluster::start("snapshot-streams", 3, &[]);
    let leader = test.leader().await;
    set_root(&test.client(), "before", 1).await.expect("write");
    let target = test.cluster.ids().into_iter().find(|id| *id != leader).expect("a follower");
    let sender = test.cluster.ids().into_iter().find(|id| *id != target).expect("another node");
    let member = member_forger(&test, sender);
    let addr = test.cluster.addr(target).expect("addr").to_string();
    let term = terms(&test).await[0] + 1;

    // Plausible meta, corrupt data: refused before Raft sees it (an install that fails inside
    // Raft is a storage error and would stop the node).
    let corrupt = forge_snapshot(&member, &addr, forged_snapshot_chunk(sender, term, vec![0; 64])).await;
    let refusal = corrupt.expect_err("a corrupt snapshot is refused");
    assert!(refusal.contains("corrupt"), "{refusal}");
    assert_data_intact(&test, 1).await;
    test.phase("a member's corrupt snapshot refused; the node still runs");

    // Two streams open at once, each held after its first chunk: whichever reaches the node second
    // is refused as busy, the other stays open (no order between them is assumed).
    let mut senders = Vec::new();
    let mut streams = tokio::task::JoinSet::new();
    for _ in 0..2 {
        let (chunks, stream) = tokio::sync::mpsc::channel::<SnapshotChunk>(4);
        chunks.send(forged_snapshot_chunk(sender, term, vec![0; 1024])).await.expect("queue the first chunk");
        senders.push(chunks);
        let mut client = member.raft(&addr);
        streams
            .spawn(async move { client.install_snapshot(tokio_stream::wrappers::ReceiverStream::new(stream)).await });
    }
    let first_done = tokio::time::timeout(CONDITION_TIMEOUT, streams.join_next())
        .await
        .expect("one stream is answered in time")
        .expect("a stream task")
        .expect("the task did not panic");
    let refusal = format!("{:?}", first_done.expect_err("the second stream is refused"));
    assert!(refusal.contains("ResourceExhausted"), "{refusal}");
    assert!(
        tokio::time::timeout(Duration::from_millis(500), streams.join_next()).await.is_err(),
        "the other stream stays open while its sender holds it"
    );
    assert!(refusal.contains("in progress"), "{refusal}");
    test.phase("a second snapshot stream refused while the first is open");
    drop(senders);
    streams.abort_all();
    assert_data_intact(&test, 1).await;
    test.phase("the abandoned stream installed nothing; data intact");
}

/// How many of `streams` the other end has closed (all read at once, briefly).
async fn count_closed(streams: &mut [tokio::net::TcpStream]) -> usize {
    tokio::time::sleep(Duration::from_millis(500)).await;
    let reads = streams.iter_mut().map(|stream| async move {
        let mut byte = [0u8; 1];
        matches!(tokio::time::timeout(Duration::from_millis(500), stream.read(&mut byte)).await, Ok(Ok(0)) | Ok(Err(_)))
    });
    futures::future::join_all(reads).await.into_iter().filter(|closed| *closed).count()
}

/// A node with few file descriptors under a connection flood refuses what it cannot hold, keeps
/// replicating and writing snapshots (storage keeps its reserve of descriptors), and stays up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_flood_is_refused_while_writes_and_snapshots_continue() {
    const OPEN_FILES: u64 = 1_100;
    const FLOOD_CONNECTIONS: usize = 700;
    let launcher = |id: u64| {
        if id == 1 {
            vec!["prlimit".to_string(), format!("--nofile={OPEN_FILES}:{OPEN_FILES}"), "--".to_string()]
        } else {
            Vec::new()
        }
    };
    let test = TestCluster::start_with("connection-flood", 3, &["--snapshot-logs", "100"], true, |c| {
        c.with_launcher(launcher)
    });
    test.leader().await;
    let client = test.client();
    set_root(&client, "before", 1).await.expect("write");
    // Opened before the flood: the node's budget is spent afterwards, this connection stays.
    let node1 = test.node_client(1);
    let snapshot_before = node1.status_of(0).await.expect("status").snapshot_index;

    let mut flood = Vec::new();
    for _ in 0..FLOOD_CONNECTIONS {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket.bind("127.0.0.2:0".parse().expect("addr")).expect("bind a second loopback address");
        match socket.connect(test.cluster.addr(1).expect("addr").parse().expect("addr")).await {
            Ok(stream) => flood.push(stream),
            Err(e) => panic!("connect failed on the client side: {e}"),
        }
    }
    test.phase(&format!("{FLOOD_CONNECTIONS} idle connections opened to node 1 (open-file limit {OPEN_FILES})"));
    let closed = count_closed(&mut flood).await;
    // The client budget is the open-file limit less the storage reserve and the node slots;
    // beyond it (and a node slot's short handshake window) connections are closed at once.
    assert!(closed >= 50, "connections beyond the budget are closed at once: only {closed} were");
    test.phase(&format!("{closed} flood connections refused at once"));

    for sequence in 2..=300 {
        set_root(&client, "flooded", sequence).await.expect("writes continue during the flood");
    }
    let status = node1.status_of(0).await.expect("node 1 answers on its existing connection");
    assert!(status.snapshot_index > snapshot_before, "node 1 built a snapshot during the flood: {status:?}");
    test.phase("300 writes and a snapshot on node 1 went on during the flood");
    drop(flood);

    let mut test = test;
    assert!(test.cluster.exited().is_empty(), "no node exited");
    assert_data_intact(&test, 1).await;
    let local = test.node_client(1);
    let got = get_root(&local, "flooded", Some(status.last_applied)).await.expect("node 1 serves clients again");
    assert_eq!(got, Some(document("flooded", 300)));
    test.phase("node 1 serves clients again after the flood");
}

/// A node whose Raft stops for good (here its state-machine folder vanished, so storing the
/// next snapshot fails) exits with a failure status and says why, so a supervisor restarts it,
/// instead of staying up answering `Status` with a dead Raft; the other nodes go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_whose_raft_stops_exits_with_a_failure_status() {
    let mut test = TestCluster::start("raft-stop", 3, &["--snapshot-logs", "20"]);
    let leader = test.leader().await;
    let victim = test.cluster.ids().into_iter().find(|id| *id != leader).expect("a follower");
    std::fs::remove_dir_all(test.cluster.node_data_dir(victim).join("sm")).expect("remove the state-machine folder");
    test.phase(&format!("node {victim}'s state-machine folder removed under it"));

    // The other two nodes take the writes; the victim answers "stopped" until it exits.
    let survivors: Vec<String> = test
        .cluster
        .ids()
        .into_iter()
        .filter(|id| *id != victim)
        .map(|id| test.cluster.addr(id).expect("addr").to_string())
        .collect();
    let client = heap_client::ClusterClient::connect(&survivors, &test.cluster.client_security(), CLIENT_DEADLINE)
        .expect("a client of the other two");
    let deadline = Instant::now() + CONDITION_TIMEOUT;
    let mut sequence = 0;
    let status = loop {
        if let Some((_, status)) = test.cluster.exited().into_iter().find(|(id, _)| *id == victim) {
            break status;
        }
        assert!(Instant::now() < deadline, "node {victim} kept running with its storage gone");
        sequence += 1;
        set_root(&client, "load", sequence).await.expect("the majority keeps writing");
    };
    assert!(!status.success(), "a stopped Raft is a failure exit: {status}");
    let log = test.cluster.log_tail(victim, 200);
    assert!(log.contains("Raft stopped"), "node {victim} says why it exits: {log}");
    test.phase(&format!("node {victim} exited ({status}) after {sequence} writes, saying why"));
    set_root(&client, "after", 1).await.expect("the other two go on");
}
