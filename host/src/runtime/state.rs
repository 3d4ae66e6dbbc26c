//! What each store carries. Every world gets WASI closed to the outside world, a
//! whole-store memory limiter, the call's wall-clock deadline and CPU budget, and captured stdio
//! ([`GuestState`]); on top of that a world gets exactly the capabilities it imports
//! ([`Imports`] for hooks and jobs, `()` for render guests), each a narrow context the WIT
//! `Host` traits are implemented on.

use super::cpu::CpuBudget;
use super::limiter::GuestLimiter;
use super::stdio::CappedPipe;
use crate::capabilities::deadline::Deadline;
use crate::capabilities::kubernetes::KubeCtx;
use crate::capabilities::log::LogCtx;
use crate::manifest::{Guest, World};
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// How much guest stdout/stderr is kept for the log per call: enough for a panic message.
/// Past it, writes are accepted and dropped (and counted), so a flood never fails the guest.
pub const CAPTURE_BYTES: usize = 64 * 1024;

/// The imports of the hook and job worlds.
pub struct Imports {
    pub kube: KubeCtx,
    pub log: LogCtx,
}

/// Capabilities that take the guest's budgets and the call deadline when its store is made.
pub trait Caps {
    /// Applies `guest`'s limits and shares the store's `deadline`.
    fn bind(&mut self, _guest: &Guest, _deadline: &Deadline) {}
}

impl Caps for () {}

impl Caps for Imports {
    fn bind(&mut self, guest: &Guest, deadline: &Deadline) {
        // Only a hook's writes are queued in memory for Deckhouse; a job's go straight
        // to the API server, so only a hook's are counted against the run's budget.
        self.kube
            .bind(&guest.limits, guest.world == World::Hook, deadline.clone());
        self.log.bind(&guest.limits);
    }
}

/// Per-store host state of one guest instance.
pub struct GuestState<C> {
    /// The guest's name, for logs and errors.
    pub guest: String,
    wasi: WasiCtx,
    table: ResourceTable,
    pub limits: GuestLimiter,
    /// The wall-clock deadline of the call in progress.
    pub deadline: Deadline,
    /// The CPU budget of the call in progress.
    pub cpu: CpuBudget,
    stdout: CappedPipe,
    stderr: CappedPipe,
    /// The world's own capabilities.
    pub caps: C,
}

impl<C: Caps> GuestState<C> {
    /// A state with no filesystem, network, environment or args: only the clocks and
    /// randomness `wasi:cli` needs, and stdio captured into memory.
    pub fn new(guest: &Guest, mut caps: C) -> Self {
        let stdout = CappedPipe::new(CAPTURE_BYTES);
        let stderr = CappedPipe::new(CAPTURE_BYTES);
        let wasi = WasiCtx::builder()
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        let memory =
            usize::try_from(guest.limits.memory_mib.saturating_mul(1 << 20)).unwrap_or(usize::MAX);
        let deadline = Deadline::default();
        caps.bind(guest, &deadline);
        Self {
            guest: guest.name.clone(),
            wasi,
            table: ResourceTable::new(),
            limits: GuestLimiter::new(memory),
            deadline,
            cpu: CpuBudget::default(),
            stdout,
            stderr,
            caps,
        }
    }
}

impl<C> GuestState<C> {
    /// What the guest printed, as text (lossy: a guest may print anything), with how
    /// many bytes of each stream were dropped past [`CAPTURE_BYTES`].
    pub fn captured(&self) -> [(String, u64); 2] {
        let text = |p: &CappedPipe| {
            let (bytes, dropped) = p.contents();
            (String::from_utf8_lossy(&bytes).into_owned(), dropped)
        };
        [text(&self.stdout), text(&self.stderr)]
    }

    /// Like [`Self::captured`], emptying both streams, so each line is forwarded once.
    pub fn take_captured(&self) -> [(String, u64); 2] {
        let text = |p: &CappedPipe| {
            let (bytes, dropped) = p.take();
            (String::from_utf8_lossy(&bytes).into_owned(), dropped)
        };
        [text(&self.stdout), text(&self.stderr)]
    }
}

impl<C: Send + 'static> WasiView for GuestState<C> {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}
