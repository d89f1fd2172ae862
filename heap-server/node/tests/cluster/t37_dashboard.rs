//! The dashboard on `--http-listen`: the leader's page, rendered by Debian's headless Chromium,
//! shows the three members and the leader, a lock with its holder, queued waiter and condition
//! waiter, the sessions, the roots, and an object whose reference the page follows by its URL
//! (`#object/<id>`); heap strings stay text (an HTML-looking value is not markup). Its JSON API
//! answers JSON, and 404 with a JSON error for unknown objects and paths. The screenshot is left
//! in target/test-output/dashboard.png.

use std::io::Read;
use std::io::Write;
use std::path::Path;
use std::path::PathBuf;
use std::process::Command;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;

use heap_client::Session;
use proto::heap as pb;

use super::support::*;

/// Debian's Chromium package's binary.
const CHROMIUM: &str = "chromium";
/// Chromium is killed after this long: a cold start on a loaded 2-core machine takes seconds.
const CHROMIUM_TIMEOUT: Duration = Duration::from_secs(60);
/// Page time Chromium lets pass before it dumps the DOM or takes the screenshot (virtual time: it
/// waits for fetches in flight, so the page's first poll is always answered and rendered).
const VIRTUAL_TIME_BUDGET_MS: u64 = 3_000;
/// The smallest screenshot taken as real: a blank 1400x1000 PNG is well under 10 kB, the
/// rendered dashboard is tens of kB.
const SCREENSHOT_SIZE_BYTES_MIN: u64 = 20_000;
const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";
/// A field value that would be markup if the page put heap strings into HTML.
const HTML_LOOKING_VALUE: &str = "<img src=x onerror=alert(1)>";

/// A plain HTTP/1.1 GET: (status code, content type, body).
fn http_get(addr: &str, path: &str) -> (u16, String, String) {
    let mut stream = std::net::TcpStream::connect(addr).expect("connect to the HTTP port");
    stream.set_read_timeout(Some(CLIENT_DEADLINE)).expect("timeout");
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").expect("request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response");
    let (head, body) = response.split_once("\r\n\r\n").expect("headers end");
    let status = head.split(' ').nth(1).and_then(|code| code.parse().ok()).expect("a status code");
    let content_type = head
        .lines()
        .find_map(|line| line.to_ascii_lowercase().strip_prefix("content-type:").map(|v| v.trim().to_string()))
        .unwrap_or_default();
    (status, content_type, body.to_string())
}

/// `GET path` answered 200 with JSON; the parsed body.
fn api(addr: &str, path: &str) -> serde_json::Value {
    let (status, content_type, body) = http_get(addr, path);
    assert_eq!(status, 200, "{path}: {body}");
    assert_eq!(content_type, "application/json", "{path}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path} is not JSON ({e}): {body}"))
}

/// `GET path` answered 404 with a JSON error message.
fn assert_json_404(addr: &str, path: &str) {
    let (status, content_type, body) = http_get(addr, path);
    assert_eq!(status, 404, "{path}: {body}");
    assert_eq!(content_type, "application/json", "{path}");
    let error: serde_json::Value = serde_json::from_str(&body).expect("a JSON error");
    assert!(error["error"].as_str().is_some_and(|m| !m.is_empty()), "{path}: {body}");
}

/// Fails the test unless Debian's Chromium is installed.
fn require_chromium() {
    match Command::new(CHROMIUM).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status() {
        Ok(status) if status.success() => {}
        other => panic!(
            "`{CHROMIUM}` is needed to render the dashboard ({other:?}): install Debian's chromium \
             (apt-get install chromium; CI's .ci/run installs it)"
        ),
    }
}

/// Runs headless Chromium on `url` with `mode_args` (`--dump-dom`, or `--screenshot=..`); its
/// stdout. Killed (and the test failed) after `CHROMIUM_TIMEOUT`.
fn chromium(url: &str, mode_args: &[String]) -> String {
    let profile = tempfile::tempdir().expect("a temp dir for Chromium's profile");
    let mut child = Command::new(CHROMIUM)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        .args(["--disable-component-update", "--disable-sync", "--no-first-run"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--virtual-time-budget={VIRTUAL_TIME_BUDGET_MS}"))
        .args(mode_args)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chromium");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let deadline = Instant::now() + CHROMIUM_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for chromium") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish {url} within {CHROMIUM_TIMEOUT:?}: {}", err.join().unwrap_or_default());
        }
        // Polling a child process for exit; not an assertion.
        std::thread::sleep(Duration::from_millis(50));
    };
    let stderr = err.join().unwrap_or_default();
    assert!(status.success(), "chromium failed on {url} ({status}): {stderr}");
    out.join().expect("chromium's stdout")
}

/// The page at `url` as Chromium renders it.
async fn dump_dom(url: String) -> String {
    tokio::task::spawn_blocking(move || chromium(&url, &["--dump-dom".to_string()])).await.expect("chromium runs")
}

/// target/test-output, beside the test binary's target/debug/deps.
fn test_output_dir() -> PathBuf {
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let exe = std::env::current_exe().expect("the test binary's path");
            exe.ancestors().nth(3).expect("target/<profile>/deps/<binary>").to_path_buf()
        }
    };
    target.join("test-output")
}

fn assert_png(path: &Path) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("no screenshot at {} ({e})", path.display()));
    assert!(bytes.starts_with(PNG_MAGIC), "{} is not a PNG", path.display());
    assert!(bytes.len() as u64 >= SCREENSHOT_SIZE_BYTES_MIN, "a {}-byte screenshot is blank", bytes.len());
}

fn string(value: &str) -> Option<pb::Value> {
    Some(pb::Value { kind: Some(pb::value::Kind::StringValue(value.to_string())) })
}

fn new_ref(handle: u32) -> Option<pb::Value> {
    Some(pb::Value { kind: Some(pb::value::Kind::NewRef(handle)) })
}

fn handle(handle: u32) -> Option<pb::Target> {
    Some(pb::Target { kind: Some(pb::target::Kind::NewHandle(handle)) })
}

fn set_field(target: u32, field: &str, value: Option<pb::Value>) -> pb::Op {
    pb::Op { op: Some(pb::op::Op::SetField(pb::SetField { target: handle(target), field: field.into(), value })) }
}

/// Two customers that reference each other, bound to roots `alice` and `bob`.
fn customers() -> pb::Transaction {
    let create = |h: u32| pb::Op {
        op: Some(pb::op::Op::Create(pb::Create {
            handle: h,
            class_name: "Customer".into(),
            kind: pb::ObjectKind::Fields as i32,
        })),
    };
    let bind = |name: &str, h: u32| pb::Op {
        op: Some(pb::op::Op::BindRoot(pb::BindRoot { name: name.into(), target: handle(h) })),
    };
    let ops = vec![
        create(0),
        create(1),
        set_field(0, "name", string("Alice Archer")),
        set_field(0, "note", string(HTML_LOOKING_VALUE)),
        set_field(0, "friend", new_ref(1)),
        set_field(1, "name", string("Bob Builder")),
        set_field(1, "city", string("Zurich")),
        set_field(1, "friend", new_ref(0)),
        bind("alice", 0),
        bind("bob", 1),
    ];
    pb::Transaction { ops, ..Default::default() }
}

/// The sessions of the lock scene: a holder, a queued waiter and a condition waiter.
struct LockScene {
    holder: Session,
    waiter_id: u64,
    sleeper_id: u64,
    /// The waiter's Lock and the sleeper's Wait, blocked until the test ends.
    blocked: Vec<tokio::task::JoinHandle<Result<(), heap_client::ClientError>>>,
}

/// `dash-holder` holds orders-lock, `dash-waiter` queues for it, `dash-sleeper` waits on
/// orders-ready's condition; returns once the leader's `/api/locks` shows both waiters.
async fn lock_scene(client: &Arc<heap_client::ClusterClient>, addr: &str) -> LockScene {
    let holder = Session::open(Arc::clone(client), "dash-holder", 30_000).await.expect("a session");
    holder.lock("orders-lock", 1, pb::LockMode::Write, None).await.expect("lock");
    let waiter = Session::open(Arc::clone(client), "dash-waiter", 30_000).await.expect("a session");
    let waiter_id = waiter.id();
    let queued =
        tokio::spawn(async move { waiter.lock("orders-lock", 1, pb::LockMode::Write, Some(60_000)).await.map(|_| ()) });
    let sleeper = Session::open(Arc::clone(client), "dash-sleeper", 30_000).await.expect("a session");
    let sleeper_id = sleeper.id();
    sleeper.lock("orders-ready", 1, pb::LockMode::Write, None).await.expect("lock");
    let waiting = tokio::spawn(async move {
        let wait = pb::Wait { name: "orders-ready".into(), thread: 1, timeout_ms: Some(60_000), holder_thread: None };
        sleeper.call(pb::session_request::Command::Wait(wait)).await.map(|_| ())
    });
    let deadline = Instant::now() + CONDITION_TIMEOUT;
    loop {
        let locks = api(addr, "/api/locks");
        let has_party = |name: &str, list: &str| {
            locks["items"].as_array().into_iter().flatten().any(|lock| {
                lock["name"]["text"] == name && lock[list]["items"].as_array().is_some_and(|items| !items.is_empty())
            })
        };
        if has_party("orders-lock", "waiters") && has_party("orders-ready", "condition_waiters") {
            break;
        }
        assert!(Instant::now() < deadline, "the waiters never showed in /api/locks: {locks}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    LockScene { holder, waiter_id, sleeper_id, blocked: vec![queued, waiting] }
}

/// The JSON API of node `leader` at `addr`: every list answers JSON naming the node, bad paths
/// and unknown objects are JSON 404s, alice's friend is bob. Returns (alice's id, bob's id).
fn check_api(addr: &str, leader: u64) -> (String, String) {
    for path in ["/api/cluster", "/api/elections", "/api/locks", "/api/sessions", "/api/roots"] {
        let answer = api(addr, path);
        assert_eq!(answer["node_id"], leader, "{path} names the node it comes from");
        assert!(answer["applied_index"].as_u64().is_some_and(|index| index > 0), "{path}: {answer}");
    }
    let elections = api(addr, "/api/elections");
    assert!(elections["elections"].as_array().is_some_and(|e| !e.is_empty()), "the leader saw its election");
    let roots = api(addr, "/api/roots");
    let root_id = |name: &str| {
        let root = roots["items"].as_array().into_iter().flatten().find(|r| r["name"]["text"] == name);
        root.expect("root listed")["id"].as_str().expect("ids are strings").to_string()
    };
    let (alice, bob) = (root_id("alice"), root_id("bob"));
    let alice_object = api(addr, &format!("/api/objects/{alice}"));
    let friend = alice_object["entries"].as_array().into_iter().flatten().find(|e| e["key"]["text"] == "friend");
    assert_eq!(friend.expect("alice.friend")["value"]["ref_id"], bob.as_str(), "{alice_object}");
    for path in ["/api/objects/999999999", "/api/objects/not-a-number", "/api/nothing-here", "/nothing/here"] {
        assert_json_404(addr, path);
    }
    let (status, content_type, page) = http_get(addr, "/");
    assert_eq!((status, content_type.as_str()), (200, "text/html; charset=utf-8"));
    assert!(!page.contains("<link") && !page.contains(" src="), "the page loads no external assets");
    (alice, bob)
}

/// The rendered page at #object/<alice>: members and leader, the lock scene, sessions, roots,
/// alice's fields with a link to bob, and her HTML-looking note as text.
fn check_dashboard_dom(dom: &str, members: &[u64], leader: u64, scene: &LockScene, alice: &str, bob: &str) {
    assert!(dom.contains(&format!("As node {leader} sees it, applied index")), "{dom}");
    for id in members {
        assert!(dom.contains(&format!("data-member=\"{id}\"")), "member {id} missing: {dom}");
    }
    assert!(dom.contains(&format!("data-member=\"{leader}\" data-role=\"leader\"")), "leader not marked: {dom}");
    assert!(dom.contains("data-lock=\"orders-lock\""), "{dom}");
    let (holder_id, waiter_id, sleeper_id) = (scene.holder.id(), scene.waiter_id, scene.sleeper_id);
    assert!(dom.contains(&format!("data-holder-session=\"{holder_id}\"")), "holder missing: {dom}");
    assert!(dom.contains(&format!("data-waiter-session=\"{waiter_id}\"")), "queued waiter missing: {dom}");
    assert!(dom.contains(&format!("data-condition-waiter-session=\"{sleeper_id}\"")), "condition waiter: {dom}");
    for (session, client_name) in [(holder_id, "dash-holder"), (waiter_id, "dash-waiter"), (sleeper_id, "dash-sleeper")]
    {
        assert!(dom.contains(&format!("data-session=\"{session}\"")), "session {session} missing: {dom}");
        assert!(dom.contains(client_name), "{client_name} missing: {dom}");
    }
    for root in ["alice", "bob", "orders"] {
        assert!(dom.contains(&format!("data-root=\"{root}\"")), "root {root} missing: {dom}");
    }
    assert!(dom.contains(&format!("data-object=\"{alice}\"")) && dom.contains("Alice Archer"), "{dom}");
    assert!(dom.contains(&format!("href=\"#object/{bob}\"")), "alice.friend is a link to bob: {dom}");
    assert!(dom.contains("&lt;img src=x onerror=alert(1)&gt;"), "the HTML-looking value shows as text: {dom}");
    assert!(!dom.contains("<img"), "a heap string became markup: {dom}");
}

/// Takes a 1400x1000 screenshot of `url` into target/test-output/dashboard.png and checks it.
async fn screenshot(url: String) -> PathBuf {
    let output_dir = test_output_dir();
    std::fs::create_dir_all(&output_dir).expect("create target/test-output");
    let path = output_dir.join("dashboard.png");
    let _ = std::fs::remove_file(&path);
    let args = vec![format!("--screenshot={}", path.display()), "--window-size=1400,1000".to_string()];
    tokio::task::spawn_blocking(move || chromium(&url, &args)).await.expect("chromium runs");
    assert_png(&path);
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_renders_in_headless_chromium() {
    require_chromium();
    let ports = heap_testkit::free_ports(3).expect("ports");
    let http_addr = move |id: u64| format!("127.0.0.1:{}", ports[id as usize - 1]);
    let test = TestCluster::start_with("dashboard", 3, &[], true, |cluster| {
        cluster.with_node_args(|id| vec!["--http-listen".to_string(), http_addr(id)])
    });
    let leader = test.leader().await;
    let addr = http_addr(leader);
    let client = Arc::new(test.client());
    let committed = client.commit(customers()).await.expect("commit");
    assert!(matches!(committed.result, Some(pb::commit_response::Result::Committed(_))), "{committed:?}");
    set_root(&client, "orders", 1).await.expect("a JSON root");
    test.phase("roots alice and bob (referencing each other) and orders written");
    let scene = lock_scene(&client, &addr).await;
    test.phase("orders-lock held by dash-holder with dash-waiter queued; dash-sleeper waits on orders-ready");
    let (alice, bob) = check_api(&addr, leader);
    test.phase("the JSON API answers, and 404s with JSON errors");

    let url = format!("http://{addr}/#object/{alice}");
    let dom = dump_dom(url.clone()).await;
    test.phase("chromium rendered the dashboard at #object/<alice>");
    check_dashboard_dom(&dom, &test.cluster.ids(), leader, &scene, &alice, &bob);
    let dom = dump_dom(format!("http://{addr}/#object/{bob}")).await;
    test.phase("chromium followed the reference to #object/<bob>");
    assert!(dom.contains(&format!("data-object=\"{bob}\"")), "{dom}");
    assert!(dom.contains("Bob Builder") && dom.contains("Zurich"), "bob's fields: {dom}");
    assert!(dom.contains(&format!("href=\"#object/{alice}\"")), "bob.friend links back to alice: {dom}");
    let path = screenshot(url).await;
    eprintln!("dashboard screenshot: {}", path.display());
    test.phase("screenshot taken");
    for task in scene.blocked {
        task.abort();
    }
}
