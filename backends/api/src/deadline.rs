//! The caller's deadline for the call in progress, visible to backends.
//!
//! A call into a backend borrows the caller's buffers, so the runtime cannot abandon a
//! backend that is still running and return early: the backend would go on writing into
//! memory the caller has been given back. Timeouts are therefore cooperative. The runtime
//! sets the call's deadline on the calling thread with [`scope`] around each attempt; a
//! backend reads it with [`current`] (before it starts, between passes or kernel launches,
//! while it waits for a device) and gives up with [`BackendError::Timeout`] through [`check`].
//! Work a backend hands to other threads must capture the deadline itself (it is
//! thread-local).

use crate::error::{BackendError, BackendResult};
use std::cell::Cell;
use std::time::{Duration, Instant};

thread_local! {
    static DEADLINE: Cell<Option<(Instant, Instant)>> = const { Cell::new(None) };
}

/// The deadline of the call running on this thread, if the caller set one.
pub fn current() -> Option<Instant> {
    DEADLINE.with(|d| d.get().map(|(_, end)| end))
}

/// Time left before the deadline (`None` when there is no deadline; zero once it passed).
pub fn remaining() -> Option<Duration> {
    current().map(|end| end.saturating_duration_since(Instant::now()))
}

/// `Err(Timeout)` once the deadline has passed, `Ok` otherwise (and when there is none).
pub fn check() -> BackendResult<()> {
    match DEADLINE.with(|d| d.get()) {
        Some((start, end)) => {
            let now = Instant::now();
            if now >= end {
                Err(BackendError::Timeout {
                    millis: now.duration_since(start).as_millis() as u64,
                })
            } else {
                Ok(())
            }
        }
        None => Ok(()),
    }
}

/// Runs `f` with `deadline` (counted from `start`) as this thread's current deadline, then
/// restores the previous one (also when `f` unwinds).
pub fn scope<T>(start: Instant, deadline: Option<Instant>, f: impl FnOnce() -> T) -> T {
    struct Restore(Option<(Instant, Instant)>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let prev = self.0;
            DEADLINE.with(|d| d.set(prev));
        }
    }
    let prev = DEADLINE.with(|d| d.replace(deadline.map(|end| (start, end))));
    let _restore = Restore(prev);
    f()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_sets_and_restores() {
        assert_eq!(current(), None);
        assert!(check().is_ok());
        let start = Instant::now();
        let end = start + Duration::from_secs(3600);
        scope(start, Some(end), || {
            assert_eq!(current(), Some(end));
            assert!(check().is_ok());
            assert!(remaining().unwrap() > Duration::from_secs(3000));
            // Nested: an already-passed deadline.
            scope(start, Some(start), || {
                assert!(matches!(check(), Err(BackendError::Timeout { .. })));
                assert_eq!(remaining(), Some(Duration::ZERO));
            });
            assert_eq!(current(), Some(end));
        });
        assert_eq!(current(), None);
    }
}
