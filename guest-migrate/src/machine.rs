//! The Job's step: check the pre-flight once, read the state from the ConfigMap, do
//! what that state asks, move to the next state (with an Event), and repeat until
//! something must be waited for or all is done. The cluster is re-read on every step,
//! so a killed Job's successor just continues; a [`Migrator`] only remembers what
//! belongs to one Job (pre-flight passed, Pass 2's verification and timeout clock).

use crate::clock::Clock;
use crate::error::Error;
use crate::events::{self, Event, Severity};
use crate::kube::{Cluster, KubeError};
use crate::log::{Level, Log};
use crate::pass2::{self, Outcome, Watch};
use crate::report::{self, Report};
use crate::settings::Settings;
use crate::state::{self, State, StateError};
use crate::state::{ALL_COMPLETED, NOT_STARTED, STAGE1_COMPLETED, STAGE1_STARTED, STAGE2_STARTED};
use crate::{pass1, preflight, workloads};

/// Poll interval while waiting for Deckhouse or the API.
pub const POLL_MS: u32 = 5000;
/// Retry interval after the state changed under us.
const CONFLICT_MS: u32 = 1000;
/// More transitions than the machine has, so one step never loops forever.
const MAX_TRANSITIONS: usize = 8;

/// What the step wants next (mirrors WIT `step-result`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Done(String),
    Wait(u32, String),
}

enum Next {
    /// The state moved on; decide again.
    Continue,
    Stop(Step),
}

/// One Job's migrator.
pub struct Migrator {
    pub settings: Settings,
    pub clock: Box<dyn Clock>,
    preflight_passed: bool,
    watch: Watch,
    /// The state last read, for the Event of a failure.
    last_state: Option<State>,
}

impl Migrator {
    pub fn new(settings: Settings, clock: Box<dyn Clock>) -> Self {
        Self {
            settings,
            clock,
            preflight_passed: false,
            watch: Watch::default(),
            last_state: None,
        }
    }

    /// One step. `Err` fails the Job; the text names what to fix.
    pub fn step(&mut self, cluster: &mut dyn Cluster, log: &mut dyn Log) -> Result<Step, String> {
        let mut summary = Vec::new();
        for _ in 0..MAX_TRANSITIONS {
            match self.advance(cluster, log, &mut summary) {
                Ok(Next::Continue) => {}
                Ok(Next::Stop(step)) => return Ok(step),
                Err(Error::Api {
                    during,
                    source: KubeError::Unavailable(msg),
                }) => {
                    log.emit(
                        Level::Warn,
                        "Kubernetes API unavailable; retrying",
                        &[("during", during.clone()), ("error", msg.clone())],
                    );
                    return Ok(Step::Wait(
                        POLL_MS,
                        format!("Kubernetes API unavailable while {during}: {msg}"),
                    ));
                }
                Err(error) => {
                    let text = error.to_string();
                    log.emit(
                        Level::Error,
                        "migration step failed",
                        &[("error", text.clone())],
                    );
                    if let Some(at) = &self.last_state {
                        let event = Event {
                            severity: Severity::Warning,
                            reason: "MigrationFailed",
                            message: &text,
                            key: "failed",
                        };
                        events::record(cluster, log, self.clock.as_ref(), at, &event);
                    }
                    return Err(text);
                }
            }
        }
        Ok(Step::Wait(
            0,
            "state advanced several times in one step; continuing".into(),
        ))
    }

    /// Plans the whole Pass 1 without changing anything: reads, then sends every
    /// create (the host makes them server-side dry runs).
    pub fn rehearse(
        &mut self,
        cluster: &mut dyn Cluster,
        log: &mut dyn Log,
    ) -> Result<Report, String> {
        report::rehearse(cluster, log, self.clock.as_ref(), &self.settings)
            .map_err(|e| e.to_string())
    }

    /// Where the migration stands; reads only.
    pub fn status(
        &mut self,
        cluster: &mut dyn Cluster,
        log: &mut dyn Log,
    ) -> Result<Report, String> {
        report::status(cluster, log, &self.settings).map_err(|e| e.to_string())
    }

    fn advance(
        &mut self,
        cluster: &mut dyn Cluster,
        log: &mut dyn Log,
        summary: &mut Vec<String>,
    ) -> Result<Next, Error> {
        if !self.preflight_passed {
            let blockers = preflight::blockers(cluster)?;
            if !blockers.is_empty() {
                return Err(Error::Data(format!(
                    "the migration cannot start, nothing was changed:\n  - {}",
                    blockers.join("\n  - ")
                )));
            }
            self.preflight_passed = true;
        }
        let state = state::read_or_create(cluster).map_err(|source| Error::Api {
            during: "reading the migration state".into(),
            source,
        })?;
        self.last_state = Some(state.clone());
        match state.value.as_str() {
            NOT_STARTED => self.transition(cluster, log, &state, STAGE1_STARTED),
            STAGE1_STARTED => self.stage1(cluster, log, &state, summary),
            STAGE1_COMPLETED => self.await_new_control_plane(cluster, log, &state),
            STAGE2_STARTED => {
                let clock = self.clock.as_ref();
                match pass2::run(cluster, log, clock, &self.settings, &mut self.watch)? {
                    Outcome::Wait(ms, why) => Ok(Next::Stop(Step::Wait(ms, why))),
                    Outcome::Done(line) => {
                        summary.push(line);
                        self.transition(cluster, log, &state, ALL_COMPLETED)
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
        cluster: &mut dyn Cluster,
        log: &mut dyn Log,
        state: &State,
        summary: &mut Vec<String>,
    ) -> Result<Next, Error> {
        let running = workloads::linstor_still_running(cluster)?;
        if !running.is_empty() {
            return Ok(Next::Stop(Step::Wait(
                POLL_MS,
                format!(
                    "waiting for LINSTOR to stop: {} still present",
                    running.join(", ")
                ),
            )));
        }
        summary.push(pass1::run(
            cluster,
            log,
            self.clock.as_ref(),
            &self.settings,
        )?);
        self.transition(cluster, log, state, STAGE1_COMPLETED)
    }

    fn await_new_control_plane(
        &mut self,
        cluster: &mut dyn Cluster,
        log: &mut dyn Log,
        state: &State,
    ) -> Result<Next, Error> {
        let waiting = workloads::new_control_plane_not_ready(cluster)?;
        if !waiting.is_empty() {
            return Ok(Next::Stop(Step::Wait(
                POLL_MS,
                format!("waiting for the new control plane: {}", waiting.join("; ")),
            )));
        }
        self.transition(cluster, log, state, STAGE2_STARTED)
    }

    /// Writes the next state and records an Event; a concurrent change makes the step
    /// wait and re-decide.
    fn transition(
        &mut self,
        cluster: &mut dyn Cluster,
        log: &mut dyn Log,
        from: &State,
        to: &str,
    ) -> Result<Next, Error> {
        match state::write(cluster, from, to) {
            Ok(()) => {
                log.emit(
                    Level::Info,
                    "migration state changed",
                    &[("from", from.value.clone()), ("to", to.to_owned())],
                );
                let message = format!("migration state changed from {} to {to}", from.value);
                let event = Event {
                    severity: Severity::Normal,
                    reason: "MigrationStateChanged",
                    message: &message,
                    key: to,
                };
                events::record(cluster, log, self.clock.as_ref(), from, &event);
                Ok(Next::Continue)
            }
            Err(StateError::Conflict(msg)) => {
                log.emit(
                    Level::Warn,
                    "migration state changed concurrently; re-reading",
                    &[("error", msg)],
                );
                Ok(Next::Stop(Step::Wait(
                    CONFLICT_MS,
                    format!(
                        "ConfigMap changed while moving {} -> {to}; re-reading",
                        from.value
                    ),
                )))
            }
            Err(StateError::Kube(source)) => Err(Error::Api {
                during: format!("setting migration state {to}"),
                source,
            }),
        }
    }
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
