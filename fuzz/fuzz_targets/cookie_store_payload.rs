//! Arbitrary payloads as cookie-store session keys (what the cookie store decodes after the
//! codec verified a cookie): never a panic; a decodable one re-encodes to the same state.
#![no_main]

use actix_web::cookie::time::Duration;
use libfuzzer_sys::fuzz_target;
use session::storage::{CookieSessionStore, SessionKey, SessionStore};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(key) = SessionKey::try_from(text.to_owned()) else {
        return;
    };
    let store = CookieSessionStore::default();
    let runtime = actix_web::rt::System::new();
    runtime.block_on(async {
        if let Ok(Some(state)) = store.load(&key).await {
            if let Ok(saved) = store.save(state.clone(), &Duration::hours(1)).await {
                assert_eq!(store.load(&saved).await.ok().flatten(), Some(state));
            }
        }
    });
});
