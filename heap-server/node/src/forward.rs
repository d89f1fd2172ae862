//! The one way a request reaches the leader from another node: the client's own request, re-sent
//! once over the client-facing `Heap` service with a header that marks it forwarded. A forwarded
//! request is never forwarded again; a node that is not the leader answers it "not the leader,
//! retry at node N" instead, and the client retries there. The client's token travels with it:
//! the leader authenticates the request itself, so forwarding grants nothing.

use proto::heap as pb;
use proto::heap::heap_client::HeapClient;
use proto::security::TOKEN_HEADER;
use tonic::metadata::AsciiMetadataValue;
use tonic::transport::Channel;
use tonic::Request;
use tonic::Response;
use tonic::Status;

/// Marks a request a node forwarded to the leader.
const FORWARDED_HEADER: &str = "x-sovereign-forwarded";

/// Whether `request` came from another node (and so may not be forwarded again).
pub fn is_forwarded<T>(request: &Request<T>) -> bool {
    request.metadata().contains_key(FORWARDED_HEADER)
}

/// `request` marked forwarded, with the client's token header (for the `Heap` and `Admin` services).
pub fn mark_forwarded<T>(request: T, authorization: Option<AsciiMetadataValue>) -> Request<T> {
    let mut request = Request::new(request);
    request.metadata_mut().insert(FORWARDED_HEADER, tonic::metadata::MetadataValue::from_static("1"));
    if let Some(authorization) = authorization {
        request.metadata_mut().insert(TOKEN_HEADER, authorization);
    }
    request
}

/// The client's token header, to forward with its request.
pub fn authorization_of<T>(request: &Request<T>) -> Option<AsciiMetadataValue> {
    request.metadata().get(TOKEN_HEADER).cloned()
}

/// A client request that may be forwarded to the leader: the `Heap` method that serves it there.
#[tonic::async_trait]
pub trait Forwardable: Sized + Send + 'static {
    type Answer: Send;
    async fn call(leader: HeapClient<Channel>, request: Request<Self>) -> Result<Response<Self::Answer>, Status>;
}

/// Sends `request` to the leader's heap service as a forwarded request, with the client's token.
pub async fn forward<R: Forwardable>(
    leader: HeapClient<Channel>,
    request: R,
    authorization: Option<AsciiMetadataValue>,
) -> Result<Response<R::Answer>, Status> {
    R::call(leader, mark_forwarded(request, authorization)).await
}

macro_rules! forwardable {
    ($($request:ty => $answer:ty, $method:ident;)*) => {$(
        #[tonic::async_trait]
        impl Forwardable for $request {
            type Answer = $answer;
            async fn call(mut leader: HeapClient<Channel>, request: Request<Self>) -> Result<Response<$answer>, Status> {
                leader.$method(request).await
            }
        }
    )*};
}

forwardable! {
    pb::CommitRequest => pb::CommitResponse, commit;
    pb::ReadRequest => pb::ReadResponse, read;
    pb::ListRootsRequest => pb::ListRootsResponse, list_roots;
    pb::AllocateIdsRequest => pb::AllocateIdsResponse, allocate_ids;
    pb::OpenSessionRequest => pb::OpenSessionResponse, open_session;
    pb::SessionRequest => pb::SessionResponse, session;
    pb::ListLocksRequest => pb::ListLocksResponse, list_locks;
    pb::ListSessionsRequest => pb::ListSessionsResponse, list_sessions;
}
