//! The Redis store: sessions shared by every instance of a service, surviving restarts.
//!
//! ```text
//! redis-server --port 6379 &          # or any Redis >= 6
//! REDIS_URL=redis://127.0.0.1:6379 cargo run --example redis_store
//! curl -i -c jar -b jar http://127.0.0.1:8082/
//! ```
//! For a Redis Cluster use `RedisSessionStore::cluster(urls)`; with session-config, set
//! `store = "redis"` and `redis.url` (or `redis.cluster`) instead of writing this code.
#![forbid(unsafe_code)]

use actix_web::{App, HttpServer, Responder, cookie::Key, web};
use session::{Session, SessionMiddleware, storage::RedisSessionStore};

async fn count(session: Session) -> actix_web::Result<impl Responder> {
    // Only the changed key is written back, so parallel requests keep each other's writes.
    let visits = session.get::<u32>("visits")?.unwrap_or(0) + 1;
    session.insert("visits", visits)?;
    Ok(format!(
        "visit {visits}; the state is in Redis, the cookie holds only its key\n"
    ))
}

async fn logout(session: Session) -> impl Responder {
    // Deletes the Redis record: every copy of the cookie is worthless from now on.
    session.purge();
    "logged out\n"
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    // Connects once (with a connect timeout) and reconnects by itself when Redis comes back.
    let store = RedisSessionStore::new(url.clone()).await?;
    // The key must be the same on every instance: load it from your secrets in production.
    let key = Key::generate();
    println!("Redis store example ({url}) on http://127.0.0.1:8082");
    HttpServer::new(move || {
        App::new()
            .wrap(
                SessionMiddleware::builder(store.clone(), key.clone())
                    // Plain HTTP on localhost only.
                    .cookie_secure(false)
                    .build(),
            )
            .route("/", web::get().to(count))
            .route("/logout", web::post().to(logout))
    })
    .bind(("127.0.0.1", 8082))?
    .run()
    .await?;
    Ok(())
}
