//! The JNI bindings behind the Java jar (`org.sovereign.heap.Native`): handles to open clients,
//! the security (CA and token) Java connects with, values crossing between Java and Rust, and Rust
//! errors and panics turned into Java exceptions.
//!
//! Rules every entry point keeps (`exports.rs`, and `batch_exports.rs` for the calls that carry
//! many values at once):
//! - it runs its body under `catch_unwind`; a panic becomes a `HeapException`, never an unwind
//!   into the JVM;
//! - every `HeapError` becomes one exception of the `org.sovereign.heap.HeapException` hierarchy
//!   (`IllegalMonitorStateException` for a lock the thread does not hold);
//! - it creates no global references; the few local references it makes die with the native frame,
//!   and loops over many elements free theirs as they go;
//! - it never calls back into Java from a native thread: the client's runtime threads never touch
//!   the JVM, only the Java thread that called in does.
//!
//! The fast path for reads (`keys.rs`): Java interns a key once (`Native.internKey`) and reads by
//! its id (`Native.getLongById`, ...), so a cached read converts no string and allocates nothing.

mod batch_exports;
mod exports;
mod failure;
mod keys;
mod registry;
mod security;
mod values;

pub use failure::Failure;
pub use keys::KeyTable;
pub use keys::KEYS_MAX;
pub use keys::KEY_BYTES_MAX;
pub use registry::Registry;
pub use registry::HANDLES_MAX;
pub use security::CA_PEM_BYTES_MAX;
pub use values::ValueTag;
