//! The guest's memory, counted for the whole store: every linear memory and every table
//! together, against one budget (`limits.memoryMiB`), with the number of instances,
//! memories and tables bounded too. wasmtime's own `StoreLimits` bounds each memory on
//! its own, so sixteen memories could take sixteen times the limit.

use wasmtime::ResourceLimiter;

/// Bytes a table element is counted as (a funcref or externref is one pointer-sized
/// slot plus wasmtime's bookkeeping; counting 16 keeps a huge `table.grow` in check).
pub const TABLE_ELEMENT_BYTES: usize = 16;
/// Instances one guest may create (a component is a handful of core instances).
pub const MAX_INSTANCES: usize = 64;
/// Linear memories one guest may create.
pub const MAX_MEMORIES: usize = 16;
/// Tables one guest may create.
pub const MAX_TABLES: usize = 64;

/// A store's memory budget was exceeded; `failure()` names it.
#[derive(Debug, thiserror::Error)]
#[error("memory and tables of the whole store would reach {wanted} bytes, above {limit} bytes")]
pub struct MemoryExceeded {
    pub wanted: usize,
    pub limit: usize,
}

/// A [`ResourceLimiter`] over all memories and tables of one store.
#[derive(Debug)]
pub struct GuestLimiter {
    limit: usize,
    used: usize,
}

impl GuestLimiter {
    pub fn new(limit: usize) -> Self {
        Self { limit, used: 0 }
    }

    /// Bytes of memories and tables granted so far.
    pub fn used(&self) -> usize {
        self.used
    }

    fn grow(&mut self, by: usize) -> wasmtime::Result<bool> {
        let wanted = self.used.saturating_add(by);
        if wanted > self.limit {
            return Err(MemoryExceeded {
                wanted,
                limit: self.limit,
            }
            .into());
        }
        self.used = wanted;
        Ok(true)
    }
}

impl ResourceLimiter for GuestLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.grow(desired.saturating_sub(current))
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.grow(
            desired
                .saturating_sub(current)
                .saturating_mul(TABLE_ELEMENT_BYTES),
        )
    }

    fn instances(&self) -> usize {
        MAX_INSTANCES
    }

    fn memories(&self) -> usize {
        MAX_MEMORIES
    }

    fn tables(&self) -> usize {
        MAX_TABLES
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memories_and_tables_share_one_budget() {
        let mut limiter = GuestLimiter::new(1 << 20);
        assert!(limiter.memory_growing(0, 600 << 10, None).unwrap());
        // A second memory counts against the same budget.
        let err = limiter.memory_growing(0, 600 << 10, None).unwrap_err();
        assert!(err.downcast_ref::<MemoryExceeded>().is_some(), "{err}");
        // A table of 2^27 elements is refused whatever memory is left.
        let err = limiter.table_growing(0, 1 << 27, None).unwrap_err();
        assert!(err.to_string().contains("above 1048576 bytes"), "{err}");
        assert!(limiter.table_growing(0, 1000, None).unwrap());
        assert_eq!(limiter.used(), (600 << 10) + 16_000);
    }
}
