//! `HeapOpClient`: one closed-loop client of put, get or graph-read over the raw `Heap` gRPC API,
//! sending prebuilt requests to the leader and finding the leader again when it is unavailable.
//! Every request carries the cluster's token (`stub`).

use std::sync::Arc;

use heap_client::HeapStub;
use heap_client::TokenInterceptor;
use proto::heap as pb;
use proto::heap::heap_client::HeapClient;
use tonic::transport::Channel;

use crate::driver::LoadClient;
use crate::error::BenchError;
use crate::leader::leader_may_have_changed;
use crate::leader::Leader;
use crate::sovereign::discover::SovereignDiscover;
use heap_testkit::Prng;

/// The prebuilt requests of one workload, shared by all its clients; each request is cloned once
/// per send (tonic takes requests by value).
pub enum HeapRequests {
    /// put: one `Commit` per object, setting its 256-byte value.
    Commit(Vec<pb::CommitRequest>),
    /// get and graph-read: one `Read` per object or graph, and how many objects it must return.
    Read { requests: Vec<pb::ReadRequest>, objects_expected: usize },
}

impl HeapRequests {
    fn len(&self) -> usize {
        match self {
            HeapRequests::Commit(requests) => requests.len(),
            HeapRequests::Read { requests, .. } => requests.len(),
        }
    }
}

/// The heap service over `channel`, every request carrying the token `interceptor` holds.
pub fn stub(channel: Channel, interceptor: &TokenInterceptor) -> HeapStub {
    HeapClient::with_interceptor(channel, interceptor.clone())
}

pub struct HeapOpClient {
    index: usize,
    leader: Arc<Leader<SovereignDiscover>>,
    generation: u64,
    interceptor: TokenInterceptor,
    client: HeapStub,
    requests: Arc<HeapRequests>,
    prng: Prng,
}

impl HeapOpClient {
    pub fn new(
        index: usize,
        leader: Arc<Leader<SovereignDiscover>>,
        interceptor: TokenInterceptor,
        requests: Arc<HeapRequests>,
        seed: u64,
    ) -> Self {
        let connected = leader.current();
        let client = stub(connected.channel(index), &interceptor);
        Self { index, generation: connected.generation, leader, interceptor, client, requests, prng: Prng::new(seed) }
    }

    fn refresh(&mut self) {
        let connected = self.leader.current();
        self.client = stub(connected.channel(self.index), &self.interceptor);
        self.generation = connected.generation;
    }

    async fn failed(&mut self, status: tonic::Status) -> BenchError {
        // Not the leader any more, no leader, or the connection broke: find the leader again.
        if leader_may_have_changed(&status) {
            if let Err(e) = self.leader.rediscover(self.generation).await {
                return BenchError::Request(format!("{}; then {e}", status.message()));
            }
        }
        BenchError::Request(format!("{:?}: {}", status.code(), status.message()))
    }
}

impl LoadClient for HeapOpClient {
    async fn op(&mut self) -> Result<(), BenchError> {
        if self.leader.generation() != self.generation {
            self.refresh();
        }
        let pick = self.prng.below(self.requests.len() as u64) as usize;
        match &*self.requests {
            HeapRequests::Commit(requests) => match self.client.commit(requests[pick].clone()).await {
                Ok(response) => match response.into_inner().result {
                    Some(pb::commit_response::Result::Committed(_)) => Ok(()),
                    Some(pb::commit_response::Result::Rejected(r)) => {
                        Err(BenchError::Request(format!("rejected: {}", r.message)))
                    }
                    None => Err(BenchError::Request("empty commit response".into())),
                },
                Err(status) => Err(self.failed(status).await),
            },
            HeapRequests::Read { requests, objects_expected } => match self.client.read(requests[pick].clone()).await {
                Ok(response) => {
                    let read = response.into_inner();
                    if read.objects.len() == *objects_expected && !read.truncated {
                        Ok(())
                    } else {
                        Err(BenchError::Request(format!(
                            "read returned {} objects (truncated: {}), expected {objects_expected}",
                            read.objects.len(),
                            read.truncated
                        )))
                    }
                }
                Err(status) => Err(self.failed(status).await),
            },
        }
    }
}
