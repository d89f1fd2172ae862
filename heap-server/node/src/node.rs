//! Starting and stopping one node: its security material, storage, openraft, the port
//! (`acceptor.rs`) and the gRPC server, forming the cluster on first start (every node
//! initializes with the same `--peers`, which openraft allows), and exiting with an error when
//! Raft stops for good (`watchdog.rs`).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use openraft::impls::BasicNode;
use openraft::Config;
use openraft::SnapshotPolicy;
use proto::admin::admin_server::AdminServer;
use proto::heap::heap_server::HeapServer;
use proto::raft::raft_transport_server::RaftTransportServer;
use raft_store::LogOptions;
use raft_store::LogStore;
use raft_store::StateMachineStore;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::acceptor::Acceptor;
use crate::admin_service::AdminService;
use crate::append_link::FrameBudget;
use crate::append_link::LinkServer;
use crate::auth::Authenticator;
use crate::auth::TokenTable;
use crate::config::NodeConfig;
use crate::config::SecurityMode;
use crate::consensus_gate::ConsensusGate;
use crate::context::HeapRaft;
use crate::context::NodeContext;
use crate::disk_guard::DiskGuard;
use crate::disk_guard::DiskThresholds;
use crate::gc;
use crate::gc::stats::GcStats;
use crate::gc::trigger::GcTrigger;
use crate::heap_service::HeapService;
use crate::http_server;
use crate::leader_duties;
use crate::limits::CLIENT_MESSAGE_SIZE_BYTES_MAX;
use crate::limits::GRPC_ACCEPT_QUEUE_CONNECTIONS;
use crate::limits::HTTP2_KEEPALIVE_INTERVAL_MS;
use crate::limits::HTTP2_KEEPALIVE_TIMEOUT_MS;
use crate::limits::RAFT_MESSAGE_SIZE_BYTES_MAX;
use crate::limits::RAFT_PAYLOAD_ENTRIES_MAX;
use crate::limits::SHUTDOWN_TIMEOUT_MS;
use crate::machine_adapter::HeapMachine;
use crate::machine_adapter::CHANGE_FEED_CAPACITY;
use crate::member_check;
use crate::network::PeerNetwork;
use crate::node_metrics::NodeMetrics;
use crate::node_stream::NodeStream;
use crate::open_files::raise_open_files_limit;
use crate::proposer::Proposer;
use crate::raft_service::RaftService;
use crate::router::Router;
use crate::tls::NodeTls;
use crate::watchdog;

fn raft_config(config: &NodeConfig) -> anyhow::Result<Arc<Config>> {
    let raft_config = Config {
        cluster_name: "sovereign".to_string(),
        heartbeat_interval: config.heartbeat_interval_ms,
        election_timeout_min: config.election_timeout_min_ms,
        election_timeout_max: config.election_timeout_max_ms,
        max_payload_entries: RAFT_PAYLOAD_ENTRIES_MAX,
        // `snapshot_policy.rs` triggers snapshots: by entries, and by log growth against the
        // snapshot's size once it is large.
        snapshot_policy: SnapshotPolicy::Never,
        max_in_snapshot_log_to_keep: config.logs_to_keep,
        // A leader that restarted must win a new election, not resume its old term: a resumed
        // leader's read index is its term's first entry, which can be below writes acknowledged
        // before the crash that it has not re-applied (the committed index is not persisted), so it
        // would serve stale reads (found by chaos-tests, restart-all nemesis, seeds 4 and 5). A new
        // term commits a blank entry first; and a node whose own log lost entries cannot win.
        enable_leader_restore: Some(false),
        // A follower whose data dir was wiped (a replaced disk, a re-seeded node) comes back with
        // an empty log. Without this, the leader takes its "conflict" below the index it had
        // already matched as impossible and stops replicating to it until leadership changes
        // (the node sat at applied 0 for minutes). With it, the leader restarts the search and
        // sends a snapshot; entries a quorum accepted are never withdrawn (openraft keeps the
        // quorum-accepted value when it lowers one follower's progress).
        allow_log_reversion: Some(true),
        // A node asks the others whether they would vote for it before it raises its term. A
        // follower that stalled past its election timeout (a long fsync behind a large snapshot,
        // a VM pause) otherwise starts an election on waking, and its higher term deposes a
        // leader the others still hear from: an election without a fault (issues 11 and 12).
        enable_pre_vote: Some(true),
        ..Default::default()
    };
    Ok(Arc::new(raft_config.validate().context("invalid Raft timing settings")?))
}

/// This node's TLS material and client authentication, from the files the config names.
fn load_security(config: &NodeConfig) -> anyhow::Result<(Option<Arc<NodeTls>>, Authenticator)> {
    match &config.security {
        SecurityMode::Plaintext => {
            tracing::warn!(
                "--insecure-plaintext: no TLS and no authentication; anyone who reaches {} can read, write and \
                 take over this cluster (test clusters only)",
                config.listen
            );
            Ok((None, Authenticator::Open))
        }
        SecurityMode::Secured(files) => {
            let tls = NodeTls::load(files, config.id).context("cannot set up TLS")?;
            let tokens = TokenTable::load(&files.tokens).context("cannot load the client tokens")?;
            tracing::info!(tokens = tokens.len(), "TLS on; clients authenticate with tokens");
            Ok((Some(Arc::new(tls)), Authenticator::Tokens(tokens)))
        }
    }
}

/// Opens the log and the state machine in the data dir and starts Raft over them.
async fn open_raft(
    config: &NodeConfig,
    tls: Option<Arc<NodeTls>>,
    authenticator: Authenticator,
) -> anyhow::Result<NodeContext> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create data dir {}", config.data_dir.display()))?;
    let log_options = LogOptions { local_node: Some(config.id), ..LogOptions::default() };
    let log_store = LogStore::open_with(&config.data_dir.join("log"), log_options)
        .with_context(|| format!("cannot open the log in {}", config.data_dir.display()))?;
    let log_sync_latency = log_store.sync_latency();
    let log = log_store.reader();
    let (changes, _) = tokio::sync::broadcast::channel(CHANGE_FEED_CAPACITY);
    let gc_stats = Arc::new(GcStats::default());
    let machine = HeapMachine::new(changes.clone(), Arc::clone(&gc_stats));
    let store = StateMachineStore::open(&config.data_dir.join("sm"), machine)
        .with_context(|| format!("cannot open the state machine in {}", config.data_dir.display()))?;
    let network = PeerNetwork::new(tls.clone());
    let raft = HeapRaft::new(config.id, raft_config(config)?, network, log_store, store.clone())
        .await
        .context("cannot start Raft")?;
    Ok(NodeContext {
        id: config.id,
        addr: config.own_addr().to_string(),
        raft,
        store,
        log,
        changes,
        tls,
        authenticator,
        metrics: NodeMetrics::new(config.data_dir.clone(), log_sync_latency),
        disk: Arc::new(DiskGuard::new(
            config.id,
            config.data_dir.clone(),
            DiskThresholds { warn_free_bytes: config.disk_warn_free_bytes, min_free_bytes: config.disk_min_free_bytes },
        )),
        gc_stats,
        gc_trigger: GcTrigger::default(),
        unsafe_stale_reads: config.unsafe_stale_reads,
    })
}

/// On first start, proposes the cluster of `--peers` (every node does the same, which openraft
/// allows); a node with state skips it.
async fn form_cluster(raft: &HeapRaft, config: &NodeConfig) -> anyhow::Result<()> {
    if config.peers.is_empty() {
        tracing::info!(endpoints = ?config.join, "joining a running cluster: the leader sends the log once the node is added");
        return Ok(());
    }
    if raft.is_initialized().await.context("Raft stopped during start-up")? {
        warn_if_peers_changed(raft, config);
        return Ok(());
    }
    let members: BTreeMap<u64, BasicNode> =
        config.peers.iter().map(|(id, addr)| (*id, BasicNode { addr: addr.clone() })).collect();
    match raft.initialize(members).await {
        Ok(()) => tracing::info!(peers = ?config.peers, "cluster initialized"),
        // Another node's initialization reached us first: the cluster is forming.
        Err(e) => tracing::info!(error = %e, "cluster already initialized"),
    }
    Ok(())
}

/// `--peers` counts at first start only; say so when it no longer matches the membership.
fn warn_if_peers_changed(raft: &HeapRaft, config: &NodeConfig) {
    let members = crate::membership::members_of(raft);
    if !members.nodes.is_empty() && members.nodes != config.peers {
        tracing::warn!(
            peers = ?config.peers,
            members = ?members.nodes,
            "--peers differs from the cluster's membership and is ignored (it is read at first start only); \
             change members with heapctl member"
        );
    }
}

/// The gRPC services (client-facing heap service, Raft transport) on connections the acceptor
/// hands over, until `stop` fires.
fn spawn_grpc_server(
    context: &Arc<NodeContext>,
    gate: Arc<ConsensusGate>,
    snapshot_size_bytes_max: u64,
    router: Arc<Router>,
    proposer: Arc<Proposer>,
    connections: tokio::sync::mpsc::Receiver<std::io::Result<NodeStream>>,
    stop: tokio::sync::oneshot::Receiver<()>,
) -> tokio::task::JoinHandle<Result<(), tonic::transport::Error>> {
    let admin_service = AdminServer::new(AdminService::new(Arc::clone(context), Arc::clone(&router)))
        .max_decoding_message_size(CLIENT_MESSAGE_SIZE_BYTES_MAX)
        .max_encoding_message_size(CLIENT_MESSAGE_SIZE_BYTES_MAX);
    let heap_service = HeapServer::new(HeapService::new(Arc::clone(context), router, proposer))
        .max_decoding_message_size(CLIENT_MESSAGE_SIZE_BYTES_MAX)
        .max_encoding_message_size(CLIENT_MESSAGE_SIZE_BYTES_MAX);
    let raft_service = RaftTransportServer::new(RaftService::new(context.raft.clone(), gate, snapshot_size_bytes_max))
        .max_decoding_message_size(RAFT_MESSAGE_SIZE_BYTES_MAX)
        .max_encoding_message_size(RAFT_MESSAGE_SIZE_BYTES_MAX);
    tokio::spawn(
        tonic::transport::Server::builder()
            .http2_keepalive_interval(Some(Duration::from_millis(HTTP2_KEEPALIVE_INTERVAL_MS)))
            .http2_keepalive_timeout(Some(Duration::from_millis(HTTP2_KEEPALIVE_TIMEOUT_MS)))
            .add_service(heap_service)
            .add_service(admin_service)
            .add_service(raft_service)
            .serve_with_incoming_shutdown(tokio_stream::wrappers::ReceiverStream::new(connections), async {
                stop.await.ok();
            }),
    )
}

/// What a running node's tasks are, and how to stop them.
struct Services {
    gate: Arc<ConsensusGate>,
    server: tokio::task::JoinHandle<Result<(), tonic::transport::Error>>,
    stop_server: tokio::sync::oneshot::Sender<()>,
    acceptor: tokio::task::JoinHandle<()>,
    duties: tokio::task::JoinHandle<()>,
    collector: tokio::task::JoinHandle<()>,
    stop_duties: tokio::sync::watch::Sender<bool>,
}

/// Starts the node's tasks on `listener`: the leader's duties, the disk guard, the acceptor (one
/// port for clients and peers: it serves append links itself and hands every other connection to
/// the gRPC server) and the gRPC services.
fn spawn_services(
    config: &NodeConfig,
    context: &Arc<NodeContext>,
    listener: TcpListener,
    tls_acceptor: Option<TlsAcceptor>,
    open_files_limit: u64,
) -> Services {
    let raft = context.raft.clone();
    let configured_peers = (!config.peers.is_empty()).then(|| config.peers.keys().copied().collect());
    let gate = Arc::new(ConsensusGate::new(raft.clone(), config.id, configured_peers));
    let router = Arc::new(Router::new(Arc::clone(context)));
    let proposer = Arc::new(Proposer::new(Arc::clone(context), Arc::clone(&router)));
    let (stop_duties, stop_duties_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(Arc::clone(&context.disk).watch(stop_duties_rx.clone()));
    tokio::spawn(crate::snapshot_after_gc::run(Arc::clone(context), stop_duties_rx.clone()));
    tokio::spawn(crate::memory_release::run(Arc::clone(context), stop_duties_rx.clone()));
    tokio::spawn(crate::snapshot_policy::run(Arc::clone(context), config.snapshot_logs, stop_duties_rx.clone()));
    let cycle_interval = Duration::from_millis(config.gc_cycle_interval_ms);
    let collector = gc::run(Arc::clone(context), Arc::clone(&proposer), cycle_interval, stop_duties_rx.clone());
    let collector = tokio::spawn(collector);
    let duties = tokio::spawn(leader_duties::run(Arc::clone(context), Arc::clone(&proposer), stop_duties_rx));
    let (stop_server, stop_server_rx) = tokio::sync::oneshot::channel::<()>();
    let (grpc_connections_tx, grpc_connections_rx) = tokio::sync::mpsc::channel(GRPC_ACCEPT_QUEUE_CONNECTIONS);
    let links = LinkServer { raft, gate: Arc::clone(&gate), budget: FrameBudget::default() };
    let acceptor = Acceptor { tls: tls_acceptor, links, grpc: grpc_connections_tx };
    let acceptor = tokio::spawn(acceptor.run(listener, open_files_limit));
    let server = spawn_grpc_server(
        context,
        Arc::clone(&gate),
        config.snapshot_size_bytes_max,
        router,
        proposer,
        grpc_connections_rx,
        stop_server_rx,
    );
    Services { gate, server, stop_server, acceptor, duties, collector, stop_duties }
}

/// The HTTP port's server (`/metrics`, the dashboard) if `--http-listen` is given, with the
/// sender that stops it.
async fn start_http(
    config: &NodeConfig,
    context: &Arc<NodeContext>,
) -> anyhow::Result<Option<(tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<std::io::Result<()>>)>> {
    let Some(addr) = config.http_listen else {
        return Ok(None);
    };
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on --http-listen {addr} (is another process using it?)"))?;
    tracing::info!(%addr, "serving /metrics and the dashboard (/)");
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let stop = async {
        stop_rx.await.ok();
    };
    Ok(Some((stop_tx, tokio::spawn(http_server::serve(listener, Arc::clone(context), stop)))))
}

/// Runs the node until `shutdown` resolves, then stops it cleanly. Returns an error (so the
/// process exits non-zero and a supervisor restarts it) if Raft or the server stops by itself.
pub async fn run(config: NodeConfig, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let (tls, authenticator) = load_security(&config)?;
    let open_files_limit = raise_open_files_limit();
    let tls_acceptor = tls.as_ref().map(|tls| TlsAcceptor::from(Arc::clone(&tls.server)));
    crate::restore::seed_from_backup(&config).await?;
    let context = Arc::new(open_raft(&config, tls, authenticator).await?);
    let raft = context.raft.clone();
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {} (is another node using it?)", config.listen))?;
    if config.unsafe_stale_reads {
        tracing::warn!("--unsafe-stale-reads is set: reads are NOT linearizable (test-only planted bug)");
    }
    tracing::info!(id = config.id, listen = %config.listen, data_dir = %config.data_dir.display(), open_files_limit, "node started");
    form_cluster(&raft, &config).await?;
    member_check::check_at_start(&raft, &config).await?;

    let services = spawn_services(&config, &context, listener, tls_acceptor, open_files_limit);
    let Services { gate, server, stop_server, acceptor, duties, collector, stop_duties } = services;
    let http = start_http(&config, &context).await?;
    let mut server = std::pin::pin!(server);
    let mut left_membership = None;
    tokio::select! {
        () = shutdown => tracing::info!("shutdown requested"),
        result = &mut server => {
            result.context("server task failed")?.context("server failed")?;
            anyhow::bail!("the server stopped unexpectedly");
        }
        mismatch = member_check::removed(&config, raft.clone(), gate, context.tls.clone()) => {
            // Shut down as on a signal (answers in flight are sent), then exit with the reason.
            tracing::error!(%mismatch, "this node left the membership; exiting");
            left_membership = Some(mismatch);
        }
        reason = watchdog::raft_stopped(raft.clone()) => {
            tracing::error!(%reason, "Raft stopped; exiting so a supervisor restarts the node");
            acceptor.abort();
            anyhow::bail!("Raft stopped: {reason}; the node exits so that it is restarted (check the disk and the log above)");
        }
    }
    let _ = stop_server.send(());
    if let Some((stop_http, http)) = http {
        let _ = stop_http.send(());
        http.abort();
    }
    acceptor.abort();
    let _ = stop_duties.send(true);
    let _ = duties.await;
    let _ = collector.await;
    if left_membership.is_none() {
        crate::shutdown_snapshot::snapshot_before_shutdown(&raft).await;
    }
    let deadline = Duration::from_millis(SHUTDOWN_TIMEOUT_MS);
    if tokio::time::timeout(deadline, raft.shutdown()).await.is_err() {
        tracing::warn!("Raft did not stop within {SHUTDOWN_TIMEOUT_MS} ms");
    }
    if tokio::time::timeout(deadline, server).await.is_err() {
        tracing::warn!("the server did not stop within {SHUTDOWN_TIMEOUT_MS} ms");
    }
    tracing::info!("node stopped");
    match left_membership {
        Some(mismatch) => Err(mismatch.into()),
        None => Ok(()),
    }
}
