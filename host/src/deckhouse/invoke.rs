//! Runs the host binary exactly as Deckhouse runs a hook: a clean environment, fresh
//! input files, empty output files created beforehand (as addon-operator does), the
//! paths in the environment variables Deckhouse sets, and the outputs read back;
//! optionally inside Deckhouse's hook chroot ([`Chroot`]).

use hooks_manifest::fixture;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// How to start the binary.
#[derive(Clone, Debug)]
pub struct Invocation {
    pub binary: PathBuf,
    /// `--hooks-dir`; None lets the binary find `wasm-guests/` beside itself.
    pub hooks_dir: Option<PathBuf>,
    /// `--cache-dir`.
    pub cache_dir: Option<PathBuf>,
    /// Extra environment (the environment is otherwise empty).
    pub env: Vec<(String, String)>,
    /// Run inside this chroot; `binary` and `hooks_dir` are then paths inside it.
    pub chroot: Option<Chroot>,
}

/// Deckhouse's chroot for an external module's hooks (deckhouse-controller's
/// `chroot_object_desctiptors_linux.go`): the module folder, `/tmp`, `/dev/null`, `/usr`
/// `/bin` `/lib` `/lib64` bound read-only, and of `/proc` only the single file
/// `/proc/sys/kernel/cap_last_cap`: no `/proc/self`, no `/etc`, no `/sys`. Needs root
/// (mount namespace, bind mounts, `chroot`).
#[derive(Clone, Debug)]
pub struct Chroot {
    pub root: PathBuf,
}

/// The system folders Deckhouse binds read-only into the chroot.
const SYSTEM_DIRS: [&str; 4] = ["usr", "bin", "lib", "lib64"];

impl Chroot {
    /// Lays out an empty root: mount points, `/tmp`, a `/dev/null` device node and the
    /// `cap_last_cap` file. Copy the module folder in yourself.
    pub fn prepare(root: &Path) -> io::Result<Self> {
        for dir in SYSTEM_DIRS.iter().chain(&["tmp", "dev", "proc/sys/kernel"]) {
            std::fs::create_dir_all(root.join(dir))?;
        }
        std::fs::copy(
            "/proc/sys/kernel/cap_last_cap",
            root.join("proc/sys/kernel/cap_last_cap"),
        )?;
        let null = root.join("dev/null");
        if !null.exists() {
            let made = Command::new("/usr/bin/mknod")
                .arg(&null)
                .args(["c", "1", "3"])
                .status()?;
            if !made.success() {
                return Err(io::Error::other(
                    "mknod /dev/null failed (the chroot needs root)",
                ));
            }
        }
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    /// The command that enters the chroot, in a private mount namespace, and runs
    /// `binary` (a path inside it).
    fn command(&self, binary: &Path) -> Command {
        let mut script = String::from("set -e\n");
        for dir in SYSTEM_DIRS {
            script.push_str(&format!(
                "if [ -d /{dir} ]; then mount --bind /{dir} \"$ROOT/{dir}\"; mount -o remount,bind,ro \"$ROOT/{dir}\"; fi\n"
            ));
        }
        // The hook gets Deckhouse's clean environment: the helpers' ROOT and PATH go.
        script.push_str("exec /usr/bin/env -u ROOT -u PATH /usr/sbin/chroot \"$ROOT\" \"$@\"\n");
        let mut cmd = Command::new("/usr/bin/unshare");
        cmd.env_clear();
        cmd.args([
            "--mount",
            "--propagation",
            "private",
            "/bin/sh",
            "-c",
            &script,
            "chroot-hook",
        ])
        .arg(binary);
        cmd.env("ROOT", &self.root)
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
        cmd
    }
}

/// A run's inputs as the files Deckhouse writes.
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    pub binding_context: String,
    pub values: String,
    pub config_values: String,
}

/// The output files' contents after a run (empty: not written).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outputs {
    pub values_patch: String,
    pub config_values_patch: String,
    pub kubernetes_patch: String,
    pub metrics: String,
}

/// What one process did.
#[derive(Clone, Debug)]
pub struct Invoked {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub outputs: Outputs,
    /// The process's own time, from spawn to exit (files written and read are outside it).
    pub elapsed: Duration,
}

/// The four outputs: file name, variable.
pub const OUTPUT_FILES: [(&str, &str); 4] = [
    ("values-patch.json", "VALUES_JSON_PATCH_PATH"),
    ("config-values-patch.json", "CONFIG_VALUES_JSON_PATCH_PATH"),
    ("kubernetes-patch.json", "KUBERNETES_PATCH_PATH"),
    ("metrics.json", "METRICS_PATH"),
];

impl Outputs {
    /// The contents by file name of [`OUTPUT_FILES`].
    pub fn by_file(&self) -> [(&'static str, &str); 4] {
        [
            (OUTPUT_FILES[0].0, &self.values_patch),
            (OUTPUT_FILES[1].0, &self.config_values_patch),
            (OUTPUT_FILES[2].0, &self.kubernetes_patch),
            (OUTPUT_FILES[3].0, &self.metrics),
        ]
    }

    /// The documents, read as Deckhouse reads them (an empty file: nothing written).
    pub fn parsed(&self) -> Result<fixture::Outputs, fixture::FixtureError> {
        let texts = self.by_file().map(|(_, text)| text);
        fixture::Outputs::parse(fixture::Output::ALL.into_iter().zip(texts))
    }

    /// True when the run wrote nothing at all.
    pub fn is_empty(&self) -> bool {
        self.by_file().iter().all(|(_, text)| text.is_empty())
    }
}

impl Invocation {
    pub fn new(binary: impl Into<PathBuf>) -> Self {
        Self {
            binary: binary.into(),
            hooks_dir: None,
            cache_dir: None,
            env: Vec::new(),
            chroot: None,
        }
    }

    /// Runs inside `chroot`; `binary` must then be the binary's path inside it.
    pub fn in_chroot(mut self, chroot: Chroot) -> Self {
        self.chroot = Some(chroot);
        self
    }

    pub fn hooks_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.hooks_dir = Some(dir.into());
        self
    }

    pub fn cache_dir(mut self, dir: Option<PathBuf>) -> Self {
        self.cache_dir = dir;
        self
    }

    /// Adds a variable to the (otherwise empty) environment.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// The command with a clean environment and the folder flags.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = match &self.chroot {
            Some(chroot) => chroot.command(&self.binary),
            None => {
                let mut cmd = Command::new(&self.binary);
                cmd.env_clear();
                cmd
            }
        };
        if let Some(dir) = &self.hooks_dir {
            cmd.arg("--hooks-dir").arg(dir);
        }
        if let Some(dir) = &self.cache_dir {
            cmd.arg("--cache-dir").arg(dir);
        }
        cmd.args(args);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs `args` with no input files (`hook list`, `hook config`, `--config`).
    pub fn plain(&self, args: &[&str]) -> io::Result<Invoked> {
        let start = Instant::now();
        let out = self.command(args).output()?;
        finish(out, Outputs::default(), start.elapsed())
    }

    /// `hook run N` with Deckhouse's files in a fresh folder.
    pub fn hook_run(&self, index: usize, inputs: &Inputs) -> io::Result<Invoked> {
        self.run_with_files(&["hook", "run", &index.to_string()], inputs)
    }

    /// `hook ready` (the readiness probe) with Deckhouse's files in a fresh folder.
    pub fn hook_ready(&self, inputs: &Inputs) -> io::Result<Invoked> {
        self.run_with_files(&["hook", "ready"], inputs)
    }

    /// Any run-like command (`hook run N`, the shell protocol's bare run) with the files.
    pub fn run_with_files(&self, args: &[&str], inputs: &Inputs) -> io::Result<Invoked> {
        // In a chroot the files live in its /tmp, and the variables name them from inside.
        let (work, inside) = match &self.chroot {
            Some(chroot) => {
                let work = tempfile::tempdir_in(chroot.root.join("tmp"))?;
                let name = work
                    .path()
                    .file_name()
                    .map(PathBuf::from)
                    .unwrap_or_default();
                (work, Path::new("/tmp").join(name))
            }
            None => {
                let work = tempfile::tempdir()?;
                let path = work.path().to_path_buf();
                (work, path)
            }
        };
        let mut cmd = self.command(args);
        for (file, var, text) in [
            (
                "binding-context.json",
                "BINDING_CONTEXT_PATH",
                &inputs.binding_context,
            ),
            ("values.json", "VALUES_PATH", &inputs.values),
            (
                "config-values.json",
                "CONFIG_VALUES_PATH",
                &inputs.config_values,
            ),
        ] {
            std::fs::write(work.path().join(file), text)?;
            cmd.env(var, inside.join(file));
        }
        for (file, var) in OUTPUT_FILES {
            std::fs::write(work.path().join(format!("out-{file}")), "")?;
            cmd.env(var, inside.join(format!("out-{file}")));
        }
        let start = Instant::now();
        let out = cmd.output()?;
        let elapsed = start.elapsed();
        let read = |file: &str| std::fs::read_to_string(work.path().join(format!("out-{file}")));
        let outputs = Outputs {
            values_patch: read(OUTPUT_FILES[0].0)?,
            config_values_patch: read(OUTPUT_FILES[1].0)?,
            kubernetes_patch: read(OUTPUT_FILES[2].0)?,
            metrics: read(OUTPUT_FILES[3].0)?,
        };
        finish(out, outputs, elapsed)
    }
}

fn finish(out: std::process::Output, outputs: Outputs, elapsed: Duration) -> io::Result<Invoked> {
    Ok(Invoked {
        elapsed,
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        outputs,
    })
}

/// Reads an output the way Deckhouse does (one reader: [`hooks_manifest::fixture`]).
pub use hooks_manifest::fixture::parse_stream;

/// A case folder's input files as [`Inputs`]; a missing file reads as `{}` (or `[]`).
pub fn inputs_from_folder(dir: &Path) -> io::Result<Inputs> {
    use hooks_manifest::fixture::{FixtureError, Input, read_input};
    let read = |input| {
        read_input(dir, input).map_err(|e| match e {
            FixtureError::Read { source, .. } => source,
            other => io::Error::other(other.to_string()),
        })
    };
    Ok(Inputs {
        binding_context: read(Input::BindingContext)?,
        values: read(Input::Values)?,
        config_values: read(Input::ConfigValues)?,
    })
}
