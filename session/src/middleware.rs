//! [`SessionMiddleware`]: loads the session before the handler, saves it after.

use std::{
    cell::RefCell,
    future::{Future, Ready, ready},
    pin::Pin,
    rc::Rc,
    sync::Arc,
};

use actix_web::{
    HttpMessage as _, HttpRequest, HttpResponse,
    body::MessageBody,
    cookie::{Key, time::Duration},
    dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready},
    http::header::{self, HeaderValue},
};

use crate::{
    Session, SessionStatus,
    config::{Configuration, CookieConfiguration, SessionMiddlewareBuilder, TtlExtensionPolicy},
    lifetime,
    storage::{LoadError, SessionChanges, SessionKey, SessionState, SessionStore, UpdateError},
    verified_cookies::{VerifiedCookie, VerifiedCookies},
};

/// The largest `name=value` we send: browsers drop bigger cookies silently.
const MAX_COOKIE_PAIR_LEN: usize = 4096;

/// The session middleware: wrap an `App` or scope in it to get [`Session`]s.
///
/// It reads the session cookie, loads the state from the store, hands the handler a
/// [`Session`], and after the handler answers saves what changed and (re)sends the cookie.
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

    pub(crate) fn from_parts(store: Store, configuration: Configuration) -> Self {
        Self {
            store: Arc::new(store),
            configuration: Arc::new(configuration),
        }
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
        });
        let lazy_loader = self
            .configuration
            .lazy_loading
            .then(|| LazyLoader(Rc::new(Rc::clone(&engine))));
        ready(Ok(InnerSessionMiddleware {
            service: Rc::new(service),
            engine,
            lazy_loader,
        }))
    }
}

/// The per-worker service behind [`SessionMiddleware`].
#[doc(hidden)]
pub struct InnerSessionMiddleware<S, Store: SessionStore> {
    service: Rc<S>,
    engine: Rc<Engine<Store>>,
    /// Set when loading lazily; handed to each request.
    lazy_loader: Option<LazyLoader>,
}

/// Loads and saves sessions for one worker.
struct Engine<Store> {
    store: Arc<Store>,
    configuration: Arc<Configuration>,
    /// Cookie values this worker verified or sealed lately.
    verified_cookies: RefCell<VerifiedCookies>,
}

/// Present in a request's extensions when the middleware loads lazily: how extractors load.
#[derive(Clone)]
pub(crate) struct LazyLoader(Rc<dyn LoadSession>);

impl LazyLoader {
    /// Loads the session of `req` into its extensions (a failure is recorded there too).
    pub(crate) fn load(&self, req: HttpRequest) -> Pin<Box<dyn Future<Output = ()>>> {
        self.0.load_into(req)
    }
}

/// Type-erased lazy loading, so that [`Session`] needs no store type parameter.
trait LoadSession {
    fn load_into(&self, req: HttpRequest) -> Pin<Box<dyn Future<Output = ()>>>;
}

impl<Store: SessionStore + 'static> LoadSession for Rc<Engine<Store>> {
    fn load_into(&self, req: HttpRequest) -> Pin<Box<dyn Future<Output = ()>>> {
        let engine = Rc::clone(self);
        Box::pin(async move {
            let loaded = engine.load(&req).await;
            let mut extensions = req.extensions_mut();
            match loaded {
                Ok((record, state)) => {
                    Session::attach(&mut extensions, state);
                    extensions.insert(record);
                }
                // The cause was logged where it happened.
                Err(_) => {
                    extensions.insert(LoadFailed);
                }
            }
        })
    }
}

/// Marks a request whose lazy load failed: the middleware answers an opaque 500.
struct LoadFailed;

/// What loading found out about a request's session, needed again when it is saved.
struct LoadRecord {
    key: Option<SessionKey>,
    created_at: Option<i64>,
    /// Whether the request carried a cookie with the session's name, valid or not.
    cookie_present: bool,
    /// Whether the cookie verified only under a fallback key.
    needs_reissue: bool,
}

impl<Store: SessionStore + 'static> Engine<Store> {
    /// Reads the cookie and loads the state it points to.
    async fn load(
        &self,
        req: &HttpRequest,
    ) -> Result<(LoadRecord, Option<SessionState>), actix_web::Error> {
        let cookie = read_session_cookie(
            req.headers(),
            &self.configuration.cookie,
            &mut self.verified_cookies.borrow_mut(),
        );
        let loaded = load(self.store.as_ref(), &self.configuration, cookie.key).await?;
        let record = LoadRecord {
            key: loaded.key,
            created_at: loaded.created_at,
            cookie_present: cookie.present,
            needs_reissue: cookie.needs_reissue,
        };
        Ok((record, loaded.state))
    }

    /// Saves what the handler did to the session and sets the cookie on the response.
    async fn save<B>(
        &self,
        res: &mut ServiceResponse<B>,
        eager: Option<LoadRecord>,
    ) -> Result<(), actix_web::Error> {
        let configuration = &self.configuration;
        let (session, lazy) = {
            let mut extensions = res.request().extensions_mut();
            if extensions.contains::<LoadFailed>() {
                return Err(opaque_500());
            }
            (
                extensions.get::<Session>().cloned(),
                extensions.remove::<LoadRecord>(),
            )
        };
        if res.status().is_server_error() {
            tracing::debug!("the handler answered 5xx: session changes are not saved");
            return Ok(());
        }
        let Some(session) = session else {
            // Lazy loading and nobody asked for the session: nothing to do.
            return Ok(());
        };
        let (status, mut changes, pending) = session.take_changes();
        let record = match eager.or(lazy) {
            Some(record) => record,
            None if pending => {
                let refresh =
                    configuration.ttl_extension_policy == TtlExtensionPolicy::OnEveryRequest;
                if status == SessionStatus::Unchanged && !refresh {
                    return Ok(());
                }
                // Changed without being loaded (synchronous code): load now, replay on top.
                let (record, state) = self.load(res.request()).await?;
                changes = changes.rebase(state);
                record
            }
            None => return Ok(()),
        };
        let cookie_present = record.cookie_present;
        let outcome = persist(self.store.as_ref(), configuration, record, status, changes).await?;
        self.apply_outcome(res, outcome, cookie_present)
    }

    /// Sets the session cookie, or its removal, on the response, and `Vary: Cookie` when the
    /// response depends on the cookie.
    fn apply_outcome<B>(
        &self,
        res: &mut ServiceResponse<B>,
        outcome: CookieOutcome,
        cookie_present: bool,
    ) -> Result<(), actix_web::Error> {
        let config = &self.configuration.cookie;
        let set_cookie = match outcome {
            CookieOutcome::Nothing => None,
            CookieOutcome::Set(key, ttl) => {
                let sealed = config.codec.seal(&config.name, key.as_ref());
                let header = session_cookie(config, &sealed, ttl)?;
                self.verified_cookies
                    .borrow_mut()
                    .remember_sealed(sealed, key);
                Some(header)
            }
            CookieOutcome::Remove => Some(removal_cookie(config)?),
        };
        let headers = res.headers_mut();
        if let Some(value) = set_cookie {
            headers.append(header::SET_COOKIE, value);
        }
        if cookie_present || headers.contains_key(header::SET_COOKIE) {
            add_vary_cookie(headers);
        }
        Ok(())
    }
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
                if has_session_work(&res) {
                    Box::pin(engine.save(&mut res, None)).await?;
                }
                Ok(res)
            });
        }
        let service = Rc::clone(&self.service);
        Box::pin(async move {
            let (record, state) = engine.load(req.request()).await?;
            Session::attach(&mut req.extensions_mut(), state);
            let mut res = service.call(req).await?;
            engine.save(&mut res, Some(record)).await?;
            Ok(res)
        })
    }
}

/// Whether a lazily loading request has anything left to do after the handler: a session
/// was extracted (or created by synchronous code), or its load failed.
fn has_session_work<B>(res: &ServiceResponse<B>) -> bool {
    let extensions = res.request().extensions();
    extensions.contains::<Session>() || extensions.contains::<LoadFailed>()
}

/// What the request's cookies told us about its session.
pub(crate) struct SessionCookie {
    /// The verified session key, if any cookie verified.
    pub(crate) key: Option<SessionKey>,
    /// Whether the request carried any cookie with the session's name, valid or not.
    present: bool,
    /// Whether the valid cookie verified only under a fallback key.
    needs_reissue: bool,
}

/// Finds the session cookie. Every cookie carrying the session's name (matched as sent, not
/// percent-decoded) is verified, in any order; the first that verifies wins.
pub(crate) fn read_session_cookie(
    headers: &header::HeaderMap,
    config: &CookieConfiguration,
    verified_cookies: &mut VerifiedCookies,
) -> SessionCookie {
    let mut found = SessionCookie {
        key: None,
        present: false,
        needs_reissue: false,
    };
    // Cookie headers are parsed as bytes: a header that is not UTF-8 still counts as carrying
    // a (broken) session cookie, so that `purge` can remove it.
    let name = config.name.as_bytes();
    let candidates = headers
        .get_all(header::COOKIE)
        .flat_map(|value| cookie_pairs(value.as_bytes()))
        .filter_map(|pair| cookie_value(pair, name));
    for value in candidates {
        found.present = true;
        let Ok(value) = std::str::from_utf8(value) else {
            continue;
        };
        let opened = verified_cookies.open(&config.codec, &config.name, value.trim_matches('"'));
        if let Some(VerifiedCookie { key, needs_reissue }) = opened {
            found.key = Some(key);
            found.needs_reissue = needs_reissue;
            break;
        }
    }
    if found.present && found.key.is_none() {
        tracing::warn!("the session cookie failed verification; starting a fresh session");
    }
    found
}

/// The `;`-separated pairs of one `Cookie` header, found with a SIMD scan (the values are
/// long and the separators few).
fn cookie_pairs(header: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(header);
    std::iter::from_fn(move || {
        let current = rest?;
        match memchr::memchr(b';', current) {
            Some(end) => {
                rest = Some(&current[end + 1..]);
                Some(&current[..end])
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

/// The value of `pair` if it is `name=value` (surrounding whitespace ignored).
fn cookie_value<'a>(pair: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    pair.trim_ascii().strip_prefix(name)?.strip_prefix(b"=")
}

/// A loaded session: its key, state and creation time, or none of them for a fresh one.
struct Loaded {
    key: Option<SessionKey>,
    state: Option<SessionState>,
    created_at: Option<i64>,
}

impl Loaded {
    const FRESH: Self = Self {
        key: None,
        state: None,
        created_at: None,
    };
}

async fn load<Store: SessionStore>(
    store: &Store,
    configuration: &Configuration,
    key: Option<SessionKey>,
) -> Result<Loaded, actix_web::Error> {
    let Some(key) = key else {
        return Ok(Loaded::FRESH);
    };
    let mut state = match store.load(&key).await {
        Ok(Some(state)) => state,
        Ok(None) => {
            tracing::debug!("unknown or expired session key; starting a fresh session");
            return Ok(Loaded::FRESH);
        }
        Err(LoadError::Deserialization(err)) => {
            tracing::warn!(error = %err, "undecodable session record; starting a fresh session");
            return Ok(Loaded::FRESH);
        }
        Err(err) => return Err(store_failure("load", &err)),
    };
    let created_at = lifetime::take_created_at(&mut state);
    if let (Some(absolute_ttl), Some(created_at)) = (configuration.absolute_ttl, created_at)
        && lifetime::remaining(created_at, absolute_ttl, &configuration.clock).is_none()
    {
        tracing::debug!("the session passed its absolute lifetime; starting a fresh session");
        if let Err(err) = store.delete(&key).await {
            tracing::warn!(error = %err, "could not delete a session past its lifetime");
        }
        return Ok(Loaded::FRESH);
    }
    Ok(Loaded {
        key: Some(key),
        state: Some(state),
        created_at,
    })
}

/// What the response must say about the session cookie.
enum CookieOutcome {
    Nothing,
    /// Send the key; the duration caps a persistent cookie's `Max-Age`.
    Set(SessionKey, Duration),
    Remove,
}

async fn persist<Store: SessionStore>(
    store: &Store,
    configuration: &Configuration,
    request: LoadRecord,
    status: SessionStatus,
    mut changes: SessionChanges,
) -> Result<CookieOutcome, actix_web::Error> {
    let holds_state = !changes.state().is_empty();
    // The creation time rides along inside the state when an absolute timeout is configured.
    let ttl = match configuration.absolute_ttl {
        None => configuration.state_ttl,
        Some(absolute_ttl) => {
            let clock = &configuration.clock;
            let created_at = request
                .created_at
                .unwrap_or_else(|| clock.now().unix_timestamp());
            lifetime::put_created_at(&mut changes, created_at, request.created_at.is_none());
            let remaining =
                lifetime::remaining(created_at, absolute_ttl, clock).unwrap_or(Duration::ZERO);
            configuration.state_ttl.min(remaining)
        }
    };
    let ttl = &ttl;

    let Some(key) = request.key else {
        // A fresh session: store it only if it holds something.
        return Ok(match status {
            SessionStatus::Purged if request.cookie_present => CookieOutcome::Remove,
            SessionStatus::Changed | SessionStatus::Renewed if holds_state => {
                let key = store
                    .save(changes.into_state(), ttl)
                    .await
                    .map_err(|err| store_failure("save", &err))?;
                CookieOutcome::Set(key, *ttl)
            }
            _ => CookieOutcome::Nothing,
        });
    };
    match status {
        SessionStatus::Changed => match store.update_changes(key, changes, ttl).await {
            Ok(key) => Ok(CookieOutcome::Set(key, *ttl)),
            Err(UpdateError::NotFound) => {
                tracing::info!("the session ended while the request ran; its changes are dropped");
                Ok(CookieOutcome::Remove)
            }
            Err(err) => Err(store_failure("update", &err)),
        },
        SessionStatus::Purged => {
            store
                .delete(&key)
                .await
                .map_err(|err| store_failure("delete", &err))?;
            Ok(CookieOutcome::Remove)
        }
        SessionStatus::Renewed => {
            // Save under the new key first, so that a failure leaves the old session intact.
            let new_key = if holds_state {
                Some(
                    store
                        .save(changes.into_state(), ttl)
                        .await
                        .map_err(|err| store_failure("save", &err))?,
                )
            } else {
                None
            };
            store
                .delete(&key)
                .await
                .map_err(|err| store_failure("delete", &err))?;
            Ok(new_key.map_or(CookieOutcome::Remove, |key| CookieOutcome::Set(key, *ttl)))
        }
        SessionStatus::Unchanged => {
            let refresh = configuration.ttl_extension_policy == TtlExtensionPolicy::OnEveryRequest;
            if !refresh && !request.needs_reissue {
                return Ok(CookieOutcome::Nothing);
            }
            let original = key.clone();
            match store.refresh(key, changes.state(), ttl).await {
                Ok(key)
                    if request.needs_reissue
                        || key != original
                        || configuration.cookie.max_age.is_some() =>
                {
                    Ok(CookieOutcome::Set(key, *ttl))
                }
                Ok(_) => Ok(CookieOutcome::Nothing),
                Err(UpdateError::NotFound) => Ok(CookieOutcome::Remove),
                Err(err) => Err(store_failure("refresh", &err)),
            }
        }
    }
}

/// Adds `Cookie` to `Vary` unless it is there already: the response depends on the cookie.
fn add_vary_cookie(headers: &mut header::HeaderMap) {
    let already = headers
        .get_all(header::VARY)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|item| item.trim().eq_ignore_ascii_case("cookie") || item.trim() == "*");
    if !already {
        headers.append(header::VARY, HeaderValue::from_static("Cookie"));
    }
}

/// Renders the session cookie: `name=value` (`sealed` is the codec's wire-ready output), the
/// attributes fixed at build time, and `Max-Age` for persistent sessions.
fn session_cookie(
    config: &CookieConfiguration,
    sealed: &str,
    ttl: Duration,
) -> Result<HeaderValue, actix_web::Error> {
    let mut rendered =
        String::with_capacity(config.name.len() + sealed.len() + config.attributes.len() + 24);
    rendered.push_str(&config.name);
    rendered.push('=');
    rendered.push_str(sealed);
    let pair_len = rendered.len();
    if pair_len > MAX_COOKIE_PAIR_LEN {
        tracing::error!(
            bytes = pair_len,
            limit = MAX_COOKIE_PAIR_LEN,
            "the session cookie would exceed what browsers keep; store less in the session or \
             use a server-side store"
        );
        return Err(opaque_500());
    }
    rendered.push_str(&config.attributes);
    if let Some(max_age) = config.max_age {
        rendered.push_str("; Max-Age=");
        rendered.push_str(&max_age.min(ttl).whole_seconds().max(0).to_string());
    }
    header_value(&rendered)
}

/// Renders the cookie that removes the session cookie: an empty value with the same
/// attributes (a browser matches the cookie to remove by name, path and domain), already
/// expired.
fn removal_cookie(config: &CookieConfiguration) -> Result<HeaderValue, actix_web::Error> {
    header_value(&format!(
        "{}=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT{}",
        config.name, config.attributes
    ))
}

fn header_value(cookie: &str) -> Result<HeaderValue, actix_web::Error> {
    HeaderValue::from_str(cookie).map_err(|err| {
        tracing::error!(error = %err, "the session cookie is not a valid header value");
        opaque_500()
    })
}

/// Logs a store failure with its cause and returns the opaque error the client sees.
fn store_failure(operation: &'static str, err: &dyn std::error::Error) -> actix_web::Error {
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
fn opaque_500() -> actix_web::Error {
    actix_web::error::InternalError::from_response(
        "session middleware failure",
        HttpResponse::InternalServerError().finish(),
    )
    .into()
}
