//! The node's one port: accepts connections within the connection budget, completes the TLS
//! handshake (on a secured node), and sends each connection to its protocol: append links are
//! served here (`append_link::LinkServer`), everything else goes to the gRPC server.
//!
//! Budgets: connections in total (below the process's file-descriptor limit, keeping
//! `FD_RESERVE` for storage, so storage never fails for lack of descriptors) and per remote IP;
//! a connection that has not finished its handshake within `TLS_HANDSHAKE_TIMEOUT_MS` is closed.
//! Connections that prove a node certificate move to a pool of their own, so clients (or an
//! attacker) filling the client budget cannot cut the members off from each other: when the
//! client budget is spent, a new connection may still use a free node slot, but only to prove a
//! node certificate within `NODE_HANDSHAKE_TIMEOUT_MS`; anything else is closed.

use std::collections::BTreeMap;
use std::io;
use std::net::IpAddr;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use proto::security::ALPN_APPEND_LINK;
use proto::security::CLUSTER_SERVER_NAME;
use tokio::net::TcpListener;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::sync::OwnedSemaphorePermit;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::append_link::read_magic;
use crate::append_link::LinkServer;
use crate::append_link::LINK_MAGIC;
use crate::limits::CLIENT_CONNECTIONS_MAX;
use crate::limits::CLIENT_CONNECTIONS_PER_IP_MAX;
use crate::limits::FD_RESERVE;
use crate::limits::LINK_SNIFF_TIMEOUT_MS;
use crate::limits::NODE_CONNECTIONS_MAX;
use crate::limits::TLS_HANDSHAKE_TIMEOUT_MS;
use crate::node_stream::Io;
use crate::node_stream::NodeStream;
use crate::node_stream::PeerInfo;
use crate::tls::names;

/// Pause after a failed accept (e.g. out of file descriptors) before accepting again.
const ACCEPT_ERROR_BACKOFF_MS: u64 = 100;
/// A connection let in on a node slot (the client budget being spent) must finish its handshake
/// this fast: peers on the same network do, and an attacker holds the slot only briefly.
const NODE_HANDSHAKE_TIMEOUT_MS: u64 = 2_000;

/// Where accepted connections go.
pub struct Acceptor {
    pub tls: Option<TlsAcceptor>,
    pub links: LinkServer,
    pub grpc: mpsc::Sender<io::Result<NodeStream>>,
}

/// The connection budgets of one node.
struct Budgets {
    clients: Arc<Semaphore>,
    nodes: Arc<Semaphore>,
    per_ip: Mutex<BTreeMap<IpAddr, u32>>,
}

/// A connection's claim on the budgets, released when the connection ends.
struct Slot {
    budgets: Arc<Budgets>,
    ip: IpAddr,
    client: Option<OwnedSemaphorePermit>,
    _node: Option<OwnedSemaphorePermit>,
}

impl Slot {
    /// True for a connection admitted on a node slot: it must prove a node certificate.
    fn node_only(&self) -> bool {
        self.client.is_none() && self._node.is_some()
    }

    /// Moves a connection that proved a node certificate from the client budget to the nodes'.
    fn promote_to_node(&mut self) -> bool {
        if self.node_only() {
            return true;
        }
        match Arc::clone(&self.budgets.nodes).try_acquire_owned() {
            Ok(permit) => {
                self.release_client();
                self._node = Some(permit);
                true
            }
            Err(_) => false,
        }
    }

    fn release_client(&mut self) {
        if self.client.take().is_some() {
            if let Ok(mut per_ip) = self.budgets.per_ip.lock() {
                if let Some(count) = per_ip.get_mut(&self.ip) {
                    *count -= 1;
                    if *count == 0 {
                        per_ip.remove(&self.ip);
                    }
                }
            }
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.release_client();
    }
}

impl Budgets {
    fn new(client_connections_max: usize) -> Arc<Self> {
        Arc::new(Self {
            clients: Arc::new(Semaphore::new(client_connections_max)),
            nodes: Arc::new(Semaphore::new(NODE_CONNECTIONS_MAX)),
            per_ip: Mutex::new(BTreeMap::new()),
        })
    }

    /// A slot for a connection from `ip`: in the client budget, or (that being spent) a node slot
    /// that only a node certificate may keep; `None` if both are spent.
    fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Slot> {
        self.admit_client(ip).or_else(|| {
            let permit = Arc::clone(&self.nodes).try_acquire_owned().ok()?;
            Some(Slot { budgets: Arc::clone(self), ip, client: None, _node: Some(permit) })
        })
    }

    fn admit_client(self: &Arc<Self>, ip: IpAddr) -> Option<Slot> {
        let permit = Arc::clone(&self.clients).try_acquire_owned().ok()?;
        let mut per_ip = self.per_ip.lock().ok()?;
        let count = per_ip.entry(ip).or_insert(0);
        if *count >= CLIENT_CONNECTIONS_PER_IP_MAX {
            return None;
        }
        *count += 1;
        Some(Slot { budgets: Arc::clone(self), ip, client: Some(permit), _node: None })
    }
}

/// Connections the client budget allows: `CLIENT_CONNECTIONS_MAX`, or less if the process may not
/// open that many files besides the nodes' connections and `FD_RESERVE` for storage.
pub fn client_connections_max(open_files_limit: u64) -> usize {
    let spare = open_files_limit.saturating_sub(FD_RESERVE + NODE_CONNECTIONS_MAX as u64);
    (spare as usize).min(CLIENT_CONNECTIONS_MAX)
}

impl Acceptor {
    /// Accepts connections until dropped or aborted (which ends every connection it serves).
    pub async fn run(self, listener: TcpListener, open_files_limit: u64) {
        let this = Arc::new(self);
        let budgets = Budgets::new(client_connections_max(open_files_limit));
        let mut connections = JoinSet::new();
        let mut refused_since_log: u64 = 0;
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, remote)) => match budgets.admit(remote.ip()) {
                        Some(slot) => {
                            connections.spawn(Arc::clone(&this).route(stream, remote, slot));
                        }
                        None => {
                            // Closing at once frees the descriptor; the log line is rate limited.
                            drop(stream);
                            refused_since_log += 1;
                            if refused_since_log.is_power_of_two() {
                                tracing::warn!(%remote, refused = refused_since_log, "refused connections: the connection budget (total or per address) is spent");
                            }
                        }
                    },
                    Err(e) => {
                        tracing::warn!(error = %e, "accepting a connection failed; retrying");
                        tokio::time::sleep(Duration::from_millis(ACCEPT_ERROR_BACKOFF_MS)).await;
                    }
                },
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
    }

    async fn route(self: Arc<Self>, stream: TcpStream, remote: SocketAddr, slot: Slot) {
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(%remote, error = %e, "cannot set TCP_NODELAY on an accepted connection");
        }
        match &self.tls {
            Some(tls) => self.route_tls(tls, stream, remote, slot).await,
            None => self.route_plain(stream, remote, slot).await,
        }
    }

    /// A secured node: the TLS handshake first; ALPN names the protocol.
    async fn route_tls(&self, tls: &TlsAcceptor, stream: TcpStream, remote: SocketAddr, mut slot: Slot) {
        let timeout_ms = if slot.node_only() { NODE_HANDSHAKE_TIMEOUT_MS } else { TLS_HANDSHAKE_TIMEOUT_MS };
        let handshake = tokio::time::timeout(Duration::from_millis(timeout_ms), tls.accept(stream));
        let stream = match handshake.await {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => {
                tracing::debug!(%remote, error = %e, "TLS handshake failed; closed the connection");
                return;
            }
            Err(_) => {
                tracing::debug!(%remote, "no TLS handshake within {timeout_ms} ms; closed the connection");
                return;
            }
        };
        let is_link = stream.get_ref().1.alpn_protocol() == Some(ALPN_APPEND_LINK);
        let stream = NodeStream::tls(stream, remote);
        let is_node = stream.peer.certificate.as_deref().is_some_and(|c| names(c, CLUSTER_SERVER_NAME));
        if !is_node && slot.node_only() {
            tracing::debug!(%remote, "closed a connection on a node slot without a node certificate (the client budget is spent)");
            return;
        }
        if is_node && !slot.promote_to_node() {
            tracing::warn!(%remote, "refused a node connection: {NODE_CONNECTIONS_MAX} are open already");
            return;
        }
        if !is_link {
            let _ = self.grpc.send(Ok(stream.holding(slot))).await;
            return;
        }
        if !is_node {
            tracing::warn!(%remote, "refused an append link without a node certificate");
            return;
        }
        let Io::Tls(mut tls_stream) = stream.io else {
            return;
        };
        if !read_magic(&mut tls_stream, Duration::from_millis(LINK_SNIFF_TIMEOUT_MS)).await {
            tracing::warn!(%remote, "closed an append link that did not start with the link magic");
            return;
        }
        self.links.serve(tls_stream, stream.peer).await;
        drop(slot);
    }

    /// A plaintext test node: the first byte tells a link from gRPC (HTTP/2 starts with "PRI").
    async fn route_plain(&self, mut stream: TcpStream, remote: SocketAddr, slot: Slot) {
        // Nothing is proven on a plaintext node, so a node slot is never handed out there.
        if slot.node_only() {
            return;
        }
        let mut first = [0u8; 1];
        let peeked = tokio::time::timeout(Duration::from_millis(LINK_SNIFF_TIMEOUT_MS), stream.peek(&mut first)).await;
        match peeked {
            Ok(Ok(0)) | Ok(Err(_)) => return,
            Ok(Ok(_)) if first[0] == LINK_MAGIC[0] => {
                if !read_magic(&mut stream, Duration::from_millis(LINK_SNIFF_TIMEOUT_MS)).await {
                    tracing::warn!(%remote, "closed a connection that is neither gRPC nor a Sovereign append link");
                    return;
                }
                let peer = PeerInfo { remote_addr: remote, certificate: None, secured: false };
                self.links.serve(Box::new(stream), peer).await;
                drop(slot);
                return;
            }
            // A silent client is the gRPC server's to handle.
            Ok(Ok(_)) | Err(_) => {}
        }
        let _ = self.grpc.send(Ok(NodeStream::plain(stream, remote).holding(slot))).await;
    }
}
