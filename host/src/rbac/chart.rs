//! Writing generated rules into a chart template, between marker lines:
//!
//! ```text
//! # BEGIN wasm-hooks rbac GUEST cluster
//! rules: ...
//! # END wasm-hooks rbac
//! ```
//!
//! `cluster` marks the ClusterRole's rules; `namespace NS` marks the Role's rules in NS. The
//! block is indented like its BEGIN line. Everything outside the blocks is left as written,
//! so names, labels and Helm conditions stay in the template.

use super::RbacError;
use super::rules::{GuestRbac, rules_yaml};
use std::path::Path;

const BEGIN: &str = "# BEGIN wasm-hooks rbac ";
const END: &str = "# END wasm-hooks rbac";

/// `template` with every block of `rbac.guest` replaced by the generated rules. Fails when a
/// generated scope has no block (the chart would lack rights) or a block is malformed.
pub fn splice(template: &str, rbac: &GuestRbac) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut lines = template.split_inclusive('\n').peekable();
    let mut cluster_written = false;
    let mut namespaces_written = Vec::new();
    while let Some(line) = lines.next() {
        out.push_str(line);
        let trimmed = line.trim_start();
        let Some(marker) = trimmed.strip_prefix(BEGIN) else {
            continue;
        };
        let indent = line.len() - trimmed.len();
        let words: Vec<&str> = marker.split_whitespace().collect();
        let (guest, scope) = match words.as_slice() {
            [guest, "cluster"] => (*guest, None),
            [guest, "namespace", namespace] => (*guest, Some(*namespace)),
            _ => {
                return Err(format!(
                    "marker {:?} must be `{BEGIN}GUEST cluster` or `{BEGIN}GUEST namespace NS`",
                    trimmed.trim_end()
                ));
            }
        };
        let mut closed = false;
        for inner in lines.by_ref() {
            if inner.trim_start().starts_with(END) {
                if guest == rbac.guest {
                    let rules = match scope {
                        None => {
                            cluster_written = true;
                            &rbac.cluster_rules
                        }
                        Some(namespace) => {
                            namespaces_written.push(namespace.to_owned());
                            rbac.namespaces
                                .get(namespace)
                                .map(Vec::as_slice)
                                .unwrap_or_default()
                        }
                    };
                    out.push_str(&rules_yaml("rules", rules, indent));
                }
                out.push_str(inner);
                closed = true;
                break;
            }
            if guest != rbac.guest {
                out.push_str(inner);
            }
        }
        if !closed {
            return Err(format!(
                "marker {:?} has no `{END}` line after it",
                trimmed.trim_end()
            ));
        }
    }
    if !cluster_written && !rbac.cluster_rules.is_empty() {
        return Err(format!(
            "guest {} needs ClusterRole rules but no `{BEGIN}{} cluster` block exists; add one under a ClusterRole bound to the Job's ServiceAccount",
            rbac.guest, rbac.guest
        ));
    }
    if let Some(missing) = rbac
        .namespaces
        .keys()
        .find(|ns| !namespaces_written.contains(ns))
    {
        return Err(format!(
            "guest {} needs Role rules in namespace {missing} but no `{BEGIN}{} namespace {missing}` block exists; add a Role there bound to the Job's ServiceAccount",
            rbac.guest, rbac.guest
        ));
    }
    Ok(out)
}

/// Rewrites `path` in place (atomically) with [`splice`].
pub fn rewrite(path: &Path, rbac: &GuestRbac) -> Result<(), RbacError> {
    let text = std::fs::read_to_string(path).map_err(|source| RbacError::ReadChart {
        path: path.to_owned(),
        source,
    })?;
    let spliced = splice(&text, rbac).map_err(|problem| RbacError::Chart {
        path: path.to_owned(),
        problem,
    })?;
    if spliced == text {
        return Ok(());
    }
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let write = |source| RbacError::WriteChart {
        path: path.to_owned(),
        source,
    };
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(write)?;
    std::io::Write::write_all(&mut file, spliced.as_bytes()).map_err(write)?;
    file.persist(path).map_err(|e| write(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbac::PolicyRule;

    fn rbac() -> GuestRbac {
        let rule = |group: &str, resource: &str| PolicyRule {
            api_groups: vec![group.into()],
            resources: vec![resource.into()],
            resource_names: vec![],
            verbs: vec!["get".into()],
        };
        GuestRbac {
            guest: "job".into(),
            cluster_rules: vec![rule("", "persistentvolumes")],
            namespaces: [("ns".to_owned(), vec![rule("", "configmaps")])].into(),
        }
    }

    #[test]
    fn blocks_are_replaced_with_their_indentation_and_the_rest_kept() {
        let template = "kind: Role\n  # BEGIN wasm-hooks rbac job namespace ns\n  rules: old\n  # END wasm-hooks rbac\n---\nkind: ClusterRole\n# BEGIN wasm-hooks rbac job cluster\n# END wasm-hooks rbac\n# BEGIN wasm-hooks rbac other cluster\nrules: untouched\n# END wasm-hooks rbac\n";
        let out = splice(template, &rbac()).unwrap();
        assert_eq!(
            out,
            "kind: Role\n  # BEGIN wasm-hooks rbac job namespace ns\n  rules:\n    - apiGroups: [\"\"]\n      resources: [\"configmaps\"]\n      verbs: [\"get\"]\n  # END wasm-hooks rbac\n---\nkind: ClusterRole\n# BEGIN wasm-hooks rbac job cluster\nrules:\n  - apiGroups: [\"\"]\n    resources: [\"persistentvolumes\"]\n    verbs: [\"get\"]\n# END wasm-hooks rbac\n# BEGIN wasm-hooks rbac other cluster\nrules: untouched\n# END wasm-hooks rbac\n"
        );
        assert_eq!(
            splice(&out, &rbac()).unwrap(),
            out,
            "splicing is idempotent"
        );
    }

    #[test]
    fn missing_or_broken_blocks_fail() {
        let only_cluster = "# BEGIN wasm-hooks rbac job cluster\n# END wasm-hooks rbac\n";
        let err = splice(only_cluster, &rbac()).unwrap_err();
        assert!(err.contains("namespace ns"), "{err}");
        let err = splice("# BEGIN wasm-hooks rbac job namespace ns\n", &rbac()).unwrap_err();
        assert!(err.contains("no `# END"), "{err}");
        let err = splice(
            "# BEGIN wasm-hooks rbac job galaxy\n# END wasm-hooks rbac\n",
            &rbac(),
        )
        .unwrap_err();
        assert!(err.contains("must be"), "{err}");
        let empty_ns = "# BEGIN wasm-hooks rbac job cluster\n# END wasm-hooks rbac\n# BEGIN wasm-hooks rbac job namespace ns\n# END wasm-hooks rbac\n# BEGIN wasm-hooks rbac job namespace other\n# END wasm-hooks rbac\n";
        assert!(
            splice(empty_ns, &rbac()).unwrap().contains("rules: []\n"),
            "a block without rules says so"
        );
    }

    #[test]
    fn rewrite_changes_the_file_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rbac.yaml");
        std::fs::write(&path, "# BEGIN wasm-hooks rbac job cluster\n# END wasm-hooks rbac\n# BEGIN wasm-hooks rbac job namespace ns\n# END wasm-hooks rbac\n").unwrap();
        rewrite(&path, &rbac()).unwrap();
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .contains("persistentvolumes")
        );
        let err = rewrite(&dir.path().join("none.yaml"), &rbac())
            .unwrap_err()
            .to_string();
        assert!(err.contains("none.yaml"), "{err}");
    }
}
