//! Typed sessions with `#[session]`: the recommended way to use sessions.
//!
//! ```text
//! cargo run --example typed_sessions
//! curl -c jar -b jar -X POST http://127.0.0.1:8083/login/42
//! curl -c jar -b jar -X POST http://127.0.0.1:8083/cart/7
//! curl -c jar -b jar http://127.0.0.1:8083/
//! ```
//! Each field becomes typed accessors over one session key: no key strings scattered through
//! handlers, no turbofish, and a type error instead of a typo.
#![forbid(unsafe_code)]

use actix_web::{App, HttpResponse, HttpServer, Responder, cookie::Key, web};
use session::{SessionMiddleware, session, storage::MemorySessionStore};

/// Who is signed in. Keys: `auth.uid`, `auth.name`.
#[session(prefix = "auth")]
pub struct Auth {
    /// `Option<U>`: `user_id()` gives `Option<u64>`, `set_user_id(u64)`.
    #[session(key = "uid")]
    pub user_id: Option<u64>,
    /// `#[session(default)]`: a missing value reads as `String::new()`.
    #[session(default)]
    pub name: String,
}

/// The shopping cart. Key: `cart.items`.
#[session(prefix = "cart")]
pub struct Cart {
    /// Product ids in the order they were added.
    #[session(default)]
    pub items: Vec<u64>,
}

async fn login(auth: Auth, user_id: web::Path<u64>) -> actix_web::Result<impl Responder> {
    // New privileges, new session key (the state, such as the cart, is kept).
    auth.session().renew();
    auth.set_user_id(user_id.into_inner())?;
    auth.set_name(format!("user-{}", auth.user_id()?.unwrap_or_default()))?;
    Ok(HttpResponse::NoContent())
}

async fn add(cart: Cart, item: web::Path<u64>) -> actix_web::Result<impl Responder> {
    let mut items = cart.items()?;
    items.push(item.into_inner());
    cart.set_items(items)?;
    Ok(HttpResponse::NoContent())
}

// Several typed handles can share one request: they all read and write the same session.
async fn show(auth: Auth, cart: Cart) -> actix_web::Result<impl Responder> {
    Ok(match auth.user_id()? {
        Some(id) => format!("{} (#{id}), cart {:?}\n", auth.name()?, cart.items()?),
        None => format!(
            "anonymous, cart {:?} (key {})\n",
            cart.items()?,
            Cart::ITEMS_KEY
        ),
    })
}

async fn logout(auth: Auth) -> impl Responder {
    auth.session().purge();
    HttpResponse::NoContent()
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let store = MemorySessionStore::new();
    let key = Key::generate();
    println!("typed sessions example on http://127.0.0.1:8083");
    HttpServer::new(move || {
        App::new()
            .wrap(
                SessionMiddleware::builder(store.clone(), key.clone())
                    // Plain HTTP on localhost only.
                    .cookie_secure(false)
                    .build(),
            )
            .route("/", web::get().to(show))
            .route("/login/{id}", web::post().to(login))
            .route("/cart/{item}", web::post().to(add))
            .route("/logout", web::post().to(logout))
    })
    .bind(("127.0.0.1", 8083))?
    .run()
    .await
}
