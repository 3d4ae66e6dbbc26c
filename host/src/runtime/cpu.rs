//! The CPU budget of one guest call (`limits.cpuMs`), apart from its wall-clock deadline
//! (`limits.timeoutMs`): a guest that computes is stopped by this one, a guest that sleeps
//! or waits on the host by the deadline, and each error says which.
//!
//! It is the CPU time of the thread running the call (`CLOCK_THREAD_CPUTIME_ID`), so time
//! the thread spends descheduled on a loaded machine never counts, unlike wall-clock time.
//! Calls are synchronous: the thread that starts a call runs all of it, guest code and
//! host calls alike. The store's epoch callback compares it against the budget on every
//! epoch tick.

use rustix::time::{ClockId, clock_gettime};
use std::time::Duration;

/// A call used more CPU time than its budget; `cause()` names it.
#[derive(Debug, thiserror::Error)]
#[error("{used_ms} ms of CPU time used")]
pub struct CpuExceeded {
    pub used_ms: u128,
    pub limit_ms: u64,
}

/// The CPU clock of the call in progress.
#[derive(Debug, Default)]
pub struct CpuBudget {
    /// The thread's CPU time when the call started, and the call's budget.
    started: Option<(Duration, u64)>,
}

impl CpuBudget {
    /// Starts a call with `limit_ms` of CPU time, on the calling thread.
    pub fn start(&mut self, limit_ms: u64) {
        self.started = Some((thread_cpu_time(), limit_ms));
    }

    /// `Err` once the call has used more CPU time than its budget.
    pub fn check(&self) -> Result<(), CpuExceeded> {
        let Some((start, limit_ms)) = self.started else {
            return Ok(());
        };
        let used = thread_cpu_time().saturating_sub(start);
        if used > Duration::from_millis(limit_ms) {
            return Err(CpuExceeded {
                used_ms: used.as_millis(),
                limit_ms,
            });
        }
        Ok(())
    }
}

/// CPU time the calling thread has used so far.
fn thread_cpu_time() -> Duration {
    let t = clock_gettime(ClockId::ThreadCPUTime);
    Duration::new(
        u64::try_from(t.tv_sec).unwrap_or(0),
        u32::try_from(t.tv_nsec).unwrap_or(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computing_spends_the_budget_and_sleeping_does_not() {
        let mut cpu = CpuBudget::default();
        cpu.check().unwrap();
        cpu.start(20);
        std::thread::sleep(Duration::from_millis(60));
        cpu.check().unwrap();
        let mut x = 0u64;
        let err = loop {
            x = std::hint::black_box(x.wrapping_add(1));
            if let Err(e) = cpu.check() {
                break e;
            }
        };
        assert_eq!(err.limit_ms, 20);
        assert!(err.used_ms >= 20, "{err}");
    }
}
