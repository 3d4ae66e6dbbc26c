//! `cargo xtask example [NAME]`: builds `dist/hooks/` and runs every hook, in `hook list`
//! order, on a bundled example (`examples/NAME/`), exactly as Deckhouse runs hooks before
//! Helm: fresh files, environment variables, each hook seeing the values the previous one
//! patched. Prints what each run would have Deckhouse apply.

use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::process::Command;

pub fn run(name: Option<&str>) -> Result<()> {
    let name = name.unwrap_or("enable-migration");
    let example = crate::root().join("examples").join(name);
    if !example.is_dir() {
        bail!("no example {name:?} in examples/");
    }
    let hooks = crate::dist(false)?;
    let exe = hooks.join("wasm-hooks");
    let list = Command::new(&exe).args(["hook", "list"]).env_clear().output()?;
    let listing = String::from_utf8(list.stdout)?;
    let names: Vec<String> = listing.lines().skip(1).filter_map(|l| l.split_once(" - ").map(|(_, n)| n.to_owned())).collect();
    println!("\n$ dist/hooks/wasm-hooks hook list\n{listing}");
    let mut values: Value = serde_json::from_str(&std::fs::read_to_string(example.join("values.json"))?)?;
    let work = tempfile::tempdir()?;
    for (index, hook) in names.iter().enumerate() {
        let patch = run_hook(&exe, index, hook, &example, &values, work.path())?;
        json_patch::patch(&mut values, &patch).context("applying the values patch as Deckhouse would")?;
    }
    println!("\nvalues after the hooks:\n{}", serde_json::to_string_pretty(&values["sdsReplicatedVolume"])?);
    Ok(())
}

fn run_hook(exe: &std::path::Path, index: usize, hook: &str, example: &std::path::Path, values: &Value, work: &std::path::Path) -> Result<json_patch::Patch> {
    let file = |n: &str, text: &str| -> Result<std::path::PathBuf> {
        let p = work.join(n);
        std::fs::write(&p, text)?;
        Ok(p)
    };
    let out = Command::new(exe)
        .args(["hook", "run", &index.to_string()])
        .env("BINDING_CONTEXT_PATH", example.join("binding-context.json"))
        .env("VALUES_PATH", file("values.json", &values.to_string())?)
        .env("CONFIG_VALUES_PATH", example.join("config-values.json"))
        .env("VALUES_JSON_PATCH_PATH", file("values-patch.json", "")?)
        .env("KUBERNETES_PATCH_PATH", file("kubernetes-patch.ndjson", "")?)
        .env("METRICS_PATH", file("metrics.ndjson", "")?)
        .output()?;
    println!("\n$ dist/hooks/wasm-hooks hook run {index}   # {hook}\n(exit {})", out.status);
    print!("{}", String::from_utf8_lossy(&out.stderr));
    if !out.status.success() {
        bail!("hook {hook} failed");
    }
    for (label, f) in [("values patch", "values-patch.json"), ("object operations", "kubernetes-patch.ndjson"), ("metrics", "metrics.ndjson")] {
        let text = std::fs::read_to_string(work.join(f))?;
        if !text.trim().is_empty() {
            println!("{label} ({f}):\n{}", text.trim_end());
        }
    }
    let text = std::fs::read_to_string(work.join("values-patch.json"))?;
    Ok(if text.trim().is_empty() { json_patch::Patch(vec![]) } else { serde_json::from_str(&text)? })
}
