//! The conformance suites every [`SessionStore`] must pass (feature `test-helpers`).
//!
//! Run both against your store; each drives the real middleware:
//!
//! ```no_run
//! use session::{
//!     storage::MemorySessionStore,
//!     test_helpers::{acceptance_test_suite, concurrency_test_suite},
//! };
//!
//! #[actix_web::test]
//! async fn my_store_conforms() {
//!     let store = MemorySessionStore::new();
//!     acceptance_test_suite(move || store.clone(), true).await;
//! }
//!
//! #[actix_web::test]
//! async fn my_store_loses_no_update() {
//!     let store = MemorySessionStore::new();
//!     concurrency_test_suite(move || store.clone()).await;
//! }
//! ```
//!
//! [`header_transport_test_suite`] runs the lifecycle again with the session token in a
//! request header ([`SessionTransport::Header`](crate::config::SessionTransport::Header))
//! instead of a cookie.
//!
//! Each step of a suite is also a public function, in [`acceptance`], [`concurrency`] and
//! [`header`], named after the promise it checks: when a suite fails, run the failing step on
//! its own.

pub mod acceptance;
mod app;
pub mod concurrency;
pub mod header;
pub mod owners;

use actix_web::cookie::Key;

use crate::{
    config::{Clock, CookieContentSecurity},
    storage::SessionStore,
};

/// A fresh random key for signing or encrypting cookies.
pub fn key() -> Key {
    Key::generate()
}

/// Runs the whole session lifecycle through the real middleware against stores made by
/// `store_builder`, once with `Signed` and once with `Private` cookies: every function of
/// [`acceptance`].
///
/// Covered: create; read without a `Set-Cookie`; change; renew (the old key is dead when
/// `is_invalidation_supported`); purge with a removal cookie that repeats the cookie's
/// attributes; persistent vs browser cookies; both TTL extension policies; guards reading the
/// session; the whole flow over real HTTP.
///
/// `is_invalidation_supported` is `true` for stores that forget a session when it is
/// deleted (server-side stores) and `false` for the cookie store, where a copied cookie stays
/// valid until it expires.
///
/// # Panics
/// When the store does not behave as a session store must.
pub async fn acceptance_test_suite<F, Store>(store_builder: F, is_invalidation_supported: bool)
where
    Store: SessionStore + 'static,
    F: Fn() -> Store + Clone + Send + 'static,
{
    use acceptance::*;

    let invalidation = is_invalidation_supported;
    for security in [
        CookieContentSecurity::Signed,
        CookieContentSecurity::Private,
    ] {
        a_new_session_sets_one_cookie_with_the_configured_attributes(store_builder(), security)
            .await;
        reading_sends_no_cookie(store_builder(), security).await;
        browser_session_cookie_has_no_max_age(store_builder(), security).await;
        ttl_is_extended_on_changes_only(store_builder(), security).await;
        ttl_is_extended_on_every_request(store_builder(), security).await;
        renew_keeps_the_state_under_a_new_key(store_builder(), invalidation, security).await;
        purge_sends_a_removal_cookie_and_forgets_the_session(
            store_builder(),
            invalidation,
            security,
        )
        .await;
        guards_read_the_session(store_builder(), security).await;
        the_lifecycle_works_over_real_http(store_builder.clone(), invalidation, security).await;
    }
}

/// Runs the session lifecycle with the token in a request header, over a real HTTP server
/// with a client that keeps no cookies, against stores from `store_builder` (clones must
/// share one backend): every function of [`header`], with `Signed` and `Private` tokens, for
/// `Authorization: Bearer <token>` and for a header of the app's own.
///
/// Covered: an empty session sends no token; a change sends one (and no cookie), with `Vary`;
/// reads send none; renew sends a new token and (when `is_invalidation_supported`) kills the
/// old one; purge answers an empty token header and the purged token starts nothing; cookies
/// are not read.
///
/// # Panics
/// When the store does not behave as a session store must.
pub async fn header_transport_test_suite<F, Store>(
    store_builder: F,
    is_invalidation_supported: bool,
) where
    Store: SessionStore + 'static,
    F: Fn() -> Store + Clone + Send + 'static,
{
    use actix_web::http::header::{AUTHORIZATION, HeaderName};

    for security in [
        CookieContentSecurity::Signed,
        CookieContentSecurity::Private,
    ] {
        for name in [
            AUTHORIZATION,
            HeaderName::from_static(header::CUSTOM_HEADER),
        ] {
            header::the_lifecycle_works_over_a_header(
                store_builder.clone(),
                is_invalidation_supported,
                security,
                name.clone(),
            )
            .await;
            header::unchanged_sessions_send_no_token(store_builder.clone(), security, name.clone())
                .await;
            header::cookies_are_not_credentials_on_a_header_transport(
                store_builder.clone(),
                security,
                name,
            )
            .await;
        }
    }
}

/// How many parallel requests [`concurrency::parallel_writes_to_different_keys_all_survive`]
/// fires at one session.
pub const PARALLEL_REQUESTS: usize = 50;

/// Checks that a store loses no update under concurrency, over a real HTTP server with two
/// workers whose stores come from `store_builder` (clones must share one backend): every
/// function of [`concurrency`].
///
/// - [`PARALLEL_REQUESTS`] parallel requests on one session, each reading the session,
///   awaiting briefly, then setting its own key: every key survives;
/// - parallel writes of one key end with one of the written values, never a mix;
/// - a request that loaded the session before a concurrent logout does not bring it back;
/// - a request still carrying the old cookie after a concurrent `renew` does not revive the
///   old key.
///
/// Stores that write the whole state on every change (the default
/// [`SessionStore::update_changes`]) fail the first check; the cookie store cannot pass it by
/// design (each response carries its own copy of the state).
///
/// # Panics
/// When an update is lost or a session comes back.
pub async fn concurrency_test_suite<F, Store>(store_builder: F)
where
    Store: SessionStore + 'static,
    F: Fn() -> Store + Clone + Send + 'static,
{
    use concurrency::*;

    parallel_writes_to_different_keys_all_survive(store_builder.clone()).await;
    parallel_writes_to_one_key_leave_one_whole_value(store_builder.clone()).await;
    a_logout_is_not_undone_by_a_request_in_flight(store_builder.clone()).await;
    a_renewed_key_is_not_revived_by_a_request_in_flight(store_builder).await;
}

/// Checks a store's [owner index](crate::storage::OwnerIndex) over a real HTTP server (one
/// worker): every function of [`owners`] but the one for stores without an index.
///
/// `store_builder` is called once per scenario with the scenario's manual [`Clock`], which
/// the middleware runs on, and must return a fresh store whose clones share one backend. A
/// store that can follow the clock should (the memory store:
/// `MemorySessionStore::builder().clock(clock.clone()).build()`); one that keeps real time
/// (Redis) may ignore it: the expiry scenario also waits about a second and a half.
///
/// ```no_run
/// use session::{storage::MemorySessionStore, test_helpers::owner_test_suite};
///
/// #[actix_web::test]
/// async fn my_store_lists_and_revokes_sessions_by_owner() {
///     owner_test_suite(|clock| MemorySessionStore::builder().clock(clock.clone()).build()).await;
/// }
/// ```
///
/// Covered: a bound session is listed, marked current, with its device and label; an
/// owner's sessions are listed most recently seen first; a revoked session is signed out on
/// its next request; another owner's, unknown and malformed public ids are refused alike;
/// "sign out everywhere else" and "everywhere"; a session bound to another owner leaves the
/// first owner's list; a purged session leaves the list; `renew`
/// keeps the public id and the binding; expired sessions are not listed; a request in flight
/// does not resurrect a revoked session; "last seen" is written only after its interval, and
/// never for an unbound session.
///
/// # Panics
/// When the store's owner index does not behave as described.
pub async fn owner_test_suite<F, Store>(store_builder: F)
where
    Store: SessionStore + Clone + Send + 'static,
    F: Fn(&Clock) -> Store,
{
    use owners::*;

    a_bound_session_is_listed_as_current(&store_builder).await;
    sessions_are_listed_newest_activity_first(&store_builder).await;
    a_revoked_session_is_signed_out(&store_builder).await;
    another_owners_session_is_refused_like_an_unknown_one(&store_builder).await;
    revoking_the_others_keeps_the_current_session(&store_builder).await;
    revoking_all_ends_every_session(&store_builder).await;
    a_session_bound_to_another_owner_leaves_the_first_owners_list(&store_builder).await;
    a_purged_session_leaves_the_list(&store_builder).await;
    renew_keeps_the_public_id_and_the_binding(&store_builder).await;
    expired_sessions_are_not_listed(&store_builder).await;
    a_request_in_flight_does_not_resurrect_a_revoked_session(&store_builder).await;
    last_seen_moves_only_after_the_interval(&store_builder).await;
}
