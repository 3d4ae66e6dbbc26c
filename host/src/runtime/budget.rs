//! The run-level output budgets (`limits.max*` in grants.yaml), checked on what a hook
//! guest returns before the host does any work on it: the values patch builder's cost
//! grows with path depth and count, so a 10,000-segment path must be refused, not built.
//! Metric names and groups are checked against the guest's `metrics` grant here too, and
//! what other calls return whole (a hook's `config`, a render guest's calls) is bounded by
//! `limits.maxResultBytes`.

use crate::bindings::hook_api::{HookOutput, ValuesOp};
use crate::capabilities::log::truncate;
use crate::error::{HostError, Result};
use crate::manifest::Guest;

/// Checks a hook's output against its budgets and metrics grant.
pub fn check_hook_output(guest: &Guest, output: &HookOutput) -> Result<()> {
    let limits = &guest.limits;
    let over = |budget: &'static str, key: &'static str, limit: String, actual: String| {
        HostError::Budget {
            guest: guest.name.clone(),
            budget,
            key,
            limit,
            actual,
        }
    };
    let ops: Vec<&ValuesOp> = output
        .values_patch
        .iter()
        .chain(&output.config_values_patch)
        .collect();
    if ops.len() > limits.max_values_ops as usize {
        return Err(over(
            "values operations",
            "maxValuesOps",
            limits.max_values_ops.to_string(),
            ops.len().to_string(),
        ));
    }
    let mut bytes: u64 = 0;
    for op in &ops {
        let chars = op.path.chars().count();
        if chars > limits.max_values_path_length as usize {
            return Err(over(
                "values path length",
                "maxValuesPathLength",
                format!("{} characters", limits.max_values_path_length),
                format!("{chars} characters in {}", truncate(&op.path, 80)),
            ));
        }
        let depth = op.path.matches('/').count();
        if depth > limits.max_values_path_depth as usize {
            return Err(over(
                "values path depth",
                "maxValuesPathDepth",
                format!("{} segments", limits.max_values_path_depth),
                format!("{depth} segments in {}", truncate(&op.path, 80)),
            ));
        }
        bytes += (op.path.len() + op.value.as_ref().map_or(0, String::len)) as u64;
    }
    if bytes > limits.max_values_bytes {
        return Err(over(
            "values bytes",
            "maxValuesBytes",
            format!("{} bytes", limits.max_values_bytes),
            format!("{bytes} bytes"),
        ));
    }
    if output.metrics.len() > limits.max_metrics as usize {
        return Err(over(
            "metric operations",
            "maxMetrics",
            limits.max_metrics.to_string(),
            output.metrics.len().to_string(),
        ));
    }
    let metric_bytes: u64 = output
        .metrics
        .iter()
        .map(|m| {
            (m.name.len()
                + m.group.as_ref().map_or(0, String::len)
                + m.labels
                    .iter()
                    .map(|(k, v)| k.len() + v.len())
                    .sum::<usize>()
                + m.buckets.len() * 8) as u64
        })
        .sum();
    if metric_bytes > limits.max_metrics_bytes {
        return Err(over(
            "metrics bytes",
            "maxMetricsBytes",
            format!("{} bytes", limits.max_metrics_bytes),
            format!("{metric_bytes} bytes"),
        ));
    }
    for m in &output.metrics {
        let outside = |what: &str, value: &str| HostError::GuestOutput {
            guest: guest.name.clone(),
            what: "metric",
            problem: format!(
                "{what} {:?} is outside the guest's metrics grant ({}); add it to `metrics` of the guest in grants.yaml",
                truncate(value, 200),
                describe(guest)
            ),
        };
        // An expire names only its group (its name is empty by Deckhouse's protocol).
        let expire = matches!(m.action, crate::bindings::hook_api::MetricAction::Expire);
        if !expire && !guest.metrics.allows_name(&m.name) {
            return Err(outside("name", &m.name));
        }
        if let Some(group) = m.group.as_deref()
            && !guest.metrics.allows_group(group)
        {
            return Err(outside("group", group));
        }
    }
    Ok(())
}

/// Checks what one call returned against `limits.maxResultBytes`, measured as its text
/// form (every string and number as written out): the measuring stops one byte past the
/// budget, so a huge result costs no more than the budget to refuse.
pub fn check_result(guest: &Guest, call: &str, result: &impl std::fmt::Debug) -> Result<()> {
    use std::fmt::Write as _;
    /// Counts bytes, failing once past `limit` so formatting stops there.
    struct Counter {
        bytes: u64,
        limit: u64,
    }
    impl std::fmt::Write for Counter {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            self.bytes += s.len() as u64;
            if self.bytes > self.limit {
                return Err(std::fmt::Error);
            }
            Ok(())
        }
    }
    let limit = guest.limits.max_result_bytes;
    let mut counter = Counter { bytes: 0, limit };
    if write!(counter, "{result:?}").is_ok() {
        return Ok(());
    }
    Err(HostError::Budget {
        guest: guest.name.clone(),
        budget: "call result size",
        key: "maxResultBytes",
        limit: format!("{limit} bytes"),
        actual: format!("more than {limit} bytes returned by {call}"),
    })
}

/// The grant in words, for errors.
fn describe(guest: &Guest) -> String {
    let m = &guest.metrics;
    if m.prefix.is_none() && m.names.is_empty() && m.groups.is_empty() {
        return "it has none".into();
    }
    let mut parts = Vec::new();
    if let Some(p) = &m.prefix {
        parts.push(format!("prefix {p:?}"));
    }
    if !m.names.is_empty() {
        parts.push(format!("names {:?}", m.names));
    }
    if !m.groups.is_empty() {
        parts.push(format!("groups {:?}", m.groups));
    }
    parts.join(", ")
}

/// A guest's error message cut to `limits.maxErrorLength` characters, with a marker.
pub fn error_message(guest: &Guest, message: &str) -> String {
    truncate(message, guest.limits.max_error_length as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::hook_api::{Metric, MetricAction, ValuesOpKind};
    use crate::manifest::{Limits, MetricsGrant};
    use crate::protocol::values_patch;
    use proptest::prelude::*;

    fn guest() -> Guest {
        serde_yaml::from_str("{name: g, component: g.wasm, world: hook, metrics: {prefix: d8_g_}}")
            .unwrap()
    }

    fn add(path: &str, value: &str) -> ValuesOp {
        ValuesOp {
            op: ValuesOpKind::Add,
            path: path.into(),
            value: Some(value.into()),
        }
    }

    fn output(values: Vec<ValuesOp>, metrics: Vec<Metric>) -> HookOutput {
        HookOutput {
            values_patch: values,
            config_values_patch: vec![],
            metrics,
        }
    }

    fn metric(name: &str, group: Option<&str>) -> Metric {
        Metric {
            name: name.into(),
            group: group.map(Into::into),
            action: MetricAction::Set,
            value: 1.0,
            labels: vec![],
            buckets: vec![],
        }
    }

    #[test]
    fn a_deep_values_path_is_refused_before_it_is_built() {
        let path = "/a".repeat(10_000);
        let err = check_hook_output(&guest(), &output(vec![add(&path, "1")], vec![]))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("guest g exceeded its values path length budget: 20000 characters"),
            "{err}"
        );
        let path = "/a".repeat(33);
        let err = check_hook_output(&guest(), &output(vec![add(&path, "1")], vec![]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("values path depth budget: 33 segments"),
            "{err}"
        );
        assert!(
            err.contains("limit 32 segments, limits.maxValuesPathDepth"),
            "{err}"
        );
    }

    #[test]
    fn counts_and_bytes_are_bounded() {
        let many = (0..1001).map(|i| add(&format!("/x{i}"), "1")).collect();
        assert!(
            check_hook_output(&guest(), &output(many, vec![]))
                .unwrap_err()
                .to_string()
                .contains("values operations budget: 1001")
        );
        let big = "1".repeat(5 << 20);
        assert!(
            check_hook_output(&guest(), &output(vec![add("/x", &big)], vec![]))
                .unwrap_err()
                .to_string()
                .contains("values bytes budget")
        );
    }

    #[test]
    fn a_call_result_is_measured_up_to_its_budget() {
        let mut g = guest();
        g.limits.max_result_bytes = 100;
        check_result(&g, "config", &vec!["x".repeat(40)]).unwrap();
        let err = check_result(&g, "plan", &vec!["x".repeat(60); 2])
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "guest g exceeded its call result size budget: more than 100 bytes returned by plan (limit 100 bytes, limits.maxResultBytes in grants.yaml)"
        );
    }

    #[test]
    fn metrics_are_bound_by_the_grant() {
        let ok = output(vec![], vec![metric("d8_g_state", Some("d8_g_group"))]);
        check_hook_output(&guest(), &ok).unwrap();
        let err = check_hook_output(&guest(), &output(vec![], vec![metric("up", None)]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("name \"up\" is outside the guest's metrics grant (prefix \"d8_g_\")"),
            "{err}"
        );
        let err = check_hook_output(
            &guest(),
            &output(vec![], vec![metric("d8_g_x", Some("kube_state"))]),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("group \"kube_state\""), "{err}");
        let mut expire = metric("", Some("d8_g_group"));
        expire.action = MetricAction::Expire;
        check_hook_output(&guest(), &output(vec![], vec![expire.clone()])).unwrap();
        expire.group = Some("kube_state".into());
        assert!(check_hook_output(&guest(), &output(vec![], vec![expire])).is_err());
        let mut heavy = metric("d8_g_x", None);
        heavy.labels = vec![("l".into(), "v".repeat(2 << 20))];
        let err = check_hook_output(&guest(), &output(vec![], vec![heavy]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "metrics bytes budget: 2097159 bytes (limit 1048576 bytes, limits.maxMetricsBytes"
            ),
            "{err}"
        );
        let mut none = guest();
        none.metrics = MetricsGrant::default();
        let err = check_hook_output(&none, &ok).unwrap_err().to_string();
        assert!(err.contains("(it has none)"), "{err}");
    }

    proptest! {
        /// Fuzz target for guest outputs: whatever a guest returns is refused by a budget
        /// or turned into a values patch, never a panic, and within budget the patch stays
        /// small.
        #[test]
        fn any_guest_output_is_bounded_or_refused(
            paths in proptest::collection::vec("(/[a-z~01]{0,3}){0,40}", 0..20),
            values in proptest::collection::vec(".{0,20}", 0..20),
        ) {
            let ops: Vec<ValuesOp> = paths.iter().zip(values.iter().cycle()).map(|(p, v)| add(p, v)).collect();
            let g = Guest { limits: Limits::default(), ..guest() };
            if check_hook_output(&g, &output(ops.clone(), vec![])).is_ok() {
                let changes: Vec<_> = ops
                    .into_iter()
                    .filter_map(|op| super::super::convert::values_change(op).ok())
                    .collect();
                if let Ok(patch) = values_patch::build("k", &serde_json::json!({}), changes) {
                    prop_assert!(patch.len() <= 20 * 33);
                }
            }
        }
    }
}
