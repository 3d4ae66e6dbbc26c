//! The whole migration on one machine, with the real guests through the real runtime:
//! an embedded cluster ([`kube_memstore`]), Deckhouse's module runs and hook events
//! (addon-operator's semantics: beforeHelm hooks by order, values patches applied
//! strictly, object operations applied, Helm applying the render plan; values reset to
//! their openapi defaults on a restart), kubelet and the new controller, and the Job run
//! in-process against the same cluster.
//!
//! - [`world`]: the system and every action on it.
//! - [`scenario`]: scenario files (`wasm-hooks simulate`).
//! - [`explore`]: bounded exhaustive exploration (`wasm-hooks verify`).
//! - [`invariants`]: I1-I8, checked after every action.
//! - [`timeline`]: what a person reads, and the JSON trace.

pub mod cluster;
pub mod explore;
pub mod invariants;
pub mod scenario;
pub mod timeline;
pub mod world;

use crate::deckhouse::config::guest_config;
use crate::deckhouse::job::{Job, settings};
use crate::deckhouse::run::prepare;
use crate::error::HostError;
use crate::manifest::World as GuestWorld;
use crate::runtime::guest::Runtime;
use invariants::States;
use std::path::PathBuf;
use world::{Guests, Hook};

/// Why a simulation could not run (a finding is not an error: it is a violation).
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error(transparent)]
    Host(#[from] HostError),
    #[error("scenario {path}: {message}")]
    Scenario { path: PathBuf, message: String },
    #[error("simulated Deckhouse: {0}")]
    Model(String),
}

/// Loads every guest the simulator runs from the manifest, each prepared once.
pub fn guests(runtime: &Runtime) -> Result<(Guests<'_>, States), SimError> {
    let manifest = &runtime.manifest;
    let of = |world: GuestWorld| manifest.guests.iter().filter(move |g| g.world == world);
    let mut hooks = Vec::new();
    for guest in of(GuestWorld::Hook) {
        let config = guest_config(runtime, guest)?;
        hooks.push(Hook {
            guest,
            bindings: config.kubernetes,
            order: config.before_helm.unwrap_or(0),
            prepared: prepare(runtime, guest)?,
        });
    }
    hooks.sort_by_key(|hook| hook.order);
    let one = |world: GuestWorld, what: &str| {
        let mut found = of(world);
        match (found.next(), found.next()) {
            (Some(guest), None) => Ok(guest),
            _ => Err(SimError::Model(format!(
                "the simulator needs exactly one {what} guest in grants.yaml"
            ))),
        }
    };
    let render = one(GuestWorld::Render, "render")?;
    let job_guest = one(GuestWorld::Job, "job")?;
    let job = Job::new(runtime, job_guest, settings(job_guest, &[])?)?;
    let mut instance = runtime.prepare_render(render)?.instantiate()?;
    let machine = instance.call_bounded("describe", |b, s| {
        b.deckhouse_hooks_render().call_describe(s)
    })?;
    let states = States {
        all: machine.states,
    };
    Ok((
        Guests {
            runtime,
            hooks,
            render: (render, prepare(runtime, render)?),
            job,
            values_key: manifest.module.values_key.clone(),
        },
        states,
    ))
}
