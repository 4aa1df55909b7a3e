//! `explain` over fixtures: one verdict per branch of the decision, as the controller, the
//! scheduler and the pod's own state give it.

use std::collections::HashMap;

use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::jiff::Timestamp;

use super::explain::{Context, Verdict, explain};
use crate::logic::fixtures::{ds, node, pod};
use crate::logic::reason::Code;
use crate::logic::scheduler::ClusterView;

fn now() -> Timestamp {
    "2026-01-01T00:10:00Z".parse().expect("timestamp")
}

fn ready_node(name: &str, taints: &[(&str, &str, &str)]) -> Node {
    let mut n = node(name, &[], taints);
    n.status = Some(
        crate::yaml::from_str(
            "allocatable: {cpu: '2', memory: 2Gi, pods: '10'}\nconditions: [{type: Ready, status: 'True'}]",
        )
        .expect("node status"),
    );
    n
}

/// A pod of the fixture DaemonSet on `node`, with `status` as YAML.
fn daemon_pod(node: &str, status: &str) -> Pod {
    pod(&format!(
        "metadata:\n  name: agent-{node}\n  namespace: default\n  labels: {{app: agent, controller-revision-hash: new}}\n  ownerReferences: [{{apiVersion: apps/v1, kind: DaemonSet, name: agent, uid: ds-uid, controller: true}}]\nspec:\n  nodeName: {node}\n  containers: [{{name: c, image: agent:1}}]\nstatus: {status}"
    ))
}

fn verdict(n: &Node, own: &[&Pod]) -> Verdict {
    let d = ds("tolerations: []");
    let events = HashMap::new();
    let nodes = [n];
    let view = ClusterView::new(&nodes, own, false, &crate::logic::scheduler::NOTHING_READ);
    let ctx = Context {
        pods_on_node: own,
        view: &view,
        nominated: &[],
        scheduling_events: &events,
        admitted: None,
        pdbs: &[],
        create_failure: None,
        failed_pod: None,
        current_hash: Some("new"),
        template_generation: None,
        now: now(),
    };
    explain(&d, n, own, &ctx)
}

const READY: &str = "{phase: Running, conditions: [{type: Ready, status: 'True'}]}";

#[test]
fn a_ready_current_pod_is_healthy() {
    let p = daemon_pod("n1", READY);
    let v = verdict(&ready_node("n1", &[]), &[&p]);
    assert_eq!(v.code, Code::Healthy);
    assert_eq!(v.pod.as_deref(), Some("agent-n1"));
    assert_eq!(v.message, "pod agent-n1 is Ready and up to date");
}

#[test]
fn a_tainted_node_without_a_pod_is_not_targeted() {
    let v = verdict(
        &ready_node("n1", &[("dedicated", "gpu", "NoSchedule")]),
        &[],
    );
    assert_eq!(v.code, Code::UntoleratedTaint);
    assert_eq!(v.group, "taint dedicated=gpu:NoSchedule");
    assert!(v.message.starts_with("not targeted: "), "{}", v.message);
}

#[test]
fn a_pod_on_a_node_it_no_longer_tolerates_is_misscheduled_and_kept() {
    let p = daemon_pod("n1", READY);
    let v = verdict(
        &ready_node("n1", &[("dedicated", "gpu", "NoSchedule")]),
        &[&p],
    );
    assert_eq!(v.code, Code::Misscheduled);
    assert_eq!(v.group, "misscheduled: taint dedicated=gpu:NoSchedule");
    assert!(
        v.message
            .ends_with("it is kept (a NoSchedule taint only blocks new pods)"),
        "{}",
        v.message
    );
}

#[test]
fn a_node_with_room_and_no_pod_waits_for_the_controller() {
    let v = verdict(&ready_node("n1", &[]), &[]);
    assert_eq!(v.code, Code::PodMissing);
    assert_eq!(v.group, "no pod yet");
}

#[test]
fn a_waiting_container_names_its_reason_and_restarts() {
    let p = daemon_pod(
        "n1",
        "{phase: Running, containerStatuses: [{name: c, image: agent:1, imageID: '', ready: false, restartCount: 4, state: {waiting: {reason: CrashLoopBackOff, message: back-off}}}]}",
    );
    let v = verdict(&ready_node("n1", &[]), &[&p]);
    assert_eq!(v.code, Code::ContainerWaiting);
    assert_eq!(v.group, "CrashLoopBackOff");
    assert_eq!(
        v.message,
        "container c of pod agent-n1 is waiting: CrashLoopBackOff (back-off), 4 restarts"
    );
}

#[test]
fn a_ready_pod_on_an_old_revision_waits_for_its_turn() {
    let mut p = daemon_pod("n1", READY);
    if let Some(l) = p.metadata.labels.as_mut() {
        l.insert("controller-revision-hash".into(), "old".into());
    }
    let v = verdict(&ready_node("n1", &[]), &[&p]);
    assert_eq!(v.code, Code::OldRevision);
    assert!(
        v.message
            .contains("waits for its turn in the rolling update"),
        "{}",
        v.message
    );
}

/// `explain ds` reads other namespaces' pods only when this says a verdict needs them.
#[test]
fn fit_is_checked_only_where_a_targeted_node_has_no_bound_pod() {
    use super::explain::checks_fit_somewhere;
    use crate::logic::daemon::pods::PodIndex;
    let d = ds("tolerations: []");
    let a = ready_node("a", &[]);
    let tainted = ready_node("t", &[("k", "v", "NoSchedule")]);
    let running = daemon_pod("a", "{phase: Running}");
    let mut pending = daemon_pod("a", "{phase: Pending}");
    if let Some(spec) = pending.spec.as_mut() {
        spec.node_name = None;
        spec.affinity = Some(
            crate::yaml::from_str(
                "nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchFields: [{key: metadata.name, operator: In, values: [a]}]}]}}",
            )
            .expect("affinity"),
        );
    }
    let nodes = [a.clone(), tainted.clone()];
    let bound = [running];
    let none: [Pod; 0] = [];
    assert!(!checks_fit_somewhere(&d, &nodes, &PodIndex::new(&bound)));
    assert!(!checks_fit_somewhere(&d, &[tainted], &PodIndex::new(&none)));
    let alone = std::slice::from_ref(&a);
    assert!(checks_fit_somewhere(&d, alone, &PodIndex::new(&none)));
    let waiting = [pending];
    assert!(checks_fit_somewhere(&d, &[a], &PodIndex::new(&waiting)));
}
