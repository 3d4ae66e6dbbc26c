//! What a loopback test-apiserver serves: the built-in kinds and every served version
//! of every CRD in tests/crds, so the job test and the benchmark talk to the same API.

use test_apiserver::Resource;

use crate::{Error, crd_files, files};

/// The built-in kinds plus every CRD in tests/crds.
pub fn served_resources() -> Result<Vec<Resource>, Error> {
    let mut resources = Resource::builtin();
    for file in crd_files()? {
        let text = files::read(&file)?;
        let served = Resource::from_crd_yaml(&text).map_err(|e| Error::Crd {
            path: file.clone(),
            message: e.to_string(),
        })?;
        resources.extend(served);
    }
    Ok(resources)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_builtins_linstors_and_the_storage_kinds() {
        let resources = served_resources().expect("tests/crds serves");
        for kind in [
            "ConfigMap",
            "ResourceDefinitions",
            "ReplicatedVolume",
            "LVMVolumeGroup",
        ] {
            assert!(
                resources.iter().any(|r| r.kind == kind),
                "{kind} is not served"
            );
        }
    }
}
