//! The wall-clock deadline of the guest call in progress, shared between the store (which
//! bounds WASI sleeps by it) and the host calls (which refuse work once it has passed), so
//! time a guest spends blocked in the host counts against its `limits.timeoutMs` too.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// When the current call must end, and the budget it came from (for messages).
#[derive(Clone, Debug, Default)]
pub struct Deadline(Arc<Mutex<Option<(Instant, u64)>>>);

impl Deadline {
    /// Starts a call with `timeout_ms` of wall-clock time.
    pub fn start(&self, timeout_ms: u64) {
        *self.lock() = Some((
            Instant::now() + Duration::from_millis(timeout_ms),
            timeout_ms,
        ));
    }

    /// Time left in the current call; `None` when no call is running.
    pub fn remaining(&self) -> Option<Duration> {
        self.lock()
            .map(|(end, _)| end.saturating_duration_since(Instant::now()))
    }

    /// `Err(message)` once the current call's deadline has passed.
    pub fn check(&self) -> Result<(), String> {
        match *self.lock() {
            Some((end, ms)) if Instant::now() >= end => Err(format!(
                "the call's wall-clock deadline of {ms} ms (limits.timeoutMs) has passed"
            )),
            _ => Ok(()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(Instant, u64)>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}
