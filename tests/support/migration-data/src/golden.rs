//! guest-migrate's golden runs, `guest-migrate/tests/golden/<name>.json`: the objects
//! the native run creates from a fixture. Its tests write and compare them; the host's
//! job test checks that the real process creates exactly the same.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::{Error, files};

/// The golden file of a run.
pub fn path(name: &str) -> PathBuf {
    files::root()
        .join("guest-migrate/tests/golden")
        .join(format!("{name}.json"))
}

/// The objects of a golden run.
pub fn objects(name: &str) -> Result<Vec<Value>, Error> {
    let path = path(name);
    let text = files::read(&path)?;
    serde_json::from_str(&text).map_err(|e| Error::Parse {
        path,
        message: e.to_string(),
    })
}

/// Compares with the golden file; `UPDATE_GOLDEN=1` rewrites it.
pub fn assert_golden(name: &str, objects: &[Value]) {
    let path = path(name);
    let actual = serde_json::to_string_pretty(&json!(objects)).expect("serializable") + "\n";
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &actual)
            .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "reading {}: {e}; run with UPDATE_GOLDEN=1 to create it",
            path.display()
        )
    });
    if expected != actual {
        let first = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!(
            "{} differs from the run (first at line {}):\n  golden: {:?}\n  actual: {:?}\nrerun with UPDATE_GOLDEN=1 if the change is intended",
            path.display(),
            first + 1,
            expected.lines().nth(first),
            actual.lines().nth(first)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_runs_load_and_hold_created_objects() {
        let objects = objects("small-cluster").expect("the golden small-cluster run loads");
        assert!(!objects.is_empty());
        assert!(objects.iter().all(crate::snapshot::is_created_kind));
    }

    #[test]
    fn a_missing_golden_run_is_named() {
        let error = objects("no-such-run").expect_err("there is no such run");
        assert!(error.to_string().contains("no-such-run.json"), "{error}");
    }
}
