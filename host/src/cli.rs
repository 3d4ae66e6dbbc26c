//! The command line: Deckhouse's batch protocol (`hook ...`), its shell protocol
//! (`--config`, bare run), and the tools around them.

use clap::{Parser, Subcommand};
use std::ffi::OsString;
use std::path::PathBuf;

/// The hooks folder when `--hooks-dir` is not given (empty: unset).
pub const HOOKS_DIR_ENV: &str = "WASM_HOOKS_DIR";
/// The cache folder when `--cache-dir` is not given (empty: unset).
pub const CACHE_DIR_ENV: &str = "WASM_HOOKS_CACHE_DIR";
/// The recording folder when `--record` is not given (empty: off), so an SRE can turn
/// recording on in Deckhouse's environment without touching the hook's command line.
pub const RECORD_DIR_ENV: &str = "WASM_HOOKS_RECORD_DIR";

/// Runs sandboxed WebAssembly guests as Deckhouse module hooks and as the migration Job.
#[derive(Debug, Parser)]
#[command(name = "wasm-hooks", version, about)]
pub struct Cli {
    /// The folder holding grants.yaml and the guest components [env: WASM_HOOKS_DIR; empty:
    /// unset] [default: wasm-guests/ beside this binary]
    #[arg(long, global = true)]
    pub hooks_dir: Option<PathBuf>,
    /// Where precompiled components are kept [env: WASM_HOOKS_CACHE_DIR; empty: unset]
    /// [default: <hooks-dir>/.cache]
    #[arg(long, global = true)]
    pub cache_dir: Option<PathBuf>,
    /// Also write each hook run (`hook run N`, the shell protocol's bare run) as a test case
    /// folder in DIR, which `test DIR` replays; recording never changes the run
    /// [env: WASM_HOOKS_RECORD_DIR; empty: off]
    #[arg(long, value_name = "DIR", global = true)]
    pub record: Option<PathBuf>,
    /// Shell protocol: print the single hook's v1 config and exit.
    #[arg(long)]
    pub config: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// This process's command line, with the environment's fallbacks applied.
    ///
    /// Deckhouse's own calls (`hook list`, `hook config`, `hook run N`, `hook ready`,
    /// `hook check`, with no options) are read directly: building clap's whole command
    /// tree for them was a tenth of a warm hook run. Anything else goes to clap, which
    /// reads those calls exactly the same way (tested).
    pub fn from_process() -> Self {
        let args: Vec<OsString> = std::env::args_os().collect();
        let cli = args
            .get(1..)
            .and_then(Self::deckhouse_call)
            .unwrap_or_else(|| Self::parse_from(args));
        cli.with_env(|var| std::env::var_os(var))
    }

    /// The Cli of one of Deckhouse's calls, or None for any other command line.
    fn deckhouse_call(args: &[OsString]) -> Option<Self> {
        let args: Vec<&str> = args.iter().map(|a| a.to_str()).collect::<Option<_>>()?;
        let hook = match args.as_slice() {
            ["hook", "list"] => HookCommand::List,
            ["hook", "config"] => HookCommand::Config,
            ["hook", "ready"] => HookCommand::Ready,
            ["hook", "check"] => HookCommand::Check,
            ["hook", "run", index] if index.bytes().all(|b| b.is_ascii_digit()) => {
                HookCommand::Run {
                    index: index.parse().ok()?,
                }
            }
            _ => return None,
        };
        Some(Self {
            hooks_dir: None,
            cache_dir: None,
            record: None,
            config: false,
            command: Some(Command::Hook(hook)),
        })
    }

    /// Fills the folders the command line left out from `env` (an empty value is unset).
    pub fn with_env(mut self, env: impl Fn(&str) -> Option<OsString>) -> Self {
        let from = |var: &str| env(var).filter(|v| !v.is_empty()).map(PathBuf::from);
        self.hooks_dir = self.hooks_dir.or_else(|| from(HOOKS_DIR_ENV));
        self.cache_dir = self.cache_dir.or_else(|| from(CACHE_DIR_ENV));
        self.record = self.record.or_else(|| from(RECORD_DIR_ENV));
        self
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Deckhouse's batch hook protocol.
    #[command(subcommand)]
    Hook(HookCommand),
    /// Scaffolds a guest crate on the SDK, its grants.yaml entry and a first test case.
    New(NewArgs),
    /// Compiles every guest into the cache (run at image build time).
    Precompile,
    /// Runs golden fixture cases (folders with case.yaml) through this binary, as Deckhouse would.
    Test {
        /// A case folder, or a folder of them (searched recursively).
        dir: PathBuf,
        /// Rewrite the expected/ files from what the run produced.
        #[arg(long, env = "UPDATE_GOLDEN", value_parser = clap::builder::BoolishValueParser::new(), default_value_t = false)]
        update: bool,
    },
    /// Prints the render guest's gating table and state diagram (Markdown + Mermaid).
    Plan {
        /// The render guest's name [default: the only render guest].
        #[arg(long)]
        guest: Option<String>,
    },
    /// Runs a job guest against the live API (KUBECONFIG or in-cluster) until it is done.
    Job(JobArgs),
    /// Prints the Kubernetes RBAC rules (Role per namespace, ClusterRole) a guest's grants need.
    Rbac {
        /// The guest's name in grants.yaml.
        guest: String,
        /// A folder of CustomResourceDefinition YAML files, for the plural and scope of custom kinds (repeatable).
        #[arg(long = "crds", value_name = "DIR")]
        crds: Vec<PathBuf>,
        /// Instead of printing, rewrite the `# BEGIN wasm-hooks rbac GUEST ...` blocks of this chart template.
        #[arg(long, value_name = "FILE")]
        chart: Option<PathBuf>,
    },
    /// Runs a migration scenario (tests/scenarios/) on an embedded cluster with the real guests.
    Simulate {
        /// The scenario file (YAML).
        scenario: PathBuf,
        /// Also write the timeline as JSON to this file.
        #[arg(long)]
        trace: Option<PathBuf>,
    },
    /// Explores every interleaving from a scenario's initial state and checks I1-I8.
    Verify {
        /// The scenario file whose initial state is explored (its steps are ignored).
        scenario: PathBuf,
        /// Actions per trace.
        #[arg(long, default_value_t = 12)]
        depth: u32,
        /// Faults per trace.
        #[arg(long, default_value_t = 1)]
        faults: u32,
        /// Also write the report (and any counterexample) as JSON to this file.
        #[arg(long)]
        trace: Option<PathBuf>,
    },
}

/// What `new` scaffolds.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum NewKind {
    /// A hook with its own bindings (world hook-guest).
    Hook,
    /// A render planner, run before Helm (world render-guest).
    Render,
    /// A job run against the live API (world job-guest).
    Job,
}

/// `new KIND NAME`: a guest crate, its grants.yaml entry and a first fixture case.
#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// What to scaffold.
    pub kind: NewKind,
    /// The guest's name: lowercase letters, digits and '-' (a DNS label); also the crate's name.
    pub name: String,
    /// The folder the crate folder NAME/ is created in.
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    /// Where the crate gets deckhouse-hooks-sdk: the SDK crate's folder (this repository's
    /// sdk/), or a git URL of a repository holding it.
    #[arg(long, value_name = "PATH|GIT-URL")]
    pub sdk: String,
    /// The git rev, tag or branch, with a git --sdk.
    #[arg(long, value_name = "REV")]
    pub sdk_rev: Option<String>,
    /// Print the grants.yaml entry instead of appending it to the hooks folder's grants.yaml.
    #[arg(long)]
    pub print_grants: bool,
    /// The module's name [default: module.name of grants.yaml].
    #[arg(long)]
    pub module: Option<String>,
    /// The module's values key [default: module.valuesKey of grants.yaml].
    #[arg(long)]
    pub values_key: Option<String>,
}

/// `job NAME`: run, rehearse (`--dry-run`) or report on (`--status`) a job guest.
#[derive(Debug, clap::Args)]
pub struct JobArgs {
    /// The job guest's name in grants.yaml.
    pub name: String,
    /// A kubeconfig file [default: KUBECONFIG, then in-cluster].
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// Timeout of each API call, in seconds.
    #[arg(long, default_value_t = 30)]
    pub api_timeout: u64,
    /// Rehearse: read everything and send every write with server-side dry run
    /// (`dryRun=All`); nothing is changed. Prints the guest's report.
    #[arg(long, conflicts_with = "status")]
    pub dry_run: bool,
    /// Print where a running or finished job stands; reads only.
    #[arg(long)]
    pub status: bool,
    /// Also write the report as `<DIR>/<name>-report.{md,json}` (with --dry-run or --status).
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<PathBuf>,
    /// Override a setting of the guest (`key=value`; the value is read as JSON, else as a string).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Lists the hooks: `Found N items:` then `I - NAME`.
    List,
    /// Prints every hook's configuration as JSON.
    Config,
    /// Runs hook number N with Deckhouse's files.
    Run { index: usize },
    /// The readiness probe (none is configured: always ready).
    Ready,
    /// Validates the settings in SETTINGS_PATH.
    Check,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every call the fast path takes, and its near misses, read as clap reads them.
    #[test]
    fn deckhouse_calls_are_read_exactly_as_clap_reads_them() {
        let lines: &[&[&str]] = &[
            &["hook", "list"],
            &["hook", "config"],
            &["hook", "ready"],
            &["hook", "check"],
            &["hook", "run", "0"],
            &["hook", "run", "12"],
            &["hook", "run", "007"],
            &["hook", "run", "+1"],
            &["hook", "run", "-1"],
            &["hook", "run", ""],
            &["hook", "run", "99999999999999999999999"],
            &["hook", "run"],
            &["hook", "run", "1", "2"],
            &["hook", "run", "1", "--hooks-dir", "/x"],
            &["--hooks-dir", "/x", "hook", "list"],
            &["hook", "list", "--record", "/r"],
            &["hook"],
            &["hook", "lists"],
            &[],
            &["--config"],
        ];
        let mut taken = 0;
        for line in lines {
            let args: Vec<OsString> = line.iter().map(OsString::from).collect();
            let argv = std::iter::once(OsString::from("wasm-hooks")).chain(args.clone());
            let clap = Cli::try_parse_from(argv).ok().map(|c| format!("{c:?}"));
            // Anything the fast path declines goes to clap, so only what it takes matters.
            if let Some(fast) = Cli::deckhouse_call(&args) {
                assert_eq!(Some(format!("{fast:?}")), clap, "{line:?}");
                taken += 1;
            }
        }
        assert_eq!(
            taken, 7,
            "the four plain calls and `hook run` with 0, 12 and 007"
        );
    }

    #[test]
    fn an_empty_variable_is_unset_and_a_flag_wins_over_the_environment() {
        let env = |var: &str| match var {
            HOOKS_DIR_ENV => Some(OsString::from("/from-env")),
            CACHE_DIR_ENV | RECORD_DIR_ENV => Some(OsString::new()),
            _ => None,
        };
        let parsed = |args: &[&str]| {
            Cli::try_parse_from(std::iter::once("wasm-hooks").chain(args.iter().copied()))
                .unwrap()
                .with_env(env)
        };
        let cli = parsed(&["hook", "list"]);
        assert_eq!(cli.hooks_dir, Some(PathBuf::from("/from-env")));
        assert_eq!((cli.cache_dir, cli.record), (None, None));
        let cli = parsed(&["--hooks-dir", "/flag", "hook", "list"]);
        assert_eq!(cli.hooks_dir, Some(PathBuf::from("/flag")));
    }
}
