//! Every accepted form of `#[session]`, used as a handler argument.
#![deny(warnings)]

use actix_web::{App, HttpResponse, web};
use serde::{Deserialize, Serialize};
use session::{Session, SessionGetError, SessionInsertError, session};

#[derive(Serialize, Deserialize)]
struct Item {
    name: String,
}

fn five() -> u32 {
    5
}

#[session(prefix = "cart")]
pub struct Cart {
    items: Vec<Item>,
    #[session(key = "uid")]
    pub user_id: Option<u64>,
    #[session(default)]
    pub visits: u32,
    #[session(default = "five")]
    pub limit: u32,
    #[session(key = "m", default = "String::new")]
    pub(crate) message: String,
    #[session(key = "o")]
    #[session(default)]
    other: std::collections::BTreeMap<String, i64>,
    full_path: ::std::option::Option<bool>,
    /// Fields can be configured away, accessors and all.
    #[cfg(any())]
    never: NotSerializable,
    /// Lint levels and deprecation carry over to the accessors.
    #[cfg(all())]
    #[allow(clippy::pedantic)]
    #[deny(deprecated)]
    always: u8,
    #[deprecated = "use `items`"]
    old_items: Vec<String>,
}

#[cfg(any())]
struct NotSerializable;

#[session]
struct NoPrefix {
    value: String,
}

#[session()]
struct EmptyArgs {}

#[session]
struct Empty {}

async fn handler(cart: Cart, plain: NoPrefix) -> actix_web::Result<HttpResponse> {
    let items: Option<Vec<Item>> = cart.items()?;
    let user: Option<u64> = cart.user_id()?;
    let visits: u32 = cart.visits()?;
    let limit: u32 = cart.limit()?;
    let message: String = cart.message()?;
    let other: std::collections::BTreeMap<String, i64> = cart.other()?;
    let flag: Option<bool> = cart.full_path()?;
    cart.set_items(items.unwrap_or_default())?;
    cart.set_user_id(user.unwrap_or(1))?;
    cart.set_visits(visits + 1)?;
    cart.set_limit(limit)?;
    cart.set_message(message)?;
    cart.set_other(other)?;
    cart.set_full_path(flag.unwrap_or(true))?;
    let _: Result<Option<Vec<Item>>, SessionGetError> = cart.remove_items();
    let _: Result<Option<u64>, SessionGetError> = cart.remove_user_id();
    let _: Result<Option<u32>, SessionGetError> = cart.remove_visits();
    let _: Result<Option<String>, SessionGetError> = cart.remove_message();
    let _: Result<(), SessionInsertError> = plain.set_value(String::new());
    let _: &Session = plain.session();
    Ok(HttpResponse::Ok().finish())
}

fn main() {
    let _ = App::new().route("/", web::get().to(handler));

    let keys: [&'static str; 7] = [
        Cart::ITEMS_KEY,
        Cart::USER_ID_KEY,
        Cart::VISITS_KEY,
        Cart::LIMIT_KEY,
        Cart::MESSAGE_KEY,
        Cart::OTHER_KEY,
        Cart::FULL_PATH_KEY,
    ];
    assert_eq!(
        keys,
        [
            "cart.items",
            "cart.uid",
            "cart.visits",
            "cart.limit",
            "cart.m",
            "cart.o",
            "cart.full_path"
        ]
    );
    assert_eq!(NoPrefix::VALUE_KEY, "value");
    assert_eq!(Cart::ALWAYS_KEY, "cart.always");

    let session = Session::new();
    let _ = EmptyArgs::from_session(&session);
    let empty = Empty::from(session);
    let _ = empty.clone().session();
}

/// A `cfg` after `#[session]` removes the impls with the struct.
#[session]
#[cfg(any())]
struct ConfiguredAway {
    value: NotSerializable,
}
