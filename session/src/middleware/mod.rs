//! [`SessionMiddleware`]: loads the session before the handler, saves it after.
//!
//! This file holds the middleware (the `Transform`) and its per-worker `Service`; each step
//! of the request path has its own file: [`load`] (cookie and state), [`persist`] (save and
//! `Set-Cookie`), [`devices`] (the public id, owner and device kept with each session),
//! [`lazy`] (loading on first extraction), [`failure`] (the opaque `500`).

mod devices;
mod failure;
mod lazy;
pub(crate) mod load;
mod persist;

use std::{
    cell::RefCell,
    future::{Future, Ready, ready},
    pin::Pin,
    rc::Rc,
    sync::Arc,
};

use actix_web::{
    HttpMessage as _,
    body::MessageBody,
    cookie::Key,
    dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready},
};

use crate::{
    config::{BuildError, Configuration, SessionMiddlewareBuilder},
    cookie::verified_cache::VerifiedCookies,
    extract::LazyLoader,
    storage::{SessionStore, SharedOwnerIndex},
};

/// The session middleware: wrap an `App` or scope in it to get [`Session`](crate::Session)s.
///
/// It reads the session cookie, loads the state from the store, hands the handler a
/// [`Session`](crate::Session), and after the handler answers saves what changed and (re)sends the cookie.
///
/// ```no_run
/// use actix_web::{cookie::Key, web, App, HttpServer};
/// use session::{storage::MemorySessionStore, Session, SessionMiddleware};
///
/// # async fn run() -> std::io::Result<()> {
/// let store = MemorySessionStore::new();
/// let key = Key::generate(); // in production: load a fixed 64-byte key
/// HttpServer::new(move || {
///     App::new()
///         .wrap(SessionMiddleware::new(store.clone(), key.clone()))
///         .route("/", web::get().to(|session: Session| async move {
///             let n = session.get::<u32>("n").ok().flatten().unwrap_or(0);
///             let _ = session.insert("n", n + 1);
///             n.to_string()
///         }))
/// })
/// .bind(("127.0.0.1", 8080))?
/// .run()
/// .await
/// # }
/// ```
///
/// Failures are opaque: when the store fails the client gets a `500` with an empty body and
/// the cause is logged with `tracing`. Cookies that do not verify (tampered, truncated, under
/// another key, oversized, not UTF-8) and keys the store does not know give a fresh, empty
/// session.
pub struct SessionMiddleware<Store: SessionStore> {
    store: Arc<Store>,
    configuration: Arc<Configuration>,
}

impl<Store: SessionStore> Clone for SessionMiddleware<Store> {
    fn clone(&self) -> Self {
        Self {
            store: Arc::clone(&self.store),
            configuration: Arc::clone(&self.configuration),
        }
    }
}

impl<Store: SessionStore> std::fmt::Debug for SessionMiddleware<Store> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionMiddleware")
            .field("configuration", &self.configuration)
            .finish_non_exhaustive()
    }
}

impl<Store: SessionStore> SessionMiddleware<Store> {
    /// The middleware with all defaults, over `store`, protecting cookies with `key`.
    pub fn new(store: Store, key: Key) -> Self {
        Self::builder(store, key).build()
    }

    /// Configures a middleware over `store`, protecting cookies with `key`.
    pub fn builder(store: Store, key: Key) -> SessionMiddlewareBuilder<Store> {
        SessionMiddlewareBuilder::new(store, key)
    }

    fn from_parts(store: Store, configuration: Configuration) -> Self {
        Self {
            store: Arc::new(store),
            configuration: Arc::new(configuration),
        }
    }
}

impl<Store: SessionStore> SessionMiddlewareBuilder<Store> {
    /// Builds the middleware.
    ///
    /// # Panics
    /// If the configuration is invalid (see [`try_build`](Self::try_build)); the message says
    /// what to change.
    pub fn build(self) -> SessionMiddleware<Store> {
        match self.try_build() {
            Ok(middleware) => middleware,
            Err(err) => panic!("invalid session middleware configuration: {err}"),
        }
    }

    /// Builds the middleware, or says why the configuration is invalid: cookie settings that
    /// break a [`CookieRule`](crate::config::CookieRule), too many fallback keys, a
    /// non-positive absolute TTL.
    ///
    /// # Errors
    /// [`BuildError::Cookie`] with every broken cookie rule at once; otherwise the first other
    /// problem found.
    pub fn try_build(self) -> Result<SessionMiddleware<Store>, BuildError> {
        let (store, configuration) = self.into_parts()?;
        Ok(SessionMiddleware::from_parts(store, configuration))
    }
}

impl<S, B, Store> Transform<S, ServiceRequest> for SessionMiddleware<Store>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    S::Future: 'static,
    B: MessageBody + 'static,
    Store: SessionStore + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Transform = InnerSessionMiddleware<S, Store>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        let engine = Rc::new(Engine {
            store: Arc::clone(&self.store),
            configuration: Arc::clone(&self.configuration),
            verified_cookies: RefCell::new(VerifiedCookies::new(
                self.configuration.cookie.verified_cache,
            )),
            owner_index: self.store.owner_index(),
        });
        let lazy_loader = self
            .configuration
            .lazy_loading
            .then(|| LazyLoader::new(Rc::new(Rc::clone(&engine))));
        ready(Ok(InnerSessionMiddleware {
            service: Rc::new(service),
            engine,
            lazy_loader,
        }))
    }
}

/// The per-worker service behind [`SessionMiddleware`]. Public only because it is
/// `Transform::Transform`; no path names it.
#[allow(unreachable_pub)]
pub struct InnerSessionMiddleware<S, Store: SessionStore> {
    service: Rc<S>,
    engine: Rc<Engine<Store>>,
    /// Set when loading lazily; handed to each request.
    lazy_loader: Option<LazyLoader>,
}

/// Loads and saves sessions for one worker; each step is in its own file.
struct Engine<Store> {
    store: Arc<Store>,
    configuration: Arc<Configuration>,
    /// Cookie values this worker verified or sealed lately.
    verified_cookies: RefCell<VerifiedCookies>,
    /// The store's owner index, asked for once per worker and handed to every session.
    owner_index: Option<SharedOwnerIndex>,
}

impl<S, B, Store> Service<ServiceRequest> for InnerSessionMiddleware<S, Store>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    S::Future: 'static,
    Store: SessionStore + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>>>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let engine = Rc::clone(&self.engine);
        if let Some(lazy_loader) = &self.lazy_loader {
            // Loaded when a handler first extracts the session. This future stays small: a
            // request that never touches the session pays for no more than these few lines.
            req.extensions_mut().insert(lazy_loader.clone());
            let response = self.service.call(req);
            return Box::pin(async move {
                let mut res = response.await?;
                if lazy::has_session_work(&res) {
                    Box::pin(engine.save(&mut res, None)).await?;
                }
                Ok(res)
            });
        }
        let service = Rc::clone(&self.service);
        Box::pin(async move {
            let mut loaded = engine.load(req.request()).await?;
            engine.attach(&mut req.extensions_mut(), &mut loaded);
            let mut res = service.call(req).await?;
            engine.save(&mut res, Some(loaded)).await?;
            Ok(res)
        })
    }
}
