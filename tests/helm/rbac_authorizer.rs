//! Kubernetes' RBAC authorizer, as far as rendered Roles and ClusterRoles need it: which
//! bindings apply to a ServiceAccount, and whether one of their rules allows a request.
//!
//! Matching follows the RBAC documentation and `rbac/v1` semantics: a rule matches when its
//! verbs, apiGroups and resources each contain the request's value or `*`, and its
//! resourceNames are empty or contain the request's (non-empty) name. A RoleBinding grants its
//! Role's (or a ClusterRole's) rules in the binding's namespace only; a ClusterRoleBinding
//! grants a ClusterRole's rules everywhere, cluster-scoped requests included.

use serde_json::Value;

/// One API request, as the authorizer sees it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Request {
    pub verb: String,
    pub group: String,
    pub resource: String,
    /// `None`: a cluster-scoped object, or a namespaced kind across all namespaces.
    pub namespace: Option<String>,
    /// Empty for collection requests (list, create).
    pub name: String,
}

/// One rule, with where it applies.
#[derive(Clone, Debug)]
pub struct Grant {
    /// `None`: everywhere (ClusterRoleBinding); `Some(ns)`: a RoleBinding's namespace.
    pub namespace: Option<String>,
    pub rule: Rule,
    /// `Role ns/name` or `ClusterRole name`, for messages.
    pub from: String,
}

/// A PolicyRule.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rule {
    pub verbs: Vec<String>,
    pub api_groups: Vec<String>,
    pub resources: Vec<String>,
    pub resource_names: Vec<String>,
}

impl Rule {
    fn from_json(rule: &Value) -> Result<Rule, String> {
        let list = |key: &str| -> Result<Vec<String>, String> {
            match &rule[key] {
                Value::Null => Ok(Vec::new()),
                Value::Array(items) => items
                    .iter()
                    .map(|i| {
                        i.as_str()
                            .map(str::to_owned)
                            .ok_or_else(|| format!("{key}: {i} is not a string"))
                    })
                    .collect(),
                other => Err(format!("{key}: {other} is not a list")),
            }
        };
        Ok(Rule {
            verbs: list("verbs")?,
            api_groups: list("apiGroups")?,
            resources: list("resources")?,
            resource_names: list("resourceNames")?,
        })
    }

    /// Whether this rule allows `request` (the RBAC authorizer's RuleAllows).
    pub fn allows(&self, request: &Request) -> bool {
        let has = |list: &[String], value: &str| list.iter().any(|v| v == "*" || v == value);
        has(&self.verbs, &request.verb)
            && has(&self.api_groups, &request.group)
            && has(&self.resources, &request.resource)
            && (self.resource_names.is_empty()
                || (!request.name.is_empty()
                    && self.resource_names.iter().any(|n| n == &request.name)))
    }
}

/// Every rule that applies to one ServiceAccount.
#[derive(Clone, Debug)]
pub struct Authorizer {
    pub grants: Vec<Grant>,
}

impl Authorizer {
    /// The rules bound to ServiceAccount `namespace/name` by the RBAC objects in `objects`.
    /// A binding to a role that is not among `objects` is an error: it would grant nothing.
    pub fn for_service_account(
        objects: &[Value],
        namespace: &str,
        name: &str,
    ) -> Result<Self, String> {
        let rules_of =
            |kind: &str, role: &str, role_ns: Option<&str>| -> Result<Vec<Rule>, String> {
                let found = objects
                    .iter()
                    .find(|o| {
                        o["kind"] == kind
                            && o["metadata"]["name"] == role
                            && (kind == "ClusterRole"
                                || o["metadata"]["namespace"].as_str() == role_ns)
                    })
                    .ok_or_else(|| {
                        format!("a binding refers to {kind} {role}, which is not rendered")
                    })?;
                found["rules"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                    .iter()
                    .map(Rule::from_json)
                    .collect()
            };
        let mut grants = Vec::new();
        for binding in objects {
            let kind = binding["kind"].as_str().unwrap_or_default();
            if kind != "RoleBinding" && kind != "ClusterRoleBinding" {
                continue;
            }
            if !binds(binding, namespace, name) {
                continue;
            }
            let binding_ns = (kind == "RoleBinding").then(|| {
                binding["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            });
            let role_kind = binding["roleRef"]["kind"].as_str().unwrap_or_default();
            let role_name = binding["roleRef"]["name"].as_str().unwrap_or_default();
            if kind == "ClusterRoleBinding" && role_kind != "ClusterRole" {
                return Err(format!(
                    "ClusterRoleBinding {} refers to a {role_kind}",
                    binding["metadata"]["name"]
                ));
            }
            let from = match &binding_ns {
                Some(ns) if role_kind == "Role" => format!("Role {ns}/{role_name}"),
                _ => format!("ClusterRole {role_name}"),
            };
            for rule in rules_of(role_kind, role_name, binding_ns.as_deref())? {
                grants.push(Grant {
                    namespace: binding_ns.clone(),
                    rule,
                    from: from.clone(),
                });
            }
        }
        Ok(Authorizer { grants })
    }

    /// Whether some bound rule allows `request`.
    pub fn allows(&self, request: &Request) -> bool {
        self.grants
            .iter()
            .any(|g| applies(g, request) && g.rule.allows(request))
    }

    /// The same, without grant number `skip`: to show that each rule is needed.
    pub fn allows_without(&self, skip: usize, request: &Request) -> bool {
        self.grants
            .iter()
            .enumerate()
            .any(|(i, g)| i != skip && applies(g, request) && g.rule.allows(request))
    }
}

fn applies(grant: &Grant, request: &Request) -> bool {
    match &grant.namespace {
        None => true,
        Some(ns) => request.namespace.as_deref() == Some(ns.as_str()),
    }
}

/// Whether the binding's subjects include the ServiceAccount (directly, or through the
/// groups every ServiceAccount belongs to).
fn binds(binding: &Value, namespace: &str, name: &str) -> bool {
    binding["subjects"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .any(|s| match s["kind"].as_str() {
            Some("ServiceAccount") => s["name"] == name && s["namespace"] == namespace,
            Some("Group") => {
                let group = s["name"].as_str().unwrap_or_default();
                group == "system:serviceaccounts"
                    || group == "system:authenticated"
                    || group == format!("system:serviceaccounts:{namespace}")
            }
            _ => false,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(
        verb: &str,
        group: &str,
        resource: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Request {
        Request {
            verb: verb.into(),
            group: group.into(),
            resource: resource.into(),
            namespace: namespace.map(str::to_owned),
            name: name.into(),
        }
    }

    fn objects() -> Vec<Value> {
        vec![
            json!({"kind": "Role", "metadata": {"name": "r", "namespace": "ns"},
                   "rules": [{"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["state"], "verbs": ["get"]}]}),
            json!({"kind": "RoleBinding", "metadata": {"name": "r", "namespace": "ns"}, "roleRef": {"kind": "Role", "name": "r"},
                   "subjects": [{"kind": "ServiceAccount", "name": "sa", "namespace": "ns"}]}),
            json!({"kind": "ClusterRole", "metadata": {"name": "c"},
                   "rules": [{"apiGroups": ["*"], "resources": ["widgets"], "verbs": ["list"]}]}),
            json!({"kind": "ClusterRoleBinding", "metadata": {"name": "c"}, "roleRef": {"kind": "ClusterRole", "name": "c"},
                   "subjects": [{"kind": "ServiceAccount", "name": "sa", "namespace": "ns"}]}),
            json!({"kind": "ClusterRole", "metadata": {"name": "other"}, "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]}),
            json!({"kind": "ClusterRoleBinding", "metadata": {"name": "other"}, "roleRef": {"kind": "ClusterRole", "name": "other"},
                   "subjects": [{"kind": "ServiceAccount", "name": "sa", "namespace": "elsewhere"}]}),
        ]
    }

    #[test]
    fn roles_are_scoped_and_names_restrict() {
        let authz = Authorizer::for_service_account(&objects(), "ns", "sa").unwrap();
        assert!(authz.allows(&request("get", "", "configmaps", Some("ns"), "state")));
        assert!(
            !authz.allows(&request("get", "", "configmaps", Some("other"), "state")),
            "a Role stays in its namespace"
        );
        assert!(!authz.allows(&request("get", "", "configmaps", None, "state")));
        assert!(
            !authz.allows(&request("get", "", "configmaps", Some("ns"), "")),
            "resourceNames never match a nameless request"
        );
        assert!(!authz.allows(&request("patch", "", "configmaps", Some("ns"), "state")));
        assert!(
            authz.allows(&request("list", "any.io", "widgets", None, "")),
            "* matches every group"
        );
        assert!(
            authz.allows(&request("list", "any.io", "widgets", Some("x"), "")),
            "a ClusterRoleBinding applies everywhere"
        );
        assert!(
            !authz.allows(&request("delete", "", "secrets", Some("ns"), "s")),
            "another account's binding does not apply"
        );
    }

    #[test]
    fn a_binding_to_a_missing_role_is_an_error() {
        let mut objects = objects();
        objects.remove(0);
        assert!(
            Authorizer::for_service_account(&objects, "ns", "sa")
                .unwrap_err()
                .contains("Role r")
        );
    }
}
