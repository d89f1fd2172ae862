//! The state machine store: drives an application `Machine`, persists its image in sled, builds and
//! installs snapshots.

mod error;
mod image_file;
mod image_writer;
mod keys;
mod store;

pub use error::StateMachineError;
pub use image_file::check_received_snapshot;
pub use image_file::ImageError;
pub use image_file::SNAPSHOT_SIZE_BYTES_MAX;
pub use store::StateMachineStore;
