//! The state machine store: drives an application `Machine`, streams its image into durable
//! snapshots and loads them back.

mod error;
mod image_file;
mod runtime_wait;
mod snapshot_activity;
mod snapshot_codec;
mod snapshot_data;
mod snapshot_error;
mod store;

pub use error::StateMachineError;
pub use image_file::check_received_snapshot;
/// For `backup::seed`, which installs a restored image as a new node's snapshot.
pub(crate) use image_file::SnapshotImage;
pub use snapshot_activity::SnapshotCounts;
pub use snapshot_data::SnapshotData;
pub use snapshot_error::ImageError;
pub use snapshot_error::SNAPSHOT_SIZE_BYTES_CEILING;
pub use snapshot_error::SNAPSHOT_SIZE_BYTES_MAX_DEFAULT;
pub use store::StateMachineStore;
