//! `Leader`: channels to the current leader of a cluster, found by a system-specific `Discover`,
//! and found again when requests fail as unavailable: one search at a time, and a client that
//! waited while another searched (found or not) does not search again itself. The channels are
//! made as the cluster's `ClientSecurity` says (TLS or plaintext).

use std::future::Future;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::sync::RwLock;
use std::time::Duration;

use heap_client::ClientSecurity;
use tonic::transport::Channel;

use crate::channels;
use crate::error::BenchError;
use crate::limits::REQUEST_TIMEOUT_MS;

/// Finds which of `endpoints` is the leader now (waiting, bounded, for an election).
pub trait Discover: Send + Sync + 'static {
    fn find_leader(&self, endpoints: &[String]) -> impl Future<Output = Result<String, BenchError>> + Send;
}

/// The leader's address and the channels to it, as of one discovery.
pub struct Connected {
    pub leader: String,
    pub channels: Vec<Channel>,
    pub generation: u64,
}

impl Connected {
    /// The channel of client `client` (round-robin).
    pub fn channel(&self, client: usize) -> Channel {
        self.channels[client % self.channels.len()].clone()
    }
}

pub struct Leader<D> {
    discover: D,
    endpoints: Vec<String>,
    connections: usize,
    /// How the channels reach the nodes.
    security: ClientSecurity,
    current: RwLock<Arc<Connected>>,
    generation: AtomicU64,
    /// Searches finished, successful or not.
    searches: AtomicU64,
    rediscovering: tokio::sync::Mutex<()>,
}

/// Whether a failed request may mean the leader changed or died (so it is worth finding again):
/// unavailable (not the leader, no leader) or a broken connection (tonic reports `Unknown`).
pub fn leader_may_have_changed(status: &tonic::Status) -> bool {
    matches!(status.code(), tonic::Code::Unavailable | tonic::Code::Unknown | tonic::Code::Cancelled)
}

impl<D: Discover> Leader<D> {
    /// Finds the leader and opens `connections` channels to it, reached as `security` says.
    pub async fn connect(
        discover: D,
        endpoints: &[String],
        connections: usize,
        security: &ClientSecurity,
    ) -> Result<Self, BenchError> {
        if connections == 0 {
            return Err(BenchError::InvalidArgument("at least one connection is needed".into()));
        }
        let leader = discover.find_leader(endpoints).await?;
        let request_timeout = Duration::from_millis(REQUEST_TIMEOUT_MS);
        let channels = channels::connect(security, &leader, connections, request_timeout).await?;
        Ok(Self {
            discover,
            endpoints: endpoints.to_vec(),
            connections,
            security: security.clone(),
            current: RwLock::new(Arc::new(Connected { leader, channels, generation: 0 })),
            generation: AtomicU64::new(0),
            searches: AtomicU64::new(0),
            rediscovering: tokio::sync::Mutex::new(()),
        })
    }

    pub fn current(&self) -> Arc<Connected> {
        match self.current.read() {
            Ok(current) => Arc::clone(&current),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Bumped by every rediscovery: a client whose `Connected` is older refreshes it.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Finds the leader again, unless the generation moved past `seen_generation` or another
    /// client searched while this one waited for its turn (then its outcome stands: with many
    /// clients and a dead cluster, searches must not queue up one after another).
    pub async fn rediscover(&self, seen_generation: u64) -> Result<(), BenchError> {
        let searches_before = self.searches.load(Ordering::Acquire);
        let _turn = self.rediscovering.lock().await;
        if self.generation() != seen_generation || self.searches.load(Ordering::Acquire) != searches_before {
            return Ok(());
        }
        let found = self.search().await;
        self.searches.fetch_add(1, Ordering::AcqRel);
        let connected = found?;
        let generation = seen_generation + 1;
        let connected = Arc::new(Connected { generation, ..connected });
        match self.current.write() {
            Ok(mut current) => *current = connected,
            Err(poisoned) => *poisoned.into_inner() = connected,
        }
        self.generation.store(generation, Ordering::Release);
        Ok(())
    }

    async fn search(&self) -> Result<Connected, BenchError> {
        let leader = self.discover.find_leader(&self.endpoints).await?;
        let request_timeout = Duration::from_millis(REQUEST_TIMEOUT_MS);
        let channels = channels::connect(&self.security, &leader, self.connections, request_timeout).await?;
        Ok(Connected { leader, channels, generation: 0 })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    /// A cluster that is down: every search fails after a pause.
    struct DownDiscover {
        searches: Arc<AtomicUsize>,
    }

    impl Discover for DownDiscover {
        async fn find_leader(&self, _endpoints: &[String]) -> Result<String, BenchError> {
            self.searches.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(50)).await;
            Err(BenchError::NoLeader { endpoints: "x".into(), waited_ms: 50, last: "down".into() })
        }
    }

    #[tokio::test]
    async fn failed_searches_do_not_queue_up() {
        let searches = Arc::new(AtomicUsize::new(0));
        let leader = Arc::new(Leader {
            discover: DownDiscover { searches: Arc::clone(&searches) },
            endpoints: vec!["127.0.0.1:1".into()],
            connections: 1,
            security: ClientSecurity::plaintext(),
            current: RwLock::new(Arc::new(Connected { leader: String::new(), channels: Vec::new(), generation: 0 })),
            generation: AtomicU64::new(0),
            searches: AtomicU64::new(0),
            rediscovering: tokio::sync::Mutex::new(()),
        });
        let started = std::time::Instant::now();
        let clients: Vec<_> = (0..20)
            .map(|_| {
                let leader = Arc::clone(&leader);
                tokio::spawn(async move { leader.rediscover(0).await.is_ok() })
            })
            .collect();
        let mut failed = 0;
        for client in clients {
            if !client.await.expect("joins") {
                failed += 1;
            }
        }
        assert!(failed >= 1, "the searching client reports the failure");
        let searched = searches.load(Ordering::SeqCst);
        assert!((1..=2).contains(&searched), "{searched} searches for 20 clients");
        assert!(started.elapsed() < Duration::from_millis(500), "20 clients did not search one after another");
        assert_eq!(leader.generation(), 0, "nothing was found");
    }
}
