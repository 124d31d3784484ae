//! Prints the API's OpenAPI 3.1 document (the committed `shop-http/openapi.json`).

#![allow(clippy::print_stdout, clippy::print_stderr)] // printing is this example's job

fn main() {
    match serde_json::to_string_pretty(&shop_http::openapi()) {
        Ok(doc) => println!("{doc}"),
        Err(e) => {
            eprintln!("cannot render the document: {e}");
            std::process::exit(1);
        }
    }
}
