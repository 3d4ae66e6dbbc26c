//! Loading, instantiating and calling guests, with every trap, panic or limit hit turned
//! into an error that names the guest and says which limit it was.

use super::bindings::{hook::HookGuest, job::JobGuest, render::RenderGuest};
use super::cache::{ComponentCache, Origin};
use super::engine;
use super::state::HostState;
use crate::capabilities::kubernetes::KubeCapability;
use crate::error::{HostError, Result};
use crate::logging;
use crate::manifest::{Guest, Manifest, World};
use wasmtime::component::{Component, HasSelf, Linker};
use std::sync::OnceLock;
use wasmtime::{Engine, Store, Trap};

/// The engines, the cache, and the manifest the guests come from.
pub struct Runtime {
    /// Built on first use: a hook run needs only the one its guest's compiler asks for.
    engines: [OnceLock<Engine>; 2],
    pub cache: ComponentCache,
    pub manifest: Manifest,
}

/// A guest ready to call: its store and bindings.
pub struct Instance<B> {
    pub store: Store<HostState>,
    pub bindings: B,
    guest: Guest,
}

impl Runtime {
    pub fn new(manifest: Manifest, cache: ComponentCache) -> Result<Self> {
        Ok(Self { engines: [OnceLock::new(), OnceLock::new()], cache, manifest })
    }

    /// The engine of the guest's compiler.
    pub fn engine(&self, guest: &Guest) -> Result<&Engine> {
        let compiler = guest.compiler();
        let slot = &self.engines[compiler as usize];
        if let Some(engine) = slot.get() {
            return Ok(engine);
        }
        let engine = engine::new_engine(compiler).map_err(HostError::Other)?;
        Ok(slot.get_or_init(|| engine))
    }

    /// The guest's component, precompiled when the cache allows.
    pub fn component(&self, guest: &Guest) -> Result<(Component, Origin)> {
        let path = self.manifest.component_path(guest);
        self.cache
            .load(self.engine(guest)?, &path)
            .map_err(|detail| HostError::Load { guest: guest.name.clone(), path, detail })
    }

    fn store(&self, guest: &Guest, kube: Option<KubeCapability>) -> Result<Store<HostState>> {
        let mut store = Store::new(self.engine(guest)?, HostState::new(&guest.name, &guest.limits, kube));
        store.limiter(|s| &mut s.limits);
        store.set_epoch_deadline(engine::deadline_ticks(guest.limits.timeout_ms));
        store.epoch_deadline_trap();
        Ok(store)
    }

    fn linker(&self, guest: &Guest) -> Result<Linker<HostState>> {
        let mut linker = Linker::new(self.engine(guest)?);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(|e| HostError::Other(format!("{e:#}")))?;
        Ok(linker)
    }

    /// Instantiates a hook guest whose Kubernetes calls go to `kube`.
    pub fn hook(&self, guest: &Guest, kube: KubeCapability) -> Result<Instance<HookGuest>> {
        let mut linker = self.linker(guest)?;
        HookGuest::add_to_linker::<_, HasSelf<HostState>>(&mut linker, |s| s).map_err(|e| link_error(guest, e))?;
        self.instantiate(guest, World::Hook, Some(kube), &linker, |store, c, l| HookGuest::instantiate(store, c, l))
    }

    /// Instantiates a render guest (no Kubernetes at all).
    pub fn render(&self, guest: &Guest) -> Result<Instance<RenderGuest>> {
        let linker = self.linker(guest)?;
        self.instantiate(guest, World::Render, None, &linker, |store, c, l| RenderGuest::instantiate(store, c, l))
    }

    /// Instantiates a job guest whose Kubernetes calls go to `kube`.
    pub fn job(&self, guest: &Guest, kube: KubeCapability) -> Result<Instance<JobGuest>> {
        let mut linker = self.linker(guest)?;
        JobGuest::add_to_linker::<_, HasSelf<HostState>>(&mut linker, |s| s).map_err(|e| link_error(guest, e))?;
        self.instantiate(guest, World::Job, Some(kube), &linker, |store, c, l| JobGuest::instantiate(store, c, l))
    }

    fn instantiate<B>(
        &self,
        guest: &Guest,
        world: World,
        kube: Option<KubeCapability>,
        linker: &Linker<HostState>,
        make: impl FnOnce(&mut Store<HostState>, &Component, &Linker<HostState>) -> wasmtime::Result<B>,
    ) -> Result<Instance<B>> {
        if guest.world != world {
            return Err(HostError::Other(format!(
                "guest {} is declared as world {:?} in grants.yaml, but is used as {world:?}",
                guest.name, guest.world
            )));
        }
        let started = std::time::Instant::now();
        let (component, origin) = self.component(guest)?;
        let loaded = started.elapsed();
        let mut store = self.store(guest, kube)?;
        let bindings = make(&mut store, &component, linker).map_err(|e| {
            let failure = failure(guest, &store, &e);
            match failure {
                HostError::Trap { .. } => failure,
                _ => HostError::Instantiate { guest: guest.name.clone(), world: world_name(world), detail: format!("{e:#}") },
            }
        })?;
        let ms = |d: std::time::Duration| serde_json::Value::from(d.as_secs_f64() * 1000.0);
        logging::debug(
            "guest instantiated",
            &[("guest", guest.name.clone().into()), ("origin", format!("{origin:?}").into()), ("loadMs", ms(loaded)), ("totalMs", ms(started.elapsed()))],
        );
        Ok(Instance { store, bindings, guest: guest.clone() })
    }
}

impl<B> Instance<B> {
    /// Calls into the guest; a trap becomes an error naming the guest and the cause, and
    /// whatever the guest printed is forwarded to the log either way.
    pub fn call<R>(&mut self, what: &str, f: impl FnOnce(&B, &mut Store<HostState>) -> wasmtime::Result<R>) -> Result<R> {
        let result = f(&self.bindings, &mut self.store);
        self.store.set_epoch_deadline(engine::deadline_ticks(self.guest.limits.timeout_ms));
        let outcome = result.map_err(|e| failure(&self.guest, &self.store, &e));
        forward_output(&self.guest.name, &self.store);
        outcome.map_err(|e| match e {
            HostError::Trap { guest, what: cause } => HostError::Trap { guest, what: format!("{cause} (in {what})") },
            other => other,
        })
    }
}

fn link_error(guest: &Guest, e: wasmtime::Error) -> HostError {
    HostError::Other(format!("cannot link guest {}: {e:#}", guest.name))
}

fn world_name(world: World) -> &'static str {
    match world {
        World::Hook => "hook-guest",
        World::Render => "render-guest",
        World::Job => "job-guest",
    }
}

/// Classifies a wasmtime error: deadline, memory limit, panic or other trap.
fn failure(guest: &Guest, store: &Store<HostState>, e: &wasmtime::Error) -> HostError {
    let (_, stderr) = store.data().captured();
    let text = format!("{e:#}");
    let what = if e.downcast_ref::<Trap>() == Some(&Trap::Interrupt) {
        format!("exceeded its CPU deadline of {} ms (limits.timeoutMs in grants.yaml)", guest.limits.timeout_ms)
    } else if text.contains("growing memory") || text.contains("memory limit") || text.contains("grow") && text.contains("memory") {
        format!("exceeded its memory limit of {} MiB (limits.memoryMiB in grants.yaml)", guest.limits.memory_mib)
    } else if let Some(panic) = panic_message(&stderr) {
        format!("panicked: {panic}")
    } else {
        format!("trapped: {}", text.lines().next().unwrap_or(&text))
    };
    HostError::Trap { guest: guest.name.clone(), what }
}

/// The panic line a Rust guest printed to stderr, if any.
fn panic_message(stderr: &str) -> Option<String> {
    let start = stderr.find("panicked at")?;
    let lines: Vec<&str> = stderr[start..].lines().take(2).map(|l| l.trim().trim_end_matches(':')).collect();
    Some(lines.join(": "))
}

fn forward_output(guest: &str, store: &Store<HostState>) {
    let (stdout, stderr) = store.data().captured();
    for (stream, text, level) in [("stdout", stdout, logging::Level::Info), ("stderr", stderr, logging::Level::Warn)] {
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            logging::log(level, line, &[("guest", guest.into()), ("stream", stream.into())]);
        }
    }
}
