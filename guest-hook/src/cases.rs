//! The YAML cases in `guest-hook/cases/`: each runs natively here, and is also written as
//! a fixture folder that the real host runs (`tests/golden.rs`, `wasm-hooks test`). The
//! committed folder must be exactly what the case produces; `UPDATE_FIXTURES=1` rewrites it.

use crate::SeedHook;
use deckhouse_hooks_sdk::testkit::Case;
use std::path::{Path, PathBuf};

const FIXTURES: &str = "../tests/fixtures/hooks/control-plane-migration-state-sync";

fn cases() -> Vec<(String, Case)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("cases");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("guest-hook/cases")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("readable case");
            let case = Case::from_yaml(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            (name, case)
        })
        .collect()
}

#[test]
fn every_case_passes_natively() {
    let cases = cases();
    assert!(cases.len() >= 2);
    for (name, case) in cases {
        case.check::<SeedHook>()
            .unwrap_or_else(|e| panic!("case {name}:\n{e}"));
    }
}

#[test]
fn every_case_is_committed_as_the_fixture_it_writes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURES);
    let update = std::env::var_os("UPDATE_FIXTURES").is_some();
    for (name, case) in cases() {
        let committed = root.join(format!("case-{name}"));
        if update {
            case.write_fixture::<SeedHook>(&committed).unwrap();
            continue;
        }
        let fresh =
            std::env::temp_dir().join(format!("guest-hook-case-{name}-{}", std::process::id()));
        case.write_fixture::<SeedHook>(&fresh).unwrap();
        for file in files(&fresh) {
            let relative = file.strip_prefix(&fresh).unwrap();
            let want = std::fs::read_to_string(&file).unwrap();
            let got = std::fs::read_to_string(committed.join(relative)).unwrap_or_default();
            assert_eq!(
                got,
                want,
                "{} is stale: run UPDATE_FIXTURES=1 cargo test -p guest-hook",
                committed.join(relative).display()
            );
        }
        std::fs::remove_dir_all(&fresh).ok();
    }
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out
}
