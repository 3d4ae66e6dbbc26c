//! What each store carries. Every world gets WASI closed to the outside world, store
//! limits and captured stdio ([`GuestState`]); on top of that a world gets exactly the
//! capabilities it imports ([`Imports`] for hooks and jobs, `()` for render guests), each a
//! narrow context the WIT `Host` traits are implemented on.

use crate::capabilities::kubernetes::KubeCtx;
use crate::capabilities::log::LogCtx;
use crate::manifest::Limits;
use wasmtime::StoreLimits;
use wasmtime::StoreLimitsBuilder;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// How much guest stdout/stderr is kept for the log: enough for a panic message. Past
/// it the pipe reports a closed stream to the guest; it never fails the host.
const CAPTURE_BYTES: usize = 64 * 1024;

/// The imports of the hook and job worlds.
pub struct Imports {
    pub kube: KubeCtx,
    pub log: LogCtx,
}

/// Per-store host state of one guest instance.
pub struct GuestState<C> {
    /// The guest's name, for logs and errors.
    pub guest: String,
    wasi: WasiCtx,
    table: ResourceTable,
    pub limits: StoreLimits,
    stdout: MemoryOutputPipe,
    stderr: MemoryOutputPipe,
    /// The world's own capabilities.
    pub caps: C,
}

impl<C> GuestState<C> {
    /// A state with no filesystem, network, environment or args: only the clocks and
    /// randomness `wasi:cli` needs, and stdio captured into memory.
    pub fn new(guest: &str, limits: &Limits, caps: C) -> Self {
        let stdout = MemoryOutputPipe::new(CAPTURE_BYTES);
        let stderr = MemoryOutputPipe::new(CAPTURE_BYTES);
        let wasi = WasiCtx::builder()
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        let memory =
            usize::try_from(limits.memory_mib.saturating_mul(1 << 20)).unwrap_or(usize::MAX);
        let limits = StoreLimitsBuilder::new()
            .memory_size(memory)
            .instances(64)
            .tables(64)
            .memories(16)
            .trap_on_grow_failure(true)
            .build();
        Self {
            guest: guest.to_owned(),
            wasi,
            table: ResourceTable::new(),
            limits,
            stdout,
            stderr,
            caps,
        }
    }

    /// What the guest printed, as text (lossy: a guest may print anything).
    pub fn captured(&self) -> (String, String) {
        let text = |p: &MemoryOutputPipe| String::from_utf8_lossy(&p.contents()).into_owned();
        (text(&self.stdout), text(&self.stderr))
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
