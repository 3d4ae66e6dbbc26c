//! The repository's test data files: where they are and how YAML becomes JSON objects.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::Error;

/// This crate sits at `tests/support/migration-data`; the data is found from here, so
/// it loads the same whichever crate's test or tool asks.
const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// The workspace root.
pub fn root() -> PathBuf {
    let manifest = Path::new(MANIFEST_DIR);
    match manifest.ancestors().nth(3) {
        Some(root) => root.to_path_buf(),
        None => manifest.join("../../.."),
    }
}

/// A path below the workspace's `tests/` folder.
pub fn tests_path(relative: &str) -> PathBuf {
    root().join("tests").join(relative)
}

/// Every non-empty document of a multi-document YAML file, as JSON.
pub fn yaml_documents(path: &Path) -> Result<Vec<Value>, Error> {
    let text = read(path)?;
    let parse = |message: String| Error::Parse {
        path: path.to_path_buf(),
        message,
    };
    let mut documents = Vec::new();
    for document in serde_yaml::Deserializer::from_str(&text) {
        let yaml: serde_yaml::Value =
            serde::Deserialize::deserialize(document).map_err(|e| parse(e.to_string()))?;
        let json =
            serde_json::to_value(yaml).map_err(|e| parse(format!("not JSON-compatible: {e}")))?;
        if !json.is_null() {
            documents.push(json);
        }
    }
    Ok(documents)
}

/// A LINSTOR database fixture, `tests/fixtures/linstor/<name>`.
pub fn fixture(name: &str) -> Result<Vec<Value>, Error> {
    yaml_documents(&tests_path(&format!("fixtures/linstor/{name}")))
}

/// The (permissive) CRDs of LINSTOR's database kinds: a cluster the Job migrates has them.
pub fn linstor_crds() -> Result<Vec<Value>, Error> {
    yaml_documents(&tests_path("crds/internal.linstor.linbit.com.yaml"))
}

/// The CRDs of the new control plane and sds-node-configurator
/// (`tests/crds/storage.deckhouse.io_*.yaml`): a cluster ready to migrate has them.
pub fn new_control_plane_crds() -> Result<Vec<Value>, Error> {
    let mut crds = Vec::new();
    for file in crd_files()? {
        let storage = file
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("storage.deckhouse.io_"));
        if storage {
            crds.extend(yaml_documents(&file)?);
        }
    }
    Ok(crds)
}

/// Every `tests/crds/*.yaml`, sorted, so servers and validators see a stable order.
pub fn crd_files() -> Result<Vec<PathBuf>, Error> {
    let dir = tests_path("crds");
    let read_error = |source| Error::Read {
        path: dir.clone(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&dir).map_err(read_error)? {
        let path = entry.map_err(read_error)?.path();
        if path.extension().is_some_and(|x| x == "yaml") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// A file's text, failing with its path.
pub(crate) fn read(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixtures_load_as_objects_with_an_identity() {
        let objects = fixture("small-cluster.yaml").expect("small-cluster.yaml loads");
        assert!(objects.len() > 10, "only {} objects", objects.len());
        for object in &objects {
            assert!(
                object["apiVersion"].is_string() && object["metadata"]["name"].is_string(),
                "{object}"
            );
        }
    }

    #[test]
    fn a_missing_file_is_named_in_the_error() {
        let error = fixture("no-such.yaml").expect_err("the fixture does not exist");
        let message = error.to_string();
        assert!(
            message.contains("fixtures/linstor/no-such.yaml"),
            "{message}"
        );
    }

    #[test]
    fn crd_files_are_sorted_yaml_files_including_linstors() {
        let files = crd_files().expect("tests/crds lists");
        assert!(files.windows(2).all(|w| w[0] < w[1]), "{files:?}");
        assert!(
            files
                .iter()
                .all(|f| f.extension().is_some_and(|x| x == "yaml"))
        );
        assert!(
            files
                .iter()
                .any(|f| f.ends_with("internal.linstor.linbit.com.yaml")),
            "{files:?}"
        );
        assert!(!linstor_crds().expect("LINSTOR CRDs load").is_empty());
    }
}
