//! The `#[session]` attribute of the [`session`](https://docs.rs/session) crate: typed session
//! structs for Actix Web.
//!
//! Use it through its re-export, `session::session`; this crate is an implementation detail
//! and its expansion refers to `::session`.
//!
//! ```text
//! #[session::session(prefix = "cart")]
//! pub struct Cart {
//!     pub items: Vec<String>,
//! }
//! // Cart::from_session(&session).set_items(vec!["apple".into()])?;
//! ```
//!
//! The stages follow the usual layout of derive crates: [`attr`] parses the `#[session(...)]`
//! arguments, [`ast`] builds the struct's description keeping the original syntax for spans,
//! [`valid`] checks the rules between fields, and [`expand`] writes the code. Every error is
//! collected and reported at once, next to the unchanged user item.
#![forbid(unsafe_code)]

mod ast;
mod attr;
mod errors;
mod expand;
mod valid;

use proc_macro::TokenStream;

/// Turns a struct into a typed handle on the request's session.
#[proc_macro_attribute]
pub fn session(args: TokenStream, input: TokenStream) -> TokenStream {
    expand::session(args.into(), &input.into()).into()
}
