//! [`SessionExt`]: the session from anything that carries a request.

use actix_web::{
    HttpMessage as _, HttpRequest,
    dev::{ServiceRequest, ServiceResponse},
    guard::GuardContext,
};

use crate::session::Session;

/// Gets the request's [`Session`] outside of extractors: in middleware, guards, or from a
/// response.
///
/// ```
/// use actix_web::{guard, web, App};
/// use session::SessionExt as _;
///
/// // Only logged-in users reach `/admin`.
/// let app = App::new().service(
///     web::scope("/admin")
///         .guard(guard::fn_guard(|ctx| {
///             ctx.get_session().contains_key("user_id")
///         }))
/// );
/// # let _ = app;
/// ```
pub trait SessionExt {
    /// The session of this request (an empty one if no session middleware ran).
    fn get_session(&self) -> Session;
}

impl SessionExt for HttpRequest {
    fn get_session(&self) -> Session {
        Session::from_extensions(&mut self.extensions_mut())
    }
}

impl SessionExt for ServiceRequest {
    fn get_session(&self) -> Session {
        Session::from_extensions(&mut self.extensions_mut())
    }
}

impl SessionExt for ServiceResponse {
    fn get_session(&self) -> Session {
        Session::from_extensions(&mut self.request().extensions_mut())
    }
}

impl SessionExt for GuardContext<'_> {
    fn get_session(&self) -> Session {
        Session::from_extensions(&mut self.req_data_mut())
    }
}
