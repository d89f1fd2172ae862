//! Credentials against real secured processes: clients without a usable token, role or CA are
//! refused with a clear error and change nothing, a session cannot be used by another credential,
//! one credential's session flood stops at its own quota, and a node whose certificate has
//! expired is kept out until its certificate is rotated.

use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;

use heap_client::ClientSecurity;
use heap_client::ClusterClient;
use heap_client::LockOutcome;
use heap_client::Session;
use heap_testkit::CertificateAuthority;
use heap_testkit::Role;
use heap_testkit::Validity;
use proto::heap as pb;
use proto::security::CA_FILE;

use super::support::*;

/// Deadline of the clients that are expected to fail: long enough for a loaded machine to
/// answer, short enough that a hang shows as a failed bound.
const REFUSED_CLIENT_DEADLINE: Duration = Duration::from_secs(5);
/// What a failing request may take beyond its client's deadline (the last attempt's backoff and
/// connection teardown) before it counts as a hang.
const DEADLINE_SLACK: Duration = Duration::from_secs(3);
/// Lease of the sessions in these tests: long enough that none expires while a test runs.
const SESSION_TTL_MS: u64 = 300_000;
/// Concurrent openers in the session flood.
const FLOOD_TASKS: usize = 32;
/// Bound on the whole flood (10,000 commits on a loaded 2-core machine).
const FLOOD_TIMEOUT: Duration = Duration::from_secs(300);
/// Poll interval while watching a condition.
const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// Validity of the rotated certificate.
const ROTATED_VALIDITY_DAYS: u64 = 30;
/// Writes made while node 3 is out.
const WRITES_WHILE_OUT: u64 = 5;

fn client_as(test: &TestCluster, security: &ClientSecurity, deadline: Duration) -> ClusterClient {
    ClusterClient::connect(&test.cluster.endpoints(), security, deadline).expect("a client")
}

/// A client that talks to nodes `ids` only, as the admin.
fn nodes_client(test: &TestCluster, ids: &[u64]) -> ClusterClient {
    let endpoints: Vec<String> =
        ids.iter().map(|id| test.cluster.addr(*id).expect("node exists").to_string()).collect();
    ClusterClient::connect(&endpoints, &test.cluster.client_security(), CLIENT_DEADLINE).expect("a client")
}

/// Runs `request` and returns its error text, checking that it failed within the client's
/// deadline (plus slack): a refused client must be told, not left hanging.
async fn refused<T: std::fmt::Debug>(
    what: &str,
    request: impl std::future::Future<Output = Result<T, String>>,
) -> (String, Duration) {
    let started = Instant::now();
    let outcome = request.await;
    let elapsed = started.elapsed();
    let error = match outcome {
        Ok(value) => panic!("{what} succeeded but must be refused: {value:?}"),
        Err(error) => error,
    };
    assert!(
        elapsed <= REFUSED_CLIENT_DEADLINE + DEADLINE_SLACK,
        "{what} took {} ms to fail (deadline {} ms): {error}",
        elapsed.as_millis(),
        REFUSED_CLIENT_DEADLINE.as_millis()
    );
    (error, elapsed)
}

/// Unauthenticated and wrong-role clients get a clear error and read nothing: no token, an
/// unknown token, a read-only token (reads, but its commit is refused naming role write), a
/// plaintext client (fails within its deadline and is told about TLS and the CA) and a client
/// trusting another CA all fail, and afterwards the data reads back unchanged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_without_a_valid_credential_are_refused_and_change_nothing() {
    let test = TestCluster::start_with_credentials("credentials-refused", 3, &[], &[("reader", Role::Read)]);
    test.leader().await;
    let admin = test.client();
    set_root(&admin, "secret", 1).await.expect("the admin writes the root");
    test.phase("admin wrote root secret");

    let ca_only = ClientSecurity { token: None, ..test.cluster.client_security() };
    let no_token = client_as(&test, &ca_only, REFUSED_CLIENT_DEADLINE);
    let (error, _) = refused("a read without a token", get_root(&no_token, "secret", None)).await;
    assert!(error.contains("no token"), "the error says the token is missing: {error}");
    assert!(error.contains("--token-file"), "the error says how to give one: {error}");
    let (error, _) =
        refused("a list of roots without a token", async { no_token.list_roots().await.map_err(|e| e.to_string()) })
            .await;
    assert!(error.contains("no token"), "{error}");
    test.phase(&format!("no token: refused: {error}"));

    let unknown_token = heap_testkit::new_token().expect("a random token");
    let unknown = ca_only.clone().with_token(&unknown_token).expect("a well-formed token");
    let unknown = client_as(&test, &unknown, REFUSED_CLIENT_DEADLINE);
    let (error, _) = refused("a read with an unknown token", get_root(&unknown, "secret", None)).await;
    assert!(error.contains("does not know the token"), "{error}");
    let (error, _) = refused("a commit with an unknown token", set_root(&unknown, "secret", 2)).await;
    assert!(error.contains("does not know the token"), "{error}");
    test.phase(&format!("unknown token: refused: {error}"));

    let reader_security = test.security().client_security_as("reader").expect("the reader's token");
    let reader = client_as(&test, &reader_security, REFUSED_CLIENT_DEADLINE);
    let read = get_root(&reader, "secret", None).await.expect("the reader reads");
    assert_eq!(read, Some(document("secret", 1)), "the reader sees the admin's document");
    let (error, _) = refused("the reader's commit", set_root(&reader, "secret", 3)).await;
    assert!(error.contains("needs role write"), "the error names the role needed: {error}");
    assert!(error.contains("reader"), "the error names the credential: {error}");
    test.phase(&format!("read-only token: reads, commit refused: {error}"));

    let plaintext = client_as(&test, &ClientSecurity::plaintext(), REFUSED_CLIENT_DEADLINE);
    let (error, elapsed) = refused("a plaintext read", get_root(&plaintext, "secret", None)).await;
    assert!(error.contains("TLS") && error.contains("CA"), "the error suggests TLS and the CA: {error}");
    test.phase(&format!("plaintext client: failed in {} ms: {error}", elapsed.as_millis()));

    let other_ca_dir = tempfile::tempdir().expect("a temp dir for another CA");
    CertificateAuthority::create(ROTATED_VALIDITY_DAYS)
        .expect("another CA")
        .write(other_ca_dir.path())
        .expect("the other CA's files");
    let other_ca = ClientSecurity {
        ca_pem: Some(std::fs::read(other_ca_dir.path().join(CA_FILE)).expect("the other CA's certificate")),
        token: test.cluster.client_security().token,
    };
    let stranger = client_as(&test, &other_ca, REFUSED_CLIENT_DEADLINE);
    let (error, elapsed) = refused("a read trusting another CA", get_root(&stranger, "secret", None)).await;
    assert!(error.contains("invalid peer certificate"), "the error says the node's certificate was refused: {error}");
    let (commit_error, _) = refused("a commit trusting another CA", set_root(&stranger, "secret", 4)).await;
    assert!(commit_error.contains("invalid peer certificate"), "{commit_error}");
    test.phase(&format!(
        "client trusting another CA: failed in {} ms: {error}; commit: {commit_error}",
        elapsed.as_millis()
    ));

    let after = get_root(&admin, "secret", None).await.expect("the admin reads");
    assert_eq!(after, Some(document("secret", 1)), "no refused client changed the root");
    let roots = admin.list_roots().await.expect("the admin lists roots");
    assert_eq!(roots.roots.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["secret"], "{roots:?}");
    test.phase("admin reads the root unchanged");
}

/// The rejection in a session answer, if it is one.
fn rejection(response: &pb::SessionResponse) -> Option<&pb::Rejection> {
    match &response.result {
        Some(pb::session_response::Result::Rejected(rejection)) => Some(rejection),
        _ => None,
    }
}

/// The holders of lock `name`, as (session, count); empty if the lock is free or unknown.
async fn holders(client: &ClusterClient, name: &str) -> Vec<(u64, u64)> {
    let locks = client.list_locks().await.expect("list locks");
    locks
        .locks
        .iter()
        .find(|lock| lock.name == name)
        .map(|lock| lock.holders.iter().map(|h| (h.session_id, h.count)).collect())
        .unwrap_or_default()
}

/// Session hijack is refused: a second write credential that learns another's session id (from
/// ListSessions) cannot unlock, close, keep alive, lock, wait, notify or commit on it; every
/// attempt is a NOT_SESSION_OWNER rejection that changes nothing (the owner still holds its lock
/// and can use its session), while an admin may close the session, which releases the lock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_credential_cannot_use_a_session_but_an_admin_may_close_it() {
    let test = TestCluster::start_with_credentials("session-hijack", 3, &[], &[("mallory", Role::Write)]);
    test.leader().await;
    let admin = test.client();
    let app_security = test.security().client_security_as(heap_testkit::APP_TOKEN_NAME).expect("app's token");
    let app_client = Arc::new(client_as(&test, &app_security, CLIENT_DEADLINE));
    let app = Session::open(Arc::clone(&app_client), "app-worker", SESSION_TTL_MS).await.expect("app's session");
    let granted = app.lock("cart", 1, pb::LockMode::Write, Some(0)).await.expect("app locks cart");
    let LockOutcome::Granted { token } = granted else { panic!("cart is free, so app gets it: {granted:?}") };
    test.phase(&format!("app opened session {} and holds cart with token {token}", app.id()));

    let mallory_security = test.security().client_security_as("mallory").expect("mallory's token");
    let mallory = client_as(&test, &mallory_security, CLIENT_DEADLINE);
    let sessions = mallory.list_sessions().await.expect("mallory (role write) may list sessions");
    let seen = sessions.sessions.iter().find(|s| s.id == app.id()).expect("app's session is listed");
    assert_eq!(seen.owner, heap_testkit::APP_TOKEN_NAME, "ListSessions shows the owner: {seen:?}");
    assert_eq!(seen.client, "app-worker");
    test.phase(&format!("mallory sees session {} owned by {:?} in ListSessions", seen.id, seen.owner));

    use pb::session_request::Command;
    let attempts: Vec<(&str, Command)> = vec![
        ("Unlock", Command::Unlock(pb::Unlock { name: "cart".into(), thread: 1, commit: None })),
        ("Close", Command::Close(pb::CloseSession {})),
        ("KeepAlive", Command::KeepAlive(pb::KeepAlive {})),
        (
            "Lock",
            Command::Lock(pb::Lock {
                name: "cart".into(),
                thread: 2,
                mode: pb::LockMode::Write as i32,
                timeout_ms: Some(0),
            }),
        ),
        ("Wait", Command::Wait(pb::Wait { name: "cart".into(), thread: 1, timeout_ms: Some(0), holder_thread: None })),
        ("Notify", Command::Notify(pb::Notify { name: "cart".into(), thread: 1, all: true })),
        (
            "Transaction",
            Command::Transaction(
                heapctl::json::root_set_transaction("stolen", &document("stolen", 1).to_string())
                    .expect("a transaction"),
            ),
        ),
    ];
    // Sequence 1 is the one app's Lock used: a hijacker must not be handed app's stored reply.
    for (sequence, (what, command)) in (1..).zip(attempts) {
        let request =
            pb::SessionRequest { session_id: app.id(), sequence, acknowledged_below: 0, command: Some(command) };
        let response = mallory.session(request).await.expect("the cluster answers mallory");
        let rejected = rejection(&response).unwrap_or_else(|| panic!("mallory's {what} must be refused: {response:?}"));
        assert_eq!(
            rejected.kind,
            pb::RejectionKind::NotSessionOwner as i32,
            "mallory's {what} is refused as NOT_SESSION_OWNER: {rejected:?}"
        );
        assert!(rejected.message.contains("belongs to another credential"), "{}", rejected.message);
        test.phase(&format!("mallory's {what} on app's session (sequence {sequence}): refused: {}", rejected.message));
    }

    assert_eq!(holders(&admin, "cart").await, [(app.id(), 1)], "app still holds cart, once");
    let roots = admin.list_roots().await.expect("roots");
    assert!(roots.roots.iter().all(|r| r.name != "stolen"), "mallory's transaction was not applied: {roots:?}");
    let sessions = admin.list_sessions().await.expect("sessions");
    let owners: Vec<(u64, &str)> = sessions.sessions.iter().map(|s| (s.id, s.owner.as_str())).collect();
    assert_eq!(owners, [(app.id(), heap_testkit::APP_TOKEN_NAME)], "only app's session exists");
    test.phase("app still holds cart; nothing of mallory's applied");

    let unlocked = app.unlock("cart", 1, None).await.expect("app unlocks");
    assert!(matches!(unlocked.result, Some(pb::session_response::Result::Unlocked(_))), "{unlocked:?}");
    let again = app.lock("cart", 1, pb::LockMode::Write, Some(0)).await.expect("app locks again");
    assert!(matches!(again, LockOutcome::Granted { .. }), "{again:?}");
    assert_eq!(holders(&admin, "cart").await, [(app.id(), 1)]);
    test.phase("app's session still works: unlocked and locked cart again");

    let close = pb::SessionRequest {
        session_id: app.id(),
        sequence: 1,
        acknowledged_below: 0,
        command: Some(Command::Close(pb::CloseSession {})),
    };
    let closed = admin.session(close).await.expect("the cluster answers the admin");
    assert!(matches!(closed.result, Some(pb::session_response::Result::Done(_))), "the admin closes it: {closed:?}");
    assert_eq!(holders(&admin, "cart").await, [], "closing app's session released cart");
    let sessions = admin.list_sessions().await.expect("sessions");
    assert!(sessions.sessions.is_empty(), "app's session is gone: {sessions:?}");
    let after = app.unlock("cart", 1, None).await.expect("the cluster answers app");
    let kind = rejection(&after).map(|r| r.kind);
    assert_eq!(kind, Some(pb::RejectionKind::UnknownSession as i32), "app's session is closed: {after:?}");
    test.phase("admin closed app's session: cart released");
}

/// Session flooding hits the per-credential quota: a write credential opening sessions as fast
/// as it can (many at once) is refused, with a message naming the limit, at exactly
/// `SESSIONS_PER_OWNER_MAX` open sessions of its own, while another credential can still open a
/// session and lock and unlock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_flood_stops_at_the_credentials_own_quota() {
    let test = TestCluster::start_with_credentials("session-flood", 3, &[], &[("mallory", Role::Write)]);
    test.leader().await;
    let admin = test.client();
    let mallory_security = test.security().client_security_as("mallory").expect("mallory's token");
    let mallory = Arc::new(client_as(&test, &mallory_security, CLIENT_DEADLINE));
    let quota = heap_machine::SESSIONS_PER_OWNER_MAX;

    let flood_started = Instant::now();
    test.phase(&format!("mallory floods OpenSession from {FLOOD_TASKS} tasks (quota {quota})"));
    let mut tasks = Vec::new();
    for _ in 0..FLOOD_TASKS {
        let mallory = Arc::clone(&mallory);
        tasks.push(tokio::spawn(async move {
            let mut opened = 0u64;
            // Bounded by the quota: every task stops at its first refusal, which comes once
            // the credential holds `quota` sessions.
            for _ in 0..=quota {
                match mallory.open_session("flood", SESSION_TTL_MS).await {
                    Ok(_) => opened += 1,
                    Err(error) => return (opened, error.to_string()),
                }
            }
            (opened, String::from("never refused"))
        }));
    }
    let mut opened = 0;
    let mut refusals = Vec::new();
    for task in tasks {
        let remaining = FLOOD_TIMEOUT.saturating_sub(flood_started.elapsed());
        let (count, error) =
            tokio::time::timeout(remaining, task).await.expect("the flood ends in time").expect("flood task");
        opened += count;
        refusals.push(error);
    }
    let flood_ms = flood_started.elapsed().as_millis();
    test.phase(&format!("flood refused after {opened} sessions in {flood_ms} ms: {}", refusals[0]));
    for refusal in &refusals {
        assert!(refusal.contains("open sessions of one credential"), "the refusal names the limit: {refusal}");
        assert!(refusal.contains(&quota.to_string()), "the refusal gives the limit: {refusal}");
    }
    let sessions = admin.list_sessions().await.expect("sessions");
    let mallorys = sessions.sessions.iter().filter(|s| s.owner == "mallory").count() as u64;
    assert_eq!(mallorys, quota, "mallory holds exactly the quota of open sessions");
    assert_eq!(opened, quota, "every open mallory was told of succeeded, and no more");
    let error = mallory.open_session("flood", SESSION_TTL_MS).await.expect_err("mallory is still at the quota");
    assert!(error.to_string().contains("open sessions of one credential"), "{error}");
    test.phase(&format!("ListSessions shows {mallorys} sessions of mallory; one more is refused"));

    let app_security = test.security().client_security_as(heap_testkit::APP_TOKEN_NAME).expect("app's token");
    let app_client = Arc::new(client_as(&test, &app_security, CLIENT_DEADLINE));
    let app = Session::open(app_client, "app-worker", SESSION_TTL_MS).await.expect("app still opens a session");
    let granted = app.lock("cart", 1, pb::LockMode::Write, Some(0)).await.expect("app locks");
    assert!(matches!(granted, LockOutcome::Granted { .. }), "{granted:?}");
    let unlocked = app.unlock("cart", 1, None).await.expect("app unlocks");
    assert!(matches!(unlocked.result, Some(pb::session_response::Result::Unlocked(_))), "{unlocked:?}");
    app.close().await.expect("app closes its session");
    test.phase("app opened a session, locked and unlocked cart, closed it");
}

/// Certificate expiry and rotation: a node restarted with an expired certificate refuses to start
/// (exit status and a message saying what to do, so a supervisor and an operator both notice)
/// instead of running unreachable, while the other two go on. Once its certificate is rotated to
/// a valid one and it restarts, it rejoins and applies every write it missed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_with_an_expired_certificate_is_kept_out_until_rotated() {
    let mut test = TestCluster::start("certificate-expiry", 3, &[]);
    test.leader().await;
    let admin = test.client();
    let before = set_root(&admin, "before", 1).await.expect("a write with every node up");
    test.cluster.wait_for_applied(3, before, CONDITION_TIMEOUT).await.expect("node 3 applies it");
    test.phase(&format!("root before written at index {before}; node 3 applied it"));

    assert!(test.cluster.terminate(3), "node 3 stops cleanly on SIGTERM");
    let host = heap_testkit::host_of(test.cluster.addr(3).expect("node 3")).expect("a host").to_string();
    test.security().reissue_node_cert(3, &host, Validity::expired().expect("an expired window")).expect("reissue");
    test.cluster.start(3).expect("node 3 starts");
    let deadline = Instant::now() + CONDITION_TIMEOUT;
    let status = loop {
        if let Some((_, status)) = test.cluster.exited().into_iter().find(|(id, _)| *id == 3) {
            break status;
        }
        assert!(Instant::now() < deadline, "node 3 kept running with an expired certificate");
        tokio::time::sleep(POLL_INTERVAL).await;
    };
    assert!(!status.success(), "a refused start is a failure exit: {status}");
    let log = test.cluster.log_tail(3, 200);
    assert!(log.contains("expired"), "node 3 says its certificate expired: {log}");
    assert!(log.contains("heapctl cert node"), "and what to do about it: {log}");
    test.phase(&format!("node 3 refused to start with its expired certificate ({status})"));

    let survivors = nodes_client(&test, &[1, 2]);
    let mut acknowledged = vec![("before".to_string(), 1)];
    let mut last_write = before;
    for sequence in 1..=WRITES_WHILE_OUT {
        let name = format!("while-out-{sequence}");
        last_write = set_root(&survivors, &name, sequence).await.expect("nodes 1 and 2 go on");
        acknowledged.push((name, sequence));
    }
    test.phase(&format!("nodes 1 and 2 committed {WRITES_WHILE_OUT} writes, the last at index {last_write}"));

    let rotated = Validity::days(ROTATED_VALIDITY_DAYS).expect("a valid window");
    test.security().reissue_node_cert(3, &host, rotated).expect("rotate");
    test.cluster.start(3).expect("node 3 starts");
    test.phase("node 3 restarted with a rotated, valid certificate");
    test.cluster.wait_for_applied(3, last_write, CONDITION_TIMEOUT).await.expect("node 3 catches up");
    check_roots_on_node(&test, 3, &acknowledged, last_write).await;
    test.phase(&format!("node 3 rejoined and applied every write up to index {last_write}"));
}
