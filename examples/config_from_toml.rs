//! The middleware from configuration: `session.toml` and `SESSION_*` environment variables.
//!
//! ```text
//! cargo run --example config_from_toml                          # ./session.toml if any, then env
//! cargo run --example config_from_toml -- config.example.toml   # this file, then env
//! SESSION_COOKIE__SECURE=false SESSION_LIFECYCLE__KIND=persistent SESSION_LIFECYCLE__TTL=7d \
//!     cargo run --example config_from_toml
//! SESSION_LIFECYCLE__TTL="7 parsecs" cargo run --example config_from_toml   # see the error
//! ```
//! `config.example.toml` lists every key with its default; `SESSION_CONFIG=path` names the
//! file too. Layers, lowest first: defaults, the file, the environment.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use actix_web::{App, HttpServer, Responder, web};
use session::Session;
use session_config::SessionConfig;

async fn count(session: Session) -> actix_web::Result<impl Responder> {
    let visits = session.get::<u32>("visits")?.unwrap_or(0) + 1;
    session.insert("visits", visits)?;
    Ok(format!("visit {visits}\n"))
}

#[actix_web::main]
async fn main() -> ExitCode {
    let config = match std::env::args_os().nth(1) {
        Some(path) => SessionConfig::from_file(path),
        None => SessionConfig::load(),
    };
    // `build` checks the whole configuration and reports every problem at once, each with its
    // key, its value (secrets redacted) and where it came from (file:line or the env variable).
    let middleware = match config {
        Ok(config) => {
            println!("{config:#?}"); // `Debug` never shows the secret keys
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

    println!("config example on http://127.0.0.1:8084");
    let server = HttpServer::new(move || {
        App::new()
            .wrap(middleware.clone())
            .route("/", web::get().to(count))
    })
    .bind(("127.0.0.1", 8084));
    match server {
        Ok(server) => match server.run().await {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("server error: {err}");
                ExitCode::FAILURE
            }
        },
        Err(err) => {
            eprintln!("cannot bind 127.0.0.1:8084: {err}");
            ExitCode::FAILURE
        }
    }
}
