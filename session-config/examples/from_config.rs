//! Serve a visit counter whose session middleware comes from configuration.
//!
//! ```sh
//! cargo run -p session-config --example from_config
//! SESSION_STORE=cookie SESSION_LIFECYCLE__KIND=persistent cargo run -p session-config --example from_config
//! SESSION_CONFIG=config.example.toml cargo run -p session-config --example from_config
//! ```
//! then open <http://127.0.0.1:8080/> (the default cookie is `Secure`: set
//! `SESSION_COOKIE__SECURE=false` to try it over plain HTTP).

use actix_web::{App, HttpServer, Responder, web};
use session::Session;
use session_config::SessionConfig;

async fn visit(session: Session) -> actix_web::Result<impl Responder> {
    let visits = session.get::<u32>("visits")?.unwrap_or(0) + 1;
    session.insert("visits", visits)?;
    Ok(format!("visit number {visits}"))
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Show the crate's warnings (such as an ephemeral key) unless RUST_LOG says otherwise.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).init();
    let config = match SessionConfig::load() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("invalid session configuration:\n{error}");
            std::process::exit(2);
        }
    };
    let middleware = config.build().await?;
    HttpServer::new(move || {
        App::new()
            .wrap(middleware.clone())
            .route("/", web::get().to(visit))
    })
    .bind(("127.0.0.1", 8080))?
    .run()
    .await?;
    Ok(())
}
