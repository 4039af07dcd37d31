//! How a request gets its [`Session`]: the extractor, and the hook through which it loads the
//! state lazily.
//!
//! Every handle of one request is the same `Session`, kept in the request's extensions. When
//! the middleware loads lazily it also puts a [`LazyLoader`] there; a session created while it
//! is present starts *not yet loaded*, and the extractor asks the loader for the state.

use std::{
    convert::Infallible,
    future::Future,
    pin::Pin,
    rc::Rc,
    task::{Context, Poll},
};

use actix_web::{
    FromRequest, HttpMessage as _, HttpRequest,
    dev::{Extensions, Payload},
};

use crate::{
    session::Session,
    session_meta::Meta,
    storage::{SessionState, SharedOwnerIndex},
};

/// Present in a request's extensions when the middleware loads lazily: how extractors load.
#[derive(Clone)]
pub(crate) struct LazyLoader(Rc<dyn LoadSession>);

impl LazyLoader {
    pub(crate) fn new(loader: Rc<dyn LoadSession>) -> Self {
        Self(loader)
    }

    /// Loads the session of `req` into its extensions (a failure is recorded there too).
    pub(crate) fn load(&self, req: HttpRequest) -> Pin<Box<dyn Future<Output = ()>>> {
        self.0.load_into(req)
    }
}

/// Type-erased lazy loading, so that [`Session`] needs no store type parameter; the
/// middleware implements it.
pub(crate) trait LoadSession {
    /// Loads the session of `req` and puts it into the request's extensions.
    fn load_into(&self, req: HttpRequest) -> Pin<Box<dyn Future<Output = ()>>>;
}

impl Session {
    /// The session stored in `extensions`, creating one if there is none: empty, and not yet
    /// loaded when the middleware loads lazily.
    pub(crate) fn from_extensions(extensions: &mut Extensions) -> Self {
        if let Some(session) = extensions.get::<Self>() {
            return session.clone();
        }
        let session = if extensions.contains::<LazyLoader>() {
            Self::not_loaded()
        } else {
            Self::new()
        };
        extensions.insert(session.clone());
        session
    }

    /// Puts a loaded state, its metadata and the store's owner index into the request's
    /// session (called by the middleware).
    pub(crate) fn attach(
        extensions: &mut Extensions,
        state: Option<SessionState>,
        meta: Option<Meta>,
        owner_index: Option<SharedOwnerIndex>,
    ) {
        Self::from_extensions(extensions).set_loaded(state, meta, owner_index);
    }
}

/// Extracts the request's [`Session`]; never fails.
///
/// With [lazy loading](crate::SessionMiddlewareBuilder::lazy_loading) this is where the state
/// is loaded from the store. If the store fails, the handler gets an empty session and the
/// middleware answers an opaque `500` instead of the handler's response.
impl FromRequest for Session {
    type Error = Infallible;
    type Future = ExtractSession;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let session = Self::from_extensions(&mut req.extensions_mut());
        if session.is_loaded() {
            return ExtractSession(ExtractState::Ready(Some(session)));
        }
        let Some(loader) = req.extensions().get::<LazyLoader>().cloned() else {
            return ExtractSession(ExtractState::Ready(Some(session)));
        };
        let load = loader.load(req.clone());
        ExtractSession(ExtractState::Loading(Box::pin(async move {
            load.await;
            session
        })))
    }
}

/// The future returned when a [`Session`] is extracted.
pub struct ExtractSession(ExtractState);

enum ExtractState {
    Ready(Option<Session>),
    Loading(Pin<Box<dyn Future<Output = Session>>>),
}

impl std::fmt::Debug for ExtractSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match self.0 {
            ExtractState::Ready(_) => "ready",
            ExtractState::Loading(_) => "loading",
        };
        f.debug_tuple("ExtractSession").field(&state).finish()
    }
}

impl Future for ExtractSession {
    type Output = Result<Session, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.0 {
            ExtractState::Ready(session) => Poll::Ready(Ok(session.take().unwrap_or_default())),
            ExtractState::Loading(load) => load.as_mut().poll(cx).map(Ok),
        }
    }
}
