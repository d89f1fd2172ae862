//! `NodeStream`: one accepted connection handed to the gRPC server, plaintext (test clusters) or
//! TLS, with what the connection proved about its peer (`PeerInfo`), which tonic puts into every
//! request's extensions for the services to check.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Context;
use std::task::Poll;

use proto::security::CLUSTER_SERVER_NAME;
use raft_store::NodeId;
use rustls::pki_types::CertificateDer;
use tokio::io::AsyncRead;
use tokio::io::AsyncWrite;
use tokio::io::ReadBuf;
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;
use tonic::transport::server::Connected;

use crate::tls::names;
use crate::tls::proves_node;

/// What a connection proved about its peer.
#[derive(Debug, Clone)]
pub struct PeerInfo {
    pub remote_addr: SocketAddr,
    /// The client certificate the TLS handshake verified against the cluster CA, if any.
    pub certificate: Option<Arc<CertificateDer<'static>>>,
    /// False on a `--insecure-plaintext` node: nothing is proven, nothing is checked.
    pub secured: bool,
}

impl PeerInfo {
    /// Whether the peer may speak for node `id`: on a secured node only with a certificate
    /// naming that node; on a plaintext test node always (the message checks still apply).
    pub fn may_speak_for(&self, id: NodeId) -> bool {
        if !self.secured {
            return true;
        }
        self.certificate.as_deref().is_some_and(|certificate| proves_node(certificate, id))
    }

    /// Whether the peer proved a member certificate of this cluster (any node id). Clients carry
    /// no certificates, so this is a node: a joining node asks `Status` this way.
    pub fn is_cluster_node(&self) -> bool {
        self.secured && self.certificate.as_deref().is_some_and(|certificate| names(certificate, CLUSTER_SERVER_NAME))
    }
}

/// The transport under a `NodeStream`.
pub enum Io {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

/// A connection the gRPC server serves, with what it proved and its claim on the node's
/// connection budget (released when the server drops the connection).
pub struct NodeStream {
    pub io: Io,
    pub peer: PeerInfo,
    _budget: Option<Box<dyn std::any::Any + Send>>,
}

impl NodeStream {
    pub fn tls(stream: TlsStream<TcpStream>, remote_addr: SocketAddr) -> Self {
        let certificate = stream
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|chain| chain.first())
            .map(|c| Arc::new(c.clone().into_owned()));
        Self {
            io: Io::Tls(Box::new(stream)),
            peer: PeerInfo { remote_addr, certificate, secured: true },
            _budget: None,
        }
    }

    pub fn plain(stream: TcpStream, remote_addr: SocketAddr) -> Self {
        Self { io: Io::Plain(stream), peer: PeerInfo { remote_addr, certificate: None, secured: false }, _budget: None }
    }

    /// Ties `budget` (a connection slot) to this connection's life.
    pub fn holding(mut self, budget: impl std::any::Any + Send) -> Self {
        self._budget = Some(Box::new(budget));
        self
    }
}

impl Connected for NodeStream {
    type ConnectInfo = PeerInfo;

    fn connect_info(&self) -> PeerInfo {
        self.peer.clone()
    }
}

impl AsyncRead for NodeStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().io {
            Io::Plain(stream) => Pin::new(stream).poll_read(cx, buf),
            Io::Tls(stream) => Pin::new(stream.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for NodeStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().io {
            Io::Plain(stream) => Pin::new(stream).poll_write(cx, buf),
            Io::Tls(stream) => Pin::new(stream.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().io {
            Io::Plain(stream) => Pin::new(stream).poll_flush(cx),
            Io::Tls(stream) => Pin::new(stream.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().io {
            Io::Plain(stream) => Pin::new(stream).poll_shutdown(cx),
            Io::Tls(stream) => Pin::new(stream.as_mut()).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().io {
            Io::Plain(stream) => Pin::new(stream).poll_write_vectored(cx, bufs),
            Io::Tls(stream) => Pin::new(stream.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match &self.io {
            Io::Plain(stream) => stream.is_write_vectored(),
            Io::Tls(stream) => stream.is_write_vectored(),
        }
    }
}
