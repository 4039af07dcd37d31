//! The demo site: sign in, a visit counter, a small cart, the list of the user's sessions
//! ("where am I signed in") with sign-out per device, sign out.
//!
//! [`configure`] registers the routes; [`config`] reads the session configuration the way the
//! demo does (see [`figment()`]). `examples/demo.rs` serves them on <http://127.0.0.1:8080>:
//!
//! ```text
//! cargo run --example demo
//! SESSION_STORE=redis SESSION_REDIS__URL=redis://127.0.0.1:6379 cargo run --example demo
//! ```
//!
//! Everything the visitor does lives in one typed session, [`Visitor`]. Every change goes
//! through a POST form; pages are plain HTML with user input escaped.

use std::{collections::BTreeMap, fmt::Write as _};

use actix_web::{
    HttpResponse,
    cookie::time::{Duration, OffsetDateTime},
    http::{
        StatusCode,
        header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, ContentType, LOCATION},
    },
    web,
};
use figment::{Figment, providers::Serialized};
use serde::Deserialize;
use session::{session, storage::SessionInfo};
use session_config::{ConfigError, SessionConfig};

/// The longest name the sign-in form accepts, in characters.
pub const MAX_NAME_CHARS: usize = 40;
/// The most of one product the cart holds.
pub const MAX_QUANTITY: u32 = 99;

/// The visitor's session: who signed in, how many pages they saw, what is in their cart.
///
/// `#[session]` turns the fields into typed accessors over the request's session (keys
/// `demo.user`, `demo.visits`, `demo.cart`), and the struct into a handler argument.
#[session(prefix = "demo")]
pub struct Visitor {
    /// The signed-in user's name; none before signing in. Setting it binds the session to the
    /// user (the demo has no accounts: the name is the owner id).
    #[session(owner)]
    pub user: Option<String>,
    /// Pages seen since signing in.
    #[session(default)]
    pub visits: u32,
    /// Product id → quantity.
    #[session(default)]
    pub cart: BTreeMap<String, u32>,
}

/// A product of the demo's shop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Product {
    /// What the cart stores and the forms send.
    pub id: &'static str,
    /// What the page shows.
    pub name: &'static str,
    /// The price in cents.
    pub price_cents: u32,
}

/// Everything the shop sells. Only these ids get into a cart.
pub const PRODUCTS: &[Product] = &[
    Product {
        id: "tea",
        name: "Green tea",
        price_cents: 450,
    },
    Product {
        id: "coffee",
        name: "Espresso beans",
        price_cents: 1290,
    },
    Product {
        id: "cookies",
        name: "Oat cookies",
        price_cents: 320,
    },
];

fn product(id: &str) -> Option<&'static Product> {
    PRODUCTS.iter().find(|product| product.id == id)
}

/// The demo's configuration layers: the built-in defaults, then **the demo's own defaults
/// `cookie.secure = false` and `devices.record_user_agent = true`**, then `session.toml` (or
/// the file named by `SESSION_CONFIG`), then the `SESSION_*` environment variables.
///
/// The demo serves plain HTTP on localhost, where a `Secure` cookie would not be sent back by
/// every client, so it turns `Secure` off for itself, but only as a default: a file or an
/// environment variable that sets `cookie.secure` still wins.
///
/// It also records each signed-in session's browser (`devices.record_user_agent`), so that
/// the list of sessions can tell devices apart.
pub fn figment() -> Figment {
    SessionConfig::figment_with_defaults(
        Figment::from(Serialized::default("cookie.secure", false))
            .merge(Serialized::default("devices.record_user_agent", true)),
    )
}

/// Reads and checks the demo's configuration from [`figment()`]. Build the middleware with
/// `config.build().await?`: the in-memory store and an ephemeral key (with a warning, in
/// debug builds) unless the file or the environment say otherwise.
pub fn config() -> Result<SessionConfig, ConfigError> {
    SessionConfig::from_figment(&figment())
}

/// Registers the demo's routes. Wrap the app in a session middleware (see [`config`]).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(index))
        .route("/login", web::post().to(login))
        .route("/cart", web::post().to(add_to_cart))
        .route("/cart/empty", web::post().to(empty_cart))
        .route("/sessions/revoke", web::post().to(revoke_session))
        .route(
            "/sessions/revoke-others",
            web::post().to(revoke_other_sessions),
        )
        .route("/logout", web::post().to(logout));
}

#[derive(Deserialize)]
struct LoginForm {
    name: String,
}

#[derive(Deserialize)]
struct CartForm {
    item: String,
}

#[derive(Deserialize)]
struct RevokeForm {
    id: String,
}

async fn index(visitor: Visitor) -> actix_web::Result<HttpResponse> {
    let Some(user) = visitor.user()? else {
        return Ok(page(StatusCode::OK, &login_form(None)));
    };
    let visits = visitor.visits()?.saturating_add(1);
    visitor.set_visits(visits)?;
    let cart = visitor.cart()?;
    // Listing needs a store that keeps sessions (memory, Redis, SQL); the cookie store
    // cannot, and the page says so instead of failing.
    let sessions = visitor.session().owner_sessions().await.ok();
    let mut html = dashboard(&user, visits, &cart);
    html.push_str(&sessions_section(
        sessions.as_deref(),
        OffsetDateTime::now_utc(),
    ));
    Ok(page(StatusCode::OK, &html))
}

async fn login(visitor: Visitor, form: web::Form<LoginForm>) -> actix_web::Result<HttpResponse> {
    let name = form.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        let error = format!("Please enter a name of 1 to {MAX_NAME_CHARS} characters.");
        return Ok(page(StatusCode::BAD_REQUEST, &login_form(Some(&error))));
    }
    // Signing in raises the session's privileges: move it to a new key, so that a key planted
    // or seen before the sign-in is worth nothing after it (session fixation).
    visitor.session().renew();
    // Setting the owner field binds the session to the user: it appears in their list of
    // sessions, and "sign out everywhere else" reaches it.
    visitor.set_user(name.to_owned())?;
    visitor.set_visits(0)?;
    Ok(see_other("/"))
}

async fn add_to_cart(
    visitor: Visitor,
    form: web::Form<CartForm>,
) -> actix_web::Result<HttpResponse> {
    if visitor.user()?.is_none() {
        return Ok(see_other("/"));
    }
    // Only ids of the catalogue get into the session, whatever the client sends.
    let Some(product) = product(&form.item) else {
        return Ok(page(
            StatusCode::BAD_REQUEST,
            "<section class=\"card\"><p>There is no such product. <a href=\"/\">Back</a></p></section>",
        ));
    };
    let mut cart = visitor.cart()?;
    let quantity = cart.entry(product.id.to_owned()).or_insert(0);
    *quantity = quantity.saturating_add(1).min(MAX_QUANTITY);
    visitor.set_cart(cart)?;
    Ok(see_other("/"))
}

async fn empty_cart(visitor: Visitor) -> actix_web::Result<HttpResponse> {
    visitor.remove_cart()?;
    Ok(see_other("/"))
}

/// Signs out one of the user's other sessions. An id that is not one of theirs does nothing.
async fn revoke_session(
    visitor: Visitor,
    form: web::Form<RevokeForm>,
) -> actix_web::Result<HttpResponse> {
    if visitor.user()?.is_some() {
        let revoked = visitor.session().revoke_session(&form.id).await;
        revoked.map_err(actix_web::error::ErrorInternalServerError)?;
    }
    Ok(see_other("/"))
}

/// Signs out every session of the user but this one.
async fn revoke_other_sessions(visitor: Visitor) -> actix_web::Result<HttpResponse> {
    if visitor.user()?.is_some() {
        let revoked = visitor.session().revoke_other_sessions().await;
        revoked.map_err(actix_web::error::ErrorInternalServerError)?;
    }
    Ok(see_other("/"))
}

async fn logout(visitor: Visitor) -> HttpResponse {
    // Deletes the state from the store and tells the browser to drop the cookie: a copy of
    // the old cookie opens nothing any more.
    visitor.session().purge();
    see_other("/")
}

/// A redirect after a POST, so that reloading the page does not send the form again.
fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((LOCATION, location))
        .finish()
}

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

fn price(cents: u64) -> String {
    format!("${}.{:02}", cents / 100, cents % 100)
}

fn login_form(error: Option<&str>) -> String {
    let error = error
        .map(|error| format!("<p class=\"error\">{}</p>", escape_html(error)))
        .unwrap_or_default();
    format!(
        "<section class=\"card\"><h2>Sign in</h2>\
         <p class=\"muted\">Any name will do: the demo has no passwords.</p>{error}\
         <form method=\"post\" action=\"/login\" class=\"row\">\
         <input id=\"name\" name=\"name\" placeholder=\"Your name\" required \
         maxlength=\"{MAX_NAME_CHARS}\" autofocus>\
         <button id=\"login\">Sign in</button></form></section>"
    )
}

fn dashboard(user: &str, visits: u32, cart: &BTreeMap<String, u32>) -> String {
    let mut html = format!(
        "<section class=\"card row spread\">\
         <p>Signed in as <strong id=\"user\">{}</strong></p>\
         <form method=\"post\" action=\"/logout\"><button id=\"logout\" class=\"quiet\">Sign out</button></form>\
         </section>\
         <section class=\"card\"><p class=\"counter\"><span id=\"visits\">{visits}</span> \
         page {} in this session</p></section>",
        escape_html(user),
        if visits == 1 { "view" } else { "views" },
    );

    html.push_str("<section class=\"card\"><h2>Shop</h2><ul class=\"products\">");
    for product in PRODUCTS {
        let _ = write!(
            html,
            "<li><span>{}</span><span class=\"muted\">{}</span>\
             <form method=\"post\" action=\"/cart\">\
             <input type=\"hidden\" name=\"item\" value=\"{}\">\
             <button id=\"add-{}\">Add</button></form></li>",
            escape_html(product.name),
            price(product.price_cents.into()),
            escape_html(product.id),
            escape_html(product.id),
        );
    }
    html.push_str("</ul></section><section class=\"card\" id=\"cart\"><h2>Cart</h2>");

    // Only catalogue ids were ever stored, but the session is data: skip what is unknown.
    let lines: Vec<(&Product, u32)> = cart
        .iter()
        .filter_map(|(id, quantity)| product(id).map(|product| (product, *quantity)))
        .collect();
    if lines.is_empty() {
        html.push_str("<p class=\"muted\">Empty. Add something above.</p></section>");
        return html;
    }
    html.push_str("<table>");
    let mut total: u64 = 0;
    for (product, quantity) in lines {
        let cost = u64::from(product.price_cents) * u64::from(quantity);
        total += cost;
        let _ = write!(
            html,
            "<tr data-item=\"{}\"><td>{}</td><td class=\"qty\">{quantity}</td><td>{}</td></tr>",
            escape_html(product.id),
            escape_html(product.name),
            price(cost),
        );
    }
    let _ = write!(
        html,
        "<tr class=\"total\"><td>Total</td><td></td><td id=\"total\">{}</td></tr></table>\
         <form method=\"post\" action=\"/cart/empty\"><button class=\"quiet\">Empty the cart</button></form>\
         </section>",
        price(total),
    );
    html
}

/// "Your sessions": every device the user is signed in on, newest activity first, each with
/// a sign-out button, and one to sign out everywhere else. `None`: the store cannot list.
fn sessions_section(sessions: Option<&[SessionInfo]>, now: OffsetDateTime) -> String {
    let mut html = String::from("<section class=\"card\" id=\"sessions\"><h2>Your sessions</h2>");
    let Some(sessions) = sessions else {
        html.push_str(
            "<p class=\"muted\">This store keeps sessions in cookies: it cannot list them.</p></section>",
        );
        return html;
    };
    html.push_str("<ul class=\"sessions\">");
    for info in sessions {
        let action = if info.current {
            "<span class=\"badge\" id=\"this-device\">This device</span>".to_owned()
        } else {
            format!(
                "<form method=\"post\" action=\"/sessions/revoke\">\
                 <input type=\"hidden\" name=\"id\" value=\"{}\">\
                 <button class=\"quiet revoke\">Sign out</button></form>",
                escape_html(&info.public_id)
            )
        };
        let _ = write!(
            html,
            "<li data-session=\"{}\" data-current=\"{}\"><span><strong>{}</strong><br>\
             <span class=\"muted\">last seen {}</span></span>{action}</li>",
            escape_html(&info.public_id),
            info.current,
            escape_html(&device_name(info.user_agent.as_deref())),
            last_seen(now - info.last_seen),
        );
    }
    html.push_str("</ul>");
    if sessions.iter().any(|info| !info.current) {
        html.push_str(
            "<form method=\"post\" action=\"/sessions/revoke-others\">\
             <button id=\"revoke-others\" class=\"quiet\">Sign out everywhere else</button></form>",
        );
    }
    html.push_str("</section>");
    html
}

/// A short name for the browser behind a user agent: "Firefox on Linux".
pub fn device_name(user_agent: Option<&str>) -> String {
    let Some(agent) = user_agent else {
        return "Unknown browser".to_owned();
    };
    let browser = [
        ("Edg/", "Edge"),
        ("HeadlessChrome/", "Headless Chrome"),
        ("Chrome/", "Chrome"),
        ("Firefox/", "Firefox"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
    ]
    .iter()
    .find(|(marker, _)| agent.contains(marker))
    .map_or("A browser", |(_, name)| name);
    let system = [
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(marker, _)| agent.contains(marker))
    .map(|(_, name)| *name);
    match system {
        Some(system) => format!("{browser} on {system}"),
        None => browser.to_owned(),
    }
}

/// "just now", "5 minutes ago", "3 hours ago", "2 days ago".
fn last_seen(ago: Duration) -> String {
    let plural = |n: i64, unit: &str| format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" });
    match ago.whole_minutes() {
        ..1 => "just now".to_owned(),
        minutes @ 1..60 => plural(minutes, "minute"),
        minutes if minutes < 60 * 24 => plural(minutes / 60, "hour"),
        minutes => plural(minutes / (60 * 24), "day"),
    }
}

const STYLE: &str = "\
*{box-sizing:border-box}\
body{margin:0;background:#f3f4f7;color:#1d2433;font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif}\
header{background:#27345c;color:#fff;padding:14px 0}\
header h1{margin:0 auto;max-width:560px;padding:0 16px;font-size:20px;font-weight:600}\
main{max-width:560px;margin:20px auto;padding:0 16px}\
.card{background:#fff;border-radius:10px;box-shadow:0 1px 3px rgba(20,30,60,.12);padding:14px 18px;margin-bottom:14px}\
.card p{margin:4px 0}h2{font-size:17px;margin:0 0 8px}\
.row{display:flex;gap:8px;align-items:center}.spread{justify-content:space-between}\
.counter{font-size:18px}#visits{font-size:28px;font-weight:700;color:#27345c}\
.products{list-style:none;margin:0;padding:0}\
.products li{display:grid;grid-template-columns:1fr 80px 70px;align-items:center;padding:6px 0;border-top:1px solid #eceef3}\
.products li:first-child{border-top:0}\
table{width:100%;border-collapse:collapse;margin-bottom:10px}\
td{padding:5px 0;border-top:1px solid #eceef3}tr:first-child td{border-top:0}td:nth-child(2),td:nth-child(3){text-align:right}\
.total td{font-weight:700}\
input{flex:1;font:inherit;padding:7px 10px;border:1px solid #c5cad6;border-radius:6px}\
button{font:inherit;padding:6px 14px;border:0;border-radius:6px;background:#3a56c5;color:#fff;cursor:pointer}\
button.quiet{background:#e6e9f2;color:#27345c}\
.muted{color:#6b7385}.error{color:#b42318}\
.sessions{list-style:none;margin:0 0 10px;padding:0}\
.sessions li{display:flex;justify-content:space-between;align-items:center;padding:7px 0;border-top:1px solid #eceef3}\
.sessions li:first-child{border-top:0}\
.badge{background:#e3f4e8;color:#1b6b37;border-radius:6px;padding:3px 10px;font-size:14px}\
footer{max-width:560px;margin:0 auto 24px;padding:0 16px;color:#6b7385;font-size:13px}";

/// A whole page around `body`. Pages depend on the session: never cached.
fn page(status: StatusCode, body: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(ContentType::html())
        .insert_header((CACHE_CONTROL, "no-store"))
        .insert_header((
            CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ))
        .body(format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
             <title>Session demo</title><style>{STYLE}</style></head><body>\
             <header><h1>Session demo</h1></header><main>{body}</main>\
             <footer>The session cookie is HttpOnly and SameSite=Lax; signing in renews the \
             session key and signing out purges the session.</footer></body></html>"
        ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape_html(r#"<a href="x">Tom & 'Jerry'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn names_devices() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                      HeadlessChrome/131.0.0.0 Safari/537.36";
        assert_eq!(device_name(Some(chrome)), "Headless Chrome on Linux");
        let firefox =
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";
        assert_eq!(device_name(Some(firefox)), "Firefox on Windows");
        assert_eq!(device_name(Some("curl/8.5.0")), "curl");
        assert_eq!(device_name(None), "Unknown browser");
    }

    #[test]
    fn says_when_a_session_was_last_seen() {
        assert_eq!(last_seen(Duration::seconds(20)), "just now");
        assert_eq!(last_seen(Duration::minutes(1)), "1 minute ago");
        assert_eq!(last_seen(Duration::minutes(59)), "59 minutes ago");
        assert_eq!(last_seen(Duration::hours(3)), "3 hours ago");
        assert_eq!(last_seen(Duration::days(2)), "2 days ago");
    }

    #[test]
    fn formats_prices() {
        assert_eq!(price(450), "$4.50");
        assert_eq!(price(1205), "$12.05");
    }
}
