//! Property tests: any state round-trips through every store; any mutation of a protected
//! cookie is rejected; arbitrary `Cookie` headers never yield a session key.

use actix_web::cookie::{Cookie, Key, time::Duration};
use proptest::prelude::*;
use serde_json::{Map, Value};
use session::{
    fuzzing,
    storage::{CookieSessionStore, MemorySessionStore, SaveError, SessionState, SessionStore},
};

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1.0e12_f64..1.0e12).prop_map(Value::from),
        ".{0,24}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(".{0,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn session_state() -> impl Strategy<Value = SessionState> {
    prop::collection::btree_map(".{0,16}", json_value(), 0..8).prop_map(|m| m.into_iter().collect())
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    actix_web::rt::System::new().block_on(future)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_state_round_trips_through_the_memory_store(state in session_state()) {
        let store = MemorySessionStore::new();
        let loaded = block_on(async {
            let key = store.save(state.clone(), &Duration::hours(1)).await.expect("save");
            store.load(&key).await.expect("load")
        });
        prop_assert_eq!(loaded, Some(state));
    }

    #[test]
    fn any_state_round_trips_through_the_cookie_store(state in session_state()) {
        let store = CookieSessionStore::default();
        let result = block_on(async {
            match store.save(state.clone(), &Duration::hours(1)).await {
                Ok(key) => Ok(store.load(&key).await.expect("load")),
                Err(err) => Err(err),
            }
        });
        match result {
            Ok(loaded) => prop_assert_eq!(loaded, Some(state)),
            // Only state too large for a cookie may be refused.
            Err(SaveError::Serialization(_)) => {
                prop_assert!(serde_json::to_string(&state).expect("json").len() > 4000);
            }
            Err(other) => prop_assert!(false, "unexpected error {other}"),
        }
    }

    #[test]
    fn any_mutation_of_a_protected_cookie_is_rejected(
        value in "[ -~]{0,200}",
        signed in any::<bool>(),
        position in any::<prop::sample::Index>(),
        replacement in 0x21_u8..0x7f,
        mutation in 0_u8..4,
    ) {
        let key = Key::generate();
        let sealed = fuzzing::seal_cookie_value(&key, "id", &value, signed);
        prop_assert_eq!(fuzzing::open_cookie_value(&key, "id", &sealed, signed), Some(value.clone()));

        let mut bytes = sealed.clone().into_bytes();
        let at = position.index(bytes.len());
        match mutation {
            0 => {
                prop_assume!(bytes[at] != replacement);
                bytes[at] = replacement;
            }
            1 => bytes.truncate(at),
            2 => bytes.insert(at, replacement),
            _ => bytes.push(replacement),
        }
        let mutated = String::from_utf8(bytes).expect("ascii");
        // Another spelling of the same bytes (`%2f` for `%2F`) is not a mutation of the content.
        let decoded = |v: &str| Cookie::parse_encoded(format!("id={v}")).ok().map(|c| c.value().to_owned());
        prop_assume!(decoded(&mutated) != decoded(&sealed));
        prop_assert_eq!(fuzzing::open_cookie_value(&key, "id", &mutated, signed), None);
        // The same value under another name or key does not open either.
        prop_assert_eq!(fuzzing::open_cookie_value(&key, "other", &sealed, signed), None);
        prop_assert_eq!(fuzzing::open_cookie_value(&Key::generate(), "id", &sealed, signed), None);
    }

    #[test]
    fn arbitrary_cookie_headers_never_yield_a_session_key(
        header in prop::collection::vec(any::<u8>(), 0..512),
        signed in any::<bool>(),
    ) {
        let key = Key::generate();
        prop_assert_eq!(fuzzing::session_key_from_cookie_header(&key, &header, signed), None);
    }

    #[test]
    fn a_valid_cookie_is_found_among_arbitrary_others(
        noise in prop::collection::vec("[a-z]{1,6}=[A-Za-z0-9%+/=]{0,40}", 0..6),
        duplicates in prop::collection::vec("[A-Za-z0-9%+/=]{0,60}", 0..3),
        signed in any::<bool>(),
        position in any::<prop::sample::Index>(),
    ) {
        let key = Key::generate();
        let sealed = fuzzing::seal_cookie_value(&key, "id", "the-session-key", signed);
        let mut pairs: Vec<String> = noise.into_iter().chain(duplicates.into_iter().map(|v| format!("id={v}"))).collect();
        let at = position.index(pairs.len() + 1);
        pairs.insert(at, format!("id={sealed}"));
        let header = pairs.join("; ");
        let found = fuzzing::session_key_from_cookie_header(&key, header.as_bytes(), signed);
        prop_assert_eq!(found.as_deref(), Some("the-session-key"));
    }
}
