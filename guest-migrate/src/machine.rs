//! The Job's step: check the pre-flight once, read the state from the ConfigMap, do
//! what that state asks, move to the next state (with an Event), and repeat until
//! something must be waited for or all is done. The cluster is re-read on every step,
//! so a killed Job's successor just continues; a [`Migrator`] only remembers what
//! belongs to one Job (pre-flight passed, Pass 2's verification and timeout clock).

use crate::clock::{Clock, SystemClock};
use crate::error::Error;
use crate::events::{self, Event, Severity};
use crate::pass2::{self, Outcome, Watch};
use crate::report;
use crate::settings::Settings;
use crate::state::{self, State, StateError};
use crate::state::{ALL_COMPLETED, NOT_STARTED, STAGE1_COMPLETED, STAGE1_STARTED, STAGE2_STARTED};
use crate::{pass1, preflight, workloads};
use deckhouse_hooks_sdk::job::{Job, JobContext, Report, Step};
use deckhouse_hooks_sdk::{Error as SdkError, Kube, KubeError, Logger};

/// Poll interval while waiting for Deckhouse or the API.
pub const POLL_MS: u32 = 5000;
/// Retry interval after the state changed under us.
const CONFLICT_MS: u32 = 1000;
/// More transitions than the machine has, so one step never loops forever.
const MAX_TRANSITIONS: usize = 8;

enum Next {
    /// The state moved on; decide again.
    Continue,
    Stop(Step),
}

/// One Job's migrator: the guest's [`Job`]. The host keeps one per Job (the same
/// instance for every step), so it remembers what belongs to that Job alone.
pub struct Migrator {
    settings: Settings,
    clock: Box<dyn Clock>,
    preflight_passed: bool,
    watch: Watch,
    /// The state last read, for the Event of a failure.
    last_state: Option<State>,
}

impl Default for Migrator {
    /// The real clocks (WASI `monotonic-clock` and `wall-clock` in the guest).
    fn default() -> Self {
        Self::new(Box::new(SystemClock::new()))
    }
}

impl Job for Migrator {
    type Settings = Settings;

    /// One step. An error fails the Job; the text names what to fix.
    fn step(&mut self, ctx: &JobContext<'_>, settings: &Settings) -> Result<Step, SdkError> {
        self.settings = settings.checked()?;
        let mut summary = Vec::new();
        for _ in 0..MAX_TRANSITIONS {
            match self.advance(ctx.kube, ctx.log, &mut summary) {
                Ok(Next::Continue) => {}
                Ok(Next::Stop(step)) => return Ok(step),
                Err(Error::Api {
                    during,
                    source: KubeError::Unavailable(msg),
                }) => {
                    ctx.log.warn(
                        "Kubernetes API unavailable; retrying",
                        &[("during", &during), ("error", &msg)],
                    );
                    return Ok(Step::Wait {
                        ms: POLL_MS,
                        why: format!("Kubernetes API unavailable while {during}: {msg}"),
                    });
                }
                Err(error) => {
                    let text = error.to_string();
                    ctx.log.error("migration step failed", &[("error", &text)]);
                    if let Some(at) = &self.last_state {
                        let event = Event {
                            severity: Severity::Warning,
                            reason: "MigrationFailed",
                            message: &text,
                            key: "failed",
                        };
                        events::record(ctx.kube, ctx.log, self.clock.as_ref(), at, &event);
                    }
                    return Err(SdkError::msg(text));
                }
            }
        }
        Ok(Step::Wait {
            ms: 0,
            why: "state advanced several times in one step; continuing".into(),
        })
    }

    /// Plans the whole Pass 1 without changing anything: reads, then sends every
    /// create (the host makes them server-side dry runs).
    fn rehearse(&mut self, ctx: &JobContext<'_>, settings: &Settings) -> Result<Report, SdkError> {
        self.settings = settings.checked()?;
        report::rehearse(ctx.kube, ctx.log, self.clock.as_ref(), &self.settings)
            .map_err(|e| SdkError::msg(e.to_string()))
    }

    /// Where the migration stands; reads only.
    fn status(&mut self, ctx: &JobContext<'_>, settings: &Settings) -> Result<Report, SdkError> {
        self.settings = settings.checked()?;
        report::status(ctx.kube, ctx.log, &self.settings).map_err(|e| SdkError::msg(e.to_string()))
    }
}

impl Migrator {
    /// A migrator on `clock` (tests drive a manual one).
    pub fn new(clock: Box<dyn Clock>) -> Self {
        Self {
            settings: Settings::default(),
            clock,
            preflight_passed: false,
            watch: Watch::default(),
            last_state: None,
        }
    }

    fn advance(
        &mut self,
        kube: Kube<'_>,
        log: Logger<'_>,
        summary: &mut Vec<String>,
    ) -> Result<Next, Error> {
        if !self.preflight_passed {
            let blockers = preflight::blockers(kube)?;
            if !blockers.is_empty() {
                return Err(Error::Data(format!(
                    "the migration cannot start, nothing was changed:\n  - {}",
                    blockers.join("\n  - ")
                )));
            }
            self.preflight_passed = true;
        }
        let state = state::read_or_create(kube).map_err(|source| Error::Api {
            during: "reading the migration state".into(),
            source,
        })?;
        self.last_state = Some(state.clone());
        match state.value.as_str() {
            NOT_STARTED => self.transition(kube, log, &state, STAGE1_STARTED),
            STAGE1_STARTED => self.stage1(kube, log, &state, summary),
            STAGE1_COMPLETED => self.await_new_control_plane(kube, log, &state),
            STAGE2_STARTED => {
                let clock = self.clock.as_ref();
                match pass2::run(kube, log, clock, &self.settings, &mut self.watch)? {
                    Outcome::Wait(ms, why) => Ok(Next::Stop(Step::Wait { ms, why })),
                    Outcome::Done(line) => {
                        summary.push(line);
                        self.transition(kube, log, &state, ALL_COMPLETED)
                    }
                }
            }
            ALL_COMPLETED if summary.is_empty() => Ok(Next::Stop(Step::Done(
                "nothing to do: migration state is all_completed".into(),
            ))),
            ALL_COMPLETED => Ok(Next::Stop(Step::Done(format!(
                "migration completed. {}",
                summary.join(". ")
            )))),
            unknown => Err(Error::Data(unknown_state(unknown))),
        }
    }

    /// Waits for LINSTOR to stop, then runs Pass 1.
    fn stage1(
        &mut self,
        kube: Kube<'_>,
        log: Logger<'_>,
        state: &State,
        summary: &mut Vec<String>,
    ) -> Result<Next, Error> {
        let running = workloads::linstor_still_running(kube)?;
        if !running.is_empty() {
            return Ok(poll(format!(
                "waiting for LINSTOR to stop: {} still present",
                running.join(", ")
            )));
        }
        summary.push(pass1::run(kube, log, self.clock.as_ref(), &self.settings)?);
        self.transition(kube, log, state, STAGE1_COMPLETED)
    }

    fn await_new_control_plane(
        &mut self,
        kube: Kube<'_>,
        log: Logger<'_>,
        state: &State,
    ) -> Result<Next, Error> {
        let waiting = workloads::new_control_plane_not_ready(kube)?;
        if !waiting.is_empty() {
            return Ok(poll(format!(
                "waiting for the new control plane: {}",
                waiting.join("; ")
            )));
        }
        self.transition(kube, log, state, STAGE2_STARTED)
    }

    /// Writes the next state and records an Event; a concurrent change makes the step
    /// wait and re-decide.
    fn transition(
        &mut self,
        kube: Kube<'_>,
        log: Logger<'_>,
        from: &State,
        to: &str,
    ) -> Result<Next, Error> {
        match state::write(kube, from, to) {
            Ok(()) => {
                log.info(
                    "migration state changed",
                    &[("from", &from.value), ("to", to)],
                );
                let message = format!("migration state changed from {} to {to}", from.value);
                let event = Event {
                    severity: Severity::Normal,
                    reason: "MigrationStateChanged",
                    message: &message,
                    key: to,
                };
                events::record(kube, log, self.clock.as_ref(), from, &event);
                Ok(Next::Continue)
            }
            Err(StateError::Conflict(msg)) => {
                log.warn(
                    "migration state changed concurrently; re-reading",
                    &[("error", &msg)],
                );
                Ok(Next::Stop(Step::Wait {
                    ms: CONFLICT_MS,
                    why: format!(
                        "ConfigMap changed while moving {} -> {to}; re-reading",
                        from.value
                    ),
                }))
            }
            Err(StateError::Kube(source)) => Err(Error::Api {
                during: format!("setting migration state {to}"),
                source,
            }),
        }
    }
}

/// Stops the step to look again after [`POLL_MS`].
fn poll(why: String) -> Next {
    Next::Stop(Step::Wait { ms: POLL_MS, why })
}

/// An unknown state is refused, not restarted from Pass 1 as the real migrator does:
/// it comes from a newer migrator (stage3_*, stage4_* back up and remove LINSTOR), and
/// rerunning Pass 1 over a database that may be half-removed is not safe.
pub fn unknown_state(unknown: &str) -> String {
    format!(
        "unknown migration state {unknown:?} in ConfigMap d8-sds-replicated-volume/control-plane-migration; \
         this migrator knows {}; set a known state or run the migrator that knows {unknown:?}",
        state::STATES.join(", ")
    )
}
