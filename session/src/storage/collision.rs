//! The one retry loop behind every new session key.
//!
//! A store inserts a new session only under a key no other session holds (`SET NX`
//! semantics). With 64 random alphanumerics a collision should never happen; if it does (a
//! broken random source, a custom key function), the store tries a fresh key, and after a
//! few taken keys it reports an error instead of merging two sessions.

use std::future::Future;

use super::SessionKey;

/// How many fresh keys a store tries before it reports a collision as an error.
pub(crate) const KEY_ATTEMPTS: usize = 4;

/// Inserts a new session under the first key from `next_key` that `try_insert` finds free.
///
/// `try_insert` stores the session under the key it is given if no session holds that key
/// yet, and answers whether it did; a taken key is never overwritten. Returns the key the
/// session was stored under, `Ok(None)` when `attempts` keys in a row were taken, or the
/// first error `try_insert` returns.
pub(crate) async fn insert_under_new_key<E, Fut>(
    store: &'static str,
    attempts: usize,
    mut next_key: impl FnMut() -> SessionKey,
    mut try_insert: impl FnMut(&SessionKey) -> Fut,
) -> Result<Option<SessionKey>, E>
where
    Fut: Future<Output = Result<bool, E>>,
{
    for attempt in 1..=attempts {
        let key = next_key();
        if try_insert(&key).await? {
            return Ok(Some(key));
        }
        tracing::warn!(
            store,
            attempt,
            "session key collision; generating another key"
        );
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use std::{cell::RefCell, collections::HashSet, convert::Infallible};

    use super::*;

    fn key(text: &str) -> SessionKey {
        SessionKey::try_from(text.to_owned()).unwrap()
    }

    /// Inserts into `taken` when the key is free, as a store does.
    fn insert_into(
        taken: &RefCell<HashSet<String>>,
    ) -> impl FnMut(&SessionKey) -> std::future::Ready<Result<bool, Infallible>> {
        |key| std::future::ready(Ok(taken.borrow_mut().insert(key.as_ref().to_owned())))
    }

    #[actix_rt::test]
    async fn taken_keys_are_skipped_until_a_free_one() {
        let taken = RefCell::new(HashSet::from(["a".to_owned(), "b".to_owned()]));
        let mut keys = ["a", "b", "c"].into_iter();
        let stored =
            insert_under_new_key("test", 4, || key(keys.next().unwrap()), insert_into(&taken))
                .await
                .unwrap();
        assert_eq!(stored, Some(key("c")));
        assert!(taken.borrow().contains("c"));
    }

    #[actix_rt::test]
    async fn after_the_attempts_it_gives_up() {
        let taken = RefCell::new(HashSet::from(["a".to_owned()]));
        let mut tried = 0;
        let stored = insert_under_new_key(
            "test",
            3,
            || {
                tried += 1;
                key("a")
            },
            insert_into(&taken),
        )
        .await
        .unwrap();
        assert_eq!(stored, None);
        assert_eq!(tried, 3);
    }

    #[actix_rt::test]
    async fn a_store_error_ends_the_loop() {
        let mut tried = 0;
        let result = insert_under_new_key(
            "test",
            4,
            || {
                tried += 1;
                key("a")
            },
            |_| std::future::ready(Err::<bool, _>("unreachable")),
        )
        .await;
        assert_eq!(result, Err("unreachable"));
        assert_eq!(tried, 1);
    }
}
