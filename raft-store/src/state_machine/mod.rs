//! The state machine store: drives an application `Machine`, persists its image in sled, builds and
//! installs snapshots.

mod image_file;
mod image_writer;
#[cfg(test)]
mod image_writer_test;
mod store;

pub use image_file::SnapshotImage;
pub use image_file::SNAPSHOT_SIZE_BYTES_MAX;
pub use image_writer::IMAGE_WRITE_INTERVAL_MS;
pub use store::StateMachineError;
pub use store::StateMachineStore;
