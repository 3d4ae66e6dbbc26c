//! The rehearsal and the status report, as Markdown for people and JSON for tools.
//! Both only read; the rehearsal's creates go out as server-side dry runs (the host
//! adds `dryRun=All`), so the API server's validation and admission judge each object
//! and nothing is stored.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::adoption;
use crate::clock::Clock;
use crate::create::Creator;
use crate::error::Error;
use crate::load::{self, Existing};
use crate::names::CREATED_KINDS;
use crate::pass1;
use crate::plan::{self, Plan};
use crate::preflight;
use crate::settings::Settings;
use crate::state;
use crate::verify;
use deckhouse_hooks_sdk::Logger;
use deckhouse_hooks_sdk::{Kube, Report};

/// One problem in a report.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Finding {
    kind: &'static str,
    subject: String,
    message: String,
}

impl Finding {
    fn json(&self) -> Value {
        json!({"kind": self.kind, "subject": self.subject, "message": self.message})
    }
}

/// The state as a report shows it.
fn state_text(kube: Kube<'_>) -> Result<String, Error> {
    let state = state::read(kube).map_err(|source| Error::Api {
        during: "reading the migration state".into(),
        source,
    })?;
    Ok(state.map_or_else(
        || "absent (the Job creates it with not_started)".to_owned(),
        |s| s.value,
    ))
}

/// The plan, or the finding that stops it (a LINSTOR database that cannot be read).
fn plan_or_finding(
    kube: Kube<'_>,
    log: Logger<'_>,
    settings: &Settings,
    findings: &mut Vec<Finding>,
) -> Result<Option<Plan>, Error> {
    match load::plan(kube, log, settings) {
        Ok(plan) => Ok(plan),
        Err(Error::Data(message)) => {
            findings.push(Finding {
                kind: "unmappable-volume",
                subject: "LINSTOR database".into(),
                message,
            });
            Ok(None)
        }
        Err(other) => Err(other),
    }
}

fn plan_findings(plan: &Plan, findings: &mut Vec<Finding>) {
    findings.extend(plan.problems.iter().map(|p| Finding {
        kind: p.kind.as_str(),
        subject: p.subject.clone(),
        message: p.message.clone(),
    }));
}

/// Reads everything, plans Pass 1 and sends every create as a dry run.
pub fn rehearse(
    kube: Kube<'_>,
    log: Logger<'_>,
    clock: &dyn Clock,
    settings: &Settings,
) -> Result<Report, Error> {
    let mut findings: Vec<Finding> = preflight::blockers(kube)?
        .into_iter()
        .map(|message| Finding {
            kind: "preflight",
            subject: "cluster".into(),
            message,
        })
        .collect();
    let crd_missing = findings
        .iter()
        .any(|f| f.message.contains("CustomResourceDefinition"));
    let state = state_text(kube)?;
    let plan = plan_or_finding(kube, log, settings, &mut findings)?;
    let mut kinds: BTreeMap<String, BTreeMap<&str, usize>> = BTreeMap::new();
    let mut pv_labels = json!({"add": [], "remove": []});
    let mut owner_refs_to_add = 0;
    if let Some(plan) = &plan {
        plan_findings(plan, &mut findings);
        for (kind, n) in plan::counts(plan.pools.len(), plan.volumes.iter()) {
            kinds
                .entry(kind.to_owned())
                .or_default()
                .insert("planned", n);
        }
        pv_labels = json!({"add": plan.pv_labels_add, "remove": plan.pv_labels_remove});
        let comparison = verify::compare(kube, plan, settings.page_size)?;
        for (kind, n) in &comparison.present {
            kinds
                .entry(kind.clone())
                .or_default()
                .insert("existing", *n);
        }
        findings.extend(comparison.differing.iter().map(|line| {
            let (subject, message) = line.split_once(": ").unwrap_or((line, ""));
            Finding {
                kind: "collision",
                subject: subject.to_owned(),
                message: format!("exists and differs from the plan: {message}"),
            }
        }));
        if !crd_missing {
            let existing = Existing::read(kube, settings.page_size)?;
            let mut creator = Creator::new(kube, existing, settings.create_batch, true);
            pass1::create_all(&mut creator, plan, log, clock, settings)?;
            for (kind, n) in &creator.created {
                kinds
                    .entry(kind.clone())
                    .or_default()
                    .insert("toCreate", *n);
            }
            for rejected in &creator.rejected {
                *kinds
                    .entry(rejected.kind.clone())
                    .or_default()
                    .entry("rejected")
                    .or_default() += 1;
                findings.push(Finding {
                    kind: "rejected",
                    subject: format!("{} {}", rejected.kind, rejected.name),
                    message: rejected.message.clone(),
                });
            }
            owner_refs_to_add = creator.owner_refs_added;
        }
    }
    let ok = findings.is_empty();
    let mut md = String::new();
    let _ = writeln!(md, "# Control-plane migration: rehearsal\n");
    let _ = writeln!(
        md,
        "State: `{state}`. Nothing was written; every create was sent as a server-side dry run.\n"
    );
    match &plan {
        None if findings.is_empty() => {
            let _ = writeln!(
                md,
                "No LINSTOR database in this cluster: nothing to migrate.\n"
            );
        }
        None => {}
        Some(plan) => {
            let _ = writeln!(
                md,
                "{} volumes, {} pools.\n",
                plan.volumes.len(),
                plan.pools.len()
            );
            let _ = writeln!(md, "| kind | planned | existing | to create | rejected |");
            let _ = writeln!(md, "|---|---|---|---|---|");
            for kind in CREATED_KINDS {
                let row = kinds.get(kind).cloned().unwrap_or_default();
                let at = |k| row.get(k).copied().unwrap_or(0);
                let _ = writeln!(
                    md,
                    "| {kind} | {} | {} | {} | {} |",
                    at("planned"),
                    at("existing"),
                    at("toCreate"),
                    at("rejected")
                );
            }
            let _ = writeln!(
                md,
                "\nPersistentVolume label `no-linstor-resource`: {} to add, {} to remove. \
                 Existing LLVs and DRBDResources to get their ownerRef: {owner_refs_to_add}.\n",
                plan.pv_labels_add.len(),
                plan.pv_labels_remove.len()
            );
        }
    }
    write_findings(&mut md, &findings);
    let json = json!({
        "state": state,
        "ok": ok,
        "volumes": plan.as_ref().map_or(0, |p| p.volumes.len()),
        "kinds": kinds,
        "pvLabels": pv_labels,
        "ownerRefsToAdd": owner_refs_to_add,
        "problems": findings.iter().map(Finding::json).collect::<Vec<_>>(),
    });
    Ok(Report {
        markdown: md,
        json,
        ok,
    })
}

/// Where the migration stands: state, per-kind counts done/planned, and the volumes
/// waiting for adoption.
pub fn status(kube: Kube<'_>, log: Logger<'_>, settings: &Settings) -> Result<Report, Error> {
    let state = state_text(kube)?;
    let mut findings = Vec::new();
    let plan = plan_or_finding(kube, log, settings, &mut findings)?;
    let mut md = String::new();
    let _ = writeln!(md, "# Control-plane migration: status\n");
    let _ = writeln!(md, "State: `{state}`.\n");
    let mut json = json!({"state": state});
    if let Some(plan) = &plan {
        plan_findings(plan, &mut findings);
        let comparison = verify::compare(kube, plan, settings.page_size)?;
        let survey = adoption::survey(kube, plan, settings.page_size)?;
        let waiting = survey.waiting(plan);
        let mut kinds = BTreeMap::new();
        let _ = writeln!(md, "| kind | done | planned |");
        let _ = writeln!(md, "|---|---|---|");
        let planned = plan::counts(plan.pools.len(), plan.volumes.iter());
        for kind in CREATED_KINDS {
            let (done, of) = (
                comparison.present.get(kind).copied().unwrap_or(0),
                planned.get(kind).copied().unwrap_or(0),
            );
            let _ = writeln!(md, "| {kind} | {done} | {of} |");
            kinds.insert(kind, json!({"done": done, "planned": of}));
        }
        let _ = writeln!(
            md,
            "\nAdopted by the new controller: {} of {} volumes. Waiting for adoption: {}.\n",
            survey.adopted,
            plan.volumes.len(),
            waiting.len()
        );
        for (volume, why) in &waiting {
            let _ = writeln!(md, "- `{volume}`: {why}");
        }
        json["kinds"] = json!(kinds);
        json["volumes"] = json!(plan.volumes.len());
        json["adopted"] = json!(survey.adopted);
        json["waitingForAdoption"] = waiting
            .iter()
            .map(|(volume, why)| json!({"volume": volume, "reason": why}))
            .collect();
    } else if findings.is_empty() {
        let _ = writeln!(
            md,
            "No LINSTOR database in this cluster: nothing to migrate."
        );
    }
    write_findings(&mut md, &findings);
    json["problems"] = findings.iter().map(Finding::json).collect();
    let ok = findings.is_empty();
    json["ok"] = json!(ok);
    Ok(Report {
        markdown: md,
        json,
        ok,
    })
}

fn write_findings(md: &mut String, findings: &[Finding]) {
    if findings.is_empty() {
        let _ = writeln!(md, "\nNo problems found.");
        return;
    }
    let _ = writeln!(md, "\n## Problems ({})\n", findings.len());
    for f in findings {
        let _ = writeln!(md, "- **{}** {}: {}", f.kind, f.subject, f.message);
    }
}
