//! The allow-list check every guest call passes, before any backend sees it: a guest can
//! never exceed what it was granted. The matcher is `hooks-manifest`'s [`Grants`] (one
//! matcher for the host, the SDK and the tests); this adds the audit line and the
//! `forbidden` answer.

use super::types::{KubeError, ListQuery, ObjectRef};
use crate::logging;
use crate::manifest::Verb;
pub use hooks_manifest::Grants;

/// `Ok` when `guest` may `verb` this object; otherwise the audit line is logged and the
/// `forbidden` answer returned.
pub fn check(
    grants: &Grants,
    guest: &str,
    verb: Verb,
    target: &ObjectRef,
) -> Result<(), KubeError> {
    if grants.allows(verb, target) {
        Ok(())
    } else {
        Err(deny(guest, verb, &target.to_string()))
    }
}

/// Like [`check`] for a list: some rule must let the guest list the kind.
pub fn check_list(grants: &Grants, guest: &str, query: &ListQuery) -> Result<(), KubeError> {
    if grants.allows_list(query) {
        Ok(())
    } else {
        Err(deny(
            guest,
            Verb::List,
            &format!("{} ({})", query.kind, query.api_version),
        ))
    }
}

/// Logs the audit line and builds the `forbidden` answer. Names are cut so a guest cannot
/// flood the log through denied calls with huge names.
pub fn deny(guest: &str, verb: Verb, what: &str) -> KubeError {
    let verb = format!("{verb:?}").to_lowercase();
    let what: String = what.chars().take(512).collect();
    logging::warn(
        "guest call denied by the grants manifest",
        &[
            ("guest", guest.into()),
            ("verb", verb.clone().into()),
            ("object", what.clone().into()),
            ("audit", true.into()),
        ],
    );
    KubeError::Forbidden(format!(
        "{guest} may not {verb} {what}: not granted in grants.yaml"
    ))
}
