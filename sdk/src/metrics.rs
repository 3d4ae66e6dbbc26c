//! The metrics collector (module-sdk's `input.MetricsCollector`): gauges, counters and
//! histograms, each in a group; Deckhouse applies them after the run.
//!
//! The Deckhouse way to publish "what holds now" is to expire a group and set its series
//! again on every run, so series that stopped holding disappear:
//!
//! ```
//! let mut metrics = deckhouse_hooks_sdk::Metrics::default();
//! let mut group = metrics.group("d8_my_hook");
//! group.expire();
//! group.set("d8_my_hook_state", 1.0, &[("state", "ready")]);
//! assert_eq!(metrics.operations().len(), 2);
//! ```

use hooks_manifest::output::{Metric, MetricAction};

/// The operations of one run, in order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Metrics {
    operations: Vec<Metric>,
}

impl Metrics {
    /// Sets a gauge (in the hook's default group).
    pub fn set(&mut self, name: &str, value: f64, labels: &[(&str, &str)]) {
        self.push(None, MetricAction::Set, name, value, labels, &[]);
    }

    /// Adds to a counter.
    pub fn add(&mut self, name: &str, value: f64, labels: &[(&str, &str)]) {
        self.push(None, MetricAction::Add, name, value, labels, &[]);
    }

    /// Adds one to a counter.
    pub fn inc(&mut self, name: &str, labels: &[(&str, &str)]) {
        self.add(name, 1.0, labels);
    }

    /// Observes a histogram value with these bucket bounds.
    pub fn observe(&mut self, name: &str, value: f64, labels: &[(&str, &str)], buckets: &[f64]) {
        self.push(None, MetricAction::Observe, name, value, labels, buckets);
    }

    /// Drops every series of `group`.
    pub fn expire(&mut self, group: &str) {
        self.push(Some(group), MetricAction::Expire, "", 0.0, &[], &[]);
    }

    /// The same operations, in `group`.
    pub fn group<'m>(&'m mut self, group: &'m str) -> MetricGroup<'m> {
        MetricGroup {
            metrics: self,
            group,
        }
    }

    /// The operations so far.
    pub fn operations(&self) -> &[Metric] {
        &self.operations
    }

    /// The operations, consuming the collector.
    pub fn into_operations(self) -> Vec<Metric> {
        self.operations
    }

    fn push(
        &mut self,
        group: Option<&str>,
        action: MetricAction,
        name: &str,
        value: f64,
        labels: &[(&str, &str)],
        buckets: &[f64],
    ) {
        self.operations.push(Metric {
            name: name.to_owned(),
            group: group.map(str::to_owned),
            action,
            value,
            labels: labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            buckets: buckets.to_vec(),
        });
    }
}

/// The collector, writing into one group (module-sdk's `WithGroup`).
pub struct MetricGroup<'m> {
    metrics: &'m mut Metrics,
    group: &'m str,
}

impl MetricGroup<'_> {
    /// Sets a gauge in the group.
    pub fn set(&mut self, name: &str, value: f64, labels: &[(&str, &str)]) {
        self.metrics.push(
            Some(self.group),
            MetricAction::Set,
            name,
            value,
            labels,
            &[],
        );
    }

    /// Adds to a counter in the group.
    pub fn add(&mut self, name: &str, value: f64, labels: &[(&str, &str)]) {
        self.metrics.push(
            Some(self.group),
            MetricAction::Add,
            name,
            value,
            labels,
            &[],
        );
    }

    /// Adds one to a counter in the group.
    pub fn inc(&mut self, name: &str, labels: &[(&str, &str)]) {
        self.add(name, 1.0, labels);
    }

    /// Observes a histogram value in the group.
    pub fn observe(&mut self, name: &str, value: f64, labels: &[(&str, &str)], buckets: &[f64]) {
        self.metrics.push(
            Some(self.group),
            MetricAction::Observe,
            name,
            value,
            labels,
            buckets,
        );
    }

    /// Drops every series of the group.
    pub fn expire(&mut self) {
        self.metrics.expire(self.group);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_is_recorded_in_order_with_its_group() {
        let mut m = Metrics::default();
        m.set("g", 2.0, &[("a", "b")]);
        m.inc("c", &[]);
        m.observe("h", 0.3, &[], &[0.1, 1.0]);
        let mut group = m.group("grp");
        group.expire();
        group.add("c2", 3.0, &[]);
        group.observe("h2", 1.0, &[], &[1.0]);
        group.set("g2", 1.0, &[]);
        group.inc("c3", &[]);
        let ops = m.operations();
        assert_eq!(ops.len(), 8);
        assert_eq!((ops[1].action, ops[1].value), (MetricAction::Add, 1.0));
        assert_eq!(ops[2].buckets, [0.1, 1.0]);
        assert_eq!(
            (ops[3].action, ops[3].group.as_deref()),
            (MetricAction::Expire, Some("grp"))
        );
        assert!(ops[4..].iter().all(|o| o.group.as_deref() == Some("grp")));
        assert_eq!(ops[0].group, None);
        assert_eq!(ops[0].labels, [("a".to_owned(), "b".to_owned())]);
    }
}
