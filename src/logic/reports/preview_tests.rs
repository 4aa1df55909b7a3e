//! `preview` over fixtures: placement, fit and the change to a live DaemonSet.

use std::collections::BTreeSet;

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::Node;

use super::preview::{change, preview};
use crate::logic::daemon::rollout::Strategy;
use crate::logic::fixtures::node;
use crate::logic::reason::Code;

/// A DaemonSet asking 500m of cpu with `image` and the update strategy given as a flow mapping.
fn daemonset(image: &str, strategy: &str) -> DaemonSet {
    crate::yaml::from_str(&format!(
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {{name: agent, namespace: default, uid: ds-uid}}\nspec:\n  selector: {{matchLabels: {{app: agent}}}}\n  updateStrategy: {strategy}\n  template:\n    metadata: {{labels: {{app: agent}}}}\n    spec:\n      containers: [{{name: c, image: '{image}', resources: {{requests: {{cpu: 500m}}}}}}]\n"
    ))
    .expect("fixture DaemonSet")
}

fn sized(name: &str, cpu: &str, taints: &[(&str, &str, &str)]) -> Node {
    let mut n = node(name, &[], taints);
    n.status = Some(
        crate::yaml::from_str(&format!(
            "allocatable: {{cpu: '{cpu}', memory: 1Gi, pods: '10'}}"
        ))
        .expect("node status"),
    );
    n
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| n.to_string()).collect()
}

#[test]
fn a_new_daemonset_runs_where_it_fits_and_names_the_rest() {
    let ds = daemonset("agent:1", "{type: RollingUpdate}");
    let nodes = [
        sized("big", "2", &[]),
        sized("small", "200m", &[]),
        sized("gpu", "2", &[("dedicated", "gpu", "NoSchedule")]),
    ];
    let p = preview(&ds, None, &nodes, &[]).expect("a preview");
    assert_eq!(p.would_run, ["big"]);
    assert_eq!(p.unplaceable.len(), 1);
    assert_eq!(p.unplaceable[0].node, "small");
    assert!(
        p.unplaceable[0].reason.starts_with("Insufficient cpu"),
        "{}",
        p.unplaceable[0].reason
    );
    assert_eq!(p.excluded.len(), 1);
    assert_eq!(p.excluded[0].code, Code::UntoleratedTaint);
    assert_eq!(p.excluded[0].nodes, ["gpu"]);
    assert_eq!(p.per_pod["cpu"], "500m");
    assert_eq!(p.total["cpu"], "500m");
    assert!(p.change.is_none());
    assert_eq!(p.least_headroom.len(), 1);
    assert_eq!(p.least_headroom[0].cpu_left, "1500m");
}

#[test]
fn a_template_change_replaces_the_kept_nodes_in_waves_of_the_budget() {
    let live = daemonset(
        "agent:1",
        "{type: RollingUpdate, rollingUpdate: {maxUnavailable: 2}}",
    );
    let next = daemonset(
        "agent:2",
        "{type: RollingUpdate, rollingUpdate: {maxUnavailable: 2}}",
    );
    let before = set(&["n1", "n2", "n3", "n4", "n5"]);
    let after = set(&["n2", "n3", "n4", "n5", "n6"]);
    let c = change(&next, &live, &before, &after, 5);
    assert_eq!(c.gained, ["n6"]);
    assert_eq!(c.lost, ["n1"]);
    assert!(c.template_changed);
    assert_eq!(c.replaced, 4);
    assert_eq!(c.strategy, Strategy::RollingUpdate);
    assert_eq!((c.max_unavailable, c.max_surge, c.waves), (2, 0, 2));
}

#[test]
fn on_delete_and_an_unchanged_template_have_no_waves() {
    let live = daemonset("agent:1", "{type: OnDelete}");
    let next = daemonset("agent:2", "{type: OnDelete}");
    let nodes = set(&["n1", "n2"]);
    let c = change(&next, &live, &nodes, &nodes, 2);
    assert_eq!(
        (c.strategy, c.replaced, c.waves),
        (Strategy::OnDelete, 2, 0)
    );
    let same = change(&live, &live, &nodes, &nodes, 2);
    assert!(!same.template_changed);
    assert_eq!((same.replaced, same.waves), (0, 0));
}

/// A DaemonSet of priority 10 on a node full with a priority-0 pod, while a daemon pod of
/// priority 1000 that may not preempt (`preemptionPolicy: Never`) waits for the same node.
pub(crate) fn behind_a_waiting_pod(waiting_cpu: &str) -> Option<super::preview::Preview> {
    let ds = crate::yaml::from_str::<DaemonSet>(
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent, namespace: default, uid: ds-uid}\nspec:\n  selector: {matchLabels: {app: agent}}\n  template:\n    metadata: {labels: {app: agent}}\n    spec:\n      priority: 10\n      containers: [{name: c, image: agent, resources: {requests: {cpu: 500m}}}]\n",
    )
    .expect("fixture DaemonSet");
    let nodes = [sized("n", "1", &[])];
    let pods = [
        crate::logic::fixtures::pod(
            "metadata: {name: batch, namespace: default}\nspec:\n  nodeName: n\n  priority: 0\n  containers: [{name: c, image: batch, resources: {requests: {cpu: 600m}}}]\nstatus: {phase: Running}\n",
        ),
        crate::logic::fixtures::pod(&format!(
            "metadata: {{name: never-x, namespace: other, creationTimestamp: '2026-01-01T00:00:00Z'}}\nspec:\n  priority: 1000\n  preemptionPolicy: Never\n  affinity: {{nodeAffinity: {{requiredDuringSchedulingIgnoredDuringExecution: {{nodeSelectorTerms: [{{matchFields: [{{key: metadata.name, operator: In, values: [n]}}]}}]}}}}}}\n  containers: [{{name: c, image: never, resources: {{requests: {{cpu: {waiting_cpu}}}}}}}]\nstatus: {{phase: Pending}}\n"
        )),
    ];
    preview(&ds, None, &nodes, &pods)
}

/// Preempting `batch` frees 600m, and the waiting pod of higher priority fits into it: the
/// scheduler gives it that room when it leaves its back-off first (`PrioritySort`;
/// `addGENominatedPods` makes it ignore room held for a lower-priority nominated pod), so
/// the node is contested.
#[test]
fn room_preemption_frees_is_contested_by_a_waiting_pod_of_higher_priority() {
    let p = behind_a_waiting_pod("600m").expect("a preview");
    assert_eq!(p.would_run, ["n"]);
    let a = &p.after_preemption[0];
    assert_eq!(a.victims[0].pod, "default/batch");
    assert_eq!(a.contested_by, ["other/never-x"]);
}

/// A waiting pod that takes only part of the freed room leaves the daemon pod its place.
#[test]
fn a_waiting_pod_that_leaves_room_does_not_contest_the_node() {
    let p = behind_a_waiting_pod("400m").expect("a preview");
    assert_eq!(p.would_run, ["n"]);
    assert_eq!(p.after_preemption[0].victims[0].pod, "default/batch");
    assert!(p.after_preemption[0].contested_by.is_empty());
}
