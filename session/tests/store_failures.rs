//! A store that fails gives an opaque 500 with an empty body, and nothing else leaks.

mod support;

use std::rc::Rc;

use actix_web::{App, HttpResponse, cookie::Key, dev::Service as _, test, web};
use session::{Session, SessionMiddleware, storage::MemorySessionStore};
use support::{
    handlers::purge,
    hooked_store::HookedStore,
    http_helpers::{cookie_of, post, send},
};

#[actix_web::test]
async fn store_outages_are_opaque_500s_and_recover() {
    let store = HookedStore::new(MemorySessionStore::new());
    let hooks = Rc::clone(&store.hooks);
    let app = test::init_service(
        App::new()
            .wrap(SessionMiddleware::new(store, Key::generate()))
            .route(
                "/write",
                web::post().to(|session: Session| async move {
                    session
                        .insert("n", 1)
                        .map(|()| HttpResponse::Ok().body("written"))
                }),
            )
            .route("/logout", web::post().to(purge)),
    )
    .await;

    // Working: a session is created.
    let res = send(&app, post("/write", None)).await;
    let cookie = cookie_of(&res).expect("cookie");

    hooks.set_down(true);
    for (uri, with_cookie) in [("/write", false), ("/write", true), ("/logout", true)] {
        let res = app.call(post(uri, with_cookie.then_some(&cookie))).await;
        let res = match res {
            Ok(res) => res.map_into_boxed_body(),
            Err(err) => actix_web::dev::ServiceResponse::new(
                test::TestRequest::default().to_http_request(),
                err.error_response(),
            ),
        };
        assert_eq!(
            res.status().as_u16(),
            500,
            "{uri} with_cookie={with_cookie}"
        );
        assert!(
            res.headers().get("set-cookie").is_none(),
            "no cookie on failure"
        );
        let body = test::read_body(res).await;
        assert!(body.is_empty(), "the body is empty, not {body:?}");
    }

    // The store comes back: the same app serves the same session again.
    hooks.set_down(false);
    let res = app
        .call(post("/write", Some(&cookie)))
        .await
        .expect("recovered");
    assert_eq!(res.status().as_u16(), 200);
}

#[actix_web::test]
async fn handlers_answering_5xx_do_not_persist_changes() {
    let store = MemorySessionStore::new();
    let app = test::init_service(
        App::new()
            .wrap(SessionMiddleware::new(store.clone(), Key::generate()))
            .route(
                "/fail",
                web::post().to(|session: Session| async move {
                    let _ = session.insert("half", "written");
                    HttpResponse::InternalServerError().finish()
                }),
            ),
    )
    .await;
    let res = send(&app, post("/fail", None)).await;
    assert_eq!(res.status().as_u16(), 500);
    assert!(res.headers().get("set-cookie").is_none());
    assert!(store.is_empty(), "nothing was stored");
}

#[actix_web::test]
async fn state_too_large_for_a_cookie_is_a_loud_500_not_a_dropped_cookie() {
    let app = test::init_service(
        App::new()
            .wrap(SessionMiddleware::new(
                session::storage::CookieSessionStore::default(),
                Key::generate(),
            ))
            .route(
                "/big",
                web::post().to(|session: Session, size: web::Query<std::collections::HashMap<String, usize>>| async move {
                    let size = size.get("n").copied().unwrap_or(0);
                    session.insert("blob", "x".repeat(size)).map(|()| HttpResponse::Ok().finish())
                }),
            ),
    )
    .await;
    let res = send(&app, post("/big?n=2000", None)).await;
    let cookie = cookie_of(&res).expect("fits");
    assert!(format!("id={}", cookie.value()).len() <= 4096);

    for n in [2900, 3500, 5000] {
        let res = app.call(post(&format!("/big?n={n}"), None)).await;
        let status = match res {
            Ok(res) => {
                let pair_len = cookie_of(&res).map(|c| format!("id={}", c.value()).len());
                assert!(
                    pair_len.is_none_or(|len| len <= 4096),
                    "n={n}: oversize cookie sent"
                );
                res.status().as_u16()
            }
            Err(err) => err.error_response().status().as_u16(),
        };
        if n >= 3500 {
            assert_eq!(status, 500, "n={n}");
        }
    }
}
