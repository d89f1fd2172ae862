//! `EtcdKvClient`: one closed-loop client of put or get over etcd's KV API, sending prebuilt
//! requests (their `Bytes` fields clone without copying) to the leader.

use std::sync::Arc;

use crate::etcd::schema as epb;
use crate::etcd::schema::kv_client::KvClient;
use prost::bytes::Bytes;
use tonic::transport::Channel;

use crate::driver::LoadClient;
use crate::error::BenchError;
use crate::etcd::discover::EtcdDiscover;
use crate::leader::leader_may_have_changed;
use crate::leader::Leader;
use crate::limits::ETCD_KEY_SIZE_BYTES;
use crate::limits::VALUE_SIZE_BYTES;
use heap_testkit::Prng;

pub enum KvRequests {
    Put(Vec<epb::PutRequest>),
    Range(Vec<epb::RangeRequest>),
}

impl KvRequests {
    fn len(&self) -> usize {
        match self {
            KvRequests::Put(requests) => requests.len(),
            KvRequests::Range(requests) => requests.len(),
        }
    }
}

/// Key `index` of the key space: `k` and 7 digits, 8 bytes as etcd's benchmark `--key-size 8`.
pub fn key(index: usize) -> Bytes {
    let key = format!("k{index:07}");
    debug_assert_eq!(key.len(), ETCD_KEY_SIZE_BYTES);
    Bytes::from(key)
}

/// put: key `index` gets the 256-byte value (one shared buffer for every request).
pub fn put_request(index: usize, value: &Bytes) -> epb::PutRequest {
    epb::PutRequest { key: key(index), value: value.clone(), ..Default::default() }
}

/// get: a linearizable (not serializable) read of key `index`.
pub fn range_request(index: usize) -> epb::RangeRequest {
    epb::RangeRequest { key: key(index), serializable: false, ..Default::default() }
}

pub fn value() -> Bytes {
    Bytes::from(vec![b'v'; VALUE_SIZE_BYTES])
}

pub struct EtcdKvClient {
    index: usize,
    leader: Arc<Leader<EtcdDiscover>>,
    generation: u64,
    client: KvClient<Channel>,
    requests: Arc<KvRequests>,
    prng: Prng,
}

impl EtcdKvClient {
    pub fn new(index: usize, leader: Arc<Leader<EtcdDiscover>>, requests: Arc<KvRequests>, seed: u64) -> Self {
        let connected = leader.current();
        let client = KvClient::new(connected.channel(index));
        Self { index, generation: connected.generation, leader, client, requests, prng: Prng::new(seed) }
    }

    async fn failed(&mut self, status: tonic::Status) -> BenchError {
        if leader_may_have_changed(&status) {
            if let Err(e) = self.leader.rediscover(self.generation).await {
                return BenchError::Request(format!("{}; then {e}", status.message()));
            }
        }
        BenchError::Request(format!("{:?}: {}", status.code(), status.message()))
    }
}

impl LoadClient for EtcdKvClient {
    async fn op(&mut self) -> Result<(), BenchError> {
        if self.leader.generation() != self.generation {
            let connected = self.leader.current();
            self.client = KvClient::new(connected.channel(self.index));
            self.generation = connected.generation;
        }
        let pick = self.prng.below(self.requests.len() as u64) as usize;
        match &*self.requests {
            KvRequests::Put(requests) => match self.client.put(requests[pick].clone()).await {
                Ok(_) => Ok(()),
                Err(status) => Err(self.failed(status).await),
            },
            KvRequests::Range(requests) => match self.client.range(requests[pick].clone()).await {
                Ok(response) if response.get_ref().kvs.len() == 1 => Ok(()),
                Ok(response) => Err(BenchError::Request(format!(
                    "range returned {} keys, expected 1",
                    response.get_ref().kvs.len()
                ))),
                Err(status) => Err(self.failed(status).await),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn keys_are_eight_bytes_and_distinct() {
        assert_eq!(key(0).len(), ETCD_KEY_SIZE_BYTES);
        assert_eq!(key(999_999).len(), ETCD_KEY_SIZE_BYTES);
        assert_ne!(key(1), key(2));
    }

    /// The wire format etcd expects, byte for byte: PutRequest key = 1, value = 2; RangeRequest
    /// key = 1, serializable = 7 (false is not encoded in proto3).
    #[test]
    fn requests_use_etcds_field_numbers() {
        let put = put_request(3, &Bytes::from_static(b"xy")).encode_to_vec();
        assert_eq!(put, [&[0x0a, 8][..], b"k0000003", &[0x12, 2], b"xy"].concat());
        let mut range = range_request(3);
        range.serializable = true;
        assert_eq!(range.encode_to_vec(), [&[0x0a, 8][..], b"k0000003", &[0x38, 1]].concat());
        // StatusResponse.leader = 4 (varint), header = 1 with member_id = 2.
        let status = epb::StatusResponse {
            header: Some(epb::ResponseHeader { member_id: 5, ..Default::default() }),
            leader: 5,
            ..Default::default()
        };
        assert_eq!(status.encode_to_vec(), vec![0x0a, 2, 0x10, 5, 0x20, 5]);
    }
}
