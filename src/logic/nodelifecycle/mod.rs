//! What a daemon pod waits for, and whether it gets there by itself. One set of reasons shared
//! by `rollout status` (Stuck or Updating) and `explain` (Terminating pods, pods bound to a dead
//! node), so the two never disagree about the same pod. The node side follows the node-lifecycle
//! controller (`pkg/controller/nodelifecycle`: Ready=Unknown when the kubelet goes silent), pod
//! GC (`pkg/controller/podgc`) and the taint-eviction controller ([`eviction`]).

pub mod condition_taints;
pub mod eviction;

use k8s_openapi::api::core::v1::{Node, NodeCondition, Pod};
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;

use crate::logic::daemon::pods;

/// Container waiting reasons after which a pod will not become available by itself.
/// `ErrImagePull` is left out: a first pull failure may be transient, and the kubelet reports
/// `ImagePullBackOff` right after it when it is not.
pub const STUCK_WAITING: &[&str] = &[
    "ImagePullBackOff",
    "ErrImageNeverPull",
    "InvalidImageName",
    "CrashLoopBackOff",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
];

/// The taint that lets PodGC force-delete the pods stuck Terminating on a shut-down node
/// (`gcTerminating` in `pkg/controller/podgc/gc_controller.go`).
pub const OUT_OF_SERVICE: &str = "node.kubernetes.io/out-of-service";

/// How many Failed pods in a row on one node, each recreated by the controller with back-off
/// (`podsShouldBeOnNode`, `failedPodsBackoff`), make "it keeps failing".
pub const KEEPS_FAILING: usize = 3;

/// A node whose kubelet is not running pods: it stopped reporting (the node-lifecycle
/// controller's `tryUpdateNodeHealth` set Ready=Unknown), or it reports NotReady.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeDown {
    pub node: String,
    /// True for Ready=Unknown: the kubelet is gone, so not even deletions complete there.
    pub unreachable: bool,
    /// The Ready condition's last heartbeat, RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_heartbeat: Option<String>,
}

impl NodeDown {
    /// `node unreachable (Ready=Unknown), last heartbeat 2026-...Z`.
    pub fn phrase(&self) -> String {
        let what = if self.unreachable {
            "node unreachable (Ready=Unknown)"
        } else {
            "node NotReady"
        };
        match &self.last_heartbeat {
            Some(t) if self.unreachable => format!("{what}, last heartbeat {t}"),
            _ => what.to_string(),
        }
    }
}

fn ready_condition(node: &Node) -> Option<&NodeCondition> {
    node.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready")
}

/// The node's Ready condition says its pods cannot run: Unknown (or no condition at all, as
/// `explain`'s node notes read it) or False.
pub fn node_down(node: &Node) -> Option<NodeDown> {
    let ready = ready_condition(node);
    let status = ready.map_or("Unknown", |c| c.status.as_str());
    if status == "True" {
        return None;
    }
    let heartbeat = ready
        .and_then(|c| {
            c.last_heartbeat_time
                .as_ref()
                .or(c.last_transition_time.as_ref())
        })
        .map(|t| t.0.to_string());
    Some(NodeDown {
        node: node.metadata.name.clone().unwrap_or_default(),
        unreachable: status != "False",
        last_heartbeat: heartbeat,
    })
}

/// The node reported once and its kubelet then went silent: the node-lifecycle controller set
/// Ready=Unknown (`tryUpdateNodeHealth`). What its pods last reported is unverified since.
pub fn kubelet_silent(node: &Node) -> Option<NodeDown> {
    ready_condition(node).filter(|c| c.status == "Unknown")?;
    node_down(node)
}

fn out_of_service(node: &Node) -> bool {
    node.spec
        .as_ref()
        .and_then(|s| s.taints.as_ref())
        .is_some_and(|ts| ts.iter().any(|t| t.key == OUT_OF_SERVICE))
}

/// Why a pod will not become available, or go away, by itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Blocker {
    /// A container waits with a back-off reason (image pull, crash loop, bad config).
    ContainerBackOff { container: String, reason: String },
    /// The scheduler rejected the pod for its own node.
    Unschedulable { message: String },
    /// The pod failed again and again on this node: the recreations do not help.
    KeepsFailing { reason: String, failures: usize },
    /// Bound to a node that does not run pods: it never becomes Ready there.
    NodeDown { down: NodeDown },
    /// Terminating on a node whose kubelet is gone: the deletion never completes, and PodGC
    /// only finishes it once the node carries the out-of-service taint.
    TerminatingOnUnreachableNode {
        namespace: String,
        pod: String,
        down: NodeDown,
    },
}

impl Blocker {
    /// A fact about the node, not about the pod template.
    pub fn is_node_problem(&self) -> bool {
        matches!(
            self,
            Blocker::NodeDown { .. } | Blocker::TerminatingOnUnreachableNode { .. }
        )
    }

    pub fn sentence(&self) -> String {
        match self {
            Blocker::ContainerBackOff { container, reason } => {
                format!("container {container} {reason}")
            }
            Blocker::Unschedulable { message } if message.is_empty() => {
                "Pending: unschedulable".to_string()
            }
            Blocker::Unschedulable { message } => format!("Pending: {message}"),
            Blocker::KeepsFailing { reason, failures } => format!(
                "Failed ({reason}) {failures} times in a row; the controller's back-off recreations do not help"
            ),
            Blocker::NodeDown { down } => down.phrase(),
            Blocker::TerminatingOnUnreachableNode { pod, down, .. } => format!(
                "pod {pod} Terminating on {}: the kubelet is gone, so the deletion never completes",
                down.phrase()
            ),
        }
    }

    /// What a person can do about it, when there is one thing to do.
    pub fn way_out(&self) -> Option<String> {
        match self {
            Blocker::TerminatingOnUnreachableNode {
                namespace,
                pod,
                down,
            } => Some(format!(
                "force-delete the pod (kubectl delete pod -n {namespace} {pod} --grace-period=0 --force) or, if the node is shut down for good, taint it {OUT_OF_SERVICE}=nodeshutdown:NoExecute (kubectl taint node {} {OUT_OF_SERVICE}=nodeshutdown:NoExecute)",
                down.node
            )),
            _ => None,
        }
    }
}

/// A pod on its way: it gets where it is going without help.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Transient {
    Starting,
    MinReadySeconds,
    /// `status.nominatedNodeName`: the scheduler evicted lower-priority pods for it and binds
    /// it once they have shut down.
    Preempting {
        node: String,
    },
    /// Rejected only for nodes other than its own: the scheduler had not seen its node yet.
    SchedulerCatchingUp,
    /// Failed; `podsShouldBeOnNode` deletes it and `manage` creates a new one, with back-off.
    FailedBackOff {
        reason: String,
    },
    Terminating,
}

impl Transient {
    pub fn sentence(&self) -> String {
        match self {
            Transient::Starting => "starting".to_string(),
            Transient::MinReadySeconds => "Ready, waiting for minReadySeconds".to_string(),
            Transient::Preempting { node } => format!(
                "preempting lower-priority pods on {node}; it is scheduled once they have shut down"
            ),
            Transient::SchedulerCatchingUp => {
                "Pending until the scheduler sees its node".to_string()
            }
            Transient::FailedBackOff { reason } => format!(
                "Failed ({reason}); the controller deletes it and creates a new one with back-off"
            ),
            Transient::Terminating => "terminating".to_string(),
        }
    }
}

/// Where a pod is headed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fate {
    Available,
    Transient(Transient),
    Blocked(Blocker),
}

/// Whether the pod becomes available (or, Terminating, goes away) by itself. `node` is the
/// node it is for; `failures` counts the Failed pods seen in a row for the same node.
pub fn fate(
    pod: &Pod,
    node: Option<&Node>,
    failures: usize,
    min_ready_seconds: i32,
    now: Timestamp,
) -> Fate {
    let down = node.and_then(node_down);
    if pods::is_terminating(pod) {
        return match down {
            Some(d) if d.unreachable && !node.is_some_and(out_of_service) => {
                Fate::Blocked(Blocker::TerminatingOnUnreachableNode {
                    namespace: pod.metadata.namespace.clone().unwrap_or_default(),
                    pod: pods::name(pod).to_string(),
                    down: d,
                })
            }
            _ => Fate::Transient(Transient::Terminating),
        };
    }
    if pods::is_available(pod, min_ready_seconds, now) {
        return Fate::Available;
    }
    if let Some(d) = down.filter(|_| pods::is_bound(pod)) {
        return Fate::Blocked(Blocker::NodeDown { down: d });
    }
    match waiting_state(pod, failures) {
        Some(f) => f,
        None if pods::is_ready(pod) => Fate::Transient(Transient::MinReadySeconds),
        None => Fate::Transient(Transient::Starting),
    }
}

/// The pod's own reason to wait: failed, a container backing off, or the scheduler.
fn waiting_state(pod: &Pod, failures: usize) -> Option<Fate> {
    let status = pod.status.as_ref()?;
    if pods::phase(pod) == "Failed" {
        let reason = status.reason.clone().unwrap_or_else(|| "Failed".into());
        return Some(if failures >= KEEPS_FAILING {
            Fate::Blocked(Blocker::KeepsFailing { reason, failures })
        } else {
            Fate::Transient(Transient::FailedBackOff { reason })
        });
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
            return Some(Fate::Blocked(Blocker::ContainerBackOff {
                container: c.name.clone(),
                reason: reason.to_string(),
            }));
        }
    }
    let unschedulable = status.conditions.iter().flatten().find(|c| {
        c.type_ == "PodScheduled"
            && c.status == "False"
            && c.reason.as_deref() == Some("Unschedulable")
    })?;
    if let Some(node) = status
        .nominated_node_name
        .as_deref()
        .filter(|n| !n.is_empty())
    {
        return Some(Fate::Transient(Transient::Preempting {
            node: node.to_string(),
        }));
    }
    let message = unschedulable.message.clone().unwrap_or_default();
    if !names_own_node_reason(&message) {
        return Some(Fate::Transient(Transient::SchedulerCatchingUp));
    }
    Some(Fate::Blocked(Blocker::Unschedulable { message }))
}

/// Whether a FailedScheduling message (`0/N nodes are available: 1 Insufficient cpu, 2 node(s)
/// didn't satisfy plugin(s) [NodeAffinity]. preemption: ...`) gives a reason other than the
/// NodeAffinity pre-filter that excludes every node but a daemon pod's own.
pub fn names_own_node_reason(message: &str) -> bool {
    let head = message.split(". preemption:").next().unwrap_or(message);
    let Some((_, list)) = head.split_once("available: ") else {
        return true;
    };
    list.trim_end_matches('.')
        .split(", ")
        .any(|part| !part.contains("[NodeAffinity]"))
}

#[cfg(test)]
mod tests {
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
