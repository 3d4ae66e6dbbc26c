//! Sends planned objects in batches through `create-many` (create-if-absent), skipping
//! the ones that exist, remembering each created replica's uid for the ownerRefs, and
//! adding a missing ownerRef to LLVs and DRBDResources that existed before (get, skip
//! if present, merge patch, as the real migrator does). In a rehearsal the host turns
//! every create into a server-side dry run; rejections are collected, not raised.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::error::{During, Error, all_problems};
use crate::load::Existing;
use crate::names::name_of;
use crate::names::{RVR, STORAGE_V1ALPHA1};
use crate::plan::{VolumePlan, kind_of, owned_by};
use deckhouse_hooks_sdk::{CreateMode, Kube, KubeError, ObjectRef, PatchOptions};

/// A uid for ownerRefs in a rehearsal whose dry-run answer carried none.
const DRY_RUN_UID: &str = "00000000-0000-0000-0000-000000000000";

/// An object the API server refused, with its message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejected {
    pub kind: String,
    pub name: String,
    pub message: String,
}

pub struct Creator<'c> {
    pub kube: Kube<'c>,
    pub existing: Existing,
    batch: usize,
    dry_run: bool,
    /// Per kind: created now / found existing.
    pub created: BTreeMap<String, usize>,
    pub present: BTreeMap<String, usize>,
    pub rejected: Vec<Rejected>,
    /// Existing LLVs and DRBDResources that got (or, rehearsing, would get) an ownerRef.
    pub owner_refs_added: usize,
}

impl<'c> Creator<'c> {
    pub fn new(kube: Kube<'c>, existing: Existing, batch: u32, dry_run: bool) -> Self {
        Self {
            kube,
            existing,
            batch: usize::try_from(batch).unwrap_or(1).max(1),
            dry_run,
            created: BTreeMap::new(),
            present: BTreeMap::new(),
            rejected: Vec::new(),
            owner_refs_added: 0,
        }
    }

    /// A replica's uid: from the listing or its create answer.
    pub fn replica_uid(&self, rvr: &str) -> Option<String> {
        let uid = self.existing.get(RVR, rvr).and_then(|m| m.uid.clone());
        uid.or_else(|| self.dry_run.then(|| DRY_RUN_UID.to_owned()))
    }

    /// Creates the objects that do not exist yet; returns how many were handled.
    /// An unavailable API aborts (the step is retried); other refusals are collected.
    pub fn send(&mut self, objects: Vec<Value>) -> Result<usize, Error> {
        let handled = objects.len();
        let mut missing = Vec::with_capacity(objects.len());
        for object in objects {
            if self.existing.contains(kind_of(&object), name_of(&object)) {
                *self.present.entry(kind_of(&object).to_owned()).or_default() += 1;
            } else {
                missing.push(object);
            }
        }
        for batch in missing.chunks(self.batch) {
            let results = self.kube.create_many(batch, CreateMode::IfNotExists);
            if results.len() != batch.len() {
                return Err(Error::Data(format!(
                    "the host answered {} results for {} creates; this is a host bug",
                    results.len(),
                    batch.len()
                )));
            }
            for (object, result) in batch.iter().zip(results) {
                self.record(object, result)?;
            }
        }
        Ok(handled)
    }

    fn record(&mut self, object: &Value, result: Result<Value, KubeError>) -> Result<(), Error> {
        let kind = kind_of(object).to_owned();
        match result {
            Ok(stored) => {
                let stored = if stored.is_object() {
                    stored
                } else {
                    object.clone()
                };
                if let Some(kind) = crate::names::CREATED_KINDS.iter().find(|k| **k == kind) {
                    self.existing.insert(kind, &stored);
                }
                *self.created.entry(kind).or_default() += 1;
                Ok(())
            }
            Err(error @ (KubeError::Unavailable(_) | KubeError::LimitExceeded(_))) => {
                Err(Error::Api {
                    during: format!("Pass 1: creating {kind} {}", name_of(object)),
                    source: error,
                })
            }
            Err(error) => {
                self.rejected.push(Rejected {
                    kind,
                    name: name_of(object).to_owned(),
                    message: error.to_string(),
                });
                Ok(())
            }
        }
    }

    /// Adds the controller ownerRef to the volumes' LLVs and DRBDResources that
    /// existed without one (those created here carry it already).
    pub fn fix_owners(&mut self, volumes: &[VolumePlan]) -> Result<(), Error> {
        for volume in volumes {
            for (kind, name, rvr) in volume.owned() {
                let lacking = self
                    .existing
                    .get(kind, &name)
                    .is_some_and(|m| !m.owners.contains(&rvr));
                if !lacking {
                    continue;
                }
                let Some(uid) = self.replica_uid(&rvr) else {
                    continue;
                };
                self.owner_refs_added += 1;
                if !self.dry_run {
                    self.add_owner(kind, &name, &rvr, &uid)?;
                }
            }
        }
        Ok(())
    }

    fn add_owner(
        &mut self,
        kind: &'static str,
        name: &str,
        rvr: &str,
        uid: &str,
    ) -> Result<(), Error> {
        let target = ObjectRef::cluster(STORAGE_V1ALPHA1, kind, name);
        let during = || format!("Pass 1: adding the ownerRef to {target}");
        let current: Value = self.kube.get(&target).during(during)?;
        let mut refs: Vec<Value> = current["metadata"]["ownerReferences"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if refs.iter().any(|r| r["name"] == rvr) {
            return Ok(());
        }
        let mut with_owner = json!({"metadata": {}});
        owned_by(&mut with_owner, rvr, uid);
        refs.extend(
            with_owner["metadata"]["ownerReferences"]
                .as_array()
                .cloned()
                .unwrap_or_default(),
        );
        let patch = json!({"metadata": {"ownerReferences": refs}});
        let patched = self
            .kube
            .merge_patch(&target, &patch, &PatchOptions::default())
            .during(during)?;
        self.existing.insert(kind, &patched);
        Ok(())
    }

    /// After a phase: every refusal, named, fails the pass (outside a rehearsal).
    pub fn fail_on_rejections(&self) -> Result<(), Error> {
        if self.dry_run || self.rejected.is_empty() {
            return Ok(());
        }
        let lines: Vec<String> = self
            .rejected
            .iter()
            .map(|r| format!("{} {}: {}", r.kind, r.name, r.message))
            .collect();
        Err(all_problems(
            "Pass 1: the API server refused these objects",
            &lines,
            "Fix the cause the server named (or delete a conflicting object), then let the Job \
             run again; objects created so far are kept and not created twice.",
        ))
    }
}
