//! `cargo xtask example [NAME]`: builds `dist/hooks/` and runs every hook, in `hook list`
//! order, on a bundled example (`examples/NAME/`), exactly as Deckhouse runs hooks before
//! Helm: fresh files, environment variables, each hook seeing the values the previous one
//! patched. Prints what each run would have Deckhouse apply.

use anyhow::{Context, Result, bail};
use serde_json::Value;
use wasm_hooks::deckhouse::invoke::{Invocation, inputs_from_folder, parse_stream};

pub fn run(name: Option<&str>) -> Result<()> {
    let name = name.unwrap_or("enable-migration");
    let example = crate::root().join("examples").join(name);
    if !example.is_dir() {
        bail!("no example {name:?} in examples/");
    }
    let hooks = crate::dist(false)?;
    // As Deckhouse: the binary finds wasm-guests/ beside itself, with an empty environment.
    let host = Invocation::new(hooks.join("wasm-hooks"));
    let list = host.plain(&["hook", "list"])?;
    if list.code != 0 {
        bail!("hook list failed:\n{}", list.stderr);
    }
    let names: Vec<String> = list
        .stdout
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(" - ").map(|(_, n)| n.to_owned()))
        .collect();
    println!("\n$ dist/hooks/wasm-hooks hook list\n{}", list.stdout);
    let mut inputs = inputs_from_folder(&example)?;
    let mut values: Value = serde_json::from_str(&inputs.values)?;
    for (index, hook) in names.iter().enumerate() {
        inputs.values = values.to_string();
        let out = host.hook_run(index, &inputs)?;
        println!(
            "\n$ dist/hooks/wasm-hooks hook run {index}   # {hook}\n(exit {})",
            out.code
        );
        print!("{}", out.stderr);
        if out.code != 0 {
            bail!("hook {hook} failed");
        }
        for (label, text) in [
            ("values patch", &out.outputs.values_patch),
            ("config values patch", &out.outputs.config_values_patch),
            ("object operations", &out.outputs.kubernetes_patch),
            ("metrics", &out.outputs.metrics),
        ] {
            if !text.trim().is_empty() {
                println!("{label}:\n{}", text.trim_end());
            }
        }
        // Each hook sees the values the previous one patched, as before Helm.
        let patch: json_patch::Patch = serde_json::from_value(Value::Array(
            parse_stream(&out.outputs.values_patch).map_err(anyhow::Error::msg)?,
        ))?;
        json_patch::patch(&mut values, &patch)
            .context("applying the values patch as Deckhouse would")?;
    }
    println!(
        "\nvalues after the hooks:\n{}",
        serde_json::to_string_pretty(&values["sdsReplicatedVolume"])?
    );
    Ok(())
}
