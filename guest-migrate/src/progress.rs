//! Progress people can follow: every few seconds a line with the count done, the
//! rate and the estimated time left.

use std::time::Duration;

use crate::clock::Clock;
use deckhouse_hooks_sdk::Logger;

pub struct Progress {
    what: &'static str,
    unit: &'static str,
    total: usize,
    done: usize,
    started: Duration,
    last_line: Duration,
    interval: Duration,
}

impl Progress {
    pub fn new(
        what: &'static str,
        unit: &'static str,
        total: usize,
        clock: &dyn Clock,
        interval_seconds: u64,
    ) -> Self {
        let now = clock.elapsed();
        Self {
            what,
            unit,
            total,
            done: 0,
            started: now,
            last_line: now,
            interval: Duration::from_secs(interval_seconds),
        }
    }

    /// Counts `n` more done; logs a line when the interval has passed.
    pub fn add(&mut self, n: usize, clock: &dyn Clock, log: Logger<'_>) {
        self.set(self.done + n, clock, log);
    }

    /// Sets the count done; logs a line when the interval has passed.
    pub fn set(&mut self, done: usize, clock: &dyn Clock, log: Logger<'_>) {
        self.done = done;
        let now = clock.elapsed();
        if now.saturating_sub(self.last_line) >= self.interval {
            self.last_line = now;
            self.line(now, log);
        }
    }

    /// The closing line, whatever the interval.
    pub fn finish(&mut self, clock: &dyn Clock, log: Logger<'_>) {
        self.line(clock.elapsed(), log);
    }

    fn line(&self, now: Duration, log: Logger<'_>) {
        let elapsed = now.saturating_sub(self.started).as_secs_f64();
        let rate = if elapsed > 0.0 {
            self.done as f64 / elapsed
        } else {
            0.0
        };
        let left = self.total.saturating_sub(self.done);
        let eta = if left == 0 {
            "0s".to_owned()
        } else if rate > 0.0 {
            format!("{:.0}s", left as f64 / rate)
        } else {
            "unknown".to_owned()
        };
        log.info(
            &format!("{} progress", self.what),
            &[
                (self.unit, &format!("{}/{}", self.done, self.total)),
                ("perSecond", &format!("{rate:.1}")),
                ("elapsed", &format!("{elapsed:.0}s")),
                ("eta", &eta),
            ],
        );
    }
}
