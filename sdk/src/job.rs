//! A job (world `job-guest`): a resumable step function the host calls until it is done,
//! plus a rehearsal (every write sent with `dryRun=All`) and a status report. Each call
//! re-reads its state from the cluster, so a job killed anywhere resumes where it stood.
//!
//! The host calls one instance until the Job is done, so a job value lives between
//! calls: it may remember what belongs to one Job (a check passed, a timeout's clock).
//! Whatever must survive a restart belongs in the cluster.
//!
//! Settings arrive as JSON (the guest's `settings` in grants.yaml, overridden by `--set`)
//! and are decoded into the job's own [`Job::Settings`] type.

use crate::error::Error;
use crate::host::Host;
use crate::kube::Kube;
use crate::log::Logger;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// What a step wants next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// The job is finished; the text says how.
    Done(String),
    /// Call `step` again after `ms` milliseconds (the host caps it); `why` says what it waits for.
    Wait {
        /// How long.
        ms: u32,
        /// What for.
        why: String,
    },
}

/// A report for people (Markdown) and tools (JSON).
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// Markdown a person reads.
    pub markdown: String,
    /// The same facts as JSON.
    pub json: Value,
    /// False when the report found a problem that must be fixed first.
    pub ok: bool,
}

/// What a job call can use: the cluster and the log.
pub struct JobContext<'h> {
    /// Live Kubernetes (dry-run writes in a rehearsal).
    pub kube: Kube<'h>,
    /// The log.
    pub log: Logger<'h>,
}

impl<'h> JobContext<'h> {
    /// A context over `host`.
    pub fn new(host: &'h dyn Host) -> Self {
        Self {
            kube: Kube::new(host),
            log: Logger::new(host),
        }
    }
}

/// A job. Implement it and export it with [`crate::export_job!`]; the glue makes one
/// with `Default` on the first call and keeps it for the instance's life.
pub trait Job: Default + 'static {
    /// The job's settings; `{}` must decode (give fields serde defaults).
    type Settings: DeserializeOwned;

    /// One step.
    fn step(&mut self, ctx: &JobContext<'_>, settings: &Self::Settings) -> Result<Step, Error>;

    /// Plans the whole job without changing anything: reads, then every write it would make.
    fn rehearse(
        &mut self,
        ctx: &JobContext<'_>,
        settings: &Self::Settings,
    ) -> Result<Report, Error>;

    /// Where a running or finished job stands; reads only.
    fn status(&mut self, ctx: &JobContext<'_>, settings: &Self::Settings) -> Result<Report, Error>;
}

/// Decodes the settings JSON; blank text is `{}`. Anything but a JSON object is refused
/// (serde would read an array into a struct by position); the error names the bad field.
pub fn settings<S: DeserializeOwned>(text: &str) -> Result<S, Error> {
    const FIX: &str = "fix `settings` in grants.yaml or the --set override";
    let text = if text.trim().is_empty() { "{}" } else { text };
    let value: Value = serde_json::from_str(text)
        .map_err(|e| Error::msg(format!("the job's settings are not JSON: {e}; {FIX}")))?;
    if !value.is_object() {
        return Err(Error::msg(format!(
            "the job's settings must be a JSON object, got {value}; {FIX}"
        )));
    }
    serde_json::from_value(value)
        .map_err(|e| Error::msg(format!("the job's settings do not fit: {e}; {FIX}")))
}

/// Runs one step of `job` over `host`: what the Wasm glue calls, and what native tests call.
pub fn step<J: Job>(job: &mut J, host: &dyn Host, settings_json: &str) -> Result<Step, Error> {
    let settings = settings::<J::Settings>(settings_json)?;
    job.step(&JobContext::new(host), &settings)
}

/// Runs `job`'s rehearsal over `host`.
pub fn rehearse<J: Job>(
    job: &mut J,
    host: &dyn Host,
    settings_json: &str,
) -> Result<Report, Error> {
    let settings = settings::<J::Settings>(settings_json)?;
    job.rehearse(&JobContext::new(host), &settings)
}

/// Runs `job`'s status report over `host`.
pub fn status<J: Job>(job: &mut J, host: &dyn Host, settings_json: &str) -> Result<Report, Error> {
    let settings = settings::<J::Settings>(settings_json)?;
    job.status(&JobContext::new(host), &settings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(default, deny_unknown_fields, rename_all = "camelCase")]
    struct Settings {
        batch_size: u32,
    }

    #[test]
    fn settings_decode_with_defaults_and_name_bad_fields() {
        assert_eq!(settings::<Settings>("").unwrap(), Settings::default());
        assert_eq!(
            settings::<Settings>(r#"{"batchSize": 5}"#)
                .unwrap()
                .batch_size,
            5
        );
        let err = settings::<Settings>(r#"{"batchsize": 5}"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("batchsize") && err.contains("grants.yaml"),
            "{err}"
        );
        let err = settings::<Settings>("[5]").unwrap_err().to_string();
        assert!(err.contains("must be a JSON object"), "{err}");
        let err = settings::<Settings>("{").unwrap_err().to_string();
        assert!(err.contains("not JSON"), "{err}");
    }
}
