//! Backups: a consistent image of the state machine in one checksummed file (`file.rs`), and
//! seeding a new node's empty storage from it (`seed.rs`), so a cluster can be restored elsewhere.
//!
//! raft-store never interprets the image: it is the machine's key/value pairs (`Machine::export`),
//! as a snapshot holds them.

mod error;
mod file;
mod seed;

pub use error::BackupError;
pub use file::backup_sha256;
pub use file::decode_backup;
pub use file::encode_backup_body;
pub use file::read_backup_file;
pub use file::Backup;
pub use file::BackupHeader;
pub use file::BACKUP_SHA256_SIZE_BYTES;
pub use file::BACKUP_SIZE_BYTES_MAX;
pub use file::BACKUP_VERSION;
pub use seed::ensure_empty_dir;
pub use seed::restored_log_id;
pub use seed::seed;
pub use seed::RESTORED_LEADER_NODE_ID;
pub use seed::RESTORED_TERM;
