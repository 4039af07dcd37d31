//! A counter in the session, the smallest state that shows whether a session survived:
//! `write` adds one to `n` and answers the new value, `read` answers it unchanged (`0` for a
//! fresh session).

use actix_web::HttpResponse;
use session::Session;

pub(crate) async fn write(session: Session) -> actix_web::Result<HttpResponse> {
    let n = session.get::<u32>("n")?.unwrap_or(0) + 1;
    session.insert("n", n)?;
    Ok(HttpResponse::Ok().body(n.to_string()))
}

pub(crate) async fn read(session: Session) -> actix_web::Result<HttpResponse> {
    let n = session.get::<u32>("n")?.unwrap_or(0);
    Ok(HttpResponse::Ok().body(n.to_string()))
}

/// An app behind `$middleware` with `POST /write` and `GET /read`, plus any extra
/// `"/path" => route` pairs.
// Like the `dead_code` allowance in `support`: not every test crate uses the macro.
#[allow(unused_macros)]
macro_rules! counter_app {
    ($middleware:expr $(, $path:literal => $route:expr)* $(,)?) => {
        actix_web::test::init_service(
            actix_web::App::new()
                .wrap($middleware)
                .route("/write", actix_web::web::post().to($crate::support::counter::write))
                .route("/read", actix_web::web::get().to($crate::support::counter::read))
                $(.route($path, $route))*,
        )
        .await
    };
}
#[allow(unused_imports)]
pub(crate) use counter_app;
