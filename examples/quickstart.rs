//! The quickstart. Until the hand-written client lands it shows what the crate holds today:
//! the operations generated from Auth0's OpenAPI document.

const SPEC: &str = include_str!("../spec/client-grants.json");

fn main() {
    println!("auth0-client-grants {}", env!("CARGO_PKG_VERSION"));
    println!(
        "A typed client for Auth0's client-grant Management API, generated from Auth0's OpenAPI document."
    );
    println!();
    let spec: serde_json::Value = serde_json::from_str(SPEC).expect("spec/client-grants.json is JSON");
    println!(
        "Operations generated from spec/client-grants.json (OpenAPI {}):",
        spec["openapi"]
    );
    for (path, item) in spec["paths"].as_object().into_iter().flatten() {
        for (method, operation) in item.as_object().into_iter().flatten() {
            if let Some(id) = operation["operationId"].as_str() {
                println!("  {:<6} {path:<46} {id}", method.to_uppercase());
            }
        }
    }
    println!();
    println!("The hand-written client (tokens, retries, pagination) is in progress; see README.md.");
}
