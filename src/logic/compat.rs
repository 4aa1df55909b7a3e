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
