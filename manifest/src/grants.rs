//! The one grant matcher: whether a guest may make a Kubernetes call, by the rules of its
//! `grants.yaml` entry. The host checks every call with it before any backend sees the
//! call; guest tests check their calls with it, so a test and the host cannot disagree.

use crate::kube::{ListQuery, ObjectRef};
use crate::manifest::{Grant, Verb};
use serde_json::Value;

/// One guest's grants.
#[derive(Clone, Debug, Default)]
pub struct Grants {
    rules: Vec<Grant>,
}

impl Grants {
    /// The grants of these rules.
    pub fn new(rules: Vec<Grant>) -> Self {
        Self { rules }
    }

    /// The rules, in manifest order.
    pub fn rules(&self) -> &[Grant] {
        &self.rules
    }

    /// Whether `verb` on exactly this object is allowed.
    pub fn allows(&self, verb: Verb, target: &ObjectRef) -> bool {
        self.rules_allowing(verb, target).next().is_some()
    }

    /// The indexes of the rules that allow `verb` on this object (to find unused rules).
    pub fn rules_allowing<'a>(
        &'a self,
        verb: Verb,
        target: &'a ObjectRef,
    ) -> impl Iterator<Item = usize> + 'a {
        self.rules.iter().enumerate().filter_map(move |(i, g)| {
            let allowed = g.verbs.contains(&verb)
                && api_version_matches(&g.api_version, &target.api_version)
                && g.kind == target.kind
                && namespace_matches(g, target.namespace.as_deref())
                && (g.names.is_empty() || g.names.contains(&target.name));
            allowed.then_some(i)
        })
    }

    /// Whether some rule lets the guest list this kind at all (results are then filtered).
    pub fn allows_list(&self, query: &ListQuery) -> bool {
        self.list_rules(query).next().is_some()
    }

    /// The indexes of the rules that let the guest make this list call.
    pub fn rules_allowing_list<'a>(
        &'a self,
        query: &'a ListQuery,
    ) -> impl Iterator<Item = usize> + 'a {
        self.list_rules(query).map(|(i, _)| i)
    }

    /// Keeps only the listed objects the guest may see: a name- or namespace-restricted
    /// grant lists just its own objects.
    pub fn filter_listed(&self, query: &ListQuery, objects: Vec<Value>) -> Vec<Value> {
        let rules: Vec<&Grant> = self.list_rules(query).map(|(_, g)| g).collect();
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

    /// Whether the guest may watch (read) objects of this kind in these namespaces with
    /// these names; used to reject hook bindings that would feed a guest data it may not read.
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

    fn list_rules<'a>(
        &'a self,
        query: &'a ListQuery,
    ) -> impl Iterator<Item = (usize, &'a Grant)> + 'a {
        self.rules.iter().enumerate().filter(move |(_, g)| {
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
        let query = ListQuery::new("v1", "ConfigMap");
        assert!(grants.allows_list(&query));
        assert_eq!(grants.rules_allowing_list(&query).collect::<Vec<_>>(), [0]);
        assert!(!grants.allows_list(&query.clone().namespace("elsewhere")));
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
        let grants = Grants::new(vec![Grant {
            verbs: vec![Verb::Get],
            api_version: "internal.linstor.linbit.com/*".into(),
            kind: "Resources".into(),
            namespace: None,
            names: vec![],
        }]);
        let target = |v: &str| ObjectRef::cluster(v, "Resources", "r");
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

    #[test]
    fn every_allowing_rule_is_reported() {
        let mut rules = cm_grant(vec![Verb::Get], vec![]).rules;
        rules.push(Grant {
            namespace: None,
            ..rules[0].clone()
        });
        let grants = Grants::new(rules);
        let state = cm(Some("ns"), "state");
        assert_eq!(
            grants.rules_allowing(Verb::Get, &state).collect::<Vec<_>>(),
            [0, 1]
        );
        let other = cm(Some("x"), "state");
        assert_eq!(
            grants.rules_allowing(Verb::Get, &other).collect::<Vec<_>>(),
            [1]
        );
    }
}
