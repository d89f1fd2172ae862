//! heapctl's library half: JSON documents as heap graphs (`json`), shared by the CLI and the
//! process-level tests that write and read roots as JSON.

pub mod json;
