//! `cargo run`: every route of the API on one local port (`PORT`, default 3000), demo mode
//! unless provider variables are set.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let port = match std::env::var("PORT") {
        Err(_) => 3000,
        Ok(value) => match value.parse::<u16>() {
            Ok(port) => port,
            Err(_) => {
                eprintln!("PORT must be a port number, not {value:?}");
                return ExitCode::FAILURE;
            }
        },
    };
    match notify::http::serve_all(port).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("could not serve on 127.0.0.1:{port}: {error}");
            ExitCode::FAILURE
        }
    }
}
