//! The `#[session]` attribute of the `session` crate: typed session structs for Actix Web.
//!
//! Use it through its re-export, `session::session`, which documents it in full. This crate
//! is an implementation detail: its expansion refers to `::session` (or to the path given
//! with `#[session(crate = "...")]`) and to nothing else, so user crates need neither serde
//! nor actix-web as direct dependencies.
//!
//! ```text
//! #[session::session(prefix = "cart")]
//! pub struct Cart {
//!     pub items: Vec<String>,
//! }
//! // cart.items()?, cart.set_items(..)?, cart.remove_items()?, Cart::ITEMS_KEY == "cart.items"
//! ```
//!
//! One stage per module: `attr` parses the `#[session(...)]` arguments, `ast` describes the
//! struct keeping the original syntax for spans, `valid` checks the rules between fields,
//! and `expand` writes the code. Every error is collected and reported at once, next to the
//! unchanged user item, so that one mistake gives one error.
#![forbid(unsafe_code)]

mod ast;
mod attr;
mod errors;
mod expand;
mod valid;

use proc_macro::TokenStream;

/// Turns a struct into a typed handle on the request's `Session`.
///
/// Each field names a session value and its type; the struct itself stores nothing but the
/// session. Reads and writes go straight to the session, so they mix freely with
/// `Session::get` and `Session::insert`
/// on the same keys, and are saved by the middleware like any other change.
///
/// ```
/// use actix_web::{HttpResponse, web};
/// use session::{Session, session};
///
/// /// The visitor's shopping cart.
/// #[session(prefix = "cart")]
/// pub struct Cart {
///     /// Product ids, in the order they were added.
///     pub items: Vec<u64>,
///     /// The logged-in user, if any.
///     #[session(key = "uid")]
///     pub user_id: Option<u64>,
///     /// Pages seen; `0` until the first visit is counted.
///     #[session(default)]
///     pub visits: u32,
/// }
///
/// // A handler argument, like `Session` itself.
/// async fn add(cart: Cart, item: web::Path<u64>) -> actix_web::Result<HttpResponse> {
///     let mut items = cart.items()?.unwrap_or_default();
///     items.push(item.into_inner());
///     cart.set_items(items)?;
///     cart.set_visits(cart.visits()? + 1)?;
///     Ok(HttpResponse::Ok().finish())
/// }
/// # let _ = web::post().to(add);
///
/// // The same values, through the untyped API.
/// let session = Session::new();
/// let cart = Cart::from_session(&session);
/// cart.set_user_id(7)?;
/// assert_eq!(session.get::<u64>("cart.uid")?, Some(7));
/// assert_eq!(Cart::USER_ID_KEY, "cart.uid");
/// assert_eq!(cart.visits()?, 0);
/// assert_eq!(cart.remove_user_id()?, Some(7));
/// assert_eq!(cart.user_id()?, None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # What it generates
/// The fields are replaced by one private `Session`. The struct
/// implements `FromRequest` (it never fails, like `Session`), `From<Session>`, `Clone`,
/// `Debug`, `Send` and `Sync`, and has `from_session(&Session)` and `session() -> &Session`
/// (for `renew`, `purge` and the like) with the struct's visibility.
///
/// For each field `name: T`, with the field's visibility and doc comment:
///
/// | item | signature |
/// | --- | --- |
/// | getter | `name(&self) -> Result<Option<T>, SessionGetError>` |
/// | setter | `set_name(&self, value: T) -> Result<(), SessionInsertError>` |
/// | remover | `remove_name(&self) -> Result<Option<T>, SessionGetError>` |
/// | key | `const NAME_KEY: &'static str`, the full session key |
///
/// A field of type `Option<U>` stores `U`: its getter and remover return `Option<U>` and its
/// setter takes `U` (remove the value to get `None`). With `#[session(default)]` the getter
/// returns `T`, and `T::default()` when the session has no value.
///
/// A remover removes the value even when it does not deserialize as `T`, and then returns the
/// error. Field types must implement `serde::Serialize` and `serde::de::DeserializeOwned`.
///
/// # Attributes
/// On the struct, `#[session(...)]` accepts:
/// - `prefix = "cart"`: every key becomes `cart.<key>`;
/// - `crate = "path"`: where the `session` crate is, for a crate that renames it
///   (default `::session`).
///
/// On a field:
/// - `key = "uid"`: the key instead of the field's name (the prefix still applies);
/// - `default`: a missing value reads as `Default::default()`;
/// - `default = "path::to::function"`: a missing value reads as `function()`;
/// - `owner`: the setter also binds the session to the value, as its owner
///   (`Session::set_owner(value.to_string())`), so that it appears in the owner's list of
///   sessions and can be signed out from elsewhere. The field's type must implement
///   `Display`; at most one field is the owner. Removing the value does not unbind the
///   session (purge it to sign out).
///
/// ```
/// use session::{session, Session};
///
/// #[session]
/// pub struct Account {
///     #[session(owner)]
///     pub user_id: Option<u64>,
/// }
///
/// let session = Session::new();
/// Account::from_session(&session).set_user_id(42)?;
/// assert_eq!(session.owner().as_deref(), Some("42"));
/// # Ok::<(), session::SessionInsertError>(())
/// ```
///
/// The macro rejects, with an error on the offending token: enums, unions, tuple and unit
/// structs; generic parameters, lifetimes and `where` clauses; unknown, duplicate or empty
/// attribute values; two fields with the same full key; two `owner` fields; `default` on an
/// `Option` field;
/// fields whose accessors would clash with each other or with `session` / `from_session`;
/// `derive` attributes (the handle implements what it can itself).
#[proc_macro_attribute]
pub fn session(args: TokenStream, input: TokenStream) -> TokenStream {
    expand::session(args.into(), &input.into()).into()
}
