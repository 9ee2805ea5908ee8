//! Writes the HTTP API's OpenAPI document to `$OUT_DIR/openapi.json`, which the function
//! compiles in: building it (utoipa, from oms-contract) at start-up was most of the function's
//! cold start. The document depends on nothing but the code, so it is the same either way.

fn main() {
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("openapi.json"), oms_contract::to_json()).expect("OUT_DIR is writable");
    // Otherwise any file of the package would run it again; a change of oms-contract (or of what
    // it compiles in) rebuilds the script, and so runs it, anyway.
    println!("cargo::rerun-if-changed=build.rs");
}
