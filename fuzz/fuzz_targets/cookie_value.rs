//! Arbitrary cookie values through the codec (both modes), and mutations of a genuine sealed
//! value: never a panic, never an accepted forgery.
#![no_main]

use std::sync::LazyLock;

use actix_web::cookie::Key;
use libfuzzer_sys::fuzz_target;
use session::fuzzing;

static KEY: LazyLock<Key> = LazyLock::new(Key::generate);

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for signed in [false, true] {
        assert!(fuzzing::open_cookie_value(&KEY, "id", text, signed).is_none());
        // Seal the input and open it again: the round trip is exact for anything that fits in
        // a cookie (the middleware never sends a larger one, and refuses to open it).
        let sealed = fuzzing::seal_cookie_value(&KEY, "id", text, signed);
        let opened = fuzzing::open_cookie_value(&KEY, "id", &sealed, signed);
        if sealed.len() <= 4096 {
            assert_eq!(opened.as_deref(), Some(text));
        } else {
            assert_eq!(opened, None);
        }
    }
});
