//! The errors of [`Session`](crate::Session)'s typed accessors.
//!
//! Each one names the session key and the Rust type involved, keeps the `serde_json` error as
//! its [`source`](std::error::Error::source), and becomes an opaque `500 Internal Server
//! Error` when a handler returns it: the client never sees what was in the session.

use actix_web::{HttpResponse, ResponseError, body::BoxBody};

/// A session value could not be deserialized as the requested type.
///
/// As a handler error it becomes an opaque `500 Internal Server Error`.
#[derive(Debug, thiserror::Error)]
#[error("failed to deserialize the session value under key `{key}` as `{type_name}`")]
pub struct SessionGetError {
    key: String,
    type_name: &'static str,
    #[source]
    source: serde_json::Error,
}

impl SessionGetError {
    pub(crate) fn new<T>(key: &str, source: serde_json::Error) -> Self {
        Self {
            key: key.to_owned(),
            type_name: std::any::type_name::<T>(),
            source,
        }
    }

    /// The session key involved.
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl ResponseError for SessionGetError {
    fn error_response(&self) -> HttpResponse<BoxBody> {
        HttpResponse::InternalServerError().finish()
    }
}

/// A value could not be serialized into the session.
///
/// As a handler error it becomes an opaque `500 Internal Server Error`.
#[derive(Debug, thiserror::Error)]
#[error("failed to serialize the session value under key `{key}` as `{type_name}`")]
pub struct SessionInsertError {
    key: String,
    type_name: &'static str,
    #[source]
    source: serde_json::Error,
}

impl SessionInsertError {
    pub(crate) fn new<T>(key: &str, source: serde_json::Error) -> Self {
        Self {
            key: key.to_owned(),
            type_name: std::any::type_name::<T>(),
            source,
        }
    }

    /// The session key involved.
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl ResponseError for SessionInsertError {
    fn error_response(&self) -> HttpResponse<BoxBody> {
        HttpResponse::InternalServerError().finish()
    }
}

/// [`Session::update`](crate::Session::update) or
/// [`Session::update_or`](crate::Session::update_or) failed.
///
/// As a handler error it becomes an opaque `500 Internal Server Error`.
#[derive(Debug, thiserror::Error)]
pub enum SessionUpdateError {
    /// The current value did not deserialize.
    #[error(transparent)]
    Get(#[from] SessionGetError),
    /// The new value did not serialize.
    #[error(transparent)]
    Insert(#[from] SessionInsertError),
}

impl ResponseError for SessionUpdateError {
    fn error_response(&self) -> HttpResponse<BoxBody> {
        HttpResponse::InternalServerError().finish()
    }
}
