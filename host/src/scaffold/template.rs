//! The files `new` writes, kept as template files under `host/templates/new/` (compiled
//! in, so the binary needs nothing beside it) with `{{key}}` placeholders.

use crate::manifest::World;

/// One file of a scaffold: where it goes in the crate folder, and its template.
pub struct TemplateFile {
    pub path: &'static str,
    pub text: &'static str,
}

macro_rules! template {
    ($path:literal => $source:literal) => {
        TemplateFile {
            path: $path,
            text: include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/templates/new/",
                $source
            )),
        }
    };
}

/// The crate's manifest (every kind).
pub const CARGO_TOML: TemplateFile = template!("Cargo.toml" => "common/Cargo.toml.tmpl");
/// The `[workspace]` table and release profile of a crate outside any workspace.
pub const STANDALONE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/templates/new/common/standalone.toml.tmpl"
));

const COMMON: &[TemplateFile] = &[template!(".gitignore" => "common/gitignore.tmpl")];

const HOOK: &[TemplateFile] = &[
    template!("src/lib.rs" => "hook/lib.rs.tmpl"),
    template!("fixtures/first-run/case.yaml" => "hook/fixture/case.yaml.tmpl"),
    template!("fixtures/first-run/binding-context.json" => "hook/fixture/binding-context.json.tmpl"),
    template!("fixtures/first-run/values.json" => "hook/fixture/values.json.tmpl"),
    template!("fixtures/first-run/config-values.json" => "hook/fixture/config-values.json.tmpl"),
    template!("fixtures/first-run/expected/values-patch.json" => "hook/fixture/expected/values-patch.json.tmpl"),
    template!("fixtures/first-run/expected/kubernetes-patch.json" => "hook/fixture/expected/kubernetes-patch.json.tmpl"),
    template!("fixtures/first-run/expected/metrics.json" => "hook/fixture/expected/metrics.json.tmpl"),
];

const RENDER: &[TemplateFile] = &[
    template!("src/lib.rs" => "render/lib.rs.tmpl"),
    template!("fixtures/first-run/case.yaml" => "render/fixture/case.yaml.tmpl"),
    template!("fixtures/first-run/binding-context.json" => "render/fixture/binding-context.json.tmpl"),
    template!("fixtures/first-run/values.json" => "render/fixture/values.json.tmpl"),
    template!("fixtures/first-run/config-values.json" => "render/fixture/config-values.json.tmpl"),
    template!("fixtures/first-run/expected/values-patch.json" => "render/fixture/expected/values-patch.json.tmpl"),
];

const JOB: &[TemplateFile] = &[template!("src/lib.rs" => "job/lib.rs.tmpl")];

/// Every file of a kind's crate folder except `Cargo.toml`.
pub fn files(world: World) -> impl Iterator<Item = &'static TemplateFile> {
    let kind = match world {
        World::Hook => HOOK,
        World::Render => RENDER,
        World::Job => JOB,
    };
    COMMON.iter().chain(kind)
}

/// The kind's grants.yaml entry, a list item at column 0.
pub fn grants_entry(world: World) -> &'static str {
    match world {
        World::Hook => include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/templates/new/hook/grants.yaml.tmpl"
        )),
        World::Render => include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/templates/new/render/grants.yaml.tmpl"
        )),
        World::Job => include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/templates/new/job/grants.yaml.tmpl"
        )),
    }
}

/// Fills `{{key}}` placeholders; a placeholder without a value is an error (a template
/// and the code that fills it disagree).
pub fn render(text: &str, vars: &[(&str, String)]) -> Result<String, String> {
    let mut out = text.to_owned();
    for (key, value) in vars {
        out = out.replace(&format!("{{{{{key}}}}}"), value);
    }
    match out.find("{{") {
        Some(at) => Err(format!(
            "template placeholder left unfilled: {}",
            out[at..].chars().take(40).collect::<String>()
        )),
        None => Ok(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_or_named() {
        let vars = [("name", "x".to_owned())];
        assert_eq!(render("a {{name}} b", &vars).unwrap(), "a x b");
        assert!(
            render("{{other}}", &vars)
                .unwrap_err()
                .contains("{{other}}")
        );
    }
}
