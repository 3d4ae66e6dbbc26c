//! The guest's memory, measured natively: a global allocator that tags each block with
//! whether the guest or the host (the store standing in for the API server) allocated
//! it, and counts the guest's bytes held and their peak. [`Metered`] copies every
//! answer into guest memory, as the component model copies results into the guest's
//! linear memory, and keeps the store's own work on the host's side. Native pointers
//! are 8 bytes where wasm32's are 4, so this overestimates the wasm guest.

#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use deckhouse_hooks_sdk::{
    CreateMode, DeleteMode, Host, KubeError, ListPage, ListQuery, LogLevel, ObjectRef, PatchKind,
    PatchOptions,
};
use serde_json::Value;

/// Room for the tag in front of each block (at least the block's alignment).
const HEADER: usize = 16;

pub struct Tagging;

thread_local! {
    static GUEST: Cell<bool> = const { Cell::new(false) };
}

static HELD: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn in_guest() -> bool {
    GUEST.try_with(Cell::get).unwrap_or(false)
}

fn padded(layout: Layout) -> Option<(Layout, usize)> {
    let offset = layout.align().max(HEADER);
    let size = layout.size().checked_add(offset)?;
    Some((Layout::from_size_align(size, offset).ok()?, offset))
}

// SAFETY: every block is the System allocator's, `offset` bytes larger, with a tag
// byte just before the pointer handed out; dealloc undoes exactly that.
unsafe impl GlobalAlloc for Tagging {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some((padded, offset)) = padded(layout) else {
            return std::ptr::null_mut();
        };
        // SAFETY: `padded` has a non-zero size (it includes the header).
        let raw = unsafe { System.alloc(padded) };
        if raw.is_null() {
            return raw;
        }
        // SAFETY: `raw` has `offset + size` bytes; the tag lies inside the header.
        let user = unsafe { raw.add(offset) };
        let guest = in_guest();
        // SAFETY: as above.
        unsafe { user.sub(1).write(u8::from(guest)) };
        if guest {
            let held = HELD.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(held, Ordering::Relaxed);
        }
        user
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let Some((padded, offset)) = padded(layout) else {
            return;
        };
        // SAFETY: `ptr` came from `alloc` with this layout, so the tag precedes it.
        let guest = unsafe { ptr.sub(1).read() } == 1;
        if guest {
            HELD.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        // SAFETY: the block `alloc` got from System.
        unsafe { System.dealloc(ptr.sub(offset), padded) };
    }
}

/// Runs `f` as the guest (its allocations count) or the host.
pub fn as_guest<T>(guest: bool, f: impl FnOnce() -> T) -> T {
    let before = GUEST.with(|g| g.replace(guest));
    let out = f();
    GUEST.with(|g| g.set(before));
    out
}

/// Starts a measurement: the peak restarts from what the guest holds now.
pub fn reset_peak() {
    PEAK.store(HELD.load(Ordering::Relaxed), Ordering::Relaxed);
}

/// The most bytes the guest held at once since [`reset_peak`].
pub fn peak() -> usize {
    PEAK.load(Ordering::Relaxed)
}

/// The store as the guest sees it through the host: the store works in host memory
/// and each answer is copied into guest memory.
pub struct Metered<'a> {
    pub inner: &'a dyn Host,
}

impl Metered<'_> {
    fn call<T: Clone>(&self, f: impl FnOnce(&dyn Host) -> T) -> T {
        let answer = as_guest(false, || f(self.inner));
        let copy = answer.clone();
        as_guest(false, || drop(answer));
        copy
    }
}

impl Host for Metered<'_> {
    fn get(&self, o: &ObjectRef) -> Result<Value, KubeError> {
        self.call(|h| h.get(o))
    }
    fn list(&self, q: &ListQuery) -> Result<ListPage, KubeError> {
        self.call(|h| h.list(q))
    }
    fn create(&self, o: &Value, mode: CreateMode) -> Result<Value, KubeError> {
        self.call(|h| h.create(o, mode))
    }
    fn create_many(&self, objects: &[Value], mode: CreateMode) -> Vec<Result<Value, KubeError>> {
        self.call(|h| h.create_many(objects, mode))
    }
    fn patch(
        &self,
        o: &ObjectRef,
        kind: PatchKind,
        patch: &Value,
        options: &PatchOptions,
    ) -> Result<Value, KubeError> {
        self.call(|h| h.patch(o, kind, patch, options))
    }
    fn delete(&self, o: &ObjectRef, mode: DeleteMode) -> Result<(), KubeError> {
        self.call(|h| h.delete(o, mode))
    }
    fn log(&self, level: LogLevel, message: &str, fields: &[(&str, &str)]) {
        self.inner.log(level, message, fields);
    }
}
