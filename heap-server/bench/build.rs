//! Compiles the subset of etcd's v3 API that the benchmark's etcd client speaks, with the vendored
//! protoc, so no system protoc is needed.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    // Build scripts run single-threaded before any other code in this process.
    #[allow(unsafe_code)]
    unsafe {
        std::env::set_var("PROTOC", protoc);
    }
    // Client side only; bytes fields as `Bytes`, so a prebuilt request clones without copying its
    // value.
    tonic_prost_build::configure()
        .bytes(".")
        .build_server(false)
        .compile_protos(&["proto/etcd_kv.proto"], &["proto"])?;
    Ok(())
}
