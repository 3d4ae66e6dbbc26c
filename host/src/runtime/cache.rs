//! Precompiled components, keyed by the component's content hash and the engine's
//! compatibility hash, so a hook run never compiles unless its guest just changed.
//!
//! An entry is `<key>.cwasm` plus `<key>.sum` (the BLAKE3 hash of the `.cwasm`). A missing,
//! stale, foreign or corrupted entry is detected (wrong key, checksum mismatch, or
//! wasmtime refusing it) and rebuilt; writes are atomic (temp file + rename), so a crash
//! or a concurrent run never leaves half an entry.
//!
//! An entry is native code, so it is trusted only when the entry, its checksum and the
//! cache folder are owned by the host's user and writable by no one else (no group or
//! other write bit); otherwise the component is compiled in memory, nothing is written
//! there, and a warning says why. Entries larger than [`MAX_ENTRY_BYTES`] are ignored.
//!
//! Hashing a component and its entry costs about a millisecond per run (60 ms for the
//! 19 MB Python guest), so a warm run skips both: `<meta>.idx` maps the component file's
//! identity (device, inode, size, mtime, ctime: any write or replacement changes ctime,
//! which no user can set back) to its content key and records the entry's own identity
//! when it was verified. Only when both identities still match is the entry mapped
//! without hashing; anything else takes the hashing path above and rewrites the index.
//!
//! The manifest is kept the same way: parsing grants.yaml's YAML was a tenth of a warm
//! run, so `<meta>.manifest.json` holds the same document as JSON, named by grants.yaml's
//! path and identity. JSON carries no more than the YAML did: the manifest is still
//! deserialized and checked by the same rules on every run, and an entry is written only
//! when it reads back as exactly the manifest the YAML gave.

mod prune;

pub use prune::{MAX_CACHE_BYTES, MAX_CACHE_ENTRIES};

use crate::logging;
use crate::manifest::{MANIFEST_FILE, MAX_MANIFEST_BYTES, Manifest, ManifestError};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::os::unix::fs::MetadataExt;
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
        let Some(dir) = &self.dir else {
            let wasm = std::fs::read(path).map_err(|e| format!("cannot read it: {e}"))?;
            return compile(engine, &wasm).map(|c| (c, Origin::Compiled));
        };
        let dir_trust = trusted(dir);
        let index = Index::of(engine, dir, path);
        if dir_trust.is_ok()
            && let Some(index) = &index
            && let Some(component) = index.load(engine)
        {
            return Ok((component, Origin::Cached));
        }
        let wasm = std::fs::read(path).map_err(|e| format!("cannot read it: {e}"))?;
        let entry = dir.join(key(engine, &wasm));
        if let Err(why) = dir_trust
            && std::fs::symlink_metadata(dir).is_ok()
        {
            logging::warn(
                "component cache folder is not trusted; compiling in memory",
                &[
                    ("folder", dir.display().to_string().into()),
                    ("reason", why.into()),
                ],
            );
            return compile(engine, &wasm).map(|c| (c, Origin::Compiled));
        }
        if let Some(component) = load_entry(engine, &entry) {
            if let Some(index) = &index {
                index.store(dir, &entry);
                written(dir, &[&entry, &index.path]);
            }
            return Ok((component, Origin::Cached));
        }
        let component = compile(engine, &wasm)?;
        match store_entry(dir, &entry, &component) {
            Ok(()) => {
                let mut stored = vec![entry.as_path()];
                if let Some(index) = &index {
                    index.store(dir, &entry);
                    stored.push(&index.path);
                }
                written(dir, &stored);
            }
            Err(e) => logging::debug(
                "component cache not written; compiling again next run",
                &[("reason", e.into())],
            ),
        }
        Ok((component, Origin::Compiled))
    }
}

impl ComponentCache {
    /// The manifest of the hooks folder `hooks`: from its JSON entry when grants.yaml is
    /// the very file it was made from, else read from the YAML (and the entry written).
    pub fn manifest(&self, hooks: &Path) -> Result<Manifest, ManifestError> {
        let file = hooks.join(MANIFEST_FILE);
        let entry = match (&self.dir, std::fs::metadata(&file)) {
            (Some(dir), Ok(meta)) => Some(dir.join(format!(
                "{}.manifest.json",
                file_key(&file, &meta, "manifest")
            ))),
            _ => None,
        };
        let dir_trust = self.dir.as_deref().map(trusted);
        if let (Some(Ok(())), Some(entry)) = (&dir_trust, &entry)
            && trusted(entry).is_ok()
            && let Ok(json) = crate::manifest::read_bounded(entry, 2 * MAX_MANIFEST_BYTES)
            && let Ok(manifest) = Manifest::from_json(&json, hooks)
        {
            return Ok(manifest);
        }
        let (manifest, yaml) = Manifest::load_text(hooks)?;
        if let (Some(dir), Some(entry)) = (&self.dir, &entry) {
            // Created here, as a component entry's store would: so `precompile` at image
            // build writes this entry too. A warm run never gets here.
            if std::fs::create_dir_all(dir).is_ok() && trusted(dir).is_ok() {
                store_manifest(dir, entry, &manifest, &yaml);
                written(dir, &[entry]);
            }
        }
        Ok(manifest)
    }
}

/// After a run wrote into the cache: keeps the folder within its bounds ([`prune`]), the
/// entries just written kept.
fn written(dir: &Path, stored: &[&Path]) {
    prune::prune(dir, stored, MAX_CACHE_BYTES, MAX_CACHE_ENTRIES);
}

/// Writes the JSON form of `yaml`, only when it reads back as exactly `manifest`; a
/// failure only costs the next run its YAML parse.
fn store_manifest(dir: &Path, entry: &Path, manifest: &Manifest, yaml: &str) {
    let json = serde_yaml::from_str::<serde_json::Value>(yaml)
        .ok()
        .map(|value| value.to_string());
    let faithful = json
        .as_deref()
        .and_then(|json| Manifest::from_json(json, &manifest.dir).ok())
        .is_some_and(|again| again == *manifest);
    let written = match json {
        Some(json) if faithful => write_atomic(dir, entry, json.as_bytes()),
        _ => Err("its JSON form does not read back as the same manifest".into()),
    };
    if let Err(reason) = written {
        logging::debug(
            "manifest cache not written; parsing grants.yaml again next run",
            &[("reason", reason.into())],
        );
    }
}

/// A cache file name for `path` as it is now (its path and identity) in one role: 128
/// bits of two SipHashes, which need no CPU feature probe (a probe is a VM exit on most
/// nodes).
fn file_key(path: &Path, meta: &std::fs::Metadata, role: &str) -> String {
    let half = |seed: u8| {
        let mut hasher = DefaultHasher::new();
        (seed, role, path, identity(meta)).hash(&mut hasher);
        hasher.finish()
    };
    format!("{:016x}{:016x}", half(0), half(1))
}

/// A file's identity: what changes whenever its content may have.
fn identity(meta: &std::fs::Metadata) -> String {
    format!(
        "{} {} {} {}.{} {}.{}",
        meta.dev(),
        meta.ino(),
        meta.len(),
        meta.mtime(),
        meta.mtime_nsec(),
        meta.ctime(),
        meta.ctime_nsec()
    )
}

/// The warm path's index entry for one component file (see the module docs).
struct Index {
    /// `<dir>/<hash of the component's path and identity, and the engine>.idx`
    path: PathBuf,
}

/// Largest index file read: a key and an identity.
const MAX_INDEX_BYTES: u64 = 1024;

impl Index {
    /// The index entry for the component at `component`; None when it cannot be inspected.
    fn of(engine: &Engine, dir: &Path, component: &Path) -> Option<Self> {
        let meta = std::fs::metadata(component).ok()?;
        let role = format!("component for engine {:016x}", engine_hash(engine));
        let name = format!("{}.idx", file_key(component, &meta, &role));
        Some(Self {
            path: dir.join(name),
        })
    }

    /// The entry it names, mapped without hashing, when the index and the entry are
    /// trusted and the entry is the very file that was verified.
    fn load(&self, engine: &Engine) -> Option<Component> {
        trusted(&self.path).ok()?;
        let text = crate::manifest::read_bounded(&self.path, MAX_INDEX_BYTES).ok()?;
        let (key, verified) = text.split_once('\n')?;
        if key.is_empty() || key.contains(['/', '.']) {
            return None;
        }
        let cwasm = self.path.with_file_name(key).with_extension("cwasm");
        trusted(&cwasm).ok()?;
        let meta = std::fs::symlink_metadata(&cwasm).ok()?;
        if identity(&meta) != verified.trim_end() || meta.len() > MAX_ENTRY_BYTES {
            return None;
        }
        deserialize(engine, &cwasm).ok()
    }

    /// Records that `entry` (its checksum just verified, or just written) serves the
    /// component. A failure only costs the next run its hashing.
    fn store(&self, dir: &Path, entry: &Path) {
        let (Some(key), Ok(meta)) = (
            entry.file_name().and_then(|n| n.to_str()),
            std::fs::symlink_metadata(entry.with_extension("cwasm")),
        ) else {
            return;
        };
        let text = format!("{key}\n{}\n", identity(&meta));
        if let Err(e) = write_atomic(dir, &self.path, text.as_bytes()) {
            logging::debug(
                "component cache index not written; hashing again next run",
                &[("reason", e.into())],
            );
        }
    }
}

/// The cache key: what the component is, and which engine it was compiled for.
fn key(engine: &Engine, wasm: &[u8]) -> String {
    format!(
        "{}-{:016x}",
        blake3::hash(wasm).to_hex(),
        engine_hash(engine)
    )
}

/// Which engines can run the same precompiled code (wasmtime's compatibility hash).
fn engine_hash(engine: &Engine) -> u64 {
    let mut hasher = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    hasher.finish()
}

fn compile(engine: &Engine, wasm: &[u8]) -> Result<Component, String> {
    Component::new(engine, wasm).map_err(|e| format!("not a valid component: {e:#}"))
}

/// Largest entry loaded: precompiled guests are a few MiB.
pub const MAX_ENTRY_BYTES: u64 = 256 << 20;

/// Ok when `path` is owned by this process's user (or by root, who could replace the
/// host binary itself: an image built as root and run as another user keeps its cache)
/// and not writable by group or others.
pub fn trusted(path: &Path) -> Result<(), String> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| format!("cannot inspect it: {e}"))?;
    let me = rustix::process::geteuid().as_raw();
    if meta.uid() != me && meta.uid() != 0 {
        return Err(format!(
            "{} is owned by uid {}, not by this process's uid {me} or root",
            path.display(),
            meta.uid()
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(format!(
            "{} is writable by group or others (mode {:o}); chmod go-w it",
            path.display(),
            meta.mode() & 0o7777
        ));
    }
    if meta.file_type().is_symlink() {
        return Err(format!("{} is a symlink", path.display()));
    }
    Ok(())
}

/// A valid entry, or None (logging why) when it must be rebuilt.
fn load_entry(engine: &Engine, entry: &Path) -> Option<Component> {
    let cwasm = entry.with_extension("cwasm");
    let meta = std::fs::symlink_metadata(&cwasm).ok()?;
    for file in [cwasm.clone(), entry.with_extension("sum")] {
        if let Err(why) = trusted(&file) {
            logging::warn(
                "precompiled component is not trusted; rebuilding it",
                &[
                    ("entry", file.display().to_string().into()),
                    ("reason", why.into()),
                ],
            );
            return None;
        }
    }
    if meta.len() > MAX_ENTRY_BYTES {
        logging::warn(
            "precompiled component is larger than any real one; rebuilding",
            &[
                ("entry", cwasm.display().to_string().into()),
                ("limit", format!("{MAX_ENTRY_BYTES} bytes").into()),
            ],
        );
        return None;
    }
    let code = std::fs::read(&cwasm).ok()?;
    let sum = crate::manifest::read_bounded(&entry.with_extension("sum"), 128).unwrap_or_default();
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
