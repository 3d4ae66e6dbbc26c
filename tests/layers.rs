//! The host's modules form layers: each may use only the ones below it, so the import
//! graph has no cycle. This reads `host/src` and fails on any `crate::<module>` use that
//! points up or sideways out of order.

use std::collections::BTreeSet;
use std::path::Path;

/// Lowest first. A module may use any module listed before it.
const LAYERS: &[&str] = &[
    "manifest",
    "rbac",
    "scaffold",
    "error",
    "logging",
    "protocol",
    "bindings",
    "capabilities",
    "runtime",
    "deckhouse",
    "simulate",
    "cli",
    "commands",
];

fn sources(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn every_module_uses_only_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut wrong = BTreeSet::new();
    let mut seen = 0;
    for file in files {
        let relative = file.strip_prefix(&src).unwrap();
        let module = relative
            .iter()
            .next()
            .unwrap()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned();
        if matches!(module.as_str(), "lib" | "main") {
            continue;
        }
        let rank = LAYERS
            .iter()
            .position(|l| *l == module)
            .unwrap_or_else(|| panic!("module {module} is not in LAYERS: place it in a layer"));
        let text = std::fs::read_to_string(&file).unwrap();
        for (i, _) in text.match_indices("crate::") {
            let used: String = text[i + 7..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if used == module || used.is_empty() {
                continue;
            }
            seen += 1;
            match LAYERS.iter().position(|l| *l == used) {
                Some(r) if r < rank => {}
                _ => {
                    wrong.insert(format!("{} uses crate::{used}", relative.display()));
                }
            }
        }
    }
    assert!(
        seen > 20,
        "the scan found almost no imports; is it reading host/src?"
    );
    assert!(
        wrong.is_empty(),
        "imports against the layer order {LAYERS:?}:\n{wrong:#?}"
    );
}
