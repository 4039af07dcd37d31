//! What a client sees when the session middleware fails: an opaque `500` with an empty body.
//! The cause goes to `tracing`, never to the client.

use actix_web::HttpResponse;

/// Logs a store failure with its cause and returns the opaque error the client sees.
pub(crate) fn store_failure(
    operation: &'static str,
    err: &dyn std::error::Error,
) -> actix_web::Error {
    let mut causes = Vec::new();
    let mut source = err.source();
    while let Some(cause) = source {
        causes.push(cause.to_string());
        source = cause.source();
    }
    tracing::error!(operation, error = %err, causes = ?causes, "the session store failed");
    opaque_500()
}

/// An error whose response is a bare `500 Internal Server Error` with an empty body.
pub(crate) fn opaque_500() -> actix_web::Error {
    actix_web::error::InternalError::from_response(
        "session middleware failure",
        HttpResponse::InternalServerError().finish(),
    )
    .into()
}
