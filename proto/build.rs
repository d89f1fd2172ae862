//! Compiles the wire schema with the vendored protoc, so no system protoc is needed.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    // Build scripts run single-threaded before any other code in this process.
    #[allow(unsafe_code)]
    unsafe {
        std::env::set_var("PROTOC", protoc);
    }
    tonic_prost_build::configure()
        .btree_map(".")
        .compile_protos(&["proto/heap.proto", "proto/raft.proto", "proto/admin.proto"], &["proto"])?;
    Ok(())
}
