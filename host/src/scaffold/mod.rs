//! `new hook|render|job NAME`: a module author's first guest, as one crate folder on the
//! SDK (`deckhouse-hooks-sdk`) with a first fixture case that passes, plus its entry in
//! the hooks folder's `grants.yaml`.
//!
//! Everything is checked and rendered before anything is written; the crate folder
//! appears whole (staged, then renamed), and `grants.yaml` is replaced atomically only
//! after it parsed with the new entry. Nothing existing is ever overwritten.

pub mod grants;
pub mod name;
pub mod template;

use crate::manifest::{MANIFEST_FILE, Manifest, World};
use name::{Name, metric_part};
use std::io::Write;
use std::path::{Component, Path, PathBuf};

/// Why `new` wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    #[error("invalid name: {0}")]
    Name(String),
    #[error("{path} already exists; choose another name or --dir (nothing is overwritten)")]
    Exists { path: PathBuf },
    #[error("grants.yaml {path} already has a guest named {name:?}; choose another name")]
    Taken { path: PathBuf, name: String },
    #[error("{0}")]
    Manifest(#[from] crate::manifest::ManifestError),
    #[error(
        "no {MANIFEST_FILE} in {dir}: point --hooks-dir at the folder holding the module's grants.yaml, or pass --print-grants with --module and --values-key"
    )]
    NoManifest { dir: PathBuf },
    #[error("cannot add the entry to {path}: {problem}")]
    Grants { path: PathBuf, problem: String },
    #[error(
        "--sdk {given}: {problem}; give the path of the SDK crate (the repository's sdk/ folder) or a git URL"
    )]
    Sdk { given: String, problem: String },
    #[error("{0}")]
    Template(String),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Where the guest's crate gets `deckhouse-hooks-sdk` from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SdkSource {
    /// The SDK crate's folder (written relative to the new crate).
    Path(PathBuf),
    /// A git repository holding the SDK, and optionally a rev, tag or branch.
    Git { url: String, rev: Option<String> },
}

impl SdkSource {
    /// A git URL (`https://`, `ssh://`, `git@`, `file://`, or ending in `.git`), else a path.
    pub fn parse(given: &str, rev: Option<String>) -> Self {
        let git = ["https://", "http://", "ssh://", "git://", "git@", "file://"]
            .iter()
            .any(|p| given.starts_with(p))
            || given.ends_with(".git");
        if git {
            SdkSource::Git {
                url: given.to_owned(),
                rev,
            }
        } else {
            SdkSource::Path(PathBuf::from(given))
        }
    }
}

/// What to scaffold.
#[derive(Clone, Debug)]
pub struct Request {
    pub world: World,
    pub name: String,
    /// The folder the crate folder `NAME/` is created in.
    pub dir: PathBuf,
    pub sdk: SdkSource,
    /// The hooks folder whose grants.yaml gets the entry (and names the module).
    pub hooks_dir: PathBuf,
    /// Print the entry instead of appending it.
    pub print_grants: bool,
    /// The module's name and values key, when not read from grants.yaml.
    pub module: Option<String>,
    pub values_key: Option<String>,
}

/// What was done.
#[derive(Clone, Debug)]
pub struct Scaffolded {
    pub crate_dir: PathBuf,
    pub files: Vec<PathBuf>,
    /// The grants.yaml that got the entry, or None when it is to be printed.
    pub grants_file: Option<PathBuf>,
    /// The entry, as it reads in grants.yaml.
    pub grants_entry: String,
    /// The crate is inside an existing workspace: list it there.
    pub workspace: Option<PathBuf>,
    /// The fixture cases written (hooks and render guests).
    pub fixtures: Option<PathBuf>,
    pub component: String,
}

/// Scaffolds the guest; on error nothing was written.
pub fn scaffold(request: &Request) -> Result<Scaffolded, ScaffoldError> {
    let name = Name::parse(&request.name).map_err(ScaffoldError::Name)?;
    let crate_dir = request.dir.join(&name.kebab);
    if crate_dir.exists() {
        return Err(ScaffoldError::Exists { path: crate_dir });
    }
    let grants_path = request.hooks_dir.join(MANIFEST_FILE);
    let existing = if grants_path.is_file() {
        let manifest = Manifest::load(&request.hooks_dir)?;
        if manifest.guest(&name.kebab).is_some() {
            return Err(ScaffoldError::Taken {
                path: grants_path,
                name: name.kebab,
            });
        }
        Some(manifest)
    } else if !request.print_grants {
        return Err(ScaffoldError::NoManifest {
            dir: request.hooks_dir.clone(),
        });
    } else {
        None
    };
    let (module, values_key) = match (&request.module, &request.values_key, &existing) {
        (Some(m), Some(k), _) => (m.clone(), k.clone()),
        (m, k, Some(manifest)) => (
            m.clone().unwrap_or_else(|| manifest.module.name.clone()),
            k.clone()
                .unwrap_or_else(|| manifest.module.values_key.clone()),
        ),
        _ => {
            return Err(ScaffoldError::NoManifest {
                dir: request.hooks_dir.clone(),
            });
        }
    };
    let workspace = enclosing_workspace(&request.dir);
    let vars = variables(&name, &module, &values_key, request, &crate_dir, &workspace)?;
    let fill = |text: &str| template::render(text, &vars).map_err(ScaffoldError::Template);
    let mut files = vec![(
        PathBuf::from(template::CARGO_TOML.path),
        fill(template::CARGO_TOML.text)?,
    )];
    for file in template::files(request.world) {
        files.push((PathBuf::from(file.path), fill(file.text)?));
    }
    let entry = fill(template::grants_entry(request.world))?;
    let new_grants = match (&existing, request.print_grants) {
        (Some(_), false) => Some(grants_text(&grants_path, &entry, &name.kebab)?),
        _ => None,
    };
    write_crate(&crate_dir, &files)?;
    if let Some(text) = &new_grants
        && let Err(e) = replace_file(&grants_path, text)
    {
        let _ = std::fs::remove_dir_all(&crate_dir);
        return Err(e);
    }
    let fixtures = (request.world != World::Job).then(|| crate_dir.join("fixtures"));
    Ok(Scaffolded {
        files: files.iter().map(|(p, _)| crate_dir.join(p)).collect(),
        crate_dir,
        grants_file: new_grants.map(|_| grants_path),
        grants_entry: entry,
        workspace,
        fixtures,
        component: format!("{}.wasm", name.snake()),
    })
}

fn variables(
    name: &Name,
    module: &str,
    values_key: &str,
    request: &Request,
    crate_dir: &Path,
    workspace: &Option<PathBuf>,
) -> Result<Vec<(&'static str, String)>, ScaffoldError> {
    let sdk = sdk_dependency(&request.sdk, crate_dir)?;
    let kind = match request.world {
        World::Hook => "hook",
        World::Render => "render planner",
        World::Job => "job",
    };
    Ok(vec![
        ("name", name.kebab.clone()),
        ("crate", name.snake()),
        ("type", name.pascal()),
        ("camel", name.camel()),
        ("module", module.to_owned()),
        ("values_key", values_key.to_owned()),
        ("namespace", format!("d8-{module}")),
        (
            "metric",
            format!("d8_{}_{}", metric_part(module), metric_part(&name.kebab)),
        ),
        (
            "description",
            format!("The {} {kind} of Deckhouse module {module}", name.kebab),
        ),
        (
            "sdk_testing",
            sdk.replacen(" }", ", features = [\"testing\"] }", 1),
        ),
        ("sdk", sdk),
        (
            "standalone",
            match workspace {
                Some(_) => String::new(),
                None => format!("\n{}", template::STANDALONE),
            },
        ),
    ])
}

/// The dependency's inline table: `{ path = "../sdk" }` or `{ git = "...", rev = "..." }`.
fn sdk_dependency(sdk: &SdkSource, crate_dir: &Path) -> Result<String, ScaffoldError> {
    match sdk {
        SdkSource::Git { url, rev } => Ok(match rev {
            Some(rev) => format!("{{ git = {url:?}, rev = {rev:?} }}"),
            None => format!("{{ git = {url:?} }}"),
        }),
        SdkSource::Path(path) => {
            let given = path.display().to_string();
            let bad = |problem: String| ScaffoldError::Sdk {
                given: given.clone(),
                problem,
            };
            let manifest = std::fs::read_to_string(path.join("Cargo.toml"))
                .map_err(|e| bad(format!("cannot read its Cargo.toml: {e}")))?;
            if !manifest
                .lines()
                .any(|l| l.trim() == "name = \"deckhouse-hooks-sdk\"")
            {
                return Err(bad(
                    "its Cargo.toml is not the deckhouse-hooks-sdk crate's".into()
                ));
            }
            let sdk = std::fs::canonicalize(path).map_err(|e| bad(e.to_string()))?;
            let relative = relative_path(&absolute(crate_dir), &sdk);
            Ok(format!("{{ path = {:?} }}", relative.display().to_string()))
        }
    }
}

/// `path` made absolute against the working directory, `.` and `..` resolved as far as
/// the folders exist (the crate folder does not exist yet).
fn absolute(path: &Path) -> PathBuf {
    let joined = std::env::current_dir()
        .map(|cwd| cwd.join(path))
        .unwrap_or_else(|_| path.to_path_buf());
    let mut existing = joined.clone();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (existing.file_name(), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name.to_owned());
                existing = parent.to_path_buf();
            }
            _ => return joined,
        }
    }
    let mut out = std::fs::canonicalize(&existing).unwrap_or(existing);
    for part in rest.into_iter().rev() {
        out.push(part);
    }
    out
}

/// The path from folder `from` to `to`, both absolute.
fn relative_path(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<Component> = from.components().collect();
    let to: Vec<Component> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for part in &to[common..] {
        out.push(part);
    }
    out
}

/// The root of a Cargo workspace enclosing `dir`, if any.
fn enclosing_workspace(dir: &Path) -> Option<PathBuf> {
    absolute(dir).ancestors().find_map(|folder| {
        let manifest = folder.join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).ok()?;
        text.lines()
            .any(|l| l.trim() == "[workspace]")
            .then_some(manifest)
    })
}

/// grants.yaml with the entry appended, proven to parse with exactly one guest more.
fn grants_text(path: &Path, entry: &str, name: &str) -> Result<String, ScaffoldError> {
    let bad = |problem: String| ScaffoldError::Grants {
        path: path.to_path_buf(),
        problem,
    };
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    let before = Manifest::parse(&text).map_err(|e| bad(e.to_string()))?;
    let after_text = grants::append_guest(&text, entry).map_err(bad)?;
    let after = Manifest::parse(&after_text).map_err(|e| {
        bad(format!(
            "the file would not parse with the entry ({e}); add it by hand (see --print-grants)"
        ))
    })?;
    let names = |m: &Manifest| m.guests.iter().map(|g| g.name.clone()).collect::<Vec<_>>();
    let mut expected = names(&before);
    expected.push(name.to_owned());
    if names(&after) != expected {
        return Err(bad(
            "the entry did not land as the last guest; add it by hand (see --print-grants)".into(),
        ));
    }
    Ok(after_text)
}

/// Writes the crate folder whole: staged in a hidden sibling, then renamed.
fn write_crate(dir: &Path, files: &[(PathBuf, String)]) -> Result<(), ScaffoldError> {
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let fail = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ScaffoldError::Write { path, source }
    };
    std::fs::create_dir_all(parent).map_err(fail(parent))?;
    let name = dir.file_name().unwrap_or_default().to_string_lossy();
    let staging = parent.join(format!(".{name}.new-{}", std::process::id()));
    let written = (|| {
        for (file, text) in files {
            let path = staging.join(file);
            let folder = path.parent().unwrap_or(&staging);
            std::fs::create_dir_all(folder).map_err(fail(folder))?;
            std::fs::write(&path, text).map_err(fail(&path))?;
        }
        if dir.exists() {
            return Err(ScaffoldError::Exists {
                path: dir.to_path_buf(),
            });
        }
        std::fs::rename(&staging, dir).map_err(fail(dir))
    })();
    if written.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    written
}

/// Replaces a file atomically (temp file beside it, then rename).
fn replace_file(path: &Path, text: &str) -> Result<(), ScaffoldError> {
    let fail = |source| ScaffoldError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
    tmp.write_all(text.as_bytes()).map_err(fail)?;
    if let Ok(meta) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(tmp.path(), meta.permissions());
    }
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_sources_are_told_apart() {
        assert_eq!(
            SdkSource::parse("../sdk", None),
            SdkSource::Path("../sdk".into())
        );
        assert!(matches!(
            SdkSource::parse("https://example.org/x/wasm-hooks", None),
            SdkSource::Git { .. }
        ));
    }

    #[test]
    fn relative_paths_climb_to_the_common_folder() {
        assert_eq!(
            relative_path(Path::new("/a/b/c"), Path::new("/a/sdk")),
            PathBuf::from("../../sdk")
        );
    }
}
