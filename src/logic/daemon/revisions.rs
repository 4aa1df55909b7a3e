//! ControllerRevisions of a DaemonSet (`controlledHistories` in `pkg/controller/daemon/update.go`).
//! The status has no current-revision field, so the current one is the owned revision with the
//! highest number: the controller renumbers the revision matching the template to `max + 1`.

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};

use super::pods::REVISION_HASH_LABEL;

/// Revisions controlled by the DaemonSet, oldest number first.
pub fn owned<'a>(
    ds: &DaemonSet,
    revisions: &'a [ControllerRevision],
) -> Vec<&'a ControllerRevision> {
    let Some(uid) = ds.metadata.uid.as_deref() else {
        return Vec::new();
    };
    let mut out: Vec<&ControllerRevision> = revisions
        .iter()
        .filter(|r| {
            r.metadata
                .owner_references
                .iter()
                .flatten()
                .any(|o| o.controller == Some(true) && o.uid == uid)
        })
        .collect();
    out.sort_by_key(|r| r.revision);
    out
}

/// The hash label of a revision; legacy revisions without one use their name, as upstream does.
pub fn hash(rev: &ControllerRevision) -> String {
    rev.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(REVISION_HASH_LABEL))
        .cloned()
        .or_else(|| rev.metadata.name.clone())
        .unwrap_or_default()
}

/// The current revision's hash: that of the highest-numbered owned revision.
pub fn current_hash(ds: &DaemonSet, revisions: &[ControllerRevision]) -> Option<String> {
    owned(ds, revisions).last().map(|r| hash(r))
}

/// `deprecated.daemonset.template.generation`, which legacy pods are compared against.
pub fn template_generation(ds: &DaemonSet) -> Option<i64> {
    ds.metadata
        .annotations
        .as_ref()?
        .get(super::pods::TEMPLATE_GENERATION_ANNOTATION)?
        .parse()
        .ok()
}

/// The current revision number when `n` is above it although the controller has observed the
/// DaemonSet's latest spec: `constructHistory` (`pkg/controller/daemon/update.go`) creates the
/// revision of a new template in the same sync that records `observedGeneration`, so no
/// revision `n` is coming.
pub fn beyond_current(ds: &DaemonSet, revisions: &[ControllerRevision], n: i64) -> Option<i64> {
    let current = owned(ds, revisions)
        .last()
        .map(|r| crate::logic::apimachinery::compat::revision_number(r))
        .unwrap_or(0);
    let observed = ds.status.as_ref().and_then(|s| s.observed_generation) >= ds.metadata.generation;
    (n > current && observed).then_some(current)
}
