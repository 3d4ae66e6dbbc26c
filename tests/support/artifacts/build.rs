//! Builds every guest component (`guest-*` and `tests/guests/*`) for wasm32-wasip2 with a
//! nested cargo, so plain `cargo test` needs no other step, then lays out a hooks folder
//! (grants.yaml + components) in OUT_DIR, exactly as `cargo xtask dist` ships it.
//!
//! The nested build uses its own target dir (`target/wasm-guests`), so it never waits on
//! the outer build's lock, and stays incremental across runs.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest_dir
        .ancestors()
        .nth(3)
        .expect("tests/support/artifacts sits three levels below the root")
        .to_path_buf();
    let guests = guest_crates(&root);
    for (_, dir) in &guests {
        println!("cargo:rerun-if-changed={}", dir.display());
    }
    // The guests are built on the SDK and the manifest crate: a change there is a change
    // of every guest.
    for watched in ["wit", "grants.yaml", "Cargo.lock", "sdk", "manifest"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    let target_dir = root.join("target").join("wasm-guests");
    build(&root, &target_dir, &guests);
    let wasm_dir = target_dir.join("wasm32-wasip2").join("release");
    let hooks = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("hooks");
    assemble(&root, &wasm_dir, &hooks, &guests);
    let names: Vec<String> = guests.iter().map(|(n, _)| format!("{n:?}")).collect();
    let generated = format!(
        "/// Where the built components are.\npub const WASM_DIR: &str = {:?};\n/// A hooks folder: grants.yaml and every component.\npub const HOOKS_DIR: &str = {:?};\n/// The workspace root.\npub const ROOT: &str = {:?};\n/// Every guest crate built.\npub const GUESTS: &[&str] = &[{}];\n",
        wasm_dir.display().to_string(),
        hooks.display().to_string(),
        root.display().to_string(),
        names.join(", ")
    );
    std::fs::write(
        PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("gen.rs"),
        generated,
    )
    .unwrap();
}

/// (package name, crate dir) of every guest crate.
fn guest_crates(root: &Path) -> Vec<(String, PathBuf)> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    for entry in std::fs::read_dir(root).unwrap().flatten() {
        if entry.file_name().to_string_lossy().starts_with("guest-") {
            dirs.push(entry.path());
        }
    }
    if let Ok(rd) = std::fs::read_dir(root.join("tests").join("guests")) {
        dirs.extend(rd.flatten().map(|e| e.path()));
    }
    dirs.sort();
    dirs.into_iter()
        .filter_map(|dir| {
            let toml = std::fs::read_to_string(dir.join("Cargo.toml")).ok()?;
            let name = toml.lines().find_map(|l| {
                l.trim()
                    .strip_prefix("name = ")
                    .map(|n| n.trim_matches('"').to_owned())
            })?;
            Some((name, dir))
        })
        .collect()
}

fn build(root: &Path, target_dir: &Path, guests: &[(String, PathBuf)]) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root)
        .args(["build", "--release", "--target", "wasm32-wasip2"])
        .env("CARGO_TARGET_DIR", target_dir)
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET");
    for (name, _) in guests {
        cmd.args(["-p", name]);
    }
    let status = cmd.status().expect("cannot run cargo to build the guests");
    if !status.success() {
        panic!(
            "building the guest components failed; is the target installed? run `rustup target add wasm32-wasip2`"
        );
    }
}

fn assemble(root: &Path, wasm_dir: &Path, hooks: &Path, guests: &[(String, PathBuf)]) {
    std::fs::create_dir_all(hooks).unwrap();
    std::fs::copy(root.join("grants.yaml"), hooks.join("grants.yaml")).unwrap();
    for (name, _) in guests {
        let file = format!("{}.wasm", name.replace('-', "_"));
        std::fs::copy(wasm_dir.join(&file), hooks.join(&file))
            .unwrap_or_else(|e| panic!("{file}: {e}"));
    }
}
