//! Rollout verdicts (`DaemonSetStatusViewer.Status`), per-node progress, budgets
//! (`util.UnavailableCount`/`SurgeCount`) and history/rollback selection (`findHistory`).

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::jiff::Timestamp;

use super::history::{self, FindError};
use super::rollout::{self, Progress, State, Strategy};
use crate::logic::fixtures::{daemon_pod_metadata, ds, node, pod};
use crate::logic::nodelifecycle::{self, Fate, Transient};
use crate::logic::snapshot::{Snapshot, shared};

/// The fixture DaemonSet with `spec.updateStrategy` from YAML.
fn strat(yaml: &str) -> DaemonSet {
    let mut d = ds("");
    d.spec.update_strategy = Some(crate::yaml::from_str(yaml).expect("strategy"));
    d
}

fn with_status(
    mut d: DaemonSet,
    gen_: i64,
    observed: i64,
    desired: i32,
    updated: i32,
    available: i32,
) -> DaemonSet {
    d.metadata.generation = Some(gen_);
    d.status = Some(k8s_openapi::api::apps::v1::DaemonSetStatus {
        observed_generation: Some(observed),
        desired_number_scheduled: desired,
        updated_number_scheduled: Some(updated),
        number_available: Some(available),
        ..Default::default()
    });
    d
}

fn revision(number: i64, hash: &str, image: &str) -> ControllerRevision {
    crate::yaml::from_str(&format!(
        "metadata:
  name: agent-{hash}
  namespace: default
  labels: {{controller-revision-hash: {hash}}}
  annotations: {{kubernetes.io/change-cause: 'set image {image}'}}
  ownerReferences: [{{apiVersion: apps/v1, kind: DaemonSet, name: agent, uid: ds-uid, controller: true}}]
revision: {number}
data:
  spec:
    template:
      $patch: replace
      metadata: {{creationTimestamp: null, labels: {{app: agent}}}}
      spec:
        containers: [{{name: c, image: '{image}'}}]
"
    ))
    .expect("revision")
}

/// A daemon pod on `node` with revision `hash`; `waiting` sets a container waiting reason.
fn dpod(name: &str, node: &str, hash: &str, ready: bool, waiting: Option<&str>) -> Pod {
    let state = match waiting {
        Some(r) => format!("{{waiting: {{reason: {r}}}}}"),
        None => "{running: {}}".to_string(),
    };
    pod(&format!(
        "{}spec:
  nodeName: {node}
  containers: [{{name: c, image: agent:1}}]
status:
  phase: {}
  conditions: [{{type: Ready, status: '{}'}}]
  containerStatuses: [{{name: c, image: agent, imageID: '', ready: {ready}, restartCount: 0, state: {state}}}]
",
daemon_pod_metadata(name, hash),
        if waiting == Some("ImagePullBackOff") { "Pending" } else { "Running" },
        if ready { "True" } else { "False" }
    ))
}

fn ready_node(name: &str) -> Node {
    let mut n = node(name, &[], &[]);
    n.status = Some(k8s_openapi::api::core::v1::NodeStatus {
        conditions: Some(vec![k8s_openapi::api::core::v1::NodeCondition {
            type_: "Ready".into(),
            status: "True".into(),
            ..Default::default()
        }]),
        ..Default::default()
    });
    n
}

fn not_ready_node(name: &str) -> Node {
    let mut n = node(
        name,
        &[],
        &[("node.kubernetes.io/unreachable", "", "NoSchedule")],
    );
    n.status = Some(k8s_openapi::api::core::v1::NodeStatus {
        conditions: Some(vec![k8s_openapi::api::core::v1::NodeCondition {
            type_: "Ready".into(),
            status: "Unknown".into(),
            ..Default::default()
        }]),
        ..Default::default()
    });
    n
}

fn now() -> Timestamp {
    "2026-06-01T00:00:00Z".parse().expect("time")
}

fn status_of(d: DaemonSet, nodes: Vec<Node>, pods: Vec<Pod>) -> rollout::RolloutStatus {
    let snap = Snapshot {
        daemonsets: vec![d],
        nodes: shared(nodes),
        pods: shared(pods),
        revisions: vec![revision(1, "old", "agent:1"), revision(2, "new", "agent:2")],
        create_failures: Vec::new(),
    };
    rollout::compute(&snap, now(), &rollout::Failures::default()).remove(0)
}

#[test]
fn kubectl_messages_word_for_word() {
    let v = rollout::kubectl_verdict(&with_status(ds(""), 2, 1, 3, 3, 3));
    assert_eq!(
        v.message,
        "Waiting for daemon set spec update to be observed..."
    );
    assert!(!v.done);
    let v = rollout::kubectl_verdict(&with_status(ds(""), 2, 2, 3, 1, 3));
    assert_eq!(
        v.message,
        "Waiting for daemon set \"agent\" rollout to finish: 1 out of 3 new pods have been updated..."
    );
    let v = rollout::kubectl_verdict(&with_status(ds(""), 2, 2, 3, 3, 2));
    assert_eq!(
        v.message,
        "Waiting for daemon set \"agent\" rollout to finish: 2 of 3 updated pods are available..."
    );
    let v = rollout::kubectl_verdict(&with_status(ds(""), 2, 2, 3, 3, 3));
    assert_eq!(v.message, "daemon set \"agent\" successfully rolled out");
    assert!(v.done);
    let v = rollout::kubectl_verdict(&strat("{type: OnDelete}"));
    assert_eq!(
        v.error.as_deref(),
        Some("rollout status is only available for RollingUpdate strategy type")
    );
}

#[test]
fn budgets_round_up_and_never_both_zero() {
    let b = rollout::budget(&ds(""), 5);
    assert_eq!((b.max_unavailable, b.max_surge), (1, 0));
    let b = rollout::budget(
        &strat("{type: RollingUpdate, rollingUpdate: {maxUnavailable: '10%'}}"),
        5,
    );
    assert_eq!(b.max_unavailable, 1);
    let b = rollout::budget(
        &strat("{type: RollingUpdate, rollingUpdate: {maxUnavailable: '25%'}}"),
        10,
    );
    assert_eq!(b.max_unavailable, 3);
    let b = rollout::budget(
        &strat("{type: RollingUpdate, rollingUpdate: {maxUnavailable: 0, maxSurge: '50%'}}"),
        3,
    );
    assert_eq!((b.max_unavailable, b.max_surge), (0, 2));
    let b = rollout::budget(
        &strat("{type: RollingUpdate, rollingUpdate: {maxUnavailable: '0%', maxSurge: 0}}"),
        4,
    );
    assert_eq!((b.max_unavailable, b.max_surge), (1, 0));
    assert_eq!(
        rollout::strategy(&strat("{type: OnDelete}")),
        Strategy::OnDelete
    );
}

#[test]
fn bad_image_on_the_only_updated_node_is_stuck_with_reason() {
    let d = with_status(ds(""), 2, 2, 3, 1, 2);
    let s = status_of(
        d,
        vec![ready_node("n1"), ready_node("n2"), ready_node("n3")],
        vec![
            dpod("a", "n1", "new", false, Some("ImagePullBackOff")),
            dpod("b", "n2", "old", true, None),
            dpod("c", "n3", "old", true, None),
        ],
    );
    assert_eq!(s.state, State::Stuck, "{s:?}");
    assert_eq!(s.nodes[0].node, "n1");
    assert_eq!(s.nodes[0].progress, Progress::Stuck);
    assert_eq!(
        s.nodes[0].reason.as_deref(),
        Some("new pod container c ImagePullBackOff")
    );
    assert_eq!(s.nodes[0].revision, Some(2));
    assert_eq!(s.counts.waiting, 2);
    assert!(
        s.message
            .contains("stuck on n1 (new pod container c ImagePullBackOff)"),
        "{}",
        s.message
    );
}

#[test]
fn stuck_node_under_a_larger_budget_still_progresses() {
    let d = with_status(
        strat("{type: RollingUpdate, rollingUpdate: {maxUnavailable: 2}}"),
        2,
        2,
        3,
        1,
        2,
    );
    let s = status_of(
        d,
        vec![ready_node("n1"), ready_node("n2"), ready_node("n3")],
        vec![
            dpod("a", "n1", "new", false, Some("CrashLoopBackOff")),
            dpod("b", "n2", "old", true, None),
            dpod("c", "n3", "old", true, None),
        ],
    );
    assert_eq!(s.state, State::Progressing);
}

#[test]
fn starting_pod_is_updating_and_complete_follows_kubectl() {
    let d = with_status(ds(""), 2, 2, 2, 1, 1);
    let s = status_of(
        d,
        vec![ready_node("n1"), ready_node("n2")],
        vec![
            dpod("a", "n1", "new", false, None),
            dpod("b", "n2", "new", true, None),
        ],
    );
    assert_eq!(s.state, State::Progressing);
    assert_eq!(s.counts.updating, 1);
    assert_eq!(s.counts.done, 1);
    let d = with_status(ds(""), 2, 2, 2, 2, 2);
    let s = status_of(
        d,
        vec![ready_node("n1"), ready_node("n2")],
        vec![
            dpod("a", "n1", "new", true, None),
            dpod("b", "n2", "new", true, None),
        ],
    );
    assert_eq!(s.state, State::Complete);
    assert!(s.kubectl.done);
}

#[test]
fn not_ready_node_outside_desired_with_old_pod_is_listed() {
    let d = with_status(ds(""), 2, 2, 1, 1, 1);
    let s = status_of(
        d,
        vec![ready_node("n1"), not_ready_node("dead")],
        vec![
            dpod("a", "n1", "new", true, None),
            dpod("b", "dead", "old", false, None),
        ],
    );
    assert_eq!(s.state, State::Complete, "kubectl says done, and so do we");
    assert_eq!(s.excluded_old.len(), 1);
    assert_eq!(s.excluded_old[0].node, "dead");
    assert!(
        s.message.contains("still run an old revision: dead"),
        "{}",
        s.message
    );
}

/// A node whose Ready condition just turned `status`, before the node-lifecycle controller's
/// `doNoScheduleTaintingPass` added the matching NoSchedule taint (which daemon pods do not
/// tolerate), or after it, with `taint`.
fn turned(name: &str, status: &str, taint: Option<&str>) -> Node {
    let mut n = ready_node(name);
    if let Some(c) = n.status.as_mut().and_then(|s| s.conditions.as_mut()) {
        c[0].status = status.into();
    }
    n.spec.get_or_insert_with(Default::default).taints = taint.map(|key| {
        vec![k8s_openapi::api::core::v1::Taint {
            key: key.into(),
            effect: "NoSchedule".into(),
            ..Default::default()
        }]
    });
    n
}

#[test]
fn a_node_just_gone_down_is_leaving_the_desired_set_not_holding_the_rollout() {
    // Its new pod is unavailable and takes the whole maxUnavailable; but the taint on its way
    // takes the node out of the desired set, and the controller goes on without it.
    let pods = vec![
        dpod("a", "n1", "new", true, None),
        dpod("b", "wobbly", "new", false, None),
        dpod("c", "n2", "old", true, None),
    ];
    let nodes = |wobbly: Node| vec![ready_node("n1"), ready_node("n2"), wobbly];
    let s = status_of(
        with_status(ds(""), 2, 2, 3, 2, 1),
        nodes(turned("wobbly", "Unknown", None)),
        pods.clone(),
    );
    assert_eq!(s.state, State::Progressing, "{}", s.message);
    // Tolerated, a node whose kubelet is gone keeps the budget for good.
    let everywhere = || with_status(ds("tolerations: [{operator: Exists}]"), 2, 2, 3, 2, 1);
    let s = status_of(
        everywhere(),
        nodes(turned(
            "wobbly",
            "Unknown",
            Some("node.kubernetes.io/unreachable"),
        )),
        pods.clone(),
    );
    assert_eq!(s.state, State::Stuck, "{}", s.message);
    // A node that reports NotReady has a kubelet that sets its pods' readiness again: the
    // rollout waits for the node, as the controller does, and is not stuck.
    let s = status_of(
        everywhere(),
        nodes(turned(
            "wobbly",
            "False",
            Some("node.kubernetes.io/not-ready"),
        )),
        pods,
    );
    assert_eq!(s.state, State::Progressing, "{}", s.message);
    assert_eq!(s.counts.node_not_ready, 1);
    assert!(
        s.message
            .contains("1 unavailable only because the node is NotReady"),
        "{}",
        s.message
    );
}

#[test]
fn not_ready_node_inside_desired_is_counted_apart() {
    // A DaemonSet tolerating everything keeps the NotReady node in desired.
    let d = with_status(ds("tolerations: [{operator: Exists}]"), 2, 2, 3, 2, 2);
    let s = status_of(
        d,
        vec![ready_node("n1"), ready_node("n2"), not_ready_node("dead")],
        vec![
            dpod("a", "n1", "new", true, None),
            dpod("b", "dead", "new", false, None),
            dpod("c", "n2", "old", true, None),
        ],
    );
    assert_eq!(s.counts.node_not_ready, 1);
    assert!(
        s.message
            .contains("1 unavailable only because the node is NotReady"),
        "{}",
        s.message
    );
    // The dead node's unavailable pod uses the whole maxUnavailable: n2 cannot get its turn.
    assert_eq!(s.state, State::Stuck);
    assert!(
        s.message
            .contains("dead (node unreachable (Ready=Unknown))"),
        "{}",
        s.message
    );
    // With room in the budget, the rollout goes on around it.
    let d = with_status(
        strat("{type: RollingUpdate, rollingUpdate: {maxUnavailable: 2}}"),
        2,
        2,
        3,
        2,
        2,
    );
    let mut d = d;
    d.spec.template.spec.as_mut().expect("spec").tolerations = Some(vec![Default::default()]);
    d.spec
        .template
        .spec
        .as_mut()
        .expect("spec")
        .tolerations
        .as_mut()
        .expect("t")[0]
        .operator = Some("Exists".into());
    let s = status_of(
        d,
        vec![ready_node("n1"), ready_node("n2"), not_ready_node("dead")],
        vec![
            dpod("a", "n1", "new", true, None),
            dpod("b", "dead", "new", false, None),
            dpod("c", "n2", "old", true, None),
        ],
    );
    assert_eq!(s.counts.node_not_ready, 1);
    assert_eq!(s.state, State::Progressing);
}

#[test]
fn required_revision() {
    let d = with_status(ds(""), 2, 2, 1, 1, 1);
    let done = status_of(
        d,
        vec![ready_node("n1")],
        vec![dpod("a", "n1", "new", true, None)],
    );
    let mut s = done.clone();
    rollout::require_revision(&mut s, 2);
    assert_eq!(s.state, State::Complete);
    let mut s = done.clone();
    rollout::require_revision(&mut s, 1);
    assert_eq!(s.state, State::Stuck);
    assert!(
        s.message
            .contains("revision 1 is no longer current; the current revision is 2")
    );
    let mut s = done;
    rollout::require_revision(&mut s, 3);
    assert_eq!(s.state, State::Progressing);
    assert!(s.message.contains("waiting for revision 3"));
}

#[test]
fn on_delete_lists_nodes_with_old_pods() {
    let d = with_status(strat("{type: OnDelete}"), 2, 2, 2, 1, 2);
    let s = status_of(
        d,
        vec![ready_node("n1"), ready_node("n2")],
        vec![
            dpod("a", "n1", "new", true, None),
            dpod("b", "n2", "old", true, None),
        ],
    );
    assert_eq!(s.state, State::WaitingForDeletion);
    assert!(s.kubectl.error.is_some());
    let waiting: Vec<&str> = s
        .nodes
        .iter()
        .filter(|n| n.progress == Progress::Waiting)
        .map(|n| n.node.as_str())
        .collect();
    assert_eq!(waiting, ["n2"]);
    assert_eq!(
        s.nodes
            .iter()
            .find(|n| n.node == "n2")
            .and_then(|n| n.revision),
        Some(1)
    );
}

#[test]
fn overall_is_the_worst() {
    let d = with_status(ds(""), 2, 2, 1, 1, 1);
    let done = status_of(
        d,
        vec![ready_node("n1")],
        vec![dpod("a", "n1", "new", true, None)],
    );
    let d = with_status(ds(""), 2, 1, 1, 1, 1);
    let waiting = status_of(
        d,
        vec![ready_node("n1")],
        vec![dpod("a", "n1", "new", true, None)],
    );
    assert_eq!(
        rollout::overall(std::slice::from_ref(&done)),
        State::Complete
    );
    assert_eq!(rollout::overall(&[done, waiting]), State::Progressing);
}

fn hist() -> (DaemonSet, Vec<history::Revision>) {
    let mut d = ds("");
    d.spec.template.spec.as_mut().expect("spec").containers[0].image = Some("agent:2".into());
    let revs = vec![
        revision(1, "h1", "agent:1"),
        revision(3, "h3", "agent:3"),
        revision(4, "h2", "agent:2"),
    ];
    let pods = vec![
        dpod("a", "n1", "h2", true, None),
        dpod("b", "n2", "h2", true, None),
        dpod("c", "n3", "h1", true, None),
    ];
    let h = history::history(&d, &revs, &pods);
    (d, h)
}

#[test]
fn history_current_images_pods_and_change_cause() {
    let (_, h) = hist();
    let numbers: Vec<i64> = h.iter().map(|r| r.revision).collect();
    assert_eq!(numbers, [1, 3, 4]);
    assert!(h[2].current && !h[0].current);
    assert_eq!(h[0].images, ["agent:1"]);
    assert_eq!((h[0].pods, h[1].pods, h[2].pods), (1, 0, 2));
    assert_eq!(h[1].change_cause.as_deref(), Some("set image agent:3"));
}

#[test]
fn find_history_like_kubectl() {
    let (_, h) = hist();
    assert_eq!(history::find(&h, 0).map(|r| r.revision), Ok(3));
    assert_eq!(history::find(&h, 1).map(|r| r.revision), Ok(1));
    let err = history::find(&h, 2).map(|r| r.revision);
    assert_eq!(
        err,
        Err(FindError::Unknown {
            wanted: 2,
            existing: vec![1, 3, 4]
        })
    );
    assert_eq!(
        err.map_err(|e| e.to_string()),
        Err("revision 2 is not in the history; the revisions are 1, 3, 4".to_string())
    );
    assert_eq!(
        history::find(&h[..1], 0).map(|r| r.revision),
        Err(FindError::NoPrevious)
    );
}

#[test]
fn template_match_is_semantic() {
    let (d, h) = hist();
    // The revision carries `$patch` and `creationTimestamp: null`; the DaemonSet does not.
    assert!(history::matches(&d, &h[2]));
    assert!(!history::matches(&d, &h[0]));
}

#[test]
fn rollback_patch_is_the_revision_data_plus_a_precondition() {
    let rev = revision(1, "h1", "agent:1");
    let body = history::rollback_patch(&rev, "42").expect("patch");
    assert_eq!(body["metadata"]["resourceVersion"], "42");
    assert_eq!(body["spec"]["template"]["$patch"], "replace");
    assert_eq!(
        body["spec"]["template"]["spec"]["containers"][0]["image"],
        "agent:1"
    );
}

#[test]
fn line_diff_shows_changes_with_context() {
    let a = "a\nb\nc\nd\ne\nf\ng\nh\n";
    let b = "a\nb\nc\nD\ne\nf\ng\nh\n";
    let d = history::line_diff(a, b, "revision 1", "revision 2", 1);
    assert_eq!(
        d,
        "--- revision 1\n+++ revision 2\n@@ -3,3 +3,3 @@\n c\n-d\n+D\n e\n"
    );
    assert_eq!(history::line_diff(a, a, "x", "y", 3), "");
}

/// `nodelifecycle::fate` of one pod on a node that is up.
fn fate_of(p: &Pod, failures: usize) -> Fate {
    nodelifecycle::fate(p, Some(&ready_node("n1")), failures, 0, now())
}

#[test]
fn stuck_reasons_from_scheduler_and_failed_pods() {
    let unschedulable = pod("metadata: {name: p}
spec: {containers: [{name: c}]}
status:
  phase: Pending
  conditions: [{type: PodScheduled, status: 'False', reason: Unschedulable, message: '0/1 nodes are available: 1 Insufficient memory.'}]
");
    match fate_of(&unschedulable, 0) {
        Fate::Blocked(b) => assert_eq!(
            b.sentence(),
            "Pending: 0/1 nodes are available: 1 Insufficient memory."
        ),
        f => panic!("{f:?}"),
    }
    // A Failed pod is deleted and recreated with back-off: stuck only when it keeps failing.
    let failed = pod("metadata: {name: p}
spec: {containers: [{name: c}]}
status: {phase: Failed, reason: OutOfcpu}
");
    assert_eq!(
        fate_of(&failed, 1),
        Fate::Transient(Transient::FailedBackOff {
            reason: "OutOfcpu".into()
        })
    );
    match fate_of(&failed, nodelifecycle::KEEPS_FAILING) {
        Fate::Blocked(b) => assert!(b.sentence().starts_with("Failed (OutOfcpu) 3 times")),
        f => panic!("{f:?}"),
    }
    let starting = pod("metadata: {name: p}
spec: {containers: [{name: c}]}
status:
  phase: Pending
  containerStatuses: [{name: c, image: x, imageID: '', ready: false, restartCount: 0, state: {waiting: {reason: ContainerCreating}}}]
");
    assert_eq!(fate_of(&starting, 0), Fate::Transient(Transient::Starting));
}

#[test]
fn text_for_one_stuck_daemonset() {
    let d = with_status(ds(""), 2, 2, 2, 1, 1);
    let s = status_of(
        d,
        vec![ready_node("n1"), ready_node("n2")],
        vec![
            dpod("a", "n1", "new", false, Some("CrashLoopBackOff")),
            dpod("b", "n2", "old", true, None),
        ],
    );
    let text = crate::render::rollout::status(
        &crate::render::Output::plain(crate::render::OutputFormat::Table),
        &[s],
    );
    assert_eq!(
        text,
        "daemon set \"agent\" rollout is stuck: 0 of 2 nodes done; stuck on n1 (new pod container c CrashLoopBackOff); that uses up maxUnavailable=1, so 1 node waits for a turn that never comes
revision 2, strategy RollingUpdate, maxUnavailable 1, maxSurge 0; kubectl says: Waiting for daemon set \"agent\" rollout to finish: 1 out of 2 new pods have been updated...

NODE   PROGRESS   POD   REVISION   REASON
n1     Stuck      a     2          new pod container c CrashLoopBackOff
n2     Waiting    b     1          old revision, waiting for its turn
"
    );
}

fn terminating(mut p: Pod) -> Pod {
    p.metadata.deletion_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
        "2026-05-31T23:00:00Z".parse().expect("time"),
    ));
    p
}

/// A new daemon pod not yet bound: Pending for `node`, with the scheduler's verdict.
fn unbound(name: &str, node: &str, hash: &str, nominated: Option<&str>) -> Pod {
    pod(&format!(
        "{}spec:
  affinity: {{nodeAffinity: {{requiredDuringSchedulingIgnoredDuringExecution: {{nodeSelectorTerms: [{{matchFields: [{{key: metadata.name, operator: In, values: [{node}]}}]}}]}}}}}}
  containers: [{{name: c, image: agent:2}}]
status:
  phase: Pending
  nominatedNodeName: '{}'
  conditions: [{{type: PodScheduled, status: 'False', reason: Unschedulable, message: '0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn''t satisfy plugin(s) [NodeAffinity].'}}]
",
daemon_pod_metadata(name, hash),
        nominated.unwrap_or("")
    ))
}

fn failed(name: &str, node: &str, hash: &str) -> Pod {
    let mut p = dpod(name, node, hash, false, None);
    if let Some(s) = p.status.as_mut() {
        s.phase = Some("Failed".into());
        s.reason = Some("OutOfcpu".into());
    }
    p
}

/// A pod bound to `node` that never started (its kubelet is gone).
fn never_started(name: &str, node: &str, hash: &str) -> Pod {
    let mut p = dpod(name, node, hash, false, None);
    if let Some(s) = p.status.as_mut() {
        s.phase = Some("Pending".into());
        s.container_statuses = None;
    }
    p
}

/// One row of the rollout math: the upstream branch it exercises, the DaemonSet's strategy and
/// status counters (desired, updated, available), the cluster, and the expected verdict.
struct Case {
    branch: &'static str,
    strategy: &'static str,
    tolerate_all: bool,
    status: (i32, i32, i32),
    nodes: Vec<Node>,
    pods: Vec<Pod>,
    failures: usize,
    state: State,
    rows: &'static [(&'static str, Progress)],
}

const NO_SURGE: &str = "{type: RollingUpdate}";
const SURGE_1: &str = "{type: RollingUpdate, rollingUpdate: {maxUnavailable: 0, maxSurge: 1}}";

fn three_ready() -> Vec<Node> {
    vec![ready_node("n1"), ready_node("n2"), ready_node("n3")]
}

fn cases() -> Vec<Case> {
    let mut dead_and_three = three_ready();
    dead_and_three.push(not_ready_node("dead"));
    vec![
        Case {
            branch: "rollingUpdate, no surge: old pod available -> candidatePodsToDelete, within maxUnavailable",
            strategy: NO_SURGE,
            tolerate_all: false,
            status: (3, 1, 3),
            nodes: three_ready(),
            pods: vec![
                dpod("a", "n1", "new", true, None),
                dpod("b", "n2", "old", true, None),
                dpod("c", "n3", "old", true, None),
            ],
            failures: 0,
            state: State::Progressing,
            rows: &[
                ("n2", Progress::Waiting),
                ("n3", Progress::Waiting),
                ("n1", Progress::Done),
            ],
        },
        Case {
            branch: "rollingUpdate, no surge: findUpdatedPodsOnNode skips a deleting pod, so the node counts unavailable; on an unreachable node that never ends",
            strategy: NO_SURGE,
            tolerate_all: false,
            status: (3, 0, 3),
            nodes: dead_and_three.clone(),
            pods: vec![
                terminating(dpod("x", "dead", "old", false, None)),
                dpod("a", "n1", "old", true, None),
                dpod("b", "n2", "old", true, None),
                dpod("c", "n3", "old", true, None),
            ],
            failures: 0,
            state: State::Stuck,
            rows: &[
                ("dead", Progress::Stuck),
                ("n1", Progress::Waiting),
                ("n2", Progress::Waiting),
                ("n3", Progress::Waiting),
            ],
        },
        Case {
            branch: "rollingUpdate, no surge: the same with maxUnavailable 2 leaves room for a candidate",
            strategy: "{type: RollingUpdate, rollingUpdate: {maxUnavailable: 2}}",
            tolerate_all: false,
            status: (3, 0, 3),
            nodes: dead_and_three.clone(),
            pods: vec![
                terminating(dpod("x", "dead", "old", false, None)),
                dpod("a", "n1", "old", true, None),
                dpod("b", "n2", "old", true, None),
                dpod("c", "n3", "old", true, None),
            ],
            failures: 0,
            state: State::Progressing,
            rows: &[
                ("dead", Progress::Stuck),
                ("n1", Progress::Waiting),
                ("n2", Progress::Waiting),
                ("n3", Progress::Waiting),
            ],
        },
        Case {
            branch: "updatedDesiredNodeCounts: maxUnavailable '34%' of 3 rounds up to 2",
            strategy: "{type: RollingUpdate, rollingUpdate: {maxUnavailable: '34%'}}",
            tolerate_all: false,
            status: (3, 0, 3),
            nodes: dead_and_three.clone(),
            pods: vec![
                terminating(dpod("x", "dead", "old", false, None)),
                dpod("a", "n1", "old", true, None),
                dpod("b", "n2", "old", true, None),
                dpod("c", "n3", "old", true, None),
            ],
            failures: 0,
            state: State::Progressing,
            rows: &[
                ("dead", Progress::Stuck),
                ("n1", Progress::Waiting),
                ("n2", Progress::Waiting),
                ("n3", Progress::Waiting),
            ],
        },
        Case {
            branch: "rollingUpdate, no surge: '33%' of 3 is 1, used up by the dead node",
            strategy: "{type: RollingUpdate, rollingUpdate: {maxUnavailable: '33%'}}",
            tolerate_all: false,
            status: (3, 0, 3),
            nodes: dead_and_three.clone(),
            pods: vec![
                terminating(dpod("x", "dead", "old", false, None)),
                dpod("a", "n1", "old", true, None),
                dpod("b", "n2", "old", true, None),
                dpod("c", "n3", "old", true, None),
            ],
            failures: 0,
            state: State::Stuck,
            rows: &[
                ("dead", Progress::Stuck),
                ("n1", Progress::Waiting),
                ("n2", Progress::Waiting),
                ("n3", Progress::Waiting),
            ],
        },
        Case {
            branch: "rollingUpdate, surge: oldPod == nil is left to manage and does not count toward maxSurge",
            strategy: SURGE_1,
            tolerate_all: false,
            status: (3, 1, 2),
            nodes: three_ready(),
            pods: vec![
                dpod("a", "n1", "new", false, Some("CrashLoopBackOff")),
                dpod("b", "n2", "old", true, None),
                dpod("c", "n3", "old", true, None),
            ],
            failures: 0,
            state: State::Progressing,
            rows: &[
                ("n1", Progress::Stuck),
                ("n2", Progress::Waiting),
                ("n3", Progress::Waiting),
            ],
        },
        Case {
            branch: "rollingUpdate, surge: an unavailable old pod gets its new pod at once (allowedNewNodes), outside maxSurge",
            strategy: SURGE_1,
            tolerate_all: false,
            status: (3, 0, 1),
            nodes: three_ready(),
            pods: vec![
                dpod("a", "n1", "old", false, None),
                dpod("b", "n2", "old", true, None),
                dpod("b2", "n2", "new", false, Some("ImagePullBackOff")),
                dpod("c", "n3", "old", true, None),
            ],
            failures: 0,
            state: State::Progressing,
            rows: &[
                ("n2", Progress::Stuck),
                ("n1", Progress::Updating),
                ("n3", Progress::Waiting),
            ],
        },
        Case {
            branch: "rollingUpdate, surge: old + unavailable new counts numSurge; a new pod that never becomes available uses maxSurge up",
            strategy: SURGE_1,
            tolerate_all: false,
            status: (3, 0, 3),
            nodes: three_ready(),
            pods: vec![
                dpod("a", "n1", "old", true, None),
                dpod("a2", "n1", "new", false, Some("ImagePullBackOff")),
                dpod("b", "n2", "old", true, None),
                dpod("c", "n3", "old", true, None),
            ],
            failures: 0,
            state: State::Stuck,
            rows: &[
                ("n1", Progress::Stuck),
                ("n2", Progress::Waiting),
                ("n3", Progress::Waiting),
            ],
        },
        Case {
            branch: "rollingUpdate, surge: a deleting pod on a node outside desired counts for nothing",
            strategy: SURGE_1,
            tolerate_all: false,
            status: (3, 0, 3),
            nodes: dead_and_three.clone(),
            pods: vec![
                terminating(dpod("x", "dead", "old", false, None)),
                dpod("a", "n1", "old", true, None),
                dpod("b", "n2", "old", true, None),
                dpod("c", "n3", "old", true, None),
            ],
            failures: 0,
            state: State::Progressing,
            rows: &[
                ("n1", Progress::Waiting),
                ("n2", Progress::Waiting),
                ("n3", Progress::Waiting),
            ],
        },
        Case {
            branch: "DaemonSetStatusViewer waits (3 of 4 available) but the template is rolled out; the dead node's pod is a node problem",
            strategy: NO_SURGE,
            tolerate_all: true,
            status: (4, 4, 3),
            nodes: dead_and_three.clone(),
            pods: vec![
                never_started("x", "dead", "new"),
                dpod("a", "n1", "new", true, None),
                dpod("b", "n2", "new", true, None),
                dpod("c", "n3", "new", true, None),
            ],
            failures: 0,
            state: State::Complete,
            rows: &[
                ("dead", Progress::NodeNotReady),
                ("n1", Progress::Done),
                ("n2", Progress::Done),
                ("n3", Progress::Done),
            ],
        },
        Case {
            branch: "scheduler preemption: status.nominatedNodeName while the victims shut down is Updating",
            strategy: NO_SURGE,
            tolerate_all: false,
            status: (3, 1, 2),
            nodes: three_ready(),
            pods: vec![
                unbound("a", "n1", "new", Some("n1")),
                dpod("b", "n2", "old", true, None),
                dpod("c", "n3", "old", true, None),
            ],
            failures: 0,
            state: State::Progressing,
            rows: &[
                ("n1", Progress::Updating),
                ("n2", Progress::Waiting),
                ("n3", Progress::Waiting),
            ],
        },
        Case {
            branch: "scheduler: Unschedulable for its own node without a nomination uses maxUnavailable up",
            strategy: NO_SURGE,
            tolerate_all: false,
            status: (3, 1, 2),
            nodes: three_ready(),
            pods: vec![
                unbound("a", "n1", "new", None),
                dpod("b", "n2", "old", true, None),
                dpod("c", "n3", "old", true, None),
            ],
            failures: 0,
            state: State::Stuck,
            rows: &[
                ("n1", Progress::Stuck),
                ("n2", Progress::Waiting),
                ("n3", Progress::Waiting),
            ],
        },
        Case {
            branch: "podsShouldBeOnNode: a Failed pod is deleted with failedPodsBackoff and recreated",
            strategy: NO_SURGE,
            tolerate_all: false,
            status: (3, 1, 2),
            nodes: three_ready(),
            pods: vec![
                failed("a", "n1", "new"),
                dpod("b", "n2", "old", true, None),
                dpod("c", "n3", "old", true, None),
            ],
            failures: 1,
            state: State::Progressing,
            rows: &[
                ("n1", Progress::Updating),
                ("n2", Progress::Waiting),
                ("n3", Progress::Waiting),
            ],
        },
        Case {
            branch: "podsShouldBeOnNode: a pod that fails again and again does not get better with back-off",
            strategy: NO_SURGE,
            tolerate_all: false,
            status: (3, 1, 2),
            nodes: three_ready(),
            pods: vec![
                failed("a", "n1", "new"),
                dpod("b", "n2", "old", true, None),
                dpod("c", "n3", "old", true, None),
            ],
            failures: 3,
            state: State::Stuck,
            rows: &[
                ("n1", Progress::Stuck),
                ("n2", Progress::Waiting),
                ("n3", Progress::Waiting),
            ],
        },
    ]
}

#[test]
fn rollout_math_follows_the_controller_branch_by_branch() {
    for case in cases() {
        let mut d = with_status(
            strat(case.strategy),
            2,
            2,
            case.status.0,
            case.status.1,
            case.status.2,
        );
        if case.tolerate_all {
            d.spec.template.spec.as_mut().expect("spec").tolerations = Some(vec![
                crate::yaml::from_str("{operator: Exists}").expect("toleration"),
            ]);
        }
        let mut failures = rollout::Failures::default();
        let snap = Snapshot {
            daemonsets: vec![d],
            nodes: shared(case.nodes),
            pods: shared(case.pods),
            revisions: vec![revision(1, "old", "agent:1"), revision(2, "new", "agent:2")],
            create_failures: Vec::new(),
        };
        for i in 0..case.failures {
            // Each failure is another pod the controller created for the node.
            let mut seen = snap.clone();
            for p in &mut seen.pods {
                if p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Failed") {
                    let name = pods_name(p);
                    std::sync::Arc::make_mut(p).metadata.uid = Some(format!("{name}-{i}"));
                }
            }
            failures.observe(&seen);
        }
        let s = rollout::compute(&snap, now(), &failures).remove(0);
        let rows: Vec<(&str, Progress)> = s
            .nodes
            .iter()
            .map(|n| (n.node.as_str(), n.progress))
            .collect();
        assert_eq!(s.state, case.state, "{}: {}", case.branch, s.message);
        assert_eq!(rows, case.rows, "{}: {}", case.branch, s.message);
    }
}

fn pods_name(p: &Pod) -> String {
    p.metadata.name.clone().unwrap_or_default()
}

#[test]
fn a_terminating_pod_on_a_dead_node_is_named_with_the_way_out() {
    let case = cases().swap_remove(1);
    let snap = Snapshot {
        daemonsets: vec![with_status(strat(case.strategy), 2, 2, 3, 0, 3)],
        nodes: shared(case.nodes),
        pods: shared(case.pods),
        revisions: vec![revision(1, "old", "agent:1"), revision(2, "new", "agent:2")],
        create_failures: Vec::new(),
    };
    let s = rollout::compute(&snap, now(), &rollout::Failures::default()).remove(0);
    let dead = &s.nodes[0];
    assert!(dead.outside_desired);
    assert_eq!(dead.pod.as_deref(), Some("x"));
    assert_eq!(
        dead.reason.as_deref(),
        Some(
            "pod x Terminating on node unreachable (Ready=Unknown): the kubelet is gone, so the deletion never completes"
        )
    );
    assert!(
        dead.way_out.as_deref().is_some_and(|w| w
            .contains("kubectl delete pod -n default x --grace-period=0 --force")
            && w.contains(
                "kubectl taint node dead node.kubernetes.io/out-of-service=nodeshutdown:NoExecute"
            )),
        "{dead:?}"
    );
    assert_eq!(
        s.message,
        format!(
            "daemon set \"agent\" rollout is stuck: 0 of 3 nodes done; stuck on dead ({}); that uses up maxUnavailable=1, so 3 nodes wait for a turn that never comes; to unblock it, {}",
            dead.reason.as_deref().unwrap_or(""),
            dead.way_out.as_deref().unwrap_or("")
        )
    );
}
