//! Arbitrary `Cookie` header bytes through the middleware's parser and verifier: never a
//! panic, and never a session key unless a cookie verifies.
#![no_main]

use std::sync::LazyLock;

use actix_web::cookie::Key;
use libfuzzer_sys::fuzz_target;
use session::fuzzing;

static KEY: LazyLock<Key> = LazyLock::new(Key::generate);

fuzz_target!(|data: &[u8]| {
    for signed in [false, true] {
        assert!(fuzzing::session_key_from_cookie_header(&KEY, data, signed).is_none());
    }
});
