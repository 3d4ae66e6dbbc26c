//! The allow-list a guest runs under, from the grants manifest. Checked by the host on
//! every call, before any backend sees it: a guest can never exceed what it was granted.

use super::types::{KubeError, ListQuery, ObjectRef};
use crate::logging;
use crate::manifest::{Grant, Verb};
use serde_json::Value;

/// One guest's grants.
#[derive(Clone, Debug, Default)]
pub struct Grants {
    rules: Vec<Grant>,
}

impl Grants {
    pub fn new(rules: Vec<Grant>) -> Self {
        Self { rules }
    }

    /// `Ok` when `guest` may `verb` this object; otherwise the audit line is logged and
    /// the `forbidden` answer returned. Every call of every guest passes through here.
    pub fn check(&self, guest: &str, verb: Verb, target: &ObjectRef) -> Result<(), KubeError> {
        if self.allows(verb, target) {
            Ok(())
        } else {
            Err(deny(guest, verb, &target.to_string()))
        }
    }

    /// Like [`Grants::check`] for a list: some rule must let the guest list the kind.
    pub fn check_list(&self, guest: &str, query: &ListQuery) -> Result<(), KubeError> {
        if self.allows_list(query) {
            Ok(())
        } else {
            Err(deny(
                guest,
                Verb::List,
                &format!("{} ({})", query.kind, query.api_version),
            ))
        }
    }

    /// Whether `verb` on exactly this object is allowed.
    pub fn allows(&self, verb: Verb, target: &ObjectRef) -> bool {
        self.rules.iter().any(|g| {
            g.verbs.contains(&verb)
                && api_version_matches(&g.api_version, &target.api_version)
                && g.kind == target.kind
                && namespace_matches(g, target.namespace.as_deref())
                && (g.names.is_empty() || g.names.contains(&target.name))
        })
    }

    /// Whether some rule lets the guest list this kind at all (results are then filtered).
    pub fn allows_list(&self, query: &ListQuery) -> bool {
        self.list_rules(query).next().is_some()
    }

    /// Keeps only the listed objects the guest may see: a name- or namespace-restricted
    /// grant lists just its own objects.
    pub fn filter_listed(&self, query: &ListQuery, objects: Vec<Value>) -> Vec<Value> {
        let rules: Vec<&Grant> = self.list_rules(query).collect();
        objects
            .into_iter()
            .filter(|o| {
                let ns = o.pointer("/metadata/namespace").and_then(Value::as_str);
                let name = o
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                rules.iter().any(|g| {
                    namespace_matches(g, ns)
                        && (g.names.is_empty() || g.names.iter().any(|n| n == name))
                })
            })
            .collect()
    }

    /// Whether the guest may watch (read) objects of this kind in this namespace; used to
    /// reject hook bindings that would feed a guest data it may not read.
    pub fn allows_watch(
        &self,
        api_version: &str,
        kind: &str,
        namespaces: &[String],
        names: &[String],
    ) -> bool {
        self.rules.iter().any(|g| {
            g.verbs.contains(&Verb::List)
                && api_version_matches(&g.api_version, api_version)
                && g.kind == kind
                && match &g.namespace {
                    None => true,
                    Some(ns) => namespaces.len() == 1 && &namespaces[0] == ns,
                }
                && (g.names.is_empty()
                    || (!names.is_empty() && names.iter().all(|n| g.names.contains(n))))
        })
    }

    fn list_rules<'a>(&'a self, query: &'a ListQuery) -> impl Iterator<Item = &'a Grant> + 'a {
        self.rules.iter().filter(move |g| {
            g.verbs.contains(&Verb::List)
                && api_version_matches(&g.api_version, &query.api_version)
                && g.kind == query.kind
                && match (&g.namespace, &query.namespace) {
                    (Some(granted), Some(asked)) => granted == asked,
                    _ => true,
                }
        })
    }
}

/// Logs the audit line and builds the `forbidden` answer. Names are cut so a guest cannot
/// flood the log through denied calls with huge names.
pub fn deny(guest: &str, verb: Verb, what: &str) -> KubeError {
    let verb = format!("{verb:?}").to_lowercase();
    let what: String = what.chars().take(512).collect();
    logging::warn(
        "guest call denied by the grants manifest",
        &[
            ("guest", guest.into()),
            ("verb", verb.clone().into()),
            ("object", what.clone().into()),
            ("audit", true.into()),
        ],
    );
    KubeError::Forbidden(format!(
        "{guest} may not {verb} {what}: not granted in grants.yaml"
    ))
}

/// `group/*` in a grant matches every version of the group: a guest may discover which
/// version the cluster serves (LINSTOR's database CRDs move between versions).
fn api_version_matches(granted: &str, asked: &str) -> bool {
    match granted.strip_suffix("/*") {
        Some(group) => asked.rsplit_once('/').is_some_and(|(g, _)| g == group),
        None => granted == asked,
    }
}

fn namespace_matches(grant: &Grant, namespace: Option<&str>) -> bool {
    match &grant.namespace {
        None => true,
        Some(granted) => namespace == Some(granted.as_str()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cm_grant(verbs: Vec<Verb>, names: Vec<&str>) -> Grants {
        Grants::new(vec![Grant {
            verbs,
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            namespace: Some("ns".into()),
            names: names.into_iter().map(String::from).collect(),
        }])
    }

    fn cm(ns: Option<&str>, name: &str) -> ObjectRef {
        ObjectRef {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            namespace: ns.map(String::from),
            name: name.into(),
        }
    }

    #[test]
    fn exact_object_verb_namespace_and_name_must_all_match() {
        let grants = cm_grant(vec![Verb::Get], vec!["state"]);
        assert!(grants.allows(Verb::Get, &cm(Some("ns"), "state")));
        assert!(!grants.allows(Verb::Patch, &cm(Some("ns"), "state")));
        assert!(!grants.allows(Verb::Get, &cm(Some("other"), "state")));
        assert!(!grants.allows(Verb::Get, &cm(None, "state")));
        assert!(!grants.allows(Verb::Get, &cm(Some("ns"), "secret-ish")));
        let mut secret = cm(Some("ns"), "state");
        secret.kind = "Secret".into();
        assert!(!grants.allows(Verb::Get, &secret));
    }

    #[test]
    fn lists_are_filtered_to_granted_names() {
        let grants = cm_grant(vec![Verb::List], vec!["state"]);
        let query = ListQuery {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            ..ListQuery::default()
        };
        assert!(grants.allows_list(&query));
        let objects = vec![
            serde_json::json!({"metadata": {"namespace": "ns", "name": "state"}}),
            serde_json::json!({"metadata": {"namespace": "ns", "name": "other"}}),
            serde_json::json!({"metadata": {"namespace": "x", "name": "state"}}),
        ];
        let kept = grants.filter_listed(&query, objects);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0]["metadata"]["name"], "state");
    }

    #[test]
    fn a_group_wildcard_matches_every_version_of_that_group_only() {
        let mut grant = cm_grant(vec![Verb::Get], vec![]);
        let mut rule = grant.rules.remove(0);
        rule.api_version = "internal.linstor.linbit.com/*".into();
        rule.kind = "Resources".into();
        rule.namespace = None;
        let grants = Grants::new(vec![rule]);
        let target = |v: &str| ObjectRef {
            api_version: v.into(),
            kind: "Resources".into(),
            namespace: None,
            name: "r".into(),
        };
        assert!(grants.allows(Verb::Get, &target("internal.linstor.linbit.com/v1-15-0")));
        assert!(grants.allows(Verb::Get, &target("internal.linstor.linbit.com/v1-19-1")));
        assert!(!grants.allows(Verb::Get, &target("evil.linstor.linbit.com/v1")));
        assert!(!grants.allows(Verb::Get, &target("v1")));
    }

    #[test]
    fn no_grants_allow_nothing() {
        let grants = Grants::default();
        assert!(!grants.allows(Verb::Get, &cm(Some("ns"), "state")));
        assert!(!grants.allows_watch("v1", "ConfigMap", &[], &[]));
    }

    #[test]
    fn watches_need_list_on_a_covering_grant() {
        let grants = cm_grant(vec![Verb::Get, Verb::List], vec!["state"]);
        assert!(grants.allows_watch("v1", "ConfigMap", &["ns".into()], &["state".into()]));
        assert!(!grants.allows_watch("v1", "ConfigMap", &["ns".into()], &[]));
        assert!(!grants.allows_watch("v1", "ConfigMap", &[], &["state".into()]));
    }
}
