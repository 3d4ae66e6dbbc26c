//! The per-volume adoption gate of Pass 2. The new controller adopts a marked
//! ReplicatedVolume through the Formation transition of plan `adopt/v1`; when its
//! three steps read Completed, Completed, Active ("Exit maintenance" running), every
//! replica is a datamesh member and maintenance may end. Lifting it earlier would hand
//! the agent a spec without peers for a live device.

use std::collections::HashMap;

use serde_json::Value;

use crate::error::{During, Error};
use crate::names::name_of;
use crate::names::{ADOPT_PLAN, ADOPT_RVR, FORMATION, GATE_STEPS, RV, STORAGE_V1ALPHA1};
use crate::plan::Plan;
use deckhouse_hooks_sdk::{Kube, ListQuery};

/// Where one marked volume stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Gate {
    /// adopt/v1 is at "Exit maintenance": lift it now.
    Open,
    /// The formation finished (possible only once maintenance was lifted, by a Job
    /// killed before it removed the annotations): finish the cleanup.
    Formed,
    /// Not yet; says what the volume is at.
    Waiting(String),
}

/// Reads the gate from a ReplicatedVolume's status.
pub fn gate(rv: &Value) -> Gate {
    let transitions = rv["status"]["datameshTransitions"].as_array();
    let formation = transitions
        .into_iter()
        .flatten()
        .find(|t| t["type"] == FORMATION);
    let Some(formation) = formation else {
        let revision = rv["status"]["datameshRevision"].as_i64().unwrap_or(0);
        return if revision > 0 {
            Gate::Formed
        } else {
            Gate::Waiting("the controller has not started its formation".into())
        };
    };
    let plan = formation["planID"].as_str().unwrap_or("");
    if plan != ADOPT_PLAN {
        return Gate::Waiting(format!(
            "its formation runs plan {plan:?}, not {ADOPT_PLAN}"
        ));
    }
    let steps: Vec<&str> = formation["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| s["status"].as_str().unwrap_or("?"))
        .collect();
    if steps == GATE_STEPS {
        return Gate::Open;
    }
    let at = formation["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["status"] == "Active")
        .and_then(|s| s["name"].as_str())
        .unwrap_or("?");
    Gate::Waiting(format!(
        "{ADOPT_PLAN} steps are [{}] (at {at:?})",
        steps.join(", ")
    ))
}

/// The planned volumes by state.
#[derive(Debug, Default)]
pub struct Survey {
    /// Volumes without the adopt-rvr annotation: done.
    pub adopted: usize,
    /// Index into the plan's volumes, with the gate.
    pub marked: Vec<(usize, Gate)>,
    /// Planned volumes whose ReplicatedVolume does not exist.
    pub absent: Vec<String>,
}

impl Survey {
    /// (volume, why it waits) for every volume not done.
    pub fn waiting<'p>(&self, plan: &'p Plan) -> Vec<(&'p str, String)> {
        let mut out: Vec<(&str, String)> = self
            .marked
            .iter()
            .map(|(i, gate)| {
                let why = match gate {
                    Gate::Open => "adoption gate open, maintenance being lifted".to_owned(),
                    Gate::Formed => "formation finished, annotations being removed".to_owned(),
                    Gate::Waiting(why) => why.clone(),
                };
                (plan.volumes[*i].name.as_str(), why)
            })
            .collect();
        out.extend(
            plan.volumes
                .iter()
                .filter(|v| self.absent.contains(&v.name))
                .map(|v| {
                    (
                        v.name.as_str(),
                        "its ReplicatedVolume does not exist".to_owned(),
                    )
                }),
        );
        out
    }
}

/// Lists the ReplicatedVolumes page by page and sorts the planned ones.
pub fn survey(kube: Kube<'_>, plan: &Plan, page_size: u32) -> Result<Survey, Error> {
    let planned: HashMap<&str, usize> = plan
        .volumes
        .iter()
        .enumerate()
        .map(|(i, v)| (v.name.as_str(), i))
        .collect();
    let mut seen = vec![false; plan.volumes.len()];
    let mut survey = Survey::default();
    for page in kube.pages(&ListQuery::new(STORAGE_V1ALPHA1, RV).limit(page_size)) {
        for rv in page.during(|| format!("listing {RV}"))? {
            let Some(&i) = planned.get(name_of(&rv)) else {
                continue;
            };
            seen[i] = true;
            if rv["metadata"]["annotations"].get(ADOPT_RVR).is_none() {
                survey.adopted += 1;
            } else {
                survey.marked.push((i, gate(&rv)));
            }
        }
    }
    survey.absent = plan
        .volumes
        .iter()
        .zip(&seen)
        .filter(|(_, seen)| !**seen)
        .map(|(v, _)| v.name.clone())
        .collect();
    Ok(survey)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rv(transitions: Value, revision: i64) -> Value {
        json!({"status": {"datameshTransitions": transitions, "datameshRevision": revision}})
    }

    fn formation(plan: &str, statuses: &[&str]) -> Value {
        let steps: Vec<Value> = statuses
            .iter()
            .enumerate()
            .map(|(i, s)| json!({"name": format!("step {i}"), "status": s}))
            .collect();
        json!([{"type": "Formation", "group": "Formation", "planID": plan, "steps": steps}])
    }

    #[test]
    fn opens_only_at_completed_completed_active_of_adopt() {
        let open = rv(
            formation("adopt/v1", &["Completed", "Completed", "Active"]),
            2,
        );
        assert_eq!(gate(&open), Gate::Open);
        for (plan, steps) in [
            ("adopt/v1", &["Completed", "Active", "Pending"][..]),
            ("adopt/v1", &["Completed", "Completed", "Completed"]),
            ("adopt/v1", &["Completed", "Completed", "Active", "Pending"]),
            ("adopt/v1", &["Completed", "Active"]),
            ("create/v1", &["Completed", "Completed", "Active"]),
        ] {
            let waiting = rv(formation(plan, steps), 1);
            assert!(
                matches!(gate(&waiting), Gate::Waiting(_)),
                "{plan} {steps:?} must not open the gate"
            );
        }
    }

    #[test]
    fn no_formation_is_formed_only_with_a_datamesh_revision() {
        assert!(matches!(gate(&json!({})), Gate::Waiting(_)));
        assert!(matches!(gate(&rv(json!([]), 0)), Gate::Waiting(_)));
        assert_eq!(gate(&rv(json!([]), 3)), Gate::Formed);
        let other = json!([{"type": "Attach", "group": "Attachment", "steps": []}]);
        assert_eq!(gate(&rv(other, 3)), Gate::Formed);
    }
}
