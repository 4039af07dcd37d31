//! Guards that read the session: route by who is signed in.
//!
//! ```text
//! cargo run --example guards
//! curl -i -c jar -b jar http://127.0.0.1:8085/admin            # 403
//! curl -i -c jar -b jar -X POST http://127.0.0.1:8085/login/admin
//! curl -i -c jar -b jar http://127.0.0.1:8085/admin            # 200
//! ```
//! Guards run before any extractor, so they need the session loaded up front: keep the
//! default eager loading (`lazy_loading = false`). With lazy loading a guard sees a session
//! that is not loaded yet, which reads as empty.
#![forbid(unsafe_code)]

use actix_web::{
    App, HttpResponse, HttpServer, Responder,
    cookie::Key,
    guard::{self, GuardContext},
    web,
};
use session::{Session, SessionExt as _, SessionMiddleware, storage::MemorySessionStore};

/// True when someone is signed in.
fn signed_in(ctx: &GuardContext<'_>) -> bool {
    ctx.get_session().contains_key("role")
}

/// True when an administrator is signed in. A value that does not deserialize counts as no.
fn is_admin(ctx: &GuardContext<'_>) -> bool {
    matches!(ctx.get_session().get::<String>("role"), Ok(Some(role)) if role == "admin")
}

async fn login(session: Session, role: web::Path<String>) -> actix_web::Result<impl Responder> {
    let role = role.into_inner();
    if role != "admin" && role != "user" {
        return Ok(HttpResponse::BadRequest().body("role must be admin or user\n"));
    }
    session.renew();
    session.insert("role", role)?;
    Ok(HttpResponse::NoContent().finish())
}

async fn logout(session: Session) -> impl Responder {
    session.purge();
    HttpResponse::NoContent()
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let store = MemorySessionStore::new();
    let key = Key::generate();
    println!("guards example on http://127.0.0.1:8085");
    HttpServer::new(move || {
        App::new()
            .wrap(
                SessionMiddleware::builder(store.clone(), key.clone())
                    // Plain HTTP on localhost only.
                    .cookie_secure(false)
                    .build(),
            )
            .route("/login/{role}", web::post().to(login))
            .route("/logout", web::post().to(logout))
            // Tried in order: the first route whose guards pass answers.
            .route(
                "/admin",
                web::get()
                    .guard(guard::fn_guard(is_admin))
                    .to(|| async { "welcome, administrator\n" }),
            )
            .route(
                "/admin",
                web::get().to(|| async { HttpResponse::Forbidden().body("administrators only\n") }),
            )
            .route(
                "/",
                web::get()
                    .guard(guard::fn_guard(signed_in))
                    .to(|| async { "hello again\n" }),
            )
            .route(
                "/",
                web::get().to(|| async { "please sign in: POST /login/user\n" }),
            )
    })
    .bind(("127.0.0.1", 8085))?
    .run()
    .await
}
