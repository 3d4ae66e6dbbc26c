//! The Job's step: read the state from the ConfigMap, do what that state asks, move
//! to the next state, and repeat until something must be waited for or all is done.
//! Nothing is remembered between steps, so a killed Job's successor just continues.

use crate::error::Error;
use crate::kube::{Cluster, KubeError};
use crate::log::{Level, Log};
use crate::state::{self, State, StateError};
use crate::state::{ALL_COMPLETED, NOT_STARTED, STAGE1_COMPLETED, STAGE1_STARTED, STAGE2_STARTED};
use crate::{pass1, pass2, workloads};

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

/// One step. `Err` fails the Job; the text names what to fix.
pub fn step(cluster: &mut dyn Cluster, log: &mut dyn Log) -> Result<Step, String> {
    let mut summary = Vec::new();
    for _ in 0..MAX_TRANSITIONS {
        match advance(cluster, log, &mut summary) {
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
                return Err(text);
            }
        }
    }
    Ok(Step::Wait(
        0,
        "state advanced several times in one step; continuing".into(),
    ))
}

fn advance(
    cluster: &mut dyn Cluster,
    log: &mut dyn Log,
    summary: &mut Vec<String>,
) -> Result<Next, Error> {
    let state = match state::read(cluster) {
        Ok(state) => state,
        Err(StateError::Kube(source)) => {
            return Err(Error::Api {
                during: "reading the migration state".into(),
                source,
            });
        }
        Err(StateError::Unusable(text) | StateError::Conflict(text)) => {
            return Err(Error::Data(text));
        }
    };
    match state.value.as_str() {
        NOT_STARTED => transition(cluster, log, &state, STAGE1_STARTED),
        STAGE1_STARTED => stage1(cluster, log, &state, summary),
        STAGE1_COMPLETED => await_new_control_plane(cluster, log, &state),
        STAGE2_STARTED => {
            summary.push(pass2::run(cluster, log)?);
            transition(cluster, log, &state, ALL_COMPLETED)
        }
        ALL_COMPLETED if summary.is_empty() => Ok(Next::Stop(Step::Done(
            "nothing to do: migration state is all_completed".into(),
        ))),
        ALL_COMPLETED => Ok(Next::Stop(Step::Done(format!(
            "migration completed. {}",
            summary.join(". ")
        )))),
        unknown => Err(Error::Data(format!(
            "unknown migration state {unknown:?} in ConfigMap d8-sds-replicated-volume/control-plane-migration; \
             this migrator knows {NOT_STARTED}, {STAGE1_STARTED}, {STAGE1_COMPLETED}, {STAGE2_STARTED} and \
             {ALL_COMPLETED}; set a known state or run the migrator that knows {unknown:?}"
        ))),
    }
}

/// Waits for LINSTOR to stop, then runs Pass 1.
fn stage1(
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
    summary.push(pass1::run(cluster, log)?);
    transition(cluster, log, state, STAGE1_COMPLETED)
}

fn await_new_control_plane(
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
    transition(cluster, log, state, STAGE2_STARTED)
}

/// Writes the next state; a concurrent change makes the step wait and re-decide.
fn transition(
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
        Err(StateError::Unusable(text)) => Err(Error::Data(text)),
    }
}
