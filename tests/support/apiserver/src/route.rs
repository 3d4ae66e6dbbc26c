//! Request paths as the API server lays them out: discovery documents, and
//! collections/objects under `/api/v1` (core) or `/apis/{group}/{version}`.

/// What a path names, before the kind is looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route<'a> {
    /// `/api`
    CoreVersions,
    /// `/apis`
    Groups,
    /// `/apis/{group}`
    Group(&'a str),
    /// `/api/{v}` or `/apis/{group}/{v}`
    Resources { group: &'a str, version: &'a str },
    /// `/version`
    Version,
    /// A collection (no name) or one object, cluster-wide or in a namespace.
    Objects(ObjectPath<'a>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectPath<'a> {
    pub group: &'a str,
    pub version: &'a str,
    pub namespace: Option<&'a str>,
    pub plural: &'a str,
    pub name: Option<&'a str>,
}

/// Reads a path; `None` for anything the server does not serve (subresources included).
pub fn parse(path: &str) -> Option<Route<'_>> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        ["version"] => Some(Route::Version),
        ["api"] => Some(Route::CoreVersions),
        ["apis"] => Some(Route::Groups),
        ["apis", group] => Some(Route::Group(group)),
        ["api", version, rest @ ..] => under("", version, rest),
        ["apis", group, version, rest @ ..] => under(group, version, rest),
        _ => None,
    }
}

fn under<'a>(group: &'a str, version: &'a str, rest: &[&'a str]) -> Option<Route<'a>> {
    let path = |namespace, plural, name| {
        Route::Objects(ObjectPath {
            group,
            version,
            namespace,
            plural,
            name,
        })
    };
    Some(match *rest {
        [] => Route::Resources { group, version },
        [plural] => path(None, plural, None),
        [plural, name] => path(None, plural, Some(name)),
        ["namespaces", namespace, plural] => path(Some(namespace), plural, None),
        ["namespaces", namespace, plural, name] => path(Some(namespace), plural, Some(name)),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objects(
        group: &'static str,
        namespace: Option<&'static str>,
        plural: &'static str,
        name: Option<&'static str>,
    ) -> Option<Route<'static>> {
        Some(Route::Objects(ObjectPath {
            group,
            version: "v1",
            namespace,
            plural,
            name,
        }))
    }

    #[test]
    fn discovery_paths() {
        assert_eq!(parse("/api"), Some(Route::CoreVersions));
        assert_eq!(parse("/apis/"), Some(Route::Groups));
        assert_eq!(parse("/apis/apps"), Some(Route::Group("apps")));
        assert_eq!(
            parse("/api/v1"),
            Some(Route::Resources {
                group: "",
                version: "v1"
            })
        );
        assert_eq!(
            parse("/apis/apps/v1"),
            Some(Route::Resources {
                group: "apps",
                version: "v1"
            })
        );
        assert_eq!(parse("/version"), Some(Route::Version));
    }

    #[test]
    fn object_paths() {
        assert_eq!(parse("/api/v1/nodes"), objects("", None, "nodes", None));
        assert_eq!(
            parse("/api/v1/nodes/n1"),
            objects("", None, "nodes", Some("n1"))
        );
        assert_eq!(
            parse("/api/v1/namespaces/d8"),
            objects("", None, "namespaces", Some("d8"))
        );
        assert_eq!(
            parse("/apis/apps/v1/namespaces/d8/deployments"),
            objects("apps", Some("d8"), "deployments", None)
        );
        assert_eq!(
            parse("/apis/apps/v1/namespaces/d8/deployments/x"),
            objects("apps", Some("d8"), "deployments", Some("x"))
        );
    }

    #[test]
    fn unserved_paths() {
        for path in [
            "/",
            "/healthz",
            "/api/v1/nodes/n1/status",
            "/apis/apps/v1/namespaces/d8/deployments/x/scale",
            "/other/v1",
        ] {
            assert_eq!(parse(path), None, "{path}");
        }
    }
}
