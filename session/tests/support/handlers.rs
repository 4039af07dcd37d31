//! Handlers that several test apps route to.

use actix_web::HttpResponse;
use session::Session;

/// Purges the session: a logout.
pub(crate) async fn purge(session: Session) -> HttpResponse {
    session.purge();
    HttpResponse::Ok().finish()
}

/// Renews the session: a new key for the same state.
pub(crate) async fn renew(session: Session) -> HttpResponse {
    session.renew();
    HttpResponse::Ok().finish()
}
