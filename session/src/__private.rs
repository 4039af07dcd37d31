//! Runtime support for the code that `#[session]` generates. Not public API: anything in here
//! may change in any release.

use std::{convert::Infallible, future::Ready};

pub use actix_web::{FromRequest, HttpRequest, dev::Payload};
use serde::{Serialize, de::DeserializeOwned};

use crate::session_ext::SessionExt as _;
pub use crate::{
    error::{SessionGetError, SessionInsertError},
    session::Session,
};

/// The future of a typed session struct's extractor: always ready.
pub type Extract<T> = Ready<Result<T, Infallible>>;

/// Extracts a typed session struct from the request's session.
#[inline]
pub fn extract<T: From<Session>>(req: &HttpRequest) -> Extract<T> {
    std::future::ready(Ok(T::from(req.get_session())))
}

/// `T::default()`, for `#[session(default)]` fields.
#[inline]
#[must_use]
pub fn default_value<T: Default>() -> T {
    T::default()
}

/// The owner id of a `#[session(owner)]` field's value: its `Display` text.
#[inline]
#[must_use]
pub fn owner_id<T: OwnerId + ?Sized>(value: &T) -> String {
    value.owner_id()
}

/// What a `#[session(owner)]` field's type must be: `Display`, so that its value can name the
/// session's owner.
#[diagnostic::on_unimplemented(
    message = "`#[session(owner)]` needs a field type that implements `Display`: `{Self}` does not",
    label = "the owner id is this field's value as text",
    note = "use a type like `u64`, `String` or `Uuid` for the owner field, or implement `Display` for `{Self}`"
)]
pub trait OwnerId {
    /// The owner id.
    fn owner_id(&self) -> String;
}

impl<T: std::fmt::Display + ?Sized> OwnerId for T {
    #[inline]
    fn owner_id(&self) -> String {
        self.to_string()
    }
}

/// The typed view of one session key.
///
/// This is the only place where the expansion requires `T: Serialize + DeserializeOwned`: the
/// generated accessors all call it with the same span (the field's type), so a type that
/// cannot be stored gives one error, on the type.
#[inline]
#[must_use]
pub fn typed<'a, T: Serialize + DeserializeOwned>(
    session: &'a Session,
    key: &'static str,
) -> Typed<'a, T> {
    Typed {
        session,
        key,
        ops: Ops {
            get: Session::get::<T>,
            insert: |session, key, value| session.insert(key, value),
            remove: remove::<T>,
        },
    }
}

/// One session key, read and written as `T`; made by [`typed`].
#[derive(Debug)]
pub struct Typed<'a, T> {
    session: &'a Session,
    key: &'static str,
    ops: Ops<T>,
}

/// The operations on `T`, chosen where `T`'s bounds were checked.
struct Ops<T> {
    get: fn(&Session, &str) -> Result<Option<T>, SessionGetError>,
    insert: fn(&Session, &'static str, T) -> Result<(), SessionInsertError>,
    remove: fn(&Session, &str) -> Result<Option<T>, SessionGetError>,
}

impl<T> std::fmt::Debug for Ops<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ops").finish_non_exhaustive()
    }
}

impl<T> Typed<'_, T> {
    /// The value, `None` if there is none.
    ///
    /// # Errors
    /// If the stored value does not deserialize as `T`.
    #[inline]
    pub fn get(self) -> Result<Option<T>, SessionGetError> {
        (self.ops.get)(self.session, self.key)
    }

    /// The value, `default()` if there is none.
    ///
    /// # Errors
    /// If the stored value does not deserialize as `T`.
    #[inline]
    pub fn get_or_else(self, default: impl FnOnce() -> T) -> Result<T, SessionGetError> {
        self.get().map(|value| value.unwrap_or_else(default))
    }

    /// Stores `value`.
    ///
    /// # Errors
    /// If `value` does not serialize as JSON.
    #[inline]
    pub fn insert(self, value: T) -> Result<(), SessionInsertError> {
        (self.ops.insert)(self.session, self.key, value)
    }

    /// Removes the value and returns it, if any.
    ///
    /// # Errors
    /// If the removed value does not deserialize as `T`; it is removed all the same.
    #[inline]
    pub fn remove(self) -> Result<Option<T>, SessionGetError> {
        (self.ops.remove)(self.session, self.key)
    }
}

fn remove<T: DeserializeOwned>(session: &Session, key: &str) -> Result<Option<T>, SessionGetError> {
    session
        .remove(key)
        .map(|value| T::deserialize(value).map_err(|source| SessionGetError::new::<T>(key, source)))
        .transpose()
}
