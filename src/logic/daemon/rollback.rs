//! What a rollback does, decided before anything is sent: `DaemonSetRollbacker.Rollback` in
//! `k8s.io/kubectl/pkg/polymorphichelpers/rollback.go` skips a DaemonSet whose template
//! already matches the revision (`daemonSetMatch`) and otherwise PATCHes it with the
//! revision's `data`.

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use serde_json::Value;

use super::history::{self, Revision};

/// The rollback of one DaemonSet to one revision.
#[derive(Clone, Debug, PartialEq)]
pub enum RollbackPlan {
    /// The current template already is the revision's: nothing to send.
    Unchanged,
    /// The unified diff from the current template to the revision's, and the
    /// strategic-merge PATCH body that restores it ([`history::rollback_patch`]).
    Apply { diff: String, patch: Value },
}

/// The plan for rolling `ds` back to `rev`, whose ControllerRevision is among `revisions`;
/// `from_revision` is the current revision's number (for the diff's label). `Err` is the
/// sentence saying why the revision cannot be used.
pub fn plan(
    ds: &DaemonSet,
    rev: &Revision,
    revisions: &[ControllerRevision],
    from_revision: Option<i64>,
) -> Result<RollbackPlan, String> {
    if history::matches(ds, rev) {
        return Ok(RollbackPlan::Unchanged);
    }
    let current_yaml = crate::yaml::to_string(&history::daemonset_template(ds))
        .map_err(|e| format!("cannot encode the template: {e}"))?;
    let target_yaml = crate::yaml::to_string(&rev.template)
        .map_err(|e| format!("cannot encode revision {}: {e}", rev.revision))?;
    let diff = history::line_diff(
        &current_yaml,
        &target_yaml,
        &format!("current (revision {})", from_revision.unwrap_or(0)),
        &format!("revision {}", rev.revision),
        3,
    );
    let rev_obj = revisions
        .iter()
        .find(|r| r.metadata.name.as_deref() == Some(rev.name.as_str()))
        .ok_or_else(|| format!("revision {} disappeared while reading it", rev.revision))?;
    let rv = ds.metadata.resource_version.clone().unwrap_or_default();
    let patch = history::rollback_patch(rev_obj, &rv)
        .map_err(|e| format!("cannot use revision {}: {e}", rev.revision))?;
    Ok(RollbackPlan::Apply { diff, patch })
}
