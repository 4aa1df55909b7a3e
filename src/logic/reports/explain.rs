//! One verdict per (DaemonSet, node): why a node has no daemon pod, or a broken one. Combines
//! the controller's placement (`placement`), the scheduler's filters (`scheduler`), the pods'
//! own state and the rollout, and says it in one sentence with the evidence.

use std::collections::{BTreeMap, HashMap};

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{ContainerStatus, Node, Pod};
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;

use k8s_openapi::api::core::v1::PodSpec;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;

use crate::logic::admission::{Admission, Priority};
use crate::logic::daemon::failed_creates::CreateFailure;
use crate::logic::daemon::placement::{DaemonPlacement, Exclusion};
use crate::logic::daemon::pods;
use crate::logic::nodelifecycle::{self, Blocker, Fate, eviction};
use crate::logic::reason::Code;
use crate::logic::scheduler::defaultpreemption::{Preemption, Preemptor};
use crate::logic::scheduler::{
    self, ClusterView, FilterResult, IncomingPod, defaultpreemption, nodeports, noderesources,
};

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verdict {
    pub namespace: String,
    pub daemon_set: String,
    pub node: String,
    pub code: Code,
    /// A short phrase shared by nodes with the same cause, for grouping.
    pub group: String,
    /// One sentence with the evidence.
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    /// The scheduler's FailedScheduling message for the pod, verbatim, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduler_message: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub insufficient: Vec<noderesources::Insufficient>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub port_conflicts: Vec<nodeports::PortConflict>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preemption: Option<Preemption>,
    /// The other scheduler filters, each passed, rejected with the scheduler's reason, or not
    /// checked with why; empty when the pod is already bound (nothing is left to filter).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<FilterResult>,
    /// Pending pods nominated to the node whose room the pod must leave them (equal or higher
    /// priority), counted in `insufficient` and `portConflicts`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub nominated: Vec<String>,
    /// The taint-eviction controller's countdown for the pod, when a toleration has seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eviction: Option<eviction::Eviction>,
}

/// A node-level fact and what it means for daemon pods.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeNote {
    /// NotReady, Unreachable, Cordoned, MemoryPressure, DiskPressure, PIDPressure, NetworkUnavailable.
    pub condition: String,
    pub message: String,
}

fn condition<'a>(node: &'a Node, type_: &str) -> Option<&'a str> {
    node.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_)
        .map(|c| c.status.as_str())
}

/// What the node's state means for daemon pods (the controller's default tolerations, §1.3,
/// and the kubelet's admission under pressure).
pub fn node_notes(node: &Node) -> Vec<NodeNote> {
    let mut out = Vec::new();
    let note = |c: &str, m: &str| NodeNote {
        condition: c.to_string(),
        message: m.to_string(),
    };
    match condition(node, "Ready") {
        Some("False") => out.push(note("NotReady", "the node reports NotReady: new daemon pods are not placed (the not-ready NoSchedule taint is not tolerated by default), pods already here stay (daemon pods tolerate not-ready:NoExecute forever)")),
        Some("Unknown") | None => out.push(note("Unreachable", "the node's kubelet stopped reporting: new daemon pods are not placed (unreachable:NoSchedule), pods already here stay but cannot run (daemon pods tolerate unreachable:NoExecute forever)")),
        _ => {}
    }
    if node.spec.as_ref().and_then(|s| s.unschedulable) == Some(true) {
        out.push(note("Cordoned", "the node is cordoned: daemon pods tolerate node.kubernetes.io/unschedulable, so they are still placed and kept here"));
    }
    for (c, m) in [
        (
            "MemoryPressure",
            "memory pressure: daemon pods tolerate the memory-pressure taint and stay; the kubelet may still evict pods to reclaim memory",
        ),
        (
            "DiskPressure",
            "disk pressure: daemon pods tolerate the disk-pressure taint, but the kubelet rejects new non-critical pods while it lasts",
        ),
        (
            "PIDPressure",
            "PID pressure: daemon pods tolerate the pid-pressure taint, but the kubelet rejects new non-critical pods while it lasts",
        ),
        (
            "NetworkUnavailable",
            "network unavailable: only hostNetwork daemon pods tolerate the network-unavailable taint",
        ),
    ] {
        if condition(node, c) == Some("True") {
            out.push(note(c, m));
        }
    }
    out
}

/// What one explanation needs besides the objects themselves.
pub struct Context<'a> {
    /// All pods bound to the node (any namespace), for resource and port accounting.
    pub pods_on_node: &'a [&'a Pod],
    /// The nodes and bound pods the other filters read (the whole cluster, or just this node).
    pub view: &'a ClusterView<'a>,
    /// Pending pods nominated to this node (`status.nominatedNodeName`), any priority.
    pub nominated: &'a [&'a Pod],
    /// FailedScheduling messages by pod name (namespace/name).
    pub scheduling_events: &'a HashMap<String, String>,
    /// The pod the controller would create here, as admitted (`admission::admit`), when the
    /// admission inputs were read.
    pub admitted: Option<&'a Admission>,
    /// PodDisruptionBudgets, which preemption respects where it can.
    pub pdbs: &'a [PodDisruptionBudget],
    /// The controller's current FailedCreate refusal for this DaemonSet, if any.
    pub create_failure: Option<&'a CreateFailure>,
    /// The controller's newest FailedDaemonPod event for this node, with `count` the failed
    /// pods its back-off counts in a row (`failed_creates::failed_pod_on`), if any.
    pub failed_pod: Option<CreateFailure>,
    pub current_hash: Option<&'a str>,
    pub template_generation: Option<i64>,
    pub now: Timestamp,
}

fn waiting(statuses: &[ContainerStatus]) -> Option<(&ContainerStatus, &str, String)> {
    statuses.iter().find_map(|cs| {
        let w = cs.state.as_ref()?.waiting.as_ref()?;
        let reason = w.reason.as_deref().unwrap_or("Waiting");
        Some((cs, reason, w.message.clone().unwrap_or_default()))
    })
}

fn last_termination(cs: &ContainerStatus) -> Option<String> {
    let t = cs.last_state.as_ref()?.terminated.as_ref()?;
    Some(format!(
        "last exit {}{}",
        t.exit_code,
        t.reason
            .as_deref()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default()
    ))
}

/// A pod that will not start, or not finish terminating, because of its node
/// (`nodelifecycle::fate`, the same reasons `rollout status` gives).
fn node_down_verdict(pod: &Pod, node: &Node, now: Timestamp) -> Option<(Code, String, String)> {
    let name = pods::name(pod);
    let fate = nodelifecycle::fate(pod, Some(node), 0, 0, now);
    if let (Fate::Available, Some(down)) = (&fate, nodelifecycle::kubelet_silent(node)) {
        return Some((
            Code::NodeDown,
            "unverified: node unreachable".into(),
            format!(
                "pod {name} was Ready when the node last reported, but {}: nobody vouches for it since (daemon pods tolerate unreachable forever, so nothing evicts them)",
                down.phrase()
            ),
        ));
    }
    let Fate::Blocked(b) = fate else {
        return None;
    };
    match &b {
        Blocker::TerminatingOnUnreachableNode { .. } => Some((
            Code::PodTerminating,
            "terminating on an unreachable node".into(),
            format!(
                "{}; to finish it, {}",
                b.sentence(),
                b.way_out().unwrap_or_default()
            ),
        )),
        Blocker::NodeDown { down } => Some((
            Code::NodeDown,
            if down.unreachable {
                "node unreachable".into()
            } else {
                "node NotReady".into()
            },
            format!(
                "pod {name} is bound to this node, but {}: it does not start or become Ready here until the node is back",
                down.phrase()
            ),
        )),
        _ => None,
    }
}

/// The verdict for a pod that exists on a node that should run it: the first of its node,
/// its deletion, its failure, its containers, its scheduling and readiness, and its revision
/// that holds it back.
fn pod_verdict(
    pod: &Pod,
    up_to_date: bool,
    ds: &DaemonSet,
    node: &Node,
    now: Timestamp,
) -> (Code, String, String) {
    let name = pods::name(pod);
    node_down_verdict(pod, node, now)
        .or_else(|| terminating_verdict(pod))
        .or_else(|| failed_verdict(pod))
        .or_else(|| container_verdict(pod))
        .or_else(|| not_running_verdict(pod))
        .or_else(|| (!up_to_date).then(|| old_revision_verdict(ds, name)))
        .unwrap_or_else(|| {
            (
                Code::Healthy,
                "healthy".into(),
                format!("pod {name} is Ready and up to date"),
            )
        })
}

fn terminating_verdict(pod: &Pod) -> Option<(Code, String, String)> {
    pods::is_terminating(pod).then(|| {
        (
            Code::PodTerminating,
            "pod terminating".into(),
            format!(
                "pod {} is being deleted; it goes away once its kubelet has stopped it",
                pods::name(pod)
            ),
        )
    })
}

fn failed_verdict(pod: &Pod) -> Option<(Code, String, String)> {
    if pods::phase(pod) != "Failed" {
        return None;
    }
    let status = pod.status.as_ref();
    let reason = status.and_then(|s| s.reason.clone()).unwrap_or_default();
    let msg = status.and_then(|s| s.message.clone()).unwrap_or_default();
    Some((
        Code::PodFailed,
        format!("pod failed {reason}").trim().to_string(),
        format!(
            "pod {} failed{}{}; the controller deletes it and creates a new one with back-off",
            pods::name(pod),
            if reason.is_empty() {
                String::new()
            } else {
                format!(" ({reason})")
            },
            if msg.is_empty() {
                String::new()
            } else {
                format!(": {msg}")
            }
        ),
    ))
}

fn containers_being_created(name: &str) -> (Code, String, String) {
    (
        Code::ContainerCreating,
        "containers being created".into(),
        format!("pod {name} is bound and its containers are being created"),
    )
}

/// The first waiting container, init containers first.
fn container_verdict(pod: &Pod) -> Option<(Code, String, String)> {
    let name = pods::name(pod);
    let status = pod.status.as_ref();
    let init = status
        .and_then(|s| s.init_container_statuses.as_deref())
        .unwrap_or(&[]);
    let main = status
        .and_then(|s| s.container_statuses.as_deref())
        .unwrap_or(&[]);
    let (cs, reason, message) = waiting(init).or_else(|| waiting(main))?;
    if reason == "ContainerCreating" || reason == "PodInitializing" {
        return Some(containers_being_created(name));
    }
    let mut sentence = format!("container {} of pod {name} is waiting: {reason}", cs.name);
    if !message.is_empty() {
        sentence.push_str(&format!(" ({message})"));
    }
    if let Some(t) = last_termination(cs) {
        sentence.push_str(&format!(", {t}"));
    }
    if cs.restart_count > 0 {
        sentence.push_str(&format!(", {} restarts", cs.restart_count));
    }
    Some((Code::ContainerWaiting, reason.to_string(), sentence))
}

/// Not scheduled, not started, or not Ready.
fn not_running_verdict(pod: &Pod) -> Option<(Code, String, String)> {
    let name = pods::name(pod);
    if !pods::is_bound(pod) || pods::phase(pod) == "Pending" {
        if pods::is_bound(pod) {
            return Some(containers_being_created(name));
        }
        return Some((
            Code::PodPending,
            "pod not scheduled".into(),
            format!("pod {name} is Pending and not yet scheduled"),
        ));
    }
    if pods::is_ready(pod) {
        return None;
    }
    let why = pod
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "Ready"))
        .and_then(|c| c.message.clone())
        .unwrap_or_else(|| "readiness not reported".into());
    Some((
        Code::PodNotReady,
        "pod not ready".into(),
        format!("pod {name} is Running but not Ready: {why}"),
    ))
}

fn old_revision_verdict(ds: &DaemonSet, name: &str) -> (Code, String, String) {
    let sentence = if ds.spec_strategy() == "OnDelete" {
        format!(
            "pod {name} runs an old revision; the update strategy is OnDelete, so it is replaced only when deleted"
        )
    } else {
        format!(
            "pod {name} is Ready on an old revision and waits for its turn in the rolling update{}",
            ds.budget_note()
        )
    };
    (Code::OldRevision, "old revision".into(), sentence)
}

trait RolloutFacts {
    fn spec_strategy(&self) -> String;
    fn budget_note(&self) -> String;
}

impl RolloutFacts for DaemonSet {
    fn spec_strategy(&self) -> String {
        crate::logic::apimachinery::compat::daemonset_spec(self)
            .and_then(|s| s.update_strategy.as_ref())
            .and_then(|u| u.type_.clone())
            .unwrap_or_else(|| "RollingUpdate".into())
    }

    /// Whether maxUnavailable is what holds the pod back: it is when as many pods as the budget
    /// allows are already unavailable.
    fn budget_note(&self) -> String {
        let Some(st) = self.status.as_ref() else {
            return String::new();
        };
        let desired = st.desired_number_scheduled;
        let unavailable = st.number_unavailable.unwrap_or(0);
        let max = crate::logic::daemon::rollout::budget(self, usize::try_from(desired).unwrap_or(0))
            .max_unavailable as i32;
        if unavailable >= max {
            format!(
                " (held back by maxUnavailable={max}: {unavailable} of {desired} pods are unavailable)"
            )
        } else {
            String::new()
        }
    }
}

/// Explains one DaemonSet on one node. `ds_pods` are the DaemonSet's pods for this node,
/// oldest first (`pods::PodIndex::on_node`).
/// Whether the verdict of some node runs the scheduler's filters, the only part that reads
/// other pods: a node that should run the DaemonSet (`targeted`) and has no pod of it, or a
/// pod waiting unbound. A superset of `targeted`'s `needs_fit`, so that `explain ds` can leave
/// other namespaces' pods unread whenever this is false without changing any verdict.
pub fn checks_fit_somewhere(ds: &DaemonSet, nodes: &[Node], index: &pods::PodIndex<'_>) -> bool {
    let Some(placement) = DaemonPlacement::new(ds) else {
        return false;
    };
    let uid = ds.metadata.uid.as_deref().unwrap_or("");
    nodes.iter().any(|node| {
        let live = index.on_node(uid, node.metadata.name.as_deref().unwrap_or(""));
        let waiting = live
            .iter()
            .any(|p| !pods::is_bound(p) && !pods::is_terminating(p));
        (live.is_empty() || waiting) && placement.evaluate(node).should_run
    })
}

pub fn explain(ds: &DaemonSet, node: &Node, ds_pods: &[&Pod], ctx: &Context<'_>) -> Verdict {
    let mut v = Verdict::blank(ds, node);
    let Some(placement) = DaemonPlacement::new(ds) else {
        v.set((
            Code::NodeNameMismatch,
            "no pod template".into(),
            "the DaemonSet has no pod template".into(),
        ));
        return v;
    };
    let p = placement.evaluate(node);
    if p.should_run {
        return targeted(v, ds, node, &placement, ds_pods, ctx);
    }
    let Some(exclusion) = p.exclusion else {
        return v;
    };
    match ds_pods.first() {
        Some(first) => {
            v.code = Code::Misscheduled;
            v.pod = Some(pods::name(first).to_string());
            v.group = format!("misscheduled: {}", exclusion.group());
            v.message = misscheduled(
                ds,
                node,
                &placement,
                &exclusion,
                p.should_continue,
                ds_pods,
                ctx.now,
            );
        }
        None => v.set((
            exclusion.code(),
            exclusion.group(),
            format!("not targeted: {}", exclusion.sentence()),
        )),
    }
    v
}

impl Verdict {
    fn blank(ds: &DaemonSet, node: &Node) -> Verdict {
        Verdict {
            namespace: ds.metadata.namespace.clone().unwrap_or_default(),
            daemon_set: ds.metadata.name.clone().unwrap_or_default(),
            node: node.metadata.name.clone().unwrap_or_default(),
            code: Code::Healthy,
            group: String::new(),
            message: String::new(),
            pod: None,
            scheduler_message: None,
            insufficient: Vec::new(),
            port_conflicts: Vec::new(),
            preemption: None,
            filters: Vec::new(),
            nominated: Vec::new(),
            eviction: None,
        }
    }

    fn set(&mut self, (code, group, message): (Code, String, String)) {
        self.code = code;
        self.group = group;
        self.message = message;
    }
}

/// Why the DaemonSet's pods on a node that should not run it are there, and what becomes of
/// them. `live` is not empty.
fn misscheduled(
    ds: &DaemonSet,
    node: &Node,
    placement: &DaemonPlacement<'_>,
    exclusion: &Exclusion,
    should_continue: bool,
    live: &[&Pod],
    now: Timestamp,
) -> String {
    let Some(first) = live.first() else {
        return String::new();
    };
    let name = pods::name(first);
    let why = exclusion.sentence();
    if live.iter().all(|p| pods::is_terminating(p)) {
        // Without surge `rollingUpdate` counts such a node as unavailable.
        let counted = if crate::logic::daemon::rollout::budget(ds, 1).max_surge > 0 {
            ""
        } else {
            "; while it stays, the rolling update counts the node as unavailable"
        };
        let stuck = node_down_verdict(first, node, now)
            .map(|(_, _, m)| format!("; {m}"))
            .unwrap_or_default();
        return format!(
            "pod {name} is Terminating on a node that no longer runs the DaemonSet ({why}){counted}{stuck}"
        );
    }
    if !should_continue {
        return format!("pod {name} runs here although {why}; the controller deletes it");
    }
    match eviction::pending(
        node,
        placement.tolerations(),
        false,
        pods::created(first),
        now,
    ) {
        Some(e) => format!("pod {name} runs here although {why}; {}", e.sentence()),
        None => format!(
            "pod {name} runs here although {why}; it is kept (a NoSchedule taint only blocks new pods)"
        ),
    }
}

/// The verdict on a node that should run the DaemonSet.
fn targeted(
    mut v: Verdict,
    ds: &DaemonSet,
    node: &Node,
    placement: &DaemonPlacement<'_>,
    live: &[&Pod],
    ctx: &Context<'_>,
) -> Verdict {
    let updated = |pod: &Pod| pods::is_updated(pod, ctx.current_hash, ctx.template_generation);
    // A Ready, current pod anywhere on the node settles it (surge keeps two pods a while).
    // With surge the new pod is created beside the old one (`rollingUpdate`'s surge branch):
    // while it is not Ready, it is the one to explain, judged with the old pod still bound.
    let surging = crate::logic::daemon::rollout::budget(ds, 1).max_surge > 0;
    let shown = live
        .iter()
        .find(|pod| !pods::is_terminating(pod) && pods::is_ready(pod) && updated(pod))
        .or_else(|| {
            live.iter()
                .find(|pod| surging && !pods::is_terminating(pod) && updated(pod))
        })
        .or_else(|| live.first())
        .copied();
    let needs_fit = match shown {
        None => true,
        Some(pod) => !pods::is_bound(pod) && !pods::is_terminating(pod),
    };
    if let Some(pod) = shown {
        v.pod = Some(pods::name(pod).to_string());
        let key = format!("{}/{}", v.namespace, pods::name(pod));
        v.scheduler_message = ctx.scheduling_events.get(&key).cloned();
    }
    if shown.is_none() && refused(&mut v, ctx) {
        return v;
    }
    if needs_fit && scheduler_rejects(&mut v, ds, node, placement, shown, ctx) {
        if matches!(v.code, Code::InsufficientResources | Code::HostPortConflict) {
            v.message.push_str(&beside_old_pod(live, shown, &updated));
        }
        return v;
    }
    let Some(pod) = shown else {
        pod_missing(&mut v, ctx);
        return v;
    };
    let (code, group, mut message) = pod_verdict(pod, updated(pod), ds, node, ctx.now);
    if let Some(m) = v
        .scheduler_message
        .as_ref()
        .filter(|_| code == Code::PodPending)
    {
        message = format!("{message}; the scheduler says: {m}");
    }
    v.set((code, group, message));
    if code == Code::PodFailed {
        v.message.push_str(&failed_evidence(ctx, live));
    }
    if !pods::is_terminating(pod)
        && let Some(e) = eviction::pending(
            node,
            placement.tolerations(),
            true,
            pods::created(pod),
            ctx.now,
        )
    {
        if v.code == Code::Healthy {
            v.code = Code::EvictionLoop;
            v.group = format!(
                "evicted and recreated: {} tolerated for {}s",
                e.taint, e.toleration_seconds
            );
        }
        v.message.push_str(&format!("; {}", e.sentence()));
        v.eviction = Some(e);
    }
    v
}

/// The scheduler's side for a pod not yet bound (or not yet created): the filters, then
/// whether the admitted pod's node selector, resources, host ports or another filter keep it
/// off the node. True when one does, with the verdict set.
fn scheduler_rejects(
    v: &mut Verdict,
    ds: &DaemonSet,
    node: &Node,
    placement: &DaemonPlacement<'_>,
    shown: Option<&Pod>,
    ctx: &Context<'_>,
) -> bool {
    // The pod the scheduler judges: the pending one itself, else the admitted model, else
    // the template.
    let spec = shown
        .and_then(|p| p.spec.as_ref())
        .or(ctx.admitted.and_then(|a| a.pod.spec.as_ref()))
        .unwrap_or(placement.pod_spec());
    let empty = BTreeMap::new();
    // Listed pods are decoded lean; the other filters read the whole template.
    let incoming = IncomingPod {
        namespace: &v.namespace,
        labels: crate::logic::apimachinery::compat::daemonset_spec(ds)
            .and_then(|s| s.template.metadata.as_ref())
            .and_then(|m| m.labels.as_ref())
            .unwrap_or(&empty),
        spec: ctx
            .admitted
            .and_then(|a| a.pod.spec.as_ref())
            .unwrap_or(placement.pod_spec()),
    };
    v.filters = scheduler::run_all(&incoming, node, ctx.view);
    // Resources, then host ports, then the other filters, as the verdicts rank them.
    if runtime_class_mismatch(v, spec, node) || fit(v, ctx, ds, shown, spec, node) {
        return true;
    }
    let Some(found) = filter_verdict(&v.filters) else {
        return false;
    };
    v.set(found);
    true
}

/// Should run and would fit, but there is no pod.
fn pod_missing(v: &mut Verdict, ctx: &Context<'_>) {
    v.code = Code::PodMissing;
    v.group = "no pod yet".into();
    v.message = match &ctx.failed_pod {
        Some(f) => format!(
            "should run and would fit, but has no pod: the kubelet rejected the last one and the controller recreates it with back-off ({}: {})",
            f.evidence(ctx.now),
            f.message
        ),
        None => "should run and would fit, but has no pod yet (the controller creates it on its next sync)".into(),
    };
    // The claims' filters decide alone; other undecided filters are in `filters`.
    let claim_filters = v.filters.iter().filter(|f| {
        f.plugin.starts_with("Volume")
            || matches!(f.plugin, "NodeVolumeLimits" | "DynamicResources")
    });
    for f in claim_filters {
        if let scheduler::Outcome::NotChecked { reason } = &f.outcome {
            v.message.push_str(&format!("; {}: {reason}", f.plugin));
        }
    }
}

/// The controller's FailedDaemonPod events for a Failed pod's node: how often it already
/// deleted a failed pod here, and, from the third failure in a row (as `rollout status`
/// counts them, `nodelifecycle::KEEPS_FAILING`), that its back-off recreations do not help.
fn failed_evidence(ctx: &Context<'_>, live: &[&Pod]) -> String {
    let in_a_row =
        crate::logic::daemon::failed_creates::failed_in_a_row(ctx.failed_pod.as_ref(), live);
    let evidence = ctx
        .failed_pod
        .as_ref()
        .map(|f| format!(" ({})", f.evidence(ctx.now)))
        .unwrap_or_default();
    if in_a_row >= nodelifecycle::KEEPS_FAILING {
        format!(
            "; {in_a_row} pods in a row failed here{evidence}: the back-off recreations do not help, it keeps failing until the cause is fixed"
        )
    } else if evidence.is_empty() {
        String::new()
    } else {
        format!("; the controller already deleted a failed pod here{evidence}")
    }
}

/// For a surge pod judged beside the node's old pod: that the old pod's requests and ports
/// count, and that the rolling update does not delete it first (`rollingUpdate` deletes an
/// old pod only once its replacement is available).
fn beside_old_pod(live: &[&Pod], shown: Option<&Pod>, updated: &dyn Fn(&Pod) -> bool) -> String {
    let Some(new) = shown.filter(|p| updated(p)) else {
        return String::new();
    };
    let old = live
        .iter()
        .find(|p| !updated(p) && !pods::is_terminating(p) && pods::is_bound(p));
    match old {
        Some(old) => format!(
            " (pod {} is the surge pod: it must fit beside the old pod {}, which the rolling update keeps until its replacement is available)",
            pods::name(new),
            pods::name(old)
        ),
        None => String::new(),
    }
}

/// The first filter that rejects the pod, as a verdict.
fn filter_verdict(filters: &[FilterResult]) -> Option<(Code, String, String)> {
    scheduler::deciding(filters).and_then(|f| {
        let (reason, detail) = f.rejected()?;
        let code = match f.plugin {
            "PodTopologySpread" => Code::TopologySpreadConflict,
            "InterPodAffinity" => Code::PodAffinityConflict,
            "DynamicResources" => Code::DeviceUnavailable,
            _ => Code::VolumeConflict,
        };
        Some((
            code,
            reason.to_string(),
            format!(
                "should run, but the scheduler rejects the node ({}): {reason}; {detail}",
                f.plugin
            ),
        ))
    })
}

/// No pod, and the API server refuses the controller's creates: its FailedCreate events say
/// so (the truth for an existing DaemonSet), or the admission model predicts it.
fn refused(v: &mut Verdict, ctx: &Context<'_>) -> bool {
    if let Some(f) = ctx.create_failure {
        v.code = Code::CreateRefused;
        v.group = format!("create refused: {}", refusal_gist(&f.message));
        v.message = format!(
            "should run, but the API server refuses the controller's pod ({}): {}",
            f.evidence(ctx.now),
            f.message
        );
        return true;
    }
    if let Some(r) = ctx.admitted.and_then(|a| a.refusal.as_ref()) {
        v.code = Code::CreateRefused;
        v.group = format!("create refused: {}", refusal_gist(&r.message));
        v.message = format!(
            "should run, but the API server would refuse the pod ({} admission, {}): {}",
            r.rule, r.function, r.message
        );
        return true;
    }
    false
}

/// The part of a refusal that is the same for every pod: after `is forbidden: `, up to the
/// first colon (`violates PodSecurity "baseline:latest"`, `error looking up service account`).
pub fn refusal_gist(message: &str) -> String {
    let why = message
        .split_once("is forbidden: ")
        .map_or(message, |(_, w)| w);
    match why.find(": ") {
        Some(i) => why[..i].to_string(),
        None => why.to_string(),
    }
}

/// The admitted pod's nodeSelector (a RuntimeClass's `scheduling.nodeSelector`) that the
/// controller never saw: the scheduler's NodeAffinity filter rejects the node.
fn runtime_class_mismatch(v: &mut Verdict, spec: &PodSpec, node: &Node) -> bool {
    let Some(class) = spec.runtime_class_name.as_deref() else {
        return false;
    };
    let Err(mismatch) =
        crate::logic::daemon::node_affinity::check(spec.node_selector.as_ref(), None, node)
    else {
        return false;
    };
    let e = Exclusion::Affinity { mismatch };
    v.code = Code::RuntimeClassMismatch;
    v.group = format!("RuntimeClass {class}: {}", e.group());
    v.message = format!(
        "should run, but RuntimeClass {class} adds a nodeSelector the node does not match ({}): the scheduler leaves the pod Pending (node(s) didn't match Pod's node affinity/selector)",
        e.sentence()
    );
    true
}

/// Resources and host ports against the node, and what preemption would do about them.
fn fit(
    v: &mut Verdict,
    ctx: &Context<'_>,
    ds: &DaemonSet,
    shown: Option<&Pod>,
    spec: &PodSpec,
    node: &Node,
) -> bool {
    let priority = incoming_priority(ctx, shown, spec);
    // Extended resources DRA serves on this node are DynamicResources' to decide.
    let dra = ctx.view.objects.dra.as_ref();
    let request =
        scheduler::dynamic_resources::fit_request(&noderesources::pod_requests(spec), node, dra);
    // Pods nominated to the node at equal or higher priority hold their room
    // (`addNominatedPods`).
    let node_name = node.metadata.name.clone().unwrap_or_default();
    let own_uid = ds.metadata.uid.as_deref().unwrap_or("");
    let held = scheduler::nominated::counted(ctx.nominated, &node_name, priority.value, own_uid);
    v.nominated = held.iter().map(|p| pods::name(p).to_string()).collect();
    let mut on_node = ctx.pods_on_node.to_vec();
    on_node.extend(held);
    let short = noderesources::insufficient(&request, node, &on_node);
    let ports = nodeports::port_conflicts(spec, &on_node);
    if short.is_empty() && ports.is_empty() {
        return false;
    }
    let pre = defaultpreemption::preemption(
        &Preemptor {
            spec,
            request: &request,
            priority: priority.value,
            never: priority.never_preempts(),
        },
        node,
        &on_node,
        ctx.pdbs,
    );
    let mut parts: Vec<String> = short
        .iter()
        .map(noderesources::Insufficient::phrase)
        .collect();
    parts.extend(ports.iter().map(|c| {
        format!(
            "host port {} is held by pod {} ({})",
            c.wanted, c.pod, c.held
        )
    }));
    if short.is_empty() {
        v.code = Code::HostPortConflict;
        v.group = format!("host port {} taken", ports[0].wanted);
        v.message = format!("should run, but a host port is taken: {}", parts.join("; "));
    } else {
        v.code = Code::InsufficientResources;
        v.group = short
            .iter()
            .map(|i| i.reason.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        v.message = format!("should run, but the pod does not fit: {}", parts.join("; "));
    }
    v.message.push_str(&preemption_text(&pre, &priority));
    v.insufficient = short;
    v.port_conflicts = ports;
    v.preemption = Some(pre);
    true
}

/// The daemon pod's priority as the scheduler sees it: the real pod's, else the admitted
/// pod's (the Priority admission plugin resolves the class), else the template's.
fn incoming_priority(ctx: &Context<'_>, shown: Option<&Pod>, spec: &PodSpec) -> Priority {
    match shown {
        Some(p) => Priority::of(p),
        None => ctx.admitted.map_or_else(
            || {
                Priority::of(&Pod {
                    spec: Some(spec.clone()),
                    ..Default::default()
                })
            },
            |a| Priority::of(&a.pod),
        ),
    }
}

/// What DefaultPreemption would do, as a clause for the verdict.
pub fn preemption_text(pre: &Preemption, priority: &Priority) -> String {
    match pre {
        Preemption::WouldHelp { details, .. } => {
            let list: Vec<String> = details
                .iter()
                .map(|d| {
                    let pdb = if d.violates_pdb {
                        ", violating its PodDisruptionBudget"
                    } else {
                        ""
                    };
                    format!("{} (priority {}{pdb})", d.pod, d.priority)
                })
                .collect();
            format!(
                "; the scheduler would run it after preempting {} (the pod has priority {})",
                list.join(", "),
                priority.value
            )
        }
        Preemption::NotEligible { reason } => format!(
            "; preemption cannot help: the pod's preemptionPolicy is Never (the scheduler: {reason})"
        ),
        Preemption::Impossible => {
            "; preemption cannot help: the request exceeds the node's allocatable".to_string()
        }
        Preemption::WouldNotHelp {
            lower_priority_pods: 0,
        } => format!(
            "; preemption would not help: no pod here has a priority below the pod's {} (give the DaemonSet a higher priorityClassName)",
            priority.value
        ),
        Preemption::WouldNotHelp { .. } => format!(
            "; preemption would not help: evicting every pod with a priority below {} would still not make room",
            priority.value
        ),
    }
}

/// Verdicts grouped by cause, with counts and example nodes (`explain ds`).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerdictGroup {
    pub code: Code,
    pub group: String,
    pub count: usize,
    pub nodes: Vec<String>,
    /// One example sentence.
    pub example: String,
}

pub fn group(verdicts: &[Verdict]) -> Vec<VerdictGroup> {
    let mut groups: BTreeMap<(Code, String), VerdictGroup> = BTreeMap::new();
    for v in verdicts {
        let g = groups
            .entry((v.code, v.group.clone()))
            .or_insert_with(|| VerdictGroup {
                code: v.code,
                group: v.group.clone(),
                count: 0,
                nodes: Vec::new(),
                example: v.message.clone(),
            });
        g.count += 1;
        g.nodes.push(v.node.clone());
    }
    groups.into_values().collect()
}

/// Worst first, then by DaemonSet and node.
pub fn sort(verdicts: &mut [Verdict]) {
    verdicts.sort_by(|a, b| {
        (a.code, &a.namespace, &a.daemon_set, &a.node).cmp(&(
            b.code,
            &b.namespace,
            &b.daemon_set,
            &b.node,
        ))
    });
}
