//! Prints the OpenAPI document: `cargo run -p oms-contract --example openapi > openapi.json`.

fn main() {
    println!("{}", oms_contract::to_json());
}
