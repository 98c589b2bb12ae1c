//! A web service that applies its embedded migrations before it serves
//! traffic, and refuses to start when one fails (incident 5).
//!
//!     DATABASE_URL=sqlite:example.db cargo run -p keel --example web_service
//!     curl 127.0.0.1:7070/version
//!
//! Start several at once: each migration is applied exactly once; the others
//! wait for the lock, find nothing to do, and start serving.
//!
//! Start it before its database (as containers often do): it retries
//! connection errors that may pass (refused, not resolvable yet, `57P03`
//! while the server starts, too many connections) for `STARTUP_RETRY_SECS`
//! (default 60), logging each retry, and fails at once on a wrong password,
//! URL or certificate, a missing database or a failed migration.

use std::process::ExitCode;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

static MIGRATIONS: &[keel::EmbeddedFile] = keel::embed_migrations!("examples/migrations");

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    // keel logs each retry through `tracing`: print them on stderr
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite:example.db".into());
    let retry_for = std::env::var("STARTUP_RETRY_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    // The whole start-up gate: apply pending migrations or do not start.
    let migrated = keel::Migrate::new(url, MIGRATIONS)
        .connect_timeout(Duration::from_secs(5))
        .retry_for(Duration::from_secs(retry_for))
        .backoff(Duration::from_millis(250), Duration::from_secs(5))
        .lock_timeout(Duration::from_secs(120))
        .run()
        .await;
    let report = match migrated {
        Ok(report) => report,
        Err(e) => {
            let why = if e.is_transient() {
                "the database did not come up in time"
            } else {
                "this will not pass by retrying"
            };
            eprintln!("refusing to start ({why}): {e}");
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
