//! Lazy loading: the middleware's side of the hook the extractor calls
//! ([`LoadSession`]), and what is left to do after the handler.

use std::{future::Future, pin::Pin, rc::Rc};

use actix_web::{HttpMessage as _, HttpRequest, dev::ServiceResponse};

use super::Engine;
use crate::{extract::LoadSession, session::Session, storage::SessionStore};

/// Marks a request whose lazy load failed: the middleware answers an opaque 500.
pub(super) struct LoadFailed;

impl<Store: SessionStore + 'static> LoadSession for Rc<Engine<Store>> {
    fn load_into(&self, req: HttpRequest) -> Pin<Box<dyn Future<Output = ()>>> {
        let engine = Rc::clone(self);
        Box::pin(async move {
            let loaded = engine.load(&req).await;
            let mut extensions = req.extensions_mut();
            match loaded {
                Ok(mut loaded) => {
                    engine.attach(&mut extensions, &mut loaded);
                    extensions.insert(loaded);
                }
                // The cause was logged where it happened.
                Err(_) => {
                    extensions.insert(LoadFailed);
                }
            }
        })
    }
}

/// Whether a lazily loading request has anything left to do after the handler: a session
/// was extracted (or created by synchronous code), or its load failed.
pub(super) fn has_session_work<B>(res: &ServiceResponse<B>) -> bool {
    let extensions = res.request().extensions();
    extensions.contains::<Session>() || extensions.contains::<LoadFailed>()
}
