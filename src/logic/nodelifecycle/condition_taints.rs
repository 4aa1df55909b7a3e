//! The NoSchedule taints the node-lifecycle controller keeps in step with a node's conditions
//! (`doNoScheduleTaintingPass` and `nodeConditionToTaintKeyStatusMap` in
//! `pkg/controller/nodelifecycle/node_lifecycle_controller.go`). The pass runs on every node
//! update, so a node whose taints lag behind its conditions is about to change: a node that just
//! went NotReady gets `not-ready:NoSchedule`, which daemon pods do not tolerate, and leaves the
//! DaemonSet's desired set a moment later. Until then its pod only looks stuck.

use k8s_openapi::api::core::v1::{Node, Taint};

use crate::logic::daemon::taints::{
    DISK_PRESSURE, MEMORY_PRESSURE, NETWORK_UNAVAILABLE, NOT_READY, PID_PRESSURE, UNREACHABLE,
    UNSCHEDULABLE,
};

/// `nodeConditionToTaintKeyStatusMap`: (condition type, status) → taint key.
const CONDITION_TAINTS: &[(&str, &str, &str)] = &[
    ("Ready", "False", NOT_READY),
    ("Ready", "Unknown", UNREACHABLE),
    ("MemoryPressure", "True", MEMORY_PRESSURE),
    ("DiskPressure", "True", DISK_PRESSURE),
    ("NetworkUnavailable", "True", NETWORK_UNAVAILABLE),
    ("PIDPressure", "True", PID_PRESSURE),
];

/// The keys of the NoSchedule taints the pass wants on the node, in the order it builds them.
fn wanted(node: &Node) -> Vec<&'static str> {
    let conditions = node.status.as_ref().and_then(|s| s.conditions.as_deref());
    let mut keys: Vec<&'static str> = conditions
        .unwrap_or_default()
        .iter()
        .filter_map(|c| {
            CONDITION_TAINTS
                .iter()
                .find(|(t, s, _)| *t == c.type_ && *s == c.status)
                .map(|(_, _, key)| *key)
        })
        .collect();
    if node.spec.as_ref().and_then(|s| s.unschedulable) == Some(true) {
        keys.push(UNSCHEDULABLE);
    }
    keys
}

/// A NoSchedule taint the pass owns: one of the condition keys, or unschedulable.
fn owned_by_pass(t: &Taint) -> bool {
    t.effect == "NoSchedule"
        && (t.key == UNSCHEDULABLE || CONDITION_TAINTS.iter().any(|(_, _, k)| *k == t.key))
}

/// The node as the pass is about to leave it, when its NoSchedule taints disagree with its
/// conditions (`taintutils.TaintSetDiff` of wanted and present); None when they agree.
pub fn pending(node: &Node) -> Option<Node> {
    let wanted = wanted(node);
    let present: Vec<&Taint> = node
        .spec
        .as_ref()
        .and_then(|s| s.taints.as_deref())
        .unwrap_or_default()
        .iter()
        .filter(|t| owned_by_pass(t))
        .collect();
    let to_add = wanted.iter().any(|k| !present.iter().any(|t| t.key == *k));
    let to_remove = present.iter().any(|t| !wanted.contains(&t.key.as_str()));
    if !to_add && !to_remove {
        return None;
    }
    let mut next = node.clone();
    let spec = next.spec.get_or_insert_with(Default::default);
    let mut taints: Vec<Taint> = spec
        .taints
        .take()
        .unwrap_or_default()
        .into_iter()
        .filter(|t| !owned_by_pass(t))
        .collect();
    taints.extend(wanted.iter().map(|k| Taint {
        key: (*k).to_string(),
        effect: "NoSchedule".to_string(),
        ..Taint::default()
    }));
    spec.taints = Some(taints);
    Some(next)
}

#[cfg(test)]
mod tests {
    use super::pending;
    use crate::logic::fixtures::node;
    use k8s_openapi::api::core::v1::{Node, NodeCondition};

    fn with_ready(status: &str, taints: &[(&str, &str, &str)]) -> Node {
        let mut n = node("n", &[], taints);
        n.status.get_or_insert_with(Default::default).conditions = Some(vec![NodeCondition {
            type_: "Ready".into(),
            status: status.into(),
            ..NodeCondition::default()
        }]);
        n
    }

    fn keys(n: &Node) -> Vec<String> {
        n.spec
            .as_ref()
            .and_then(|s| s.taints.as_ref())
            .map(|ts| {
                ts.iter()
                    .map(|t| format!("{}:{}", t.key, t.effect))
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn a_node_just_gone_not_ready_is_about_to_get_the_not_ready_taint() {
        let next = pending(&with_ready("False", &[])).expect("pending");
        assert_eq!(keys(&next), ["node.kubernetes.io/not-ready:NoSchedule"]);
    }

    #[test]
    fn a_node_back_to_ready_is_about_to_lose_it_and_other_taints_stay() {
        let n = with_ready(
            "True",
            &[
                ("node.kubernetes.io/not-ready", "", "NoSchedule"),
                ("node.kubernetes.io/not-ready", "", "NoExecute"),
                ("dedicated", "", "NoSchedule"),
            ],
        );
        let next = pending(&n).expect("pending");
        assert_eq!(
            keys(&next),
            [
                "node.kubernetes.io/not-ready:NoExecute",
                "dedicated:NoSchedule"
            ]
        );
    }

    #[test]
    fn taints_in_step_with_the_conditions_change_nothing() {
        assert!(pending(&with_ready("True", &[])).is_none());
        let down = with_ready(
            "Unknown",
            &[("node.kubernetes.io/unreachable", "", "NoSchedule")],
        );
        assert!(pending(&down).is_none());
    }
}
