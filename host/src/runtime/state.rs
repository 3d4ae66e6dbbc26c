//! The data every store carries: WASI (closed to the outside world), store limits, the
//! guest's Kubernetes capability and the captured stdout/stderr.

use crate::capabilities::kubernetes::KubeCapability;
use crate::manifest::Limits;
use wasmtime::StoreLimits;
use wasmtime::StoreLimitsBuilder;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// How much guest stdout/stderr is kept for the log: enough for a panic message.
const CAPTURE_BYTES: usize = 64 * 1024;

/// Per-run host state.
pub struct HostState {
    /// The guest's name, for logs and errors.
    pub guest: String,
    pub wasi: WasiCtx,
    pub table: ResourceTable,
    pub limits: StoreLimits,
    /// None for a render guest, which imports no Kubernetes.
    pub kube: Option<KubeCapability>,
    pub stdout: MemoryOutputPipe,
    pub stderr: MemoryOutputPipe,
}

impl HostState {
    /// A state with no filesystem, network, environment or args: only the clocks and
    /// randomness `wasi:cli` needs, and stdio captured into memory.
    pub fn new(guest: &str, limits: &Limits, kube: Option<KubeCapability>) -> Self {
        let stdout = MemoryOutputPipe::new(CAPTURE_BYTES);
        let stderr = MemoryOutputPipe::new(CAPTURE_BYTES);
        let wasi = WasiCtx::builder()
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        let memory = usize::try_from(limits.memory_mib.saturating_mul(1 << 20)).unwrap_or(usize::MAX);
        let limits = StoreLimitsBuilder::new()
            .memory_size(memory)
            .instances(64)
            .tables(64)
            .memories(16)
            .trap_on_grow_failure(true)
            .build();
        Self { guest: guest.to_owned(), wasi, table: ResourceTable::new(), limits, kube, stdout, stderr }
    }

    /// What the guest printed, as text (lossy: a guest may print anything).
    pub fn captured(&self) -> (String, String) {
        let text = |p: &MemoryOutputPipe| String::from_utf8_lossy(&p.contents()).into_owned();
        (text(&self.stdout), text(&self.stderr))
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}
