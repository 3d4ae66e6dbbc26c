//! Precompiled components, keyed by the component's content hash and the engine's
//! compatibility hash, so a hook run never compiles unless its guest just changed.
//!
//! An entry is `<key>.cwasm` plus `<key>.sum` (the BLAKE3 hash of the `.cwasm`). A missing,
//! stale, foreign or corrupted entry is detected (wrong key, checksum mismatch, or
//! wasmtime refusing it) and rebuilt; writes are atomic (temp file + rename), so a crash
//! or a concurrent run never leaves half an entry. The cache folder must be writable only
//! by the host's user: a valid entry is trusted as native code.

use crate::logging;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Where precompiled components live; `None` disables caching.
#[derive(Clone, Debug)]
pub struct ComponentCache {
    dir: Option<PathBuf>,
}

/// How a component was obtained, for logs and benchmarks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    Cached,
    Compiled,
}

impl ComponentCache {
    pub fn new(dir: Option<PathBuf>) -> Self {
        Self { dir }
    }

    /// The component at `path`, from the cache when a valid entry exists.
    pub fn load(&self, engine: &Engine, path: &Path) -> Result<(Component, Origin), String> {
        let wasm = std::fs::read(path).map_err(|e| format!("cannot read it: {e}"))?;
        let Some(dir) = &self.dir else {
            return compile(engine, &wasm).map(|c| (c, Origin::Compiled));
        };
        let entry = dir.join(key(engine, &wasm));
        if let Some(component) = load_entry(engine, &entry) {
            return Ok((component, Origin::Cached));
        }
        let component = compile(engine, &wasm)?;
        if let Err(e) = store_entry(dir, &entry, &component) {
            logging::debug(
                "component cache not written; compiling again next run",
                &[("reason", e.into())],
            );
        }
        Ok((component, Origin::Compiled))
    }
}

/// The cache key: what the component is, and which engine it was compiled for.
fn key(engine: &Engine, wasm: &[u8]) -> String {
    let mut hasher = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    format!("{}-{:016x}", blake3::hash(wasm).to_hex(), hasher.finish())
}

fn compile(engine: &Engine, wasm: &[u8]) -> Result<Component, String> {
    Component::new(engine, wasm).map_err(|e| format!("not a valid component: {e:#}"))
}

/// A valid entry, or None (logging why) when it must be rebuilt.
fn load_entry(engine: &Engine, entry: &Path) -> Option<Component> {
    let code = std::fs::read(entry.with_extension("cwasm")).ok()?;
    let sum = std::fs::read_to_string(entry.with_extension("sum")).unwrap_or_default();
    if sum.trim() != blake3::hash(&code).to_hex().as_str() {
        logging::warn(
            "precompiled component is corrupted; rebuilding",
            &[("entry", entry.display().to_string().into())],
        );
        return None;
    }
    match deserialize(engine, &entry.with_extension("cwasm")) {
        Ok(component) => Some(component),
        Err(e) => {
            logging::warn(
                "precompiled component does not fit this engine; rebuilding",
                &[
                    ("entry", entry.display().to_string().into()),
                    ("reason", format!("{e:#}").into()),
                ],
            );
            None
        }
    }
}

#[allow(unsafe_code)]
fn deserialize(engine: &Engine, path: &Path) -> wasmtime::Result<Component> {
    // SAFETY: the file is an artifact this host serialized itself (its checksum matched
    // just now, and entries are only ever replaced whole, by rename), and wasmtime checks
    // the engine and version it was made for before using it. Mapping the file instead of
    // copying it saves about a millisecond per hook run.
    unsafe { Component::deserialize_file(engine, path) }
}

fn store_entry(dir: &Path, entry: &Path, component: &Component) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let code = component
        .serialize()
        .map_err(|e| format!("cannot serialize: {e:#}"))?;
    write_atomic(dir, &entry.with_extension("cwasm"), &code)?;
    write_atomic(
        dir,
        &entry.with_extension("sum"),
        blake3::hash(&code).to_hex().as_bytes(),
    )
}

fn write_atomic(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .map_err(|e| format!("cannot write in {}: {e}", dir.display()))?;
    tmp.write_all(bytes)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    tmp.persist(path)
        .map_err(|e| format!("cannot rename into {}: {e}", path.display()))?;
    Ok(())
}
