//! Kubernetes Events on the state ConfigMap, so `kubectl describe configmap
//! control-plane-migration` tells the migration's story. Core `v1` Events: `kubectl
//! describe` finds them by `involvedObject.uid` (events.k8s.io/v1 Events are the same
//! objects under other field names), and `firstTimestamp`/`count` give its Age column.
//! Best effort: an Event that cannot be written is logged, never fails the Job.

use serde_json::json;

use crate::clock::Clock;
use crate::names::{EVENT_SOURCE, NAMESPACE, STATE_CONFIGMAP};
use crate::state::State;
use deckhouse_hooks_sdk::{Kube, Logger};

/// `Normal` or `Warning`, as Kubernetes spells them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Normal,
    Warning,
}

/// What an Event says.
pub struct Event<'a> {
    pub severity: Severity,
    /// CamelCase, as Kubernetes reasons are.
    pub reason: &'a str,
    pub message: &'a str,
    /// Makes the name unique among Events of the same instant (the new state).
    pub key: &'a str,
}

/// Records one Event about the ConfigMap as read in `at`.
pub fn record(kube: Kube<'_>, log: Logger<'_>, clock: &dyn Clock, at: &State, what: &Event) {
    let Event {
        severity,
        reason,
        message,
        key,
    } = *what;
    let wall = clock.wall();
    // `metav1.Time`: RFC 3339 in whole seconds.
    let time = humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + wall).to_string();
    let key = key.replace('_', "-");
    let name = format!("{STATE_CONFIGMAP}.{key}.{:x}", wall.as_nanos());
    let message = shorten(message);
    let event = json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "involvedObject": {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "namespace": NAMESPACE,
            "name": STATE_CONFIGMAP,
            "uid": at.uid,
        },
        "reason": reason,
        "message": message,
        "type": match severity {
            Severity::Normal => "Normal",
            Severity::Warning => "Warning",
        },
        "source": {"component": EVENT_SOURCE},
        "reportingComponent": EVENT_SOURCE,
        "reportingInstance": EVENT_SOURCE,
        "firstTimestamp": time,
        "lastTimestamp": time,
        "count": 1,
    });
    if let Err(error) = kube.create(&event) {
        log.warn(
            "could not record a Kubernetes Event",
            &[("reason", reason), ("error", &error.to_string())],
        );
    }
}

/// Event messages are for people: long problem lists are cut (the log has them all).
const MESSAGE_MAX: usize = 1000;

fn shorten(message: &str) -> String {
    if message.len() <= MESSAGE_MAX {
        return message.to_owned();
    }
    let mut end = MESSAGE_MAX;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... (see the Job's log)", &message[..end])
}
