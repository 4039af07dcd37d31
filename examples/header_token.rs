//! Sessions without cookies: the session token in `Authorization: Bearer <token>`, for mobile
//! apps, CLIs and single-page apps on another origin.
//!
//! The client, here `curl` (it keeps no cookies):
//!
//! ```text
//! cargo run --example header_token
//! # sign in: the response carries the new token in `Session-Token`
//! TOKEN=$(curl -s -D - -o /dev/null -X POST http://127.0.0.1:8087/login/ferris \
//!     | tr -d '\r' | sed -n 's/^session-token: //Ip')
//! # use it: responses that leave the session as it was carry no token
//! curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8087/
//! # a change may send a new token in `Session-Token`: keep the newest one
//! curl -i -X POST -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8087/count
//! # sign out: `Session-Token:` comes back empty, meaning the token is void
//! curl -i -X POST -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8087/logout
//! ```
//!
//! A client's whole protocol: send `Authorization: Bearer <token>` when it holds a token;
//! when a response carries `Session-Token`, replace the token with its value, or forget it
//! when the value is empty. Store the token as you would a password (the platform keychain,
//! not `localStorage`). No cookie is read, so browsers cannot send the session on their own:
//! no cross-site request forgery through ambient credentials.
#![forbid(unsafe_code)]

use actix_web::{App, HttpResponse, HttpServer, Responder, cookie::Key, http::header, web};
use session::{Session, SessionMiddleware, config::SessionTransport, storage::MemorySessionStore};

async fn login(session: Session, user: web::Path<String>) -> actix_web::Result<impl Responder> {
    // A new token after signing in (session fixation).
    session.renew();
    session.insert("user", user.into_inner())?;
    Ok("signed in; keep the Session-Token header's value\n")
}

async fn whoami(session: Session) -> actix_web::Result<impl Responder> {
    let user = session.get::<String>("user")?;
    let count = session.get::<u32>("count")?.unwrap_or(0);
    Ok(format!(
        "user: {}, count: {count}\n",
        user.as_deref().unwrap_or("anonymous")
    ))
}

async fn count(session: Session) -> actix_web::Result<impl Responder> {
    let count = session.get::<u32>("count")?.unwrap_or(0) + 1;
    session.insert("count", count)?;
    Ok(format!("count: {count}\n"))
}

async fn logout(session: Session) -> impl Responder {
    // Deletes the session; the response says `Session-Token:` (empty): the token is void.
    session.purge();
    HttpResponse::Ok().body("signed out\n")
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    // In production load a fixed key of at least 64 bytes (`Key::from`), or use session-config
    // (`[transport] kind = "header"`).
    let key = Key::generate();
    let store = MemorySessionStore::new();
    println!("header token example on http://127.0.0.1:8087 (see the file's docs for a client)");
    HttpServer::new(move || {
        App::new()
            .wrap(
                SessionMiddleware::builder(store.clone(), key.clone())
                    .session_transport(SessionTransport::Header(header::AUTHORIZATION))
                    .build(),
            )
            .route("/", web::get().to(whoami))
            .route("/login/{user}", web::post().to(login))
            .route("/count", web::post().to(count))
            .route("/logout", web::post().to(logout))
    })
    .bind(("127.0.0.1", 8087))?
    .run()
    .await
}
