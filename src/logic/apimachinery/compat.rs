//! Differences between the supported API levels of k8s-openapi: from 1.34 on, required fields
//! such as `DaemonSet.spec` are plain values; 1.33 still wraps them in `Option`.

use k8s_openapi::api::apps::v1::{DaemonSet, DaemonSetSpec};

#[cfg(feature = "earliest")]
pub fn daemonset_spec(ds: &DaemonSet) -> Option<&DaemonSetSpec> {
    ds.spec.as_ref()
}

#[cfg(not(feature = "earliest"))]
pub fn daemonset_spec(ds: &DaemonSet) -> Option<&DaemonSetSpec> {
    Some(&ds.spec)
}

/// A ControllerRevision's number: required, but optional in the 1.37 types.
#[cfg(feature = "earliest")]
pub fn revision_number(rev: &k8s_openapi::api::apps::v1::ControllerRevision) -> i64 {
    rev.revision
}

#[cfg(not(feature = "earliest"))]
pub fn revision_number(rev: &k8s_openapi::api::apps::v1::ControllerRevision) -> i64 {
    rev.revision.unwrap_or(0)
}

/// A ControllerRevision's `data`: optional before 1.34.
#[cfg(feature = "earliest")]
pub fn revision_data(
    rev: &k8s_openapi::api::apps::v1::ControllerRevision,
) -> Option<&serde_json::Value> {
    rev.data.as_ref().map(|d| &d.0)
}

#[cfg(not(feature = "earliest"))]
pub fn revision_data(
    rev: &k8s_openapi::api::apps::v1::ControllerRevision,
) -> Option<&serde_json::Value> {
    Some(&rev.data.0)
}

/// `PriorityClass.value` (required, so a plain value from 1.34 on).
#[cfg(feature = "earliest")]
pub fn priority_value(pc: &k8s_openapi::api::scheduling::v1::PriorityClass) -> Option<i32> {
    Some(pc.value)
}

#[cfg(not(feature = "earliest"))]
pub fn priority_value(pc: &k8s_openapi::api::scheduling::v1::PriorityClass) -> Option<i32> {
    pc.value
}

/// `PodDisruptionBudgetStatus.disruptionsAllowed` (required, so a plain value from 1.34 on).
#[cfg(feature = "earliest")]
pub fn disruptions_allowed(s: &k8s_openapi::api::policy::v1::PodDisruptionBudgetStatus) -> i32 {
    s.disruptions_allowed
}

#[cfg(not(feature = "earliest"))]
pub fn disruptions_allowed(s: &k8s_openapi::api::policy::v1::PodDisruptionBudgetStatus) -> i32 {
    s.disruptions_allowed.unwrap_or(0)
}

/// `CSIDriver.spec.preventPodSchedulingIfMissing` (VolumeLimitScaling): not in the 1.33 API.
#[cfg(feature = "earliest")]
pub fn prevents_scheduling_if_missing(_: &k8s_openapi::api::storage::v1::CSIDriver) -> bool {
    false
}

#[cfg(not(feature = "earliest"))]
pub fn prevents_scheduling_if_missing(d: &k8s_openapi::api::storage::v1::CSIDriver) -> bool {
    d.spec.prevent_pod_scheduling_if_missing == Some(true)
}
