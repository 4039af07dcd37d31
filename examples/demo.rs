//! The demo: a small site with sign-in, a visit counter and a cart (`examples::demo`).
//!
//! ```text
//! cargo run --example demo
//! ```
//! then open <http://127.0.0.1:8080>. It runs on the embedded default: the in-memory store
//! and, in debug builds, a random key (with a warning). `session.toml` and `SESSION_*`
//! variables configure it like any service, for example on Redis:
//!
//! ```text
//! SESSION_STORE=redis SESSION_REDIS__URL=redis://127.0.0.1:6379 cargo run --example demo
//! ```
//!
//! or on a SQLite file, where visitors stay signed in across restarts (with a fixed
//! `SESSION_SECRET_KEY`):
//!
//! ```text
//! SESSION_STORE=sqlite SESSION_SQLITE__PATH=/tmp/demo-sessions.db cargo run --example demo
//! ```
#![forbid(unsafe_code)]

use std::process::ExitCode;

use actix_web::{App, HttpServer, middleware::Logger};
use examples::demo;

const ADDRESS: (&str, u16) = ("127.0.0.1", 8080);

#[actix_web::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();

    // Defaults < the demo's `cookie.secure = false` < session.toml < SESSION_* (see
    // `demo::figment`); every problem is reported with the key and where it came from.
    let middleware = match demo::config() {
        Ok(config) => {
            tracing::info!(
                store = config.store.as_str(),
                "session configuration loaded"
            );
            config.build().await
        }
        Err(err) => Err(err),
    };
    let middleware = match middleware {
        Ok(middleware) => middleware,
        Err(err) => {
            eprintln!("invalid session configuration:\n{err}");
            return ExitCode::FAILURE;
        }
    };

    println!("Session demo on http://{}:{}", ADDRESS.0, ADDRESS.1);
    // One middleware, so one store, shared by every worker.
    let server = HttpServer::new(move || {
        App::new()
            .wrap(middleware.clone())
            .wrap(Logger::default())
            .configure(demo::configure)
    })
    .bind(ADDRESS);
    let result = match server {
        Ok(server) => server.run().await,
        Err(err) => Err(err),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("cannot serve on {}:{}: {err}", ADDRESS.0, ADDRESS.1);
            ExitCode::FAILURE
        }
    }
}
