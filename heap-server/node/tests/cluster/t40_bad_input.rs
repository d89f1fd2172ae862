//! A client cannot crash a node: garbage bytes, oversized and malformed messages, and transactions
//! the heap must refuse each get an error, change nothing, and the cluster keeps serving.
//! Plaintext on purpose: the bytes must reach the parsers behind TLS (on a secured node, only a
//! member's certificate gets that far; `t90_security.rs` covers what TLS refuses first).

use std::io::Read;
use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use heap_client::tx::*;
use proto::heap as pb;
use proto::heap::heap_client::HeapClient;
use proto::raft::raft_transport_client::RaftTransportClient;

use super::support::*;

fn pseudo_random_bytes(count: usize, mut seed: u64) -> Vec<u8> {
    (0..count)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        })
        .collect()
}

/// Sends `bytes` on a raw TCP connection and reads until the node closes it (bounded).
fn send_raw(addr: &str, bytes: &[u8]) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    let _ = stream.write_all(bytes);
    let mut sink = Vec::new();
    let _ = stream.read_to_end(&mut sink);
}

async fn assert_serving(test: &TestCluster, sequence: u64) {
    let client = test.client();
    set_root(&client, "alive", sequence).await.expect("the cluster still accepts writes");
    let got = get_root(&client, "alive", None).await.expect("the cluster still answers reads");
    assert_eq!(got, Some(document("alive", sequence)));
}

fn new_object_with_ref(to: u64) -> pb::Transaction {
    transaction(vec![
        create(0, "Cart", pb::ObjectKind::Fields),
        set_field(new_target(0), "owner", value(pb::value::Kind::RefId(to))),
        bind_root("dangling", new_target(0)),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_an_error_and_changes_nothing() {
    let test = TestCluster::start_plaintext("bad-input", 3, &[]);
    let leader = test.leader().await;
    assert_serving(&test, 0).await;
    let addr = test.cluster.addr(leader).expect("leader addr").to_string();

    // Garbage on the port, plain and after an HTTP/2 preface.
    send_raw(&addr, &pseudo_random_bytes(64 * 1024, 7));
    let mut preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    preface.extend(pseudo_random_bytes(4096, 11));
    send_raw(&addr, &preface);
    send_raw(&addr, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_serving(&test, 1).await;
    test.phase("garbage bytes on the port: connection dropped, node serves");

    // Garbage on the append link (the port's other protocol), on every node: not the magic, a
    // frame length over the limit, a frame that is not an AppendEntries. Each connection is closed
    // and the node keeps following (the writes below need a follower's ack).
    let magic = heap_server::append_link::LINK_MAGIC;
    let mut not_magic = b"SOVJUNK!".to_vec();
    not_magic.extend(pseudo_random_bytes(1024, 13));
    let mut too_long = magic.to_vec();
    too_long.extend(u32::MAX.to_be_bytes());
    too_long.extend(pseudo_random_bytes(1024, 17));
    let mut malformed = magic.to_vec();
    malformed.extend(1024u32.to_be_bytes());
    malformed.extend(pseudo_random_bytes(1024, 19));
    for id in test.cluster.ids() {
        let node_addr = test.cluster.addr(id).expect("node addr").to_string();
        for bytes in [&not_magic, &too_long, &malformed] {
            send_raw(&node_addr, bytes);
        }
    }
    assert_serving(&test, 2).await;
    test.phase("garbage on the append link: connection dropped, nodes follow and serve");

    // An oversized message, sent by a client that does not limit itself.
    let mut raw = HeapClient::connect(format!("http://{addr}"))
        .await
        .expect("connect")
        .max_encoding_message_size(usize::MAX)
        .max_decoding_message_size(usize::MAX);
    let huge = pb::CommitRequest {
        transaction: Some(pb::Transaction {
            expect: vec![],
            fences: vec![],
            ops: vec![pb::Op {
                op: Some(pb::op::Op::BindRoot(pb::BindRoot { name: "x".repeat(40 * 1024 * 1024), target: None })),
            }],
        }),
    };
    let status = raw.commit(huge).await.expect_err("an oversized message is refused");
    assert!(
        matches!(status.code(), tonic::Code::OutOfRange | tonic::Code::ResourceExhausted),
        "oversized message: {status:?}"
    );
    // A message under the wire limit but over the transaction limit is refused before Raft.
    let big = pb::CommitRequest {
        transaction: Some(pb::Transaction {
            expect: vec![],
            fences: vec![],
            ops: vec![pb::Op {
                op: Some(pb::op::Op::BindRoot(pb::BindRoot {
                    name: "y".repeat(6 * 1024 * 1024),
                    target: Some(pb::Target { kind: Some(pb::target::Kind::Id(1)) }),
                })),
            }],
        }),
    };
    let status = raw.commit(big).await.expect_err("an over-limit transaction is refused");
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    assert!(status.message().contains("limit"), "says why: {}", status.message());
    test.phase("oversized messages refused");

    // Malformed requests.
    let status = raw.commit(pb::CommitRequest { transaction: None }).await.expect_err("no transaction");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    let status = raw
        .commit(pb::CommitRequest {
            transaction: Some(pb::Transaction { ops: vec![pb::Op { op: None }], ..Default::default() }),
        })
        .await
        .expect_err("empty op");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert!(status.message().contains("missing"), "says what is missing: {}", status.message());

    // A transaction with a dangling reference is rejected whole: not even its root bind applies.
    let before = test.client().list_roots().await.expect("roots");
    let reply = test.client().commit(new_object_with_ref(987_654_321)).await.expect("answer");
    match reply.result {
        Some(pb::commit_response::Result::Rejected(r)) => {
            assert_eq!(r.kind, pb::RejectionKind::DanglingReference as i32, "{r:?}");
            assert!(r.message.contains("987654321"), "names the missing object: {}", r.message);
        }
        other => panic!("dangling reference accepted: {other:?}"),
    }
    let after = test.client().list_roots().await.expect("roots");
    assert_eq!(before.roots, after.roots, "a rejected transaction changes nothing");
    test.phase("malformed and dangling transactions rejected, nothing changed");

    // Garbage on the internal Raft transport (entries go over the append link, tested below).
    let mut raft = RaftTransportClient::connect(format!("http://{addr}")).await.expect("connect");
    for payload in [vec![], pseudo_random_bytes(1000, 3), vec![0xff; 64]] {
        let status = raft.vote(proto::raft::RaftMessage { payload }).await.expect_err("garbage vote refused");
        assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    }
    let status = raft
        .install_snapshot(tokio_stream::iter(vec![proto::raft::SnapshotChunk { meta: vec![1, 2, 3], data: vec![] }]))
        .await
        .expect_err("garbage snapshot refused");
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    test.phase("garbage Raft messages refused");

    assert_serving(&test, 3).await;
    assert_eq!(
        test.cluster.wait_for_leader(CONDITION_TIMEOUT).await.expect("leader"),
        leader,
        "leadership undisturbed"
    );
    test.phase("cluster still serving with the same leader");
}
