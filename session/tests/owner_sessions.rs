//! A user's sessions: the owner scenarios against the memory store, the cookie store's
//! typed refusal, and what a failing owner index does to the request.

use session::{
    storage::{CookieSessionStore, MemorySessionStore},
    test_helpers::{owner_test_suite, owners},
};

#[actix_web::test]
async fn memory_store_passes_the_owner_suite() {
    owner_test_suite(|clock| MemorySessionStore::builder().clock(clock.clone()).build()).await;
}

#[actix_web::test]
async fn the_cookie_store_binds_but_cannot_list_or_revoke() {
    owners::stores_without_an_index_answer_unsupported(|_| CookieSessionStore::default()).await;
}

mod link_failure {
    use actix_web::{
        App, HttpResponse,
        cookie::{Key, time::Duration},
        http::StatusCode,
        test, web,
    };
    use session::{
        Session, SessionMiddleware,
        storage::{
            DeleteError, LoadError, MemorySessionStore, OwnerError, OwnerIndex, OwnerLink,
            SaveError, SessionChanges, SessionInfo, SessionKey, SessionState, SessionStore,
            SharedOwnerIndex, UpdateError,
        },
    };

    /// The memory store, with an owner index that cannot link.
    #[derive(Clone, Default)]
    struct LinkFails(MemorySessionStore);

    impl SessionStore for LinkFails {
        async fn load(&self, key: &SessionKey) -> Result<Option<SessionState>, LoadError> {
            self.0.load(key).await
        }
        async fn save(&self, state: SessionState, ttl: &Duration) -> Result<SessionKey, SaveError> {
            self.0.save(state, ttl).await
        }
        async fn update(
            &self,
            key: SessionKey,
            state: SessionState,
            ttl: &Duration,
        ) -> Result<SessionKey, UpdateError> {
            self.0.update(key, state, ttl).await
        }
        async fn update_ttl(&self, key: &SessionKey, ttl: &Duration) -> Result<(), UpdateError> {
            self.0.update_ttl(key, ttl).await
        }
        async fn delete(&self, key: &SessionKey) -> Result<(), DeleteError> {
            self.0.delete(key).await
        }
        async fn update_changes(
            &self,
            key: SessionKey,
            changes: SessionChanges,
            ttl: &Duration,
        ) -> Result<SessionKey, UpdateError> {
            self.0.update_changes(key, changes, ttl).await
        }
        fn owner_index(&self) -> Option<SharedOwnerIndex> {
            Some(SharedOwnerIndex::new(self.clone()))
        }
    }

    impl OwnerIndex for LinkFails {
        async fn link_owner(&self, _: OwnerLink<'_>) -> Result<(), OwnerError> {
            Err(OwnerError::Store(
                "index unreachable (secret detail)".into(),
            ))
        }
        async fn unlink_owner(&self, owner: &str, id: &str) -> Result<(), OwnerError> {
            self.0.unlink_owner(owner, id).await
        }
        async fn owner_sessions(&self, owner: &str) -> Result<Vec<SessionInfo>, OwnerError> {
            self.0.owner_sessions(owner).await
        }
        async fn revoke_owner_session(&self, owner: &str, id: &str) -> Result<bool, OwnerError> {
            self.0.revoke_owner_session(owner, id).await
        }
        async fn revoke_owner_sessions(&self, owner: &str) -> Result<usize, OwnerError> {
            self.0.revoke_owner_sessions(owner).await
        }
        async fn revoke_other_owner_sessions(
            &self,
            owner: &str,
            keep: &str,
        ) -> Result<usize, OwnerError> {
            self.0.revoke_other_owner_sessions(owner, keep).await
        }
    }

    /// A bound session is stored only if its owner index knows it: when linking fails, the
    /// session just written is deleted, no cookie is sent and the client gets an opaque 500.
    #[actix_web::test]
    async fn a_failed_link_leaves_no_session_behind() {
        let store = LinkFails::default();
        let app = test::init_service(
            App::new()
                .wrap(SessionMiddleware::new(store.clone(), Key::generate()))
                .route(
                    "/login",
                    web::post().to(|session: Session| async move {
                        session.set_owner("alice");
                        HttpResponse::Ok().finish()
                    }),
                ),
        )
        .await;
        let req = test::TestRequest::post().uri("/login").to_request();
        let res = match test::try_call_service(&app, req).await {
            Ok(res) => res.into_parts().1,
            Err(err) => err.error_response(),
        };
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(res.headers().get("set-cookie").is_none());
        let body = actix_web::body::to_bytes(res.into_body())
            .await
            .expect("body");
        assert!(body.is_empty(), "{body:?}");
        assert!(store.0.is_empty(), "the unlinked session was kept");
    }
}

/// With lazy loading, the session an extractor loads carries the store's owner index too.
#[actix_web::test]
async fn owner_operations_work_with_lazy_loading() {
    use actix_web::{App, HttpResponse, cookie::Key, test, web};
    use session::{Session, SessionMiddleware};

    let app = test::init_service(
        App::new()
            .wrap(
                SessionMiddleware::builder(MemorySessionStore::new(), Key::generate())
                    .lazy_loading(true)
                    .build(),
            )
            .route(
                "/login",
                web::post().to(|session: Session| async move {
                    session.set_owner("alice");
                    HttpResponse::Ok().finish()
                }),
            )
            .route(
                "/count",
                web::get().to(|session: Session| async move {
                    match session.owner_sessions().await {
                        Ok(listed) => HttpResponse::Ok().body(listed.len().to_string()),
                        Err(err) => HttpResponse::Conflict().body(err.to_string()),
                    }
                }),
            ),
    )
    .await;
    let res = test::call_service(&app, test::TestRequest::post().uri("/login").to_request()).await;
    let cookie = res
        .response()
        .cookies()
        .next()
        .expect("a session cookie")
        .into_owned();
    let req = test::TestRequest::get()
        .uri("/count")
        .cookie(cookie)
        .to_request();
    assert_eq!(
        test::read_body(test::call_service(&app, req).await).await,
        "1"
    );
}

/// What a bound session records about its device: nothing by default; the peer address, or
/// the proxies' `X-Forwarded-For` only when the application trusts it; the user agent cut
/// to 256 characters.
mod devices {
    use actix_web::{
        App, HttpResponse,
        cookie::{Cookie, Key},
        test, web,
    };
    use session::{Session, SessionMiddleware, config::ClientIp, storage::MemorySessionStore};

    const PEER: &str = "198.51.100.20:40000";
    const FORWARDED: &str = "203.0.113.7";

    async fn login(session: Session) -> HttpResponse {
        session.set_owner("alice");
        HttpResponse::Ok().finish()
    }

    async fn list(session: Session) -> HttpResponse {
        match session.owner_sessions().await {
            Ok(sessions) => HttpResponse::Ok().json(
                sessions
                    .iter()
                    .map(|info| (info.ip.map(|ip| ip.to_string()), info.user_agent.clone()))
                    .collect::<Vec<_>>(),
            ),
            Err(err) => HttpResponse::InternalServerError().body(err.to_string()),
        }
    }

    /// Signs in with a forged `X-Forwarded-For` and a long user agent, and returns what the
    /// list of sessions recorded: (address, user agent).
    async fn recorded(client_ip: ClientIp, user_agent: bool) -> (Option<String>, Option<String>) {
        let middleware = SessionMiddleware::builder(MemorySessionStore::new(), Key::generate())
            .cookie_secure(false)
            .record_client_ip(client_ip)
            .record_user_agent(user_agent)
            .build();
        let app = test::init_service(
            App::new()
                .wrap(middleware)
                .route("/login", web::post().to(login))
                .route("/sessions", web::get().to(list)),
        )
        .await;
        let peer = PEER.parse().expect("a socket address");
        let agent = format!("Mozilla/5.0 {}", "x".repeat(400));
        let response = test::call_service(
            &app,
            test::TestRequest::post()
                .uri("/login")
                .peer_addr(peer)
                .insert_header(("x-forwarded-for", FORWARDED))
                .insert_header(("user-agent", agent))
                .to_request(),
        )
        .await;
        let cookie: Cookie<'static> = response
            .response()
            .cookies()
            .next()
            .expect("a session cookie")
            .into_owned();
        let listed: Vec<(Option<String>, Option<String>)> = test::call_and_read_body_json(
            &app,
            test::TestRequest::get()
                .uri("/sessions")
                .peer_addr(peer)
                .cookie(cookie)
                .to_request(),
        )
        .await;
        assert_eq!(listed.len(), 1, "{listed:?}");
        listed.into_iter().next().expect("one session")
    }

    #[actix_web::test]
    async fn nothing_is_recorded_by_default() {
        assert_eq!(recorded(ClientIp::Off, false).await, (None, None));
    }

    #[actix_web::test]
    async fn the_peer_address_ignores_proxy_headers() {
        let (ip, _) = recorded(ClientIp::Peer, false).await;
        assert_eq!(ip.as_deref(), Some("198.51.100.20"));
    }

    #[actix_web::test]
    async fn forwarded_addresses_only_when_trusted() {
        let (ip, _) = recorded(ClientIp::TrustForwarded, false).await;
        assert_eq!(ip.as_deref(), Some(FORWARDED));
    }

    #[actix_web::test]
    async fn the_user_agent_is_truncated() {
        let (_, agent) = recorded(ClientIp::Off, true).await;
        let agent = agent.expect("a recorded user agent");
        assert_eq!(agent.chars().count(), 256);
        assert!(agent.starts_with("Mozilla/5.0 x"), "{agent}");
    }
}
