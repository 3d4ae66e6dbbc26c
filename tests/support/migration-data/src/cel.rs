//! The CRDs' x-kubernetes-validations (CEL) that apply to created objects, re-stated
//! in Rust because jsonschema does not run CEL. Each check quotes its rule's message.

use serde_json::Value;

/// Every rule the object breaks (and a name that is not a DNS subdomain).
pub fn problems(object: &Value) -> Vec<String> {
    let mut found = Vec::new();
    let name = object["metadata"]["name"].as_str().unwrap_or("");
    if !is_dns_subdomain(name) {
        found.push(format!(
            "metadata.name {name:?} is not a DNS-1123 subdomain"
        ));
    }
    let spec = &object["spec"];
    let rules: &[(bool, &str)] = &match object["kind"].as_str().unwrap_or("") {
        "ReplicatedVolume" => volume(name, spec),
        "ReplicatedVolumeReplica" => replica(name, spec),
        "DRBDResource" => drbd(spec),
        "LVMLogicalVolume" => vec![(
            spec["type"] != "Thin" || (has(spec, "thin") && !has(spec, "thick")),
            "Field 'thin' is required and field 'thick' is forbidden when 'type' is 'Thin'.",
        )],
        "ReplicatedStoragePool" => pool(spec),
        _ => vec![],
    };
    found.extend(
        rules
            .iter()
            .filter(|(ok, _)| !ok)
            .map(|(_, message)| format!("CEL rule fails: {message}")),
    );
    found
}

fn has(spec: &Value, field: &str) -> bool {
    !spec[field].is_null()
}

fn int(spec: &Value, pointer: &str) -> i64 {
    spec.pointer(pointer).and_then(Value::as_i64).unwrap_or(-1)
}

fn volume(name: &str, spec: &Value) -> Vec<(bool, &'static str)> {
    let manual = spec["configurationMode"] == "Manual";
    let (ftt, gmdr) = (
        int(spec, "/manualConfiguration/failuresToTolerate"),
        int(spec, "/manualConfiguration/guaranteedMinimumDataRedundancy"),
    );
    vec![
        (
            name.len() <= 120,
            "metadata.name must be at most 120 characters",
        ),
        (
            !manual
                || (has(spec, "manualConfiguration") && !has(spec, "replicatedStorageClassName")),
            "Manual mode requires manualConfiguration and must not have replicatedStorageClassName.",
        ),
        (
            manual || has(spec, "replicatedStorageClassName"),
            "Auto mode requires replicatedStorageClassName and must not have manualConfiguration.",
        ),
        (
            !manual || (ftt - gmdr).abs() <= 1,
            "Invalid failuresToTolerate/guaranteedMinimumDataRedundancy combination: |FTT - GMDR| must be <= 1.",
        ),
        (
            !(manual && ftt == 0 && gmdr == 0)
                || spec["manualConfiguration"]["topology"] == "Ignored",
            "failuresToTolerate=0 with guaranteedMinimumDataRedundancy=0 requires topology Ignored.",
        ),
    ]
}

fn replica(name: &str, spec: &Value) -> Vec<(bool, &'static str)> {
    let volume = spec["replicatedVolumeName"].as_str().unwrap_or("");
    let id = name
        .strip_prefix(volume)
        .and_then(|rest| rest.strip_prefix('-'));
    let id_ok =
        id.is_some_and(|id| (1..=2).contains(&id.len()) && id.parse::<u8>().is_ok_and(|n| n <= 31));
    vec![
        (
            id.is_some(),
            "metadata.name must start with spec.replicatedVolumeName + '-'",
        ),
        (
            id_ok,
            "metadata.name must be exactly spec.replicatedVolumeName + '-' + id where id is 0..31",
        ),
        (
            name.len() <= 123,
            "metadata.name must be at most 123 characters",
        ),
        (
            spec["type"] != "Access" || has(spec, "nodeName"),
            "nodeName is required for Access type",
        ),
        (
            !has(spec, "lvmVolumeGroupName") || has(spec, "nodeName"),
            "lvmVolumeGroupName requires nodeName to be set",
        ),
        (
            !has(spec, "lvmVolumeGroupName") || spec["type"] == "Diskful",
            "lvmVolumeGroupName can only be set for Diskful type",
        ),
        (
            !has(spec, "lvmVolumeGroupThinPoolName") || has(spec, "lvmVolumeGroupName"),
            "lvmVolumeGroupThinPoolName requires lvmVolumeGroupName to be set",
        ),
    ]
}

fn drbd(spec: &Value) -> Vec<(bool, &'static str)> {
    // `type` defaults to Diskful.
    let diskful = spec["type"].is_null() || spec["type"] == "Diskful";
    let llv = spec["lvmLogicalVolumeName"]
        .as_str()
        .is_some_and(|s| !s.is_empty());
    let size_ok = match &spec["size"] {
        Value::Null => true,
        size => guest_size(size).is_some_and(|b| b % 4096 == 0),
    };
    vec![
        (
            if diskful { llv } else { !llv },
            "lvmLogicalVolumeName is required when type is Diskful and must be empty when type is Diskless",
        ),
        (
            diskful == has(spec, "size"),
            "size is required when type is Diskful and must be empty when type is Diskless",
        ),
        (
            diskful || spec["nonVoting"] != true,
            "nonVoting must be false (or unset) when type is Diskless",
        ),
        (size_ok, "spec.size must be a multiple of 4Ki (4096 bytes)"),
    ]
}

fn pool(spec: &Value) -> Vec<(bool, &'static str)> {
    let groups = spec["lvmVolumeGroups"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let thin_named = |g: &Value| g["thinPoolName"].as_str().is_some_and(|s| !s.is_empty());
    let networks = spec["systemNetworkNames"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    vec![
        (
            spec["type"] != "LVMThin" || groups.iter().all(thin_named),
            "thinPoolName is required for each lvmVolumeGroups entry when type is LVMThin",
        ),
        (
            spec["type"] != "LVM" || !groups.iter().any(thin_named),
            "thinPoolName must not be specified when type is LVM",
        ),
        (
            networks.iter().all(|n| n == "Internal"),
            "Only 'Internal' network is currently supported",
        ),
    ]
}

/// Bytes of a size written as `<n>`, `<n>Ki|Mi|Gi|Ti` (the forms the migrator writes).
fn guest_size(size: &Value) -> Option<u64> {
    if let Some(n) = size.as_u64() {
        return Some(n);
    }
    let text = size.as_str()?;
    let units = [("Ki", 10), ("Mi", 20), ("Gi", 30), ("Ti", 40), ("Pi", 50)];
    for (suffix, shift) in units {
        if let Some(n) = text.strip_suffix(suffix) {
            return n.parse::<u64>().ok().map(|n| n << shift);
        }
    }
    text.parse().ok()
}

fn is_dns_subdomain(name: &str) -> bool {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    !name.is_empty()
        && name.len() <= 253
        && name.chars().all(|c| alnum(c) || c == '-' || c == '.')
        && name.starts_with(alnum)
        && name.ends_with(alnum)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn replica(name: &str) -> Value {
        json!({"kind": "ReplicatedVolumeReplica", "metadata": {"name": name},
               "spec": {"replicatedVolumeName": "pvc-1", "type": "Diskful", "nodeName": "n"}})
    }

    #[test]
    fn a_valid_replica_passes_and_a_bad_id_quotes_the_rule() {
        assert_eq!(problems(&replica("pvc-1-31")), Vec::<String>::new());
        assert_eq!(
            problems(&replica("pvc-1-32")),
            [
                "CEL rule fails: metadata.name must be exactly spec.replicatedVolumeName + '-' + id where id is 0..31"
            ]
        );
    }

    #[test]
    fn diskless_drbd_must_not_have_a_size() {
        let drbd = json!({"kind": "DRBDResource", "metadata": {"name": "r"},
                          "spec": {"type": "Diskless", "size": "4Ki"}});
        assert_eq!(
            problems(&drbd),
            [
                "CEL rule fails: size is required when type is Diskful and must be empty when type is Diskless"
            ]
        );
    }
}
