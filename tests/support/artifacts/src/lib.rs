//! Paths of the guest components built by this crate's build script, for tests.

use std::path::{Path, PathBuf};

include!(concat!(env!("OUT_DIR"), "/gen.rs"));

/// The component of a guest crate (`guest-hook` -> `.../guest_hook.wasm`).
pub fn component(crate_name: &str) -> PathBuf {
    Path::new(WASM_DIR).join(format!("{}.wasm", crate_name.replace('-', "_")))
}

/// A hooks folder with the repository's grants.yaml and every guest component. Tests that
/// change files must copy it first ([`copy_hooks_dir`]).
pub fn hooks_dir() -> PathBuf {
    PathBuf::from(HOOKS_DIR)
}

/// Copies the hooks folder (without any cache) into `to`, for a test to modify.
pub fn copy_hooks_dir(to: &Path) -> std::io::Result<()> {
    copy_files(Path::new(HOOKS_DIR), to)
}

/// Copies the files of `from` (not its folders, so no cache) into `to`.
pub fn copy_files(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name()))?;
        }
    }
    Ok(())
}

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(ROOT)
}
