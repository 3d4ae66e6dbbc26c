//! The test kit (feature `testing`), as module-sdk's `testing/framework` is for Go hooks:
//! run a hook natively against a cluster state in YAML and values, then assert on values,
//! object operations, metrics and logs, with no Wasm and no host binary.
//!
//! - [`HookTest`]: the Rust API (module-sdk's `HookExecutionConfigInit`, `KubeStateSet`,
//!   `RunHook`, `ValuesGet`, `KubernetesResource`).
//! - [`Case`]: the same test as one YAML description, which runs natively
//!   ([`Case::check`]) and also writes the fixture folder the real host binary runs
//!   (`wasm-hooks test`), so one description covers both ([`Case::write_fixture`]).
//! - [`check_fixtures`]: runs fixture folders natively, as the host would run them.
//! - [`Cluster`]: the in-memory [`crate::Host`] behind all of it, also for job tests.
//!
//! The native run does what the host does around the guest: reads are served from the
//! run's snapshots (a kind no binding delivered is `unavailable`), writes become Deckhouse
//! object operations, the values patch is rooted at the module key with parents created,
//! and log lines are JSON with the guest's fields under `fields`.

mod case;
mod cluster;
mod contexts;
mod run;

pub use case::{Case, Expected, check_fixtures};
pub use cluster::{Cluster, LogLine};
pub use contexts::{before_helm, synchronization};
pub use run::{HookRun, HookTest};

#[cfg(test)]
mod tests {
    use super::Cluster;
    use crate::job::{self, Job, JobContext, Report, Step};
    use crate::prelude::*;
    use crate::{ListQuery, LogLevel};

    /// A job that moves a ConfigMap's `data.state` from `start` to `done`, one step at a time.
    #[derive(Default)]
    struct Mover;

    #[derive(Deserialize, Default)]
    #[serde(default, deny_unknown_fields)]
    struct Settings {
        wait_ms: u32,
    }

    fn state_ref() -> ObjectRef {
        ObjectRef::namespaced("v1", "ConfigMap", "ns", "state")
    }

    impl Job for Mover {
        type Settings = Settings;

        fn step(&mut self, ctx: &JobContext<'_>, settings: &Settings) -> Result<Step, Error> {
            let cm: Option<Value> = ctx.kube.get_opt(&state_ref())?;
            match cm
                .as_ref()
                .and_then(|c| c.pointer("/data/state"))
                .and_then(Value::as_str)
            {
                None => {
                    ctx.kube.create(&json!({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"namespace": "ns", "name": "state"}, "data": {"state": "start"}}))?;
                    Ok(Step::Wait {
                        ms: settings.wait_ms,
                        why: "created".into(),
                    })
                }
                Some("start") => {
                    ctx.kube.merge_patch(
                        &state_ref(),
                        &json!({"data": {"state": "done"}}),
                        &PatchOptions::default(),
                    )?;
                    ctx.log.info("moved", &[("to", "done")]);
                    Ok(Step::Wait {
                        ms: settings.wait_ms,
                        why: "moved".into(),
                    })
                }
                Some(other) => Ok(Step::Done(format!("state is {other}"))),
            }
        }

        fn rehearse(&mut self, ctx: &JobContext<'_>, _: &Settings) -> Result<Report, Error> {
            let listed = ctx
                .kube
                .list_all_as::<Value>(&ListQuery::new("v1", "ConfigMap"))?;
            Ok(Report {
                markdown: format!("{} ConfigMaps", listed.len()),
                json: json!({"count": listed.len()}),
                ok: true,
            })
        }

        fn status(&mut self, ctx: &JobContext<'_>, _: &Settings) -> Result<Report, Error> {
            let present = ctx.kube.get_opt::<Value>(&state_ref())?.is_some();
            Ok(Report {
                markdown: String::new(),
                json: json!({"present": present}),
                ok: present,
            })
        }
    }

    #[test]
    fn a_job_steps_until_done_against_the_in_memory_cluster() {
        let cluster = Cluster::new();
        let settings = r#"{"wait_ms": 5}"#;
        assert!(!job::status(&mut Mover, &cluster, settings).unwrap().ok);
        let mut steps = Vec::new();
        loop {
            match job::step(&mut Mover, &cluster, settings).unwrap() {
                Step::Wait { ms, why } => steps.push((ms, why)),
                Step::Done(text) => {
                    assert_eq!(text, "state is done");
                    break;
                }
            }
        }
        assert_eq!(steps, [(5, "created".to_owned()), (5, "moved".to_owned())]);
        assert_eq!(cluster.operations().len(), 2);
        assert!(cluster.logged(LogLevel::Info, "moved"));
        assert_eq!(
            job::rehearse(&mut Mover, &cluster, "").unwrap().json["count"],
            1
        );
        let bad = job::step(&mut Mover, &cluster, r#"{"waitMs": 1}"#).unwrap_err();
        assert!(bad.message().contains("waitMs"), "{bad}");
    }
}
