//! The hook's metrics, in the Deckhouse way: each run expires its group and sets the
//! series that are true now, so a rejection series vanishes once the ConfigMap is fixed.

use crate::output::{Metric, MetricAction};
use crate::states::Rejection;

/// The metric group every series of this hook belongs to.
pub const GROUP: &str = "d8_sds_control_plane_migration";

/// Info gauge: 1 with the state the module renders for as the `state` label.
pub const STATE: &str = "d8_sds_control_plane_migration_state";

/// 1 while the ConfigMap holds a state the hook refuses; an alert fires on it.
pub const REJECTED: &str = "d8_sds_control_plane_migration_state_rejected";

/// A refused ConfigMap state, as the alert shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refused<'a> {
    pub state: &'a str,
    pub current: &'a str,
    pub reason: Rejection,
}

/// The run's metric operations: expire the group, then set what holds now.
pub fn metrics(accepted: &str, refused: Option<Refused<'_>>) -> Vec<Metric> {
    let mut out = vec![Metric {
        name: String::new(),
        group: Some(GROUP.to_owned()),
        action: MetricAction::Expire,
        value: 0.0,
        labels: Vec::new(),
    }];
    out.push(gauge(STATE, &[("state", accepted)]));
    if let Some(r) = refused {
        out.push(gauge(
            REJECTED,
            &[
                ("state", r.state),
                ("current", r.current),
                ("reason", r.reason.as_label()),
            ],
        ));
    }
    out
}

fn gauge(name: &str, labels: &[(&str, &str)]) -> Metric {
    Metric {
        name: name.to_owned(),
        group: Some(GROUP.to_owned()),
        action: MetricAction::Set,
        value: 1.0,
        labels: labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn healthy_run_expires_then_sets_the_info_gauge() {
        let m = metrics("stage1_started", None);
        assert_eq!(m.len(), 2);
        assert_eq!(
            (m[0].action, m[0].group.as_deref()),
            (MetricAction::Expire, Some(GROUP))
        );
        assert_eq!(
            (m[1].name.as_str(), m[1].action, m[1].value),
            (STATE, MetricAction::Set, 1.0)
        );
        assert_eq!(
            m[1].labels,
            vec![("state".to_owned(), "stage1_started".to_owned())]
        );
    }

    #[test]
    fn refused_run_also_sets_the_rejection_gauge() {
        let refused = Refused {
            state: "oops",
            current: "stage1_started",
            reason: Rejection::UnknownState,
        };
        let m = metrics("stage1_started", Some(refused));
        assert_eq!(m.len(), 3);
        assert_eq!(m[2].name, REJECTED);
        assert_eq!(m[2].group.as_deref(), Some(GROUP));
        let labels: Vec<(&str, &str)> = m[2]
            .labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            labels,
            [
                ("state", "oops"),
                ("current", "stage1_started"),
                ("reason", "unknown_state")
            ]
        );
    }
}
