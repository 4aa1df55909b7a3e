//! Pods nominated to a node (`status.nominatedNodeName`, set when preemption made room for
//! them) hold that room against pods of lower priority: `RunFilterPluginsWithNominatedPods` and
//! `addGENominatedPods` (`pkg/scheduler/framework/runtime/framework.go`) add every nominated pod
//! of equal or higher priority, other than the pod itself, to the node before filtering.

use k8s_openapi::api::core::v1::Pod;

use super::defaultpreemption::pod_priority;
use crate::logic::daemon::pods;

/// Whether `p` is nominated to `node` and still waits to be bound.
pub fn is_nominated_to(p: &Pod, node: &str) -> bool {
    let nominated = p
        .status
        .as_ref()
        .and_then(|s| s.nominated_node_name.as_deref());
    nominated == Some(node) && !pods::is_bound(p) && !pods::is_terminal(p)
}

/// `addGENominatedPods`: the pods nominated to `node` that a pod of `priority` must leave room
/// for; `own_uid` is the DaemonSet whose pod this is (its own nominated pod is not counted).
pub fn counted<'a>(
    candidates: &[&'a Pod],
    node: &str,
    priority: i32,
    own_uid: &str,
) -> Vec<&'a Pod> {
    candidates
        .iter()
        .copied()
        .filter(|p| is_nominated_to(p, node))
        .filter(|p| pod_priority(p) >= priority)
        .filter(|p| own_uid.is_empty() || !pods::is_controlled_by(p, own_uid))
        .collect()
}
