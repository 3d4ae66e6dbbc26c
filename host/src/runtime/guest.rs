//! Loading, linking, instantiating and calling guests. A guest is loaded and linked once
//! per process ([`Prepared`]); each run (each Job step) gets a fresh [`Instance`] from it.
//! Every trap, panic or limit hit becomes an error that names the guest and the cause.

use super::bindings::hook::deckhouse::hooks::{kubernetes, log, types};
use super::bindings::{
    hook::HookGuest, hook::HookGuestPre, job::JobGuest, job::JobGuestPre, render::RenderGuest,
    render::RenderGuestPre,
};
use super::cache::{ComponentCache, Origin};
use super::engine;
use super::state::{GuestState, Imports};
use crate::capabilities::kubernetes::KubeCtx;
use crate::capabilities::log::LogCtx;
use crate::error::{HostError, Result};
use crate::logging;
use crate::manifest::{Guest, Manifest, World};
use std::sync::OnceLock;
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Engine, Store, Trap};

/// The store state of the hook and job worlds.
pub type ImportsState = GuestState<Imports>;
/// The store state of the render world (no imports).
pub type RenderState = GuestState<()>;

/// The engines, the cache, and the manifest the guests come from.
pub struct Runtime {
    /// Built on first use: a hook run needs only the one its guest's compiler asks for.
    engines: [OnceLock<Engine>; 2],
    pub cache: ComponentCache,
    pub manifest: Manifest,
}

/// A guest loaded and linked, ready to instantiate any number of times.
pub struct Prepared<P> {
    pub guest: Guest,
    pub origin: Origin,
    engine: Engine,
    pre: P,
}

/// A guest instance ready to call: its store and bindings.
pub struct Instance<B, C: 'static> {
    pub store: Store<GuestState<C>>,
    pub bindings: B,
    guest: Guest,
}

impl Runtime {
    pub fn new(manifest: Manifest, cache: ComponentCache) -> Self {
        Self {
            engines: [OnceLock::new(), OnceLock::new()],
            cache,
            manifest,
        }
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
            .map_err(|detail| HostError::Load {
                guest: guest.name.clone(),
                path,
                detail,
            })
    }

    /// Loads and links a hook guest.
    pub fn prepare_hook(&self, guest: &Guest) -> Result<Prepared<HookGuestPre<ImportsState>>> {
        self.prepare(
            guest,
            World::Hook,
            |linker| {
                add_imports(linker)?;
                Ok(())
            },
            |linker, component| HookGuestPre::new(linker.instantiate_pre(component)?),
        )
    }

    /// Loads and links a render guest (no imports at all).
    pub fn prepare_render(&self, guest: &Guest) -> Result<Prepared<RenderGuestPre<RenderState>>> {
        self.prepare(
            guest,
            World::Render,
            |_| Ok(()),
            |linker, component| RenderGuestPre::new(linker.instantiate_pre(component)?),
        )
    }

    /// Loads and links a job guest.
    pub fn prepare_job(&self, guest: &Guest) -> Result<Prepared<JobGuestPre<ImportsState>>> {
        self.prepare(guest, World::Job, add_imports, |linker, component| {
            JobGuestPre::new(linker.instantiate_pre(component)?)
        })
    }

    fn prepare<C: Send + 'static, P>(
        &self,
        guest: &Guest,
        world: World,
        link: impl FnOnce(&mut Linker<GuestState<C>>) -> wasmtime::Result<()>,
        pre: impl FnOnce(&Linker<GuestState<C>>, &Component) -> wasmtime::Result<P>,
    ) -> Result<Prepared<P>> {
        if guest.world != world {
            return Err(HostError::Other(format!(
                "guest {} is declared as world {:?} in grants.yaml, but is used as {world:?}",
                guest.name, guest.world
            )));
        }
        let started = std::time::Instant::now();
        let engine = self.engine(guest)?.clone();
        let (component, origin) = self.component(guest)?;
        let loaded = started.elapsed();
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(|e| link_error(guest, e))?;
        link(&mut linker).map_err(|e| link_error(guest, e))?;
        let pre = pre(&linker, &component).map_err(|e| HostError::Instantiate {
            guest: guest.name.clone(),
            world: world_name(world),
            detail: format!("{e:#}"),
        })?;
        let ms = |d: std::time::Duration| serde_json::Value::from(d.as_secs_f64() * 1000.0);
        logging::debug(
            "guest prepared",
            &[
                ("guest", guest.name.clone().into()),
                ("origin", format!("{origin:?}").into()),
                ("loadMs", ms(loaded)),
                ("totalMs", ms(started.elapsed())),
            ],
        );
        Ok(Prepared {
            guest: guest.clone(),
            origin,
            engine,
            pre,
        })
    }
}

/// The hook and job worlds' imports, each on its own narrow context.
fn add_imports(linker: &mut Linker<ImportsState>) -> wasmtime::Result<()> {
    types::add_to_linker::<_, HasSelf<KubeCtx>>(linker, |s| &mut s.caps.kube)?;
    kubernetes::add_to_linker::<_, HasSelf<KubeCtx>>(linker, |s| &mut s.caps.kube)?;
    log::add_to_linker::<_, HasSelf<LogCtx>>(linker, |s| &mut s.caps.log)?;
    Ok(())
}

impl<P> Prepared<P> {
    fn instantiate_with<B, C: Send + 'static>(
        &self,
        caps: C,
        make: impl FnOnce(&P, &mut Store<GuestState<C>>) -> wasmtime::Result<B>,
    ) -> Result<Instance<B, C>> {
        let guest = &self.guest;
        let mut store = Store::new(
            &self.engine,
            GuestState::new(&guest.name, &guest.limits, caps),
        );
        store.limiter(|s| &mut s.limits);
        store.set_epoch_deadline(engine::deadline_ticks(guest.limits.timeout_ms));
        store.epoch_deadline_trap();
        let bindings = make(&self.pre, &mut store).map_err(|e| failure(guest, &store, &e))?;
        Ok(Instance {
            store,
            bindings,
            guest: guest.clone(),
        })
    }
}

impl Prepared<HookGuestPre<ImportsState>> {
    /// A fresh instance whose imports are `caps`.
    pub fn instantiate(&self, caps: Imports) -> Result<Instance<HookGuest, Imports>> {
        self.instantiate_with(caps, |pre, store| pre.instantiate(store))
    }
}

impl Prepared<JobGuestPre<ImportsState>> {
    /// A fresh instance whose imports are `caps`.
    pub fn instantiate(&self, caps: Imports) -> Result<Instance<JobGuest, Imports>> {
        self.instantiate_with(caps, |pre, store| pre.instantiate(store))
    }
}

impl Prepared<RenderGuestPre<RenderState>> {
    /// A fresh instance.
    pub fn instantiate(&self) -> Result<Instance<RenderGuest, ()>> {
        self.instantiate_with((), |pre, store| pre.instantiate(store))
    }
}

impl<B, C: 'static> Instance<B, C> {
    /// Calls into the guest; a trap becomes an error naming the guest and the cause, and
    /// whatever the guest printed is forwarded to the log either way.
    pub fn call<R>(
        &mut self,
        what: &str,
        f: impl FnOnce(&B, &mut Store<GuestState<C>>) -> wasmtime::Result<R>,
    ) -> Result<R> {
        let result = f(&self.bindings, &mut self.store);
        self.store
            .set_epoch_deadline(engine::deadline_ticks(self.guest.limits.timeout_ms));
        let outcome = result.map_err(|e| failure(&self.guest, &self.store, &e));
        forward_output(&self.guest.name, self.store.data());
        outcome.map_err(|e| match e {
            HostError::Trap { guest, what: cause } => HostError::Trap {
                guest,
                what: format!("{cause} (in {what})"),
            },
            other => other,
        })
    }

    /// The world's capabilities back, once the guest is done with them.
    pub fn into_caps(self) -> C {
        self.store.into_data().caps
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
fn failure<C: 'static>(
    guest: &Guest,
    store: &Store<GuestState<C>>,
    e: &wasmtime::Error,
) -> HostError {
    let (_, stderr) = store.data().captured();
    let text = format!("{e:#}");
    let what = if e.downcast_ref::<Trap>() == Some(&Trap::Interrupt) {
        format!(
            "exceeded its CPU deadline of {} ms (limits.timeoutMs in grants.yaml)",
            guest.limits.timeout_ms
        )
    } else if text.contains("growing memory")
        || text.contains("memory limit")
        || text.contains("grow") && text.contains("memory")
    {
        format!(
            "exceeded its memory limit of {} MiB (limits.memoryMiB in grants.yaml)",
            guest.limits.memory_mib
        )
    } else if let Some(panic) = panic_message(&stderr) {
        format!("panicked: {panic}")
    } else {
        format!("trapped: {}", text.lines().next().unwrap_or(&text))
    };
    HostError::Trap {
        guest: guest.name.clone(),
        what,
    }
}

/// The panic line a Rust guest printed to stderr, if any.
fn panic_message(stderr: &str) -> Option<String> {
    let start = stderr.find("panicked at")?;
    let lines: Vec<&str> = stderr[start..]
        .lines()
        .take(2)
        .map(|l| l.trim().trim_end_matches(':'))
        .collect();
    Some(lines.join(": "))
}

fn forward_output<C>(guest: &str, state: &GuestState<C>) {
    let (stdout, stderr) = state.captured();
    for (stream, text, level) in [
        ("stdout", stdout, logging::Level::Info),
        ("stderr", stderr, logging::Level::Warn),
    ] {
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            logging::log(
                level,
                &crate::capabilities::log::truncate(line, crate::capabilities::log::MAX_MESSAGE),
                &[("guest", guest.into()), ("stream", stream.into())],
            );
        }
    }
}
