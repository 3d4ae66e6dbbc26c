//! A clock the test moves: the driver advances it by each wait the Job asks for, as
//! the host's sleep would, so timeouts are tested without sleeping.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use guest_migrate::Clock;

/// 2026-01-01T00:00:00Z, the wall time at elapsed zero.
const EPOCH_OFFSET: Duration = Duration::from_secs(1_767_225_600);

#[derive(Clone, Default)]
pub struct TestClock(Rc<Cell<Duration>>);

impl TestClock {
    pub fn advance(&self, by: Duration) {
        self.0.set(self.0.get() + by);
    }
}

impl Clock for TestClock {
    fn elapsed(&self) -> Duration {
        self.0.get()
    }
    fn wall(&self) -> Duration {
        EPOCH_OFFSET + self.0.get()
    }
}
