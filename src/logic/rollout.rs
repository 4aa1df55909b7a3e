//! Rollout progress of a DaemonSet: kubectl's verdict (`DaemonSetStatusViewer.Status` in
//! `k8s.io/kubectl/pkg/polymorphichelpers/rollout_status.go`) plus what kubectl does not say:
//! where each node stands, which nodes hold the rollout up and why, and the nodes that dropped
//! out of `desiredNumberScheduled` while still running an old revision.

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;

use super::coverage::PodIndex;
use super::placement::DaemonPlacement;
use super::pods;
use super::revisions;
use super::snapshot::Snapshot;

/// Container waiting reasons after which a new pod will not become available by itself.
/// `ErrImagePull` is left out: a first pull failure may be transient, and the kubelet reports
/// `ImagePullBackOff` right after it when it is not.
const STUCK_WAITING: &[&str] = &[
    "ImagePullBackOff",
    "ErrImageNeverPull",
    "InvalidImageName",
    "CrashLoopBackOff",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
];

/// `spec.updateStrategy.type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Strategy {
    RollingUpdate,
    OnDelete,
}

/// maxUnavailable and maxSurge as the controller resolves them for `desired` nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Budget {
    pub max_unavailable: usize,
    pub max_surge: usize,
}

fn scaled(v: Option<&IntOrString>, total: usize, default: usize) -> usize {
    match v {
        None => default,
        Some(IntOrString::Int(i)) => usize::try_from(*i).unwrap_or(0),
        Some(IntOrString::String(s)) => match s.strip_suffix('%').map(str::parse::<u64>) {
            // intstr.GetScaledValueFromIntOrPercent(..., roundUp=true)
            Some(Ok(p)) => (p as usize * total).div_ceil(100),
            // A bare number in a string is accepted by the API server as an int.
            _ => s.parse().unwrap_or(0),
        },
    }
}

pub fn strategy(ds: &DaemonSet) -> Strategy {
    let t = super::compat::daemonset_spec(ds)
        .and_then(|s| s.update_strategy.as_ref())
        .and_then(|u| u.type_.as_deref());
    match t {
        Some("OnDelete") => Strategy::OnDelete,
        _ => Strategy::RollingUpdate,
    }
}

/// `util.UnavailableCount` and `util.SurgeCount` (`pkg/controller/daemon/util`), with the
/// fallback of `updatedDesiredNodeCounts` in `update.go`: when both come out 0 for a non-empty
/// DaemonSet, maxUnavailable is 1. Defaults (`SetDefaults_DaemonSet`): maxUnavailable 1, maxSurge 0.
pub fn budget(ds: &DaemonSet, desired: usize) -> Budget {
    let ru = super::compat::daemonset_spec(ds)
        .and_then(|s| s.update_strategy.as_ref())
        .and_then(|u| u.rolling_update.as_ref());
    let mut b = Budget {
        max_unavailable: scaled(ru.and_then(|r| r.max_unavailable.as_ref()), desired, 1),
        max_surge: scaled(ru.and_then(|r| r.max_surge.as_ref()), desired, 0),
    };
    if desired > 0 && b.max_unavailable == 0 && b.max_surge == 0 {
        b.max_unavailable = 1;
    }
    b
}

/// kubectl's answer, word for word.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KubectlVerdict {
    pub message: String,
    pub done: bool,
    /// Set when kubectl fails (OnDelete).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `DaemonSetStatusViewer.Status` (`rollout_status.go`): generation observed, then
/// updatedNumberScheduled and numberAvailable against desiredNumberScheduled.
pub fn kubectl_verdict(ds: &DaemonSet) -> KubectlVerdict {
    let name = ds.metadata.name.as_deref().unwrap_or("");
    if strategy(ds) != Strategy::RollingUpdate {
        return KubectlVerdict {
            message: String::new(),
            done: true,
            error: Some("rollout status is only available for RollingUpdate strategy type".into()),
        };
    }
    let st = ds.status.as_ref();
    let observed = st.and_then(|s| s.observed_generation).unwrap_or(0);
    let generation = ds.metadata.generation.unwrap_or(0);
    let (message, done) = if generation <= observed {
        let desired = st.map_or(0, |s| s.desired_number_scheduled);
        let updated = st.and_then(|s| s.updated_number_scheduled).unwrap_or(0);
        let available = st.and_then(|s| s.number_available).unwrap_or(0);
        if updated < desired {
            (
                format!(
                    "Waiting for daemon set {name:?} rollout to finish: {updated} out of {desired} new pods have been updated..."
                ),
                false,
            )
        } else if available < desired {
            (
                format!(
                    "Waiting for daemon set {name:?} rollout to finish: {available} of {desired} updated pods are available..."
                ),
                false,
            )
        } else {
            (format!("daemon set {name:?} successfully rolled out"), true)
        }
    } else {
        (
            "Waiting for daemon set spec update to be observed...".to_string(),
            false,
        )
    };
    KubectlVerdict {
        message,
        done,
        error: None,
    }
}

/// Where one node stands in the rollout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Progress {
    /// A new pod that cannot become available by itself (image, crash loop, unschedulable).
    Stuck,
    /// The node is NotReady or unreachable: its pod is unavailable because of the node.
    NodeNotReady,
    /// Being replaced right now: old pod terminating, new pod starting.
    Updating,
    /// Still on an old revision, waiting for its turn under maxUnavailable/maxSurge
    /// (or, with OnDelete, for someone to delete the pod).
    Waiting,
    /// Available on the current revision.
    Done,
}

impl Progress {
    pub fn as_str(self) -> &'static str {
        match self {
            Progress::Stuck => "Stuck",
            Progress::NodeNotReady => "NodeNotReady",
            Progress::Updating => "Updating",
            Progress::Waiting => "Waiting",
            Progress::Done => "Done",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeProgress {
    pub node: String,
    pub progress: Progress,
    /// The pod the row describes (the new one when there is one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    /// Revision number of that pod, when its hash matches an owned revision.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<i64>,
    /// Why the node is stuck, not ready, or what it is doing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The overall state of one DaemonSet's rollout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum State {
    /// Every desired node runs an available pod of the current revision (kubectl: done).
    Complete,
    /// Still moving.
    Progressing,
    /// OnDelete: pods on old revisions stay until deleted.
    WaitingForDeletion,
    /// Cannot progress on its own: every node that is not done is stuck, or the stuck ones use
    /// up the whole maxUnavailable/maxSurge budget.
    Stuck,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Complete => "Complete",
            State::Progressing => "Progressing",
            State::WaitingForDeletion => "WaitingForDeletion",
            State::Stuck => "Stuck",
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub desired: usize,
    pub updated: usize,
    pub available: usize,
    pub done: usize,
    pub updating: usize,
    pub waiting: usize,
    pub stuck: usize,
    /// Desired nodes whose pod is unavailable only because the node is NotReady/unreachable.
    pub node_not_ready: usize,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RolloutStatus {
    pub namespace: String,
    pub name: String,
    pub strategy: Strategy,
    pub state: State,
    /// Our one-line summary.
    pub message: String,
    /// What `kubectl rollout status` says for the same object.
    pub kubectl: KubectlVerdict,
    /// The current revision number (highest owned ControllerRevision).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<i64>,
    pub budget: Budget,
    pub counts: Counts,
    /// Every node that should run the DaemonSet, stuck first.
    pub nodes: Vec<NodeProgress>,
    /// Nodes outside desiredNumberScheduled (typically NotReady) whose pods still run an old
    /// revision: kubectl reports success without them.
    pub excluded_old: Vec<NodeProgress>,
}

impl RolloutStatus {
    pub fn is_done(&self) -> bool {
        self.state == State::Complete
    }
}

pub fn node_ready(node: &Node) -> bool {
    node.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == "Ready"))
        .is_some_and(|c| c.status == "True")
}

fn node_condition_text(node: &Node) -> String {
    let ready = node
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == "Ready"));
    match ready.map(|c| c.status.as_str()) {
        Some("Unknown") => "node unreachable (Ready=Unknown)".to_string(),
        Some("False") => "node NotReady".to_string(),
        _ => "node has no Ready condition".to_string(),
    }
}

/// Why a new pod will not become available by itself, if it will not: a container waiting
/// with a back-off reason, a failed pod, or a pod the scheduler rejected.
pub fn stuck_reason(pod: &Pod) -> Option<String> {
    let status = pod.status.as_ref()?;
    if pods::phase(pod) == "Failed" {
        let reason = status.reason.as_deref().unwrap_or("Failed");
        return Some(format!("pod Failed ({reason})"));
    }
    let containers = status
        .init_container_statuses
        .iter()
        .flatten()
        .chain(status.container_statuses.iter().flatten());
    for c in containers {
        let waiting = c.state.as_ref().and_then(|s| s.waiting.as_ref());
        if let Some(reason) = waiting.and_then(|w| w.reason.as_deref())
            && STUCK_WAITING.contains(&reason)
        {
            return Some(format!("container {} {reason}", c.name));
        }
    }
    let unschedulable = status.conditions.iter().flatten().find(|c| {
        c.type_ == "PodScheduled"
            && c.status == "False"
            && c.reason.as_deref() == Some("Unschedulable")
    });
    let message = unschedulable?.message.as_deref().unwrap_or("");
    if !names_own_node_reason(message) {
        // The scheduler rejected only the other nodes: its cache did not have the target node
        // yet (a node that just joined). It retries when the node appears; not stuck.
        return None;
    }
    Some(if message.is_empty() {
        "Pending: unschedulable".to_string()
    } else {
        format!("Pending: {message}")
    })
}

/// Whether a FailedScheduling message (`0/N nodes are available: 1 Insufficient cpu, 2 node(s)
/// didn't satisfy plugin(s) [NodeAffinity]. preemption: ...`) gives a reason other than the
/// NodeAffinity pre-filter that excludes every node but a daemon pod's own.
fn names_own_node_reason(message: &str) -> bool {
    let head = message.split(". preemption:").next().unwrap_or(message);
    let Some((_, list)) = head.split_once("available: ") else {
        return true;
    };
    list.trim_end_matches('.')
        .split(", ")
        .any(|part| !part.contains("[NodeAffinity]"))
}

fn revision_number(pod: &Pod, numbers: &[(String, i64)]) -> Option<i64> {
    let hash = pods::revision_hash(pod)?;
    numbers.iter().find(|(h, _)| h == hash).map(|(_, n)| *n)
}

/// Rollout status of every DaemonSet of the snapshot.
pub fn compute(snapshot: &Snapshot, now: Timestamp) -> Vec<RolloutStatus> {
    let index = PodIndex::new(&snapshot.pods);
    snapshot
        .daemonsets
        .iter()
        .map(|ds| for_daemonset(ds, snapshot, &index, now))
        .collect()
}

pub fn for_daemonset(
    ds: &DaemonSet,
    snapshot: &Snapshot,
    index: &PodIndex<'_>,
    now: Timestamp,
) -> RolloutStatus {
    let namespace = ds.metadata.namespace.clone().unwrap_or_default();
    let name = ds.metadata.name.clone().unwrap_or_default();
    let uid = ds.metadata.uid.as_deref().unwrap_or("");
    let strategy = strategy(ds);
    let min_ready = super::compat::daemonset_spec(ds)
        .and_then(|s| s.min_ready_seconds)
        .unwrap_or(0);
    let owned = revisions::owned(ds, &snapshot.revisions);
    let numbers: Vec<(String, i64)> = owned
        .iter()
        .map(|r| (revisions::hash(r), super::compat::revision_number(r)))
        .collect();
    let current = owned.last().map(|r| super::compat::revision_number(r));
    let hash = revisions::current_hash(ds, &snapshot.revisions);
    let generation = revisions::template_generation(ds);
    let updated = |pod: &Pod| pods::is_updated(pod, hash.as_deref(), generation);
    let placement = DaemonPlacement::new(ds);

    let mut counts = Counts::default();
    let mut rows = Vec::new();
    let mut excluded_old = Vec::new();
    for node in &snapshot.nodes {
        let node_name = node.metadata.name.as_deref().unwrap_or("");
        let on_node = index.on_node(uid, node_name);
        let Some(placement) = placement.as_ref() else {
            break;
        };
        let ready_node = node_ready(node);
        let live: Vec<&Pod> = on_node
            .iter()
            .copied()
            .filter(|p| !pods::is_terminating(p))
            .collect();
        let new_pod = live.iter().copied().find(|p| updated(p));
        let old_pod = live.iter().copied().find(|p| !updated(p));
        let row = |progress, pod: Option<&Pod>, reason: Option<String>| NodeProgress {
            node: node_name.to_string(),
            progress,
            pod: pod.map(|p| pods::name(p).to_string()),
            revision: pod.and_then(|p| revision_number(p, &numbers)),
            reason,
        };
        if !placement.evaluate(node).should_run {
            // The reverse trap: the node left desiredNumberScheduled (typically an untolerated
            // not-ready NoSchedule taint) but its old pod stays (shouldContinueRunning).
            if let Some(old) = old_pod {
                let reason = if ready_node {
                    "not targeted any more; old pod still there".to_string()
                } else {
                    format!(
                        "{}; outside desiredNumberScheduled",
                        node_condition_text(node)
                    )
                };
                excluded_old.push(row(Progress::NodeNotReady, Some(old), Some(reason)));
            }
            continue;
        }
        counts.desired += 1;
        // Status counters from the oldest pod, as updateDaemonSetStatus counts them.
        if let Some(oldest) = on_node.first() {
            if updated(oldest) {
                counts.updated += 1;
            }
            if pods::is_available(oldest, min_ready, now) {
                counts.available += 1;
            }
        }
        let r = match (new_pod, old_pod) {
            (Some(new), old) => {
                if pods::is_available(new, min_ready, now) && old.is_none() {
                    row(Progress::Done, Some(new), None)
                } else if pods::is_available(new, min_ready, now) {
                    row(
                        Progress::Updating,
                        Some(new),
                        Some("new pod available; old pod being removed".into()),
                    )
                } else if !ready_node {
                    row(
                        Progress::NodeNotReady,
                        Some(new),
                        Some(node_condition_text(node)),
                    )
                } else if let Some(reason) = stuck_reason(new) {
                    row(
                        Progress::Stuck,
                        Some(new),
                        Some(format!("new pod {reason}")),
                    )
                } else {
                    let what = if pods::is_ready(new) {
                        "new pod Ready, waiting for minReadySeconds"
                    } else {
                        "new pod starting"
                    };
                    row(Progress::Updating, Some(new), Some(what.into()))
                }
            }
            (None, Some(old)) => {
                if !ready_node {
                    row(
                        Progress::NodeNotReady,
                        Some(old),
                        Some(node_condition_text(node)),
                    )
                } else {
                    let reason = match strategy {
                        Strategy::OnDelete => "old revision; delete the pod to update it",
                        Strategy::RollingUpdate => "old revision, waiting for its turn",
                    };
                    row(Progress::Waiting, Some(old), Some(reason.into()))
                }
            }
            (None, None) => {
                let terminating = on_node.first().copied();
                if !ready_node {
                    row(
                        Progress::NodeNotReady,
                        terminating,
                        Some(node_condition_text(node)),
                    )
                } else if terminating.is_some() {
                    row(
                        Progress::Updating,
                        terminating,
                        Some("old pod terminating".into()),
                    )
                } else {
                    row(Progress::Updating, None, Some("no pod yet".into()))
                }
            }
        };
        match r.progress {
            Progress::Done => counts.done += 1,
            Progress::Updating => counts.updating += 1,
            Progress::Waiting => counts.waiting += 1,
            Progress::Stuck => counts.stuck += 1,
            Progress::NodeNotReady => counts.node_not_ready += 1,
        }
        rows.push(r);
    }
    rows.sort_by(|a, b| {
        a.progress
            .cmp(&b.progress)
            .then_with(|| a.node.cmp(&b.node))
    });
    let budget = budget(ds, counts.desired);
    let kubectl = kubectl_verdict(ds);
    let state = decide(strategy, &kubectl, &counts, budget);
    let message = message(&name, state, &kubectl, &counts, &rows, &excluded_old);
    RolloutStatus {
        namespace,
        name,
        strategy,
        state,
        message,
        kubectl,
        revision: current,
        budget,
        counts,
        nodes: rows,
        excluded_old,
    }
}

/// Done exactly when kubectl says so (RollingUpdate), or when no desired node runs an old
/// revision (OnDelete). Stuck when nothing can move without help: see `State::Stuck`.
fn decide(strategy: Strategy, kubectl: &KubectlVerdict, c: &Counts, b: Budget) -> State {
    if strategy == Strategy::OnDelete {
        return if c.waiting == 0 && c.stuck == 0 && c.updating == 0 {
            State::Complete
        } else if c.stuck > 0 {
            State::Stuck
        } else {
            State::WaitingForDeletion
        };
    }
    if kubectl.done {
        return State::Complete;
    }
    // Nodes whose new pod cannot become available by itself, and nodes whose pod is
    // unavailable because the node is NotReady: neither frees its share of the budget.
    let blocked = c.stuck + c.node_not_ready;
    if blocked == 0 || c.updating > 0 {
        return State::Progressing;
    }
    // `rollingUpdate` (update.go): without surge, unavailable nodes use maxUnavailable; with
    // surge, new pods that are not available yet use maxSurge. Once the blocked nodes use the
    // whole budget, or no node is left waiting, nothing moves without help.
    let limit = if b.max_surge > 0 {
        b.max_surge
    } else {
        b.max_unavailable
    };
    if c.waiting == 0 || blocked >= limit {
        State::Stuck
    } else {
        State::Progressing
    }
}

fn message(
    name: &str,
    state: State,
    kubectl: &KubectlVerdict,
    c: &Counts,
    rows: &[NodeProgress],
    excluded_old: &[NodeProgress],
) -> String {
    let mut m = match state {
        State::Complete => format!(
            "daemon set {name:?} successfully rolled out: {} of {} nodes on the current revision",
            c.done, c.desired
        ),
        State::Progressing => format!(
            "daemon set {name:?} rolling out: {} of {} nodes done, {} updating, {} waiting",
            c.done, c.desired, c.updating, c.waiting
        ),
        State::WaitingForDeletion => format!(
            "daemon set {name:?} uses OnDelete: {} of {} nodes still run an old revision; delete their pods to update them",
            c.waiting, c.desired
        ),
        State::Stuck => {
            let stuck: Vec<String> = rows
                .iter()
                .filter(|r| matches!(r.progress, Progress::Stuck | Progress::NodeNotReady))
                .map(|r| format!("{} ({})", r.node, r.reason.as_deref().unwrap_or("stuck")))
                .collect();
            format!(
                "daemon set {name:?} rollout is stuck: {} of {} nodes done; stuck on {}",
                c.done,
                c.desired,
                stuck.join(", ")
            )
        }
    };
    if c.node_not_ready > 0 {
        m.push_str(&format!(
            "; {} unavailable only because the node is NotReady",
            c.node_not_ready
        ));
    }
    if !excluded_old.is_empty() {
        let names: Vec<&str> = excluded_old.iter().map(|r| r.node.as_str()).collect();
        m.push_str(&format!(
            "; {} node(s) outside the desired count still run an old revision: {}",
            names.len(),
            names.join(", ")
        ));
    }
    if state == State::Progressing
        && !kubectl.done
        && kubectl.message.starts_with("Waiting for daemon set spec")
    {
        m = format!("daemon set {name:?}: waiting for the controller to observe the spec update");
    }
    m
}

/// The verdict over many DaemonSets: the worst state.
pub fn overall(items: &[RolloutStatus]) -> State {
    items
        .iter()
        .map(|i| i.state)
        .max()
        .unwrap_or(State::Complete)
}

/// `--revision N`: done only once revision N is the current one and rolled out; stuck when a
/// newer revision replaced it. (kubectl ignores `--revision` for DaemonSets.)
pub fn require_revision(s: &mut RolloutStatus, n: i64) {
    match s.revision {
        Some(r) if r == n => {}
        Some(r) if r > n => {
            s.state = State::Stuck;
            s.message = format!(
                "daemon set {:?}: revision {n} is no longer current; the current revision is {r}",
                s.name
            );
        }
        r => {
            if s.state != State::Stuck {
                s.state = State::Progressing;
            }
            s.message = format!(
                "daemon set {:?}: waiting for revision {n}; the current revision is {}",
                s.name,
                r.map_or_else(|| "none".to_string(), |r| r.to_string())
            );
        }
    }
}

#[cfg(test)]
mod scheduler_message_tests {
    use super::names_own_node_reason;

    #[test]
    fn a_target_node_unknown_to_the_scheduler_is_not_a_reason() {
        assert!(!names_own_node_reason(
            "0/2 nodes are available: 2 node(s) didn't satisfy plugin(s) [NodeAffinity]. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."
        ));
        assert!(names_own_node_reason(
            "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't satisfy plugin(s) [NodeAffinity]. preemption: x"
        ));
        assert!(names_own_node_reason("something else entirely"));
    }
}
