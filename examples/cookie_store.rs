//! The cookie store: no server-side state at all, the session travels inside the cookie.
//!
//! ```text
//! cargo run --example cookie_store
//! curl -i -c jar -b jar http://127.0.0.1:8081/     # run it a few times
//! ```
//! Trade-offs: the state must fit in a 4 KiB cookie (bigger states are refused and logged),
//! and a copied cookie stays valid until its TTL ends: `purge()` cannot revoke copies. The
//! TTL is still enforced server-side, because the expiry is inside the encrypted payload.
#![forbid(unsafe_code)]

use actix_web::{App, HttpServer, Responder, cookie::Key, web};
use session::{Session, SessionMiddleware, storage::CookieSessionStore};

async fn count(session: Session) -> actix_web::Result<impl Responder> {
    let visits = session.get::<u32>("visits")?.unwrap_or(0) + 1;
    session.insert("visits", visits)?;
    Ok(format!(
        "visit {visits}; the whole state is in your (encrypted) cookie\n"
    ))
}

async fn forget(session: Session) -> impl Responder {
    // Sends a removal cookie; copies of the old cookie stay valid until their TTL ends.
    session.purge();
    "forgotten\n"
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    // In production load a fixed key of at least 64 bytes (`Key::from`), or use session-config.
    let key = Key::generate();
    println!("cookie store example on http://127.0.0.1:8081 (POST /forget to end the session)");
    HttpServer::new(move || {
        App::new()
            .wrap(
                SessionMiddleware::builder(CookieSessionStore::default(), key.clone())
                    // Plain HTTP on localhost only: keep the default `Secure` everywhere else.
                    .cookie_secure(false)
                    .build(),
            )
            .route("/", web::get().to(count))
            .route("/forget", web::post().to(forget))
    })
    .bind(("127.0.0.1", 8081))?
    .run()
    .await
}
