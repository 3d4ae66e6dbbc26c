//! Loading, linking, instantiating and calling guests. A guest is loaded and linked once
//! per process ([`Prepared`]); each run (each Job step) gets a fresh [`Instance`] from it.
//! Every trap, panic or limit hit becomes an error that names the guest and the cause.

use super::budget;
use super::cache::{ComponentCache, Origin};
use super::cpu::CpuExceeded;
use super::engine;
use super::limiter::{MAX_INSTANCES, MAX_MEMORIES, MAX_TABLES, MemoryExceeded};
use super::state::{CAPTURE_BYTES, Caps, GuestState, Imports};
use super::wasi;
use crate::bindings::hook::deckhouse::hooks::{kubernetes, log, types};
use crate::bindings::{
    hook::HookGuest, hook::HookGuestPre, job::JobGuest, job::JobGuestPre, render::RenderGuest,
    render::RenderGuestPre,
};
use crate::capabilities::kubernetes::KubeCtx;
use crate::capabilities::log::LogCtx;
use crate::error::{HostError, Result};
use crate::logging;
use crate::manifest::{Guest, Manifest, World};
use std::sync::OnceLock;
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Engine, Store, StoreContextMut, Trap, UpdateDeadline};

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

    fn prepare<C: Caps + Send + 'static, P>(
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
        // Timed for the debug log: where a slow start goes (README, "Benchmarks").
        let started = std::time::Instant::now();
        let engine = self.engine(guest)?.clone();
        let built = started.elapsed();
        let (component, origin) = self.component(guest)?;
        let loaded = started.elapsed();
        let mut linker = Linker::new(&engine);
        let wasi = wasi::link(&mut linker, &component).map_err(|e| link_error(guest, e))?;
        bound_sleeps(&mut linker).map_err(|e| link_error(guest, e))?;
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
                ("wasi", format!("{wasi:?}").into()),
                ("engineMs", ms(built)),
                ("loadMs", ms(loaded - built)),
                ("linkMs", ms(started.elapsed() - loaded)),
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

/// The `wasi:clocks/monotonic-clock` wasmtime-wasi links (the version of its WIT).
const MONOTONIC_CLOCK: &str = "wasi:clocks/monotonic-clock@0.2.12";

/// Shadows the two ways a guest can ask for a timer (`subscribe-duration` / `-instant`,
/// which `poll` and `pollable.block` then wait on) so that no sleep outlasts the call's
/// deadline.
///
/// The epoch deadline only fires while guest code runs, so a guest blocked in a WASI
/// sleep would otherwise hold its run (and `hook config`, which Deckhouse runs at
/// startup) for as long as it asked. A timer that ends within the deadline is served as
/// usual. One that would end past it is a sleep beyond the budget: the host waits out
/// what is left of the budget itself and then stops the guest with the deadline trap.
/// (The only pollables a guest can get are timers and closed stdio, so a timer is always
/// waited on; treating a too-long timer as a too-long wait never stops a guest that
/// would have finished in time.) This keeps the error precise and the store usable,
/// unlike running the call on a thread and abandoning the store.
fn bound_sleeps<C: Send + 'static>(linker: &mut Linker<GuestState<C>>) -> wasmtime::Result<()> {
    use wasmtime_wasi::clocks::WasiClocksView as _;
    use wasmtime_wasi::p2::bindings::clocks::monotonic_clock::Host as _;
    fn within(deadline: &crate::capabilities::deadline::Deadline, ns: u64) -> wasmtime::Result<()> {
        match deadline.remaining() {
            Some(left) if std::time::Duration::from_nanos(ns) > left => {
                std::thread::sleep(left);
                Err(wasmtime::Error::new(Trap::Interrupt))
            }
            _ => Ok(()),
        }
    }
    linker.allow_shadowing(true);
    let mut clock = linker.instance(MONOTONIC_CLOCK)?;
    clock.func_wrap(
        "subscribe-duration",
        |mut store: StoreContextMut<'_, GuestState<C>>, (ns,): (u64,)| {
            let state = store.data_mut();
            within(&state.deadline, ns)?;
            Ok((state.clocks().subscribe_duration(ns)?,))
        },
    )?;
    clock.func_wrap(
        "subscribe-instant",
        |mut store: StoreContextMut<'_, GuestState<C>>, (when,): (u64,)| {
            let state = store.data_mut();
            let now = state.clocks().now()?;
            within(&state.deadline, when.saturating_sub(now))?;
            Ok((state.clocks().subscribe_instant(when)?,))
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}

/// The hook and job worlds' imports, each on its own narrow context.
fn add_imports(linker: &mut Linker<ImportsState>) -> wasmtime::Result<()> {
    types::add_to_linker::<_, HasSelf<KubeCtx>>(linker, |s| &mut s.caps.kube)?;
    kubernetes::add_to_linker::<_, HasSelf<KubeCtx>>(linker, |s| &mut s.caps.kube)?;
    log::add_to_linker::<_, HasSelf<LogCtx>>(linker, |s| &mut s.caps.log)?;
    Ok(())
}

impl<P> Prepared<P> {
    fn instantiate_with<B, C: Caps + Send + 'static>(
        &self,
        caps: C,
        make: impl FnOnce(&P, &mut Store<GuestState<C>>) -> wasmtime::Result<B>,
    ) -> Result<Instance<B, C>> {
        let guest = &self.guest;
        let mut store = Store::new(&self.engine, GuestState::new(guest, caps));
        store.limiter(|s| &mut s.limits);
        // On every epoch tick: the wall-clock deadline first (CPU time never runs ahead
        // of it, so a call past both is reported as past its deadline), then CPU time.
        store.epoch_deadline_callback(|store| {
            let state = store.data();
            if state.deadline.check().is_err() {
                return Ok(UpdateDeadline::Interrupt);
            }
            state.cpu.check()?;
            Ok(UpdateDeadline::Continue(1))
        });
        start_call(&mut store, guest);
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
        start_call(&mut self.store, &self.guest);
        let result = f(&self.bindings, &mut self.store);
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

    /// [`Self::call`] for a call whose whole result the host takes in (a hook's `config`,
    /// a render guest's calls): the result is refused past `limits.maxResultBytes` before
    /// the host does any work on it.
    pub fn call_bounded<R: std::fmt::Debug>(
        &mut self,
        what: &'static str,
        f: impl FnOnce(&B, &mut Store<GuestState<C>>) -> wasmtime::Result<R>,
    ) -> Result<R> {
        let result = self.call(what, f)?;
        budget::check_result(&self.guest, what, &result)?;
        Ok(result)
    }

    /// The world's capabilities back, once the guest is done with them.
    pub fn into_caps(self) -> C {
        self.store.into_data().caps
    }
}

/// Starts a call's budgets: the wall-clock deadline (shared with the WASI sleeps and host
/// calls it bounds) and the CPU budget, both checked by the epoch callback on every tick.
fn start_call<C>(store: &mut Store<GuestState<C>>, guest: &Guest) {
    store.set_epoch_deadline(1);
    let state = store.data_mut();
    state.deadline.start(guest.limits.timeout_ms);
    state.cpu.start(guest.limits.cpu_budget_ms());
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

/// Classifies a wasmtime error, keeping its cause: deadline, memory, stack overflow,
/// panic, abort, `exit`, a string that is not UTF-8, or another trap.
fn failure<C: 'static>(
    guest: &Guest,
    store: &Store<GuestState<C>>,
    e: &wasmtime::Error,
) -> HostError {
    let [_, (stderr, _)] = store.data().captured();
    HostError::Trap {
        guest: guest.name.clone(),
        what: cause(guest, e, &stderr),
    }
}

/// The words after "guest NAME" for a failed call.
pub fn cause(guest: &Guest, e: &wasmtime::Error, stderr: &str) -> String {
    let limits = &guest.limits;
    let text = format!("{e:#}");
    let first = text.lines().next().unwrap_or(&text);
    if let Some(exceeded) = e.downcast_ref::<MemoryExceeded>() {
        return format!(
            "exceeded its memory limit of {} MiB (limits.memoryMiB in grants.yaml: all memories and tables of the guest together; {exceeded})",
            limits.memory_mib
        );
    }
    if let Some(exceeded) = e.downcast_ref::<CpuExceeded>() {
        return format!(
            "exceeded its CPU budget of {} ms ({exceeded}; limits.cpuMs in grants.yaml: CPU time of one call, apart from its wall-clock deadline limits.timeoutMs of {} ms; raise limits.cpuMs if the guest needs more, or make it do less per call)",
            exceeded.limit_ms, limits.timeout_ms
        );
    }
    if let Some(count) = text
        .split_once("resource limit exceeded: ")
        .and_then(|(_, t)| t.split_once(" count too high at "))
    {
        return format!(
            "exceeded the host's {} count limit: it would create {} (a guest may create at most {MAX_INSTANCES} instances, {MAX_MEMORIES} memories and {MAX_TABLES} tables; fixed by the host, not a grants.yaml key)",
            count.0,
            count.1.split_whitespace().next().unwrap_or_default()
        );
    }
    if let Some(exit) = e.downcast_ref::<wasmtime_wasi::I32Exit>() {
        return format!(
            "exited with status {} instead of returning (a guest must return its result, not call exit)",
            exit.0
        );
    }
    match e.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => format!(
            "exceeded its wall-clock deadline of {} ms (limits.timeoutMs in grants.yaml; time blocked in host calls and sleeps counts too; raise limits.timeoutMs if the guest needs longer)",
            limits.timeout_ms
        ),
        Some(Trap::StackOverflow) => {
            "overflowed its stack (call stack exhausted: unbounded recursion?)".to_owned()
        }
        Some(Trap::UnreachableCodeReached) => match panic_message(stderr) {
            Some(panic) => format!("panicked: {panic}"),
            None => "aborted (reached an `unreachable` instruction: abort() or a failed assertion without a message)".to_owned(),
        },
        Some(trap) => match panic_message(stderr) {
            Some(panic) => format!("panicked: {panic}"),
            None => format!("trapped: {trap}"),
        },
        None if text.contains("growing memory")
            || text.contains("memory limit")
            || text.contains("grow") && text.contains("memory") =>
        {
            format!(
                "exceeded its memory limit of {} MiB (limits.memoryMiB in grants.yaml)",
                limits.memory_mib
            )
        }
        None if text.contains("utf-8") || text.contains("UTF-8") => {
            format!("passed a string that is not valid UTF-8 ({first})")
        }
        None => match panic_message(stderr) {
            Some(panic) => format!("panicked: {panic}"),
            None => format!("trapped: {first}"),
        },
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

/// Logs what the guest printed during the call and empties the capture, so a line shows
/// once however many calls follow.
fn forward_output<C>(guest: &str, state: &GuestState<C>) {
    let [stdout, stderr] = state.take_captured();
    for (stream, (text, dropped), level) in [
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
        if dropped > 0 {
            logging::log(
                logging::Level::Warn,
                &format!(
                    "guest output truncated: {dropped} more bytes past the first {CAPTURE_BYTES} were dropped"
                ),
                &[("guest", guest.into()), ("stream", stream.into())],
            );
        }
    }
}
