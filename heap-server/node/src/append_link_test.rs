//! Unit tests of the append link's leader end against a scripted follower: answers are matched to
//! requests, a cut-off call never leaves a connection whose next answer is stale, and frames over
//! the size limit are refused.
#![allow(clippy::unwrap_used)]

use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering;

use raft_store::Vote;

use tokio::net::TcpListener;

use super::*;

fn heartbeat() -> AppendEntriesRequest<TypeConfig> {
    AppendEntriesRequest { vote: Vote::new_committed(1, 1), prev_log_id: None, leader_commit: None, entries: vec![] }
}

/// What the scripted follower does with the first request on its `connection`-th connection.
#[derive(Clone, Copy)]
enum Script {
    Answer,
    AnswerWrongSequence,
    NeverAnswer,
}

/// A follower that accepts link connections and follows `script(connection number)`; returns its
/// address and the count of connections it accepted.
async fn scripted_follower(script: fn(usize) -> Script) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&accepted);
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            let number = counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut magic = [0u8; LINK_MAGIC.len()];
                stream.read_exact(&mut magic).await.unwrap();
                assert_eq!(&magic, LINK_MAGIC);
                let mut reader = BufReader::new(stream);
                while let Some(frame) = read_frame(&mut reader).await.unwrap() {
                    let (sequence, _rpc): (u64, AppendEntriesRequest<TypeConfig>) = decode_raft(&frame).unwrap();
                    let answered = match script(number) {
                        Script::Answer => sequence,
                        Script::AnswerWrongSequence => sequence + 1,
                        Script::NeverAnswer => {
                            tokio::time::sleep(Duration::from_secs(3600)).await;
                            return;
                        }
                    };
                    let reply: Result<AppendEntriesResponse<TypeConfig>, String> = Ok(AppendEntriesResponse::Success);
                    write_frame(reader.get_mut(), &encode_raft(&(answered, reply)).unwrap()).await.unwrap();
                }
            });
        }
    });
    (addr, accepted)
}

const CALL_TIMEOUT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn answers_reuse_one_connection() {
    let (addr, accepted) = scripted_follower(|_| Script::Answer).await;
    let mut link = AppendLink::new(2, addr, None);
    for _ in 0..10 {
        let response = link.append_entries(&heartbeat(), CALL_TIMEOUT).await.unwrap();
        assert_eq!(response, AppendEntriesResponse::Success);
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_answer_to_another_request_drops_the_connection() {
    let (addr, accepted) =
        scripted_follower(|n| if n == 0 { Script::AnswerWrongSequence } else { Script::Answer }).await;
    let mut link = AppendLink::new(2, addr, None);
    let error = link.append_entries(&heartbeat(), CALL_TIMEOUT).await.unwrap_err();
    assert!(matches!(error, LinkError::OutOfSequence { .. }), "{error}");
    assert!(!error.is_unreachable());
    link.append_entries(&heartbeat(), CALL_TIMEOUT).await.unwrap();
    assert_eq!(accepted.load(Ordering::SeqCst), 2, "the second call used a new connection");
}

#[tokio::test]
async fn a_call_cut_off_by_its_timeout_leaves_no_connection_behind() {
    let (addr, accepted) = scripted_follower(|n| if n == 0 { Script::NeverAnswer } else { Script::Answer }).await;
    let mut link = AppendLink::new(2, addr, None);
    let error = link.append_entries(&heartbeat(), Duration::from_millis(200)).await.unwrap_err();
    assert!(matches!(error, LinkError::Timeout { .. }), "{error}");
    assert!(error.is_unreachable(), "openraft must back off from a silent follower");
    // Reusing the first connection would wait for (or read) the answer to the cut-off request.
    link.append_entries(&heartbeat(), CALL_TIMEOUT).await.unwrap();
    assert_eq!(accepted.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_follower_that_is_down_is_unreachable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    drop(listener);
    let mut link = AppendLink::new(2, addr, None);
    let error = link.append_entries(&heartbeat(), CALL_TIMEOUT).await.unwrap_err();
    assert!(error.is_unreachable(), "{error}");
}

#[tokio::test]
async fn a_frame_over_the_size_limit_is_refused_before_its_payload_is_read() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut sender = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    let (receiver, _) = listener.accept().await.unwrap();
    sender.write_all(&u32::MAX.to_be_bytes()).await.unwrap();
    let error = read_frame(&mut BufReader::new(receiver)).await.unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::InvalidData);

    let oversized = vec![0u8; RAFT_MESSAGE_SIZE_BYTES_MAX + 1];
    let error = write_frame(&mut sender, &oversized).await.unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
}
