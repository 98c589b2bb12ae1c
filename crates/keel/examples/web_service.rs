//! A web service that applies its embedded migrations before it serves
//! traffic, and refuses to start when one fails (incident 5).
//!
//!     DATABASE_URL=sqlite:example.db cargo run -p keel --example web_service
//!     curl 127.0.0.1:7070/version
//!
//! Start several at once: each migration is applied exactly once; the others
//! wait for the lock, find nothing to do, and start serving.

use std::process::ExitCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

static MIGRATIONS: &[keel::EmbeddedFile] = keel::embed_migrations!("examples/migrations");

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite:example.db".into());
    // The whole start-up gate: apply pending migrations or do not start.
    let report = match keel::migrate(&url, MIGRATIONS).await {
        Ok(report) => report,
        Err(e) => {
            eprintln!("refusing to start: {e}");
            if let Some(hint) = e.hint() {
                eprintln!("hint: {hint}");
            }
            return ExitCode::from(2);
        }
    };
    let version = keel::Migrations::from_embedded(MIGRATIONS)
        .ok()
        .and_then(|m| m.latest_version())
        .unwrap_or(0);
    eprintln!(
        "{} migration(s) applied; schema version {version}",
        report.steps.len()
    );

    let listen = std::env::var("LISTEN").unwrap_or_else(|_| "127.0.0.1:7070".into());
    let listener = match tokio::net::TcpListener::bind(&listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cannot listen on {listen}: {e}");
            return ExitCode::from(2);
        }
    };
    eprintln!("listening on http://{listen}");
    loop {
        let Ok((mut socket, _)) = listener.accept().await else {
            continue;
        };
        let mut request = [0u8; 1024];
        let n = socket.read(&mut request).await.unwrap_or(0);
        let body = if request[..n].starts_with(b"GET /version") {
            format!("{{\"schema_version\": {version}}}")
        } else {
            "{\"status\": \"ok\"}".to_string()
        };
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = socket.write_all(response.as_bytes()).await;
    }
}
