//! The background sweeper of the SQL stores: it deletes expired rows, a batch per
//! statement, every interval (with ±10 % jitter, so that the instances of an application
//! do not all sweep at once). A failed sweep is logged and tried again at the next interval;
//! the task ends as soon as the last clone of its store is dropped.

use std::{
    sync::{Arc, Weak},
    time::Duration,
};

use rand::Rng as _;
use tokio::sync::oneshot;

use super::{Backend, Core};

/// Spawns the sweeper of `core` on the current tokio runtime; it ends when the sender of
/// `stop` (kept in `core`) is dropped, or when `core` is gone.
pub(crate) fn spawn<B: Backend>(
    core: &Arc<Core<B>>,
    stop: oneshot::Receiver<()>,
    interval: Duration,
) {
    tokio::spawn(run(Arc::downgrade(core), stop, interval));
}

async fn run<B: Backend>(core: Weak<Core<B>>, mut stop: oneshot::Receiver<()>, interval: Duration) {
    loop {
        tokio::select! {
            _ = &mut stop => return,
            () = tokio::time::sleep(jittered(interval)) => {}
        }
        let Some(core) = core.upgrade() else {
            return;
        };
        match core.delete_expired().await {
            Ok(0) => {}
            Ok(deleted) => tracing::debug!(deleted, "swept expired sessions"),
            Err(err) => tracing::warn!(
                error = %err,
                source = ?std::error::Error::source(&err).map(ToString::to_string),
                "sweeping expired sessions failed; trying again at the next interval"
            ),
        }
    }
}

/// `interval` moved by up to 10 % either way.
fn jittered(interval: Duration) -> Duration {
    let factor = rand::rng().random_range(0.9..=1.1);
    interval.mul_f64(factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_ten_percent() {
        let interval = Duration::from_secs(100);
        let pauses: Vec<Duration> = (0..200).map(|_| jittered(interval)).collect();
        assert!(
            pauses
                .iter()
                .all(|p| *p >= Duration::from_secs(90) && *p <= Duration::from_secs(110))
        );
        assert!(pauses.iter().any(|p| *p != pauses[0]), "the pause varies");
    }
}
