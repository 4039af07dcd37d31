//! The one source of time shared by the middleware and the stores.
//!
//! Everything that decides whether a session has expired asks a [`Clock`]. In production it is
//! the system clock; tests use [`Clock::manual`] and move time forward with
//! [`Clock::advance`] instead of sleeping.

use std::sync::{
    Arc,
    atomic::{AtomicI64, Ordering},
};

use actix_web::cookie::time::{Duration, OffsetDateTime};

/// A source of the current time: the system clock, or a manual clock for tests.
///
/// Clones of a manual clock share one time, so a test can hand a clone to a store and to the
/// middleware and move both at once.
///
/// ```
/// use session::config::Clock;
/// use actix_web::cookie::time::{Duration, OffsetDateTime};
///
/// let clock = Clock::manual(OffsetDateTime::UNIX_EPOCH);
/// let shared = clock.clone();
/// clock.advance(Duration::minutes(5));
/// assert_eq!(shared.now(), OffsetDateTime::UNIX_EPOCH + Duration::minutes(5));
/// ```
#[derive(Clone, Default)]
pub struct Clock {
    /// Unix time in nanoseconds, for a manual clock; `None` reads the system clock.
    manual: Option<Arc<AtomicI64>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self { manual: None }
    }

    /// A clock that stands still at `start` until it is moved with [`advance`](Self::advance)
    /// or [`set`](Self::set).
    pub fn manual(start: OffsetDateTime) -> Self {
        Self {
            manual: Some(Arc::new(AtomicI64::new(unix_nanos(start)))),
        }
    }

    /// The current time.
    pub fn now(&self) -> OffsetDateTime {
        match &self.manual {
            None => OffsetDateTime::now_utc(),
            Some(nanos) => from_unix_nanos(nanos.load(Ordering::SeqCst)),
        }
    }

    /// The current time in whole Unix milliseconds, the unit the stores keep their times in.
    #[cfg_attr(
        not(any(feature = "memory-session", feature = "redis-session")),
        allow(dead_code)
    )]
    pub(crate) fn now_ms(&self) -> i64 {
        Self::unix_ms(self.now())
    }

    /// `time` in whole Unix milliseconds.
    #[cfg_attr(
        not(any(feature = "memory-session", feature = "redis-session")),
        allow(dead_code)
    )]
    pub(crate) fn unix_ms(time: OffsetDateTime) -> i64 {
        // `time` dates span at most ±999,999 years: their milliseconds always fit in `i64`.
        i64::try_from(time.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
    }

    /// Moves a manual clock forward by `by`; does nothing on the system clock.
    pub fn advance(&self, by: Duration) {
        if let Some(nanos) = &self.manual {
            let by = i64::try_from(by.whole_nanoseconds()).unwrap_or(i64::MAX);
            nanos.fetch_add(by, Ordering::SeqCst);
        }
    }

    /// Sets a manual clock to `now`; does nothing on the system clock.
    pub fn set(&self, now: OffsetDateTime) {
        if let Some(nanos) = &self.manual {
            nanos.store(unix_nanos(now), Ordering::SeqCst);
        }
    }

    /// Whether this is a manual clock.
    pub fn is_manual(&self) -> bool {
        self.manual.is_some()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.manual {
            None => f.write_str("Clock::System"),
            Some(_) => write!(f, "Clock::Manual({})", self.now()),
        }
    }
}

fn unix_nanos(time: OffsetDateTime) -> i64 {
    i64::try_from(time.unix_timestamp_nanos()).unwrap_or(i64::MAX)
}

fn from_unix_nanos(nanos: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milliseconds_are_whole_unix_milliseconds() {
        let clock = Clock::manual(OffsetDateTime::UNIX_EPOCH + Duration::milliseconds(1_500));
        assert_eq!(clock.now_ms(), 1_500);
        clock.advance(Duration::microseconds(999));
        assert_eq!(clock.now_ms(), 1_500);
        clock.advance(Duration::microseconds(1));
        assert_eq!(clock.now_ms(), 1_501);
        let system = Clock::system().now_ms();
        assert!(system > 1_600_000_000_000, "{system}");
    }
}
