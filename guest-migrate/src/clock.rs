//! Time for the Job: a monotonic clock for progress rates and the adoption timeout,
//! and wall time for Event timestamps. In wasm both come from WASI clocks; tests
//! drive a manual clock so timeouts are tested without sleeping.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Where the Job's time comes from.
pub trait Clock {
    /// Time since an arbitrary fixed origin; never goes backwards.
    fn elapsed(&self) -> Duration;
    /// Time since the Unix epoch.
    fn wall(&self) -> Duration;
}

/// The real clocks (WASI `monotonic-clock` and `wall-clock` in the guest).
pub struct SystemClock {
    origin: Instant,
}

impl SystemClock {
    /// Clocks whose elapsed time starts now.
    pub fn new() -> Self {
        Self {
            origin: Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn elapsed(&self) -> Duration {
        self.origin.elapsed()
    }

    fn wall(&self) -> Duration {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
    }
}
