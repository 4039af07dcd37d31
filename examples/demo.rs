//! The demo: a small site on the embedded in-memory store.
//!
//! ```text
//! cargo run --example demo
//! ```
//! then open <http://127.0.0.1:8080>. Sign in, watch the visit counter, sign out.

use actix_web::{
    App, HttpResponse, HttpServer, Responder,
    cookie::Key,
    http::header::{ContentType, LOCATION},
    middleware::Logger,
    web,
};
use serde::Deserialize;
use session::{Session, SessionMiddleware, storage::MemorySessionStore};

const ADDRESS: (&str, u16) = ("127.0.0.1", 8080);

#[derive(Deserialize)]
struct Login {
    name: String,
}

fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '&' => "&amp;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            other => other.to_string(),
        })
        .collect()
}

async fn index(session: Session) -> actix_web::Result<impl Responder> {
    let user = session.get::<String>("user")?;
    let body = match user {
        Some(user) => {
            let visits = session.get::<u32>("visits")?.unwrap_or(0) + 1;
            session.insert("visits", visits)?;
            format!(
                "<h1>Hello, {}!</h1><p>Visits this session: <strong id=\"visits\">{visits}</strong></p>\
                 <form method=\"post\" action=\"/logout\"><button>Sign out</button></form>",
                escape(&user)
            )
        }
        None => "<h1>Session demo</h1>\
                 <form method=\"post\" action=\"/login\">\
                 <label>Name <input name=\"name\" required maxlength=\"40\"></label> \
                 <button>Sign in</button></form>"
            .to_owned(),
    };
    Ok(HttpResponse::Ok()
        .content_type(ContentType::html())
        .body(format!("<!doctype html><title>Session demo</title>{body}")))
}

async fn login(session: Session, form: web::Form<Login>) -> actix_web::Result<impl Responder> {
    let name = form
        .into_inner()
        .name
        .trim()
        .chars()
        .take(40)
        .collect::<String>();
    if !name.is_empty() {
        // A new privilege level gets a new session key (session fixation defence).
        session.renew();
        session.insert("user", name)?;
    }
    Ok(HttpResponse::SeeOther()
        .insert_header((LOCATION, "/"))
        .finish())
}

async fn logout(session: Session) -> impl Responder {
    session.purge();
    HttpResponse::SeeOther()
        .insert_header((LOCATION, "/"))
        .finish()
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();

    // One store shared by every worker. The key is generated at start-up: sessions end when the
    // demo stops. Real services load a fixed 64-byte key.
    let store = MemorySessionStore::new();
    let key = Key::generate();
    tracing::warn!("using an ephemeral cookie key: sessions do not survive a restart");
    println!("Session demo on http://{}:{}", ADDRESS.0, ADDRESS.1);

    HttpServer::new(move || {
        App::new()
            .wrap(
                SessionMiddleware::builder(store.clone(), key.clone())
                    // The demo is served over plain HTTP on localhost.
                    .cookie_secure(false)
                    .build(),
            )
            .wrap(Logger::default())
            .route("/", web::get().to(index))
            .route("/login", web::post().to(login))
            .route("/logout", web::post().to(logout))
    })
    .bind(ADDRESS)?
    .run()
    .await
}
