//! Coverage of one DaemonSet: which nodes should run it (as the controller decides), what runs
//! there, what runs where it should not, and why the other nodes are excluded. The counters are
//! computed the way `updateDaemonSetStatus` computes the DaemonSet status, so they can be
//! compared with `kubectl get ds`.

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;

use super::placement::{DaemonPlacement, Exclusion, ExclusionGroup, Exclusions};
use super::pods::NodePods;
use super::{pods, revisions};
use crate::logic::nodelifecycle;
use crate::logic::nodelifecycle::eviction::{self, Eviction};
use crate::logic::snapshot::Snapshot;

/// What a node that should run the DaemonSet has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum NodeState {
    /// No daemon pod, and the API server refuses the controller's creates (its FailedCreate
    /// events, `DaemonSetCoverage::create_refused`).
    CreateRefused,
    /// No daemon pod at all.
    Missing,
    /// The pod ended (Failed/Succeeded) and waits for the controller to replace it.
    Failed,
    /// The pod is not yet bound or not yet running.
    Pending,
    /// Running but not Ready.
    NotReady,
    /// Ready as last reported, but the node's kubelet stopped reporting: nobody vouches for
    /// the pod since the node's last heartbeat (daemon pods tolerate unreachable forever, so
    /// nothing evicts them; kubernetes/kubernetes#96641).
    Unverified,
    /// Being deleted.
    Terminating,
    /// Ready, but on an old revision.
    OldRevision,
    /// Ready and on the current revision.
    Ready,
}

impl NodeState {
    pub fn as_str(self) -> &'static str {
        match self {
            NodeState::CreateRefused => "CreateRefused",
            NodeState::Missing => "Missing",
            NodeState::Failed => "Failed",
            NodeState::Pending => "Pending",
            NodeState::NotReady => "NotReady",
            NodeState::Unverified => "Unverified",
            NodeState::Terminating => "Terminating",
            NodeState::OldRevision => "OldRevision",
            NodeState::Ready => "Ready",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeCoverage {
    pub node: String,
    pub state: NodeState,
    /// The pod the state describes, if any.
    pub pod: Option<String>,
    /// Whether that pod runs the current revision.
    pub up_to_date: bool,
    /// Unverified: the node's last heartbeat (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unverified_since: Option<String>,
    /// The taint-eviction controller evicts the pod when a toleration's seconds run out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eviction: Option<Eviction>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Misscheduled {
    pub node: String,
    pub pods: Vec<String>,
    pub reason: String,
    pub exclusion: Exclusion,
    /// The controller deletes these pods (selector/affinity miss or untolerated NoExecute taint),
    /// or they are being deleted already; otherwise they may stay (an untolerated NoSchedule
    /// taint only blocks new pods).
    pub will_be_removed: bool,
    /// Every pod here has a deletionTimestamp.
    pub terminating: bool,
    /// What a Terminating pod waits for when that never comes by itself (its node's kubelet
    /// is gone), and the way out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waits_for: Option<String>,
    /// The taint-eviction controller deletes these pods when a toleration's seconds run out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eviction: Option<Eviction>,
}

/// Counters; `desired`, `scheduled`, `ready`, `available`, `up_to_date` and `misscheduled` are
/// the controller's status fields recomputed from the objects.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub should_run: usize,
    pub scheduled: usize,
    pub running: usize,
    pub ready: usize,
    pub available: usize,
    pub up_to_date: usize,
    pub missing: usize,
    pub misscheduled: usize,
    /// Should-run nodes with a Ready pod on the current revision, on a node that reports.
    pub covered: usize,
    /// `covered / should_run` in percent; 100 when no node should run the DaemonSet.
    pub coverage_percent: f64,
}

/// The controller's own status, for comparison.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ControllerStatus {
    pub desired_number_scheduled: i32,
    pub current_number_scheduled: i32,
    pub number_ready: i32,
    pub updated_number_scheduled: i32,
    pub number_available: i32,
    pub number_misscheduled: i32,
    pub observed_generation: Option<i64>,
    pub generation: Option<i64>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DaemonSetCoverage {
    pub namespace: String,
    pub name: String,
    pub summary: Summary,
    pub status: ControllerStatus,
    /// Every should-run node, worst state first.
    pub nodes: Vec<NodeCoverage>,
    pub misscheduled: Vec<Misscheduled>,
    pub excluded: Vec<ExclusionGroup>,
    /// The controller's current FailedCreate refusal: why the nodes in `CreateRefused` have
    /// no pod.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub create_refused: Option<super::failed_creates::CreateFailure>,
}

impl DaemonSetCoverage {
    /// Nodes that should run the DaemonSet but have no Ready, up-to-date pod.
    pub fn gaps(&self) -> impl Iterator<Item = &NodeCoverage> {
        self.nodes.iter().filter(|n| n.state != NodeState::Ready)
    }
}

/// Coverage of every DaemonSet in the snapshot, in the snapshot's order.
pub fn compute(snapshot: &Snapshot, now: Timestamp) -> Vec<DaemonSetCoverage> {
    compute_with(snapshot, now, &mut NodePods::default())
}

/// [`compute`] with the pods indexed by node in `index`, which is kept from the last snapshot
/// when its pods are the same. The pass goes node by node, each node through every DaemonSet:
/// on a big cluster a frame is mostly reading nodes and pods from memory, and this way each is
/// read once while it is at hand.
pub fn compute_with(
    snapshot: &Snapshot,
    now: Timestamp,
    index: &mut NodePods,
) -> Vec<DaemonSetCoverage> {
    index.refresh(&snapshot.pods);
    let mut runs: Vec<Run<'_>> = snapshot
        .daemonsets
        .iter()
        .map(|ds| Run::new(ds, snapshot, now, index))
        .collect();
    let (mut here, mut mine): (Vec<(u32, &Pod)>, Vec<&Pod>) = (Vec::new(), Vec::new());
    for node in &snapshot.nodes {
        let node: &Node = node;
        here.clear();
        here.extend(index.on_node(node.metadata.name.as_deref().unwrap_or("")));
        for run in runs.iter_mut() {
            mine.clear();
            let owner = run.owner;
            mine.extend(
                here.iter()
                    .filter(|(o, _)| Some(*o) == owner)
                    .map(|(_, p)| *p),
            );
            run.node(node, &mine);
        }
    }
    runs.into_iter().map(Run::finish).collect()
}

fn state_of(pod: &Pod, up_to_date: bool) -> NodeState {
    if pods::is_terminating(pod) {
        NodeState::Terminating
    } else if pods::is_terminal(pod) {
        NodeState::Failed
    } else if !pods::is_bound(pod) || pods::phase(pod) == "Pending" {
        NodeState::Pending
    } else if !pods::is_ready(pod) {
        NodeState::NotReady
    } else if !up_to_date {
        NodeState::OldRevision
    } else {
        NodeState::Ready
    }
}

/// One DaemonSet's coverage while the nodes go by.
struct Run<'a> {
    ds: &'a DaemonSet,
    /// The number its pods go by in the index; `None` without pods.
    owner: Option<u32>,
    placement: Option<DaemonPlacement<'a>>,
    refusal: Option<&'a super::failed_creates::CreateFailure>,
    pass: Pass,
    tally: Tally,
}

impl<'a> Run<'a> {
    fn new(ds: &'a DaemonSet, snapshot: &'a Snapshot, now: Timestamp, index: &NodePods) -> Self {
        let owned = super::failed_creates::owned_by(ds, &snapshot.pods);
        let refusal = super::failed_creates::current(ds, &snapshot.create_failures, owned);
        let pass = Pass {
            min_ready: crate::logic::apimachinery::compat::daemonset_spec(ds)
                .and_then(|s| s.min_ready_seconds)
                .unwrap_or(0),
            hash: revisions::current_hash(ds, &snapshot.revisions),
            generation: revisions::template_generation(ds),
            no_pod: if refusal.is_some() {
                NodeState::CreateRefused
            } else {
                NodeState::Missing
            },
            now,
        };
        Run {
            ds,
            owner: index.owner(ds.metadata.uid.as_deref().unwrap_or("")),
            placement: DaemonPlacement::new(ds),
            refusal,
            pass,
            tally: Tally::default(),
        }
    }

    fn node(&mut self, node: &Node, on_node: &[&Pod]) {
        if let Some(placement) = &self.placement {
            self.pass.node(placement, node, on_node, &mut self.tally);
        }
    }

    fn finish(self) -> DaemonSetCoverage {
        let (ds, mut t, now) = (self.ds, self.tally, self.pass.now);
        t.summary.coverage_percent = percent(t.summary.covered, t.summary.should_run);
        t.nodes
            .sort_by(|a, b| a.state.cmp(&b.state).then_with(|| a.node.cmp(&b.node)));
        DaemonSetCoverage {
            namespace: ds.metadata.namespace.clone().unwrap_or_default(),
            name: ds.metadata.name.clone().unwrap_or_default(),
            summary: t.summary,
            status: controller_status(ds),
            nodes: t.nodes,
            misscheduled: t.misscheduled,
            excluded: t.excluded.into_groups(),
            create_refused: self.refusal.cloned().map(|f| f.aged(now)),
        }
    }
}

/// What stays fixed while coverage goes over the nodes.
struct Pass {
    min_ready: i32,
    hash: Option<String>,
    generation: Option<i64>,
    /// The state of a node that should run the DaemonSet and has no pod.
    no_pod: NodeState,
    now: Timestamp,
}

#[derive(Default)]
struct Tally {
    summary: Summary,
    nodes: Vec<NodeCoverage>,
    misscheduled: Vec<Misscheduled>,
    excluded: Exclusions,
}

impl Pass {
    fn updated(&self, pod: &Pod) -> bool {
        pods::is_updated(pod, self.hash.as_deref(), self.generation)
    }

    fn node(&self, placement: &DaemonPlacement<'_>, node: &Node, on_node: &[&Pod], t: &mut Tally) {
        let p = placement.evaluate(node);
        if p.should_run {
            let row = self.should_run(placement, node, on_node, &mut t.summary);
            t.nodes.push(row);
            return;
        }
        let Some(exclusion) = p.exclusion else {
            return;
        };
        if !on_node.is_empty() {
            t.summary.misscheduled += 1;
            t.misscheduled.push(misscheduled_entry(
                node,
                on_node,
                &exclusion,
                (p.should_continue, placement.tolerations()),
                self.now,
            ));
        }
        t.excluded
            .add(&exclusion, node.metadata.name.as_deref().unwrap_or(""));
    }

    /// A node that should run the DaemonSet: counted as `updateDaemonSetStatus` counts it
    /// (by its oldest pod), and described by the pod that settles it.
    fn should_run(
        &self,
        placement: &DaemonPlacement<'_>,
        node: &Node,
        on_node: &[&Pod],
        summary: &mut Summary,
    ) -> NodeCoverage {
        let node_name = node.metadata.name.clone().unwrap_or_default();
        summary.should_run += 1;
        let Some(oldest) = on_node.first() else {
            summary.missing += 1;
            return NodeCoverage {
                node: node_name,
                state: self.no_pod,
                pod: None,
                up_to_date: false,
                unverified_since: None,
                eviction: None,
            };
        };
        self.count_oldest(oldest, summary);
        // During a surge the node has an old and a new pod; it is covered once any live
        // pod is Ready on the current revision. Otherwise describe the oldest pod.
        let shown = on_node
            .iter()
            .find(|pod| !pods::is_terminating(pod) && pods::is_ready(pod) && self.updated(pod))
            .unwrap_or(oldest);
        let up_to_date = self.updated(shown);
        let mut state = state_of(shown, up_to_date);
        // A Ready pod on a node whose kubelet is gone is not coverage anybody can vouch for.
        let unreachable = nodelifecycle::kubelet_silent(node);
        if state == NodeState::Ready && unreachable.is_some() {
            state = NodeState::Unverified;
        }
        if state == NodeState::Ready {
            summary.covered += 1;
        }
        NodeCoverage {
            node: node_name,
            state,
            pod: Some(pods::name(shown).to_string()),
            up_to_date,
            unverified_since: unreachable
                .filter(|_| state == NodeState::Unverified)
                .and_then(|d| d.last_heartbeat),
            eviction: (!pods::is_terminating(shown))
                .then(|| {
                    let created = pods::created(shown);
                    eviction::pending(node, placement.tolerations(), true, created, self.now)
                })
                .flatten(),
        }
    }

    /// The status counters of a node with a pod, from its oldest pod.
    fn count_oldest(&self, oldest: &Pod, summary: &mut Summary) {
        summary.scheduled += 1;
        if pods::phase(oldest) == "Running" {
            summary.running += 1;
        }
        if pods::is_ready(oldest) {
            summary.ready += 1;
            if pods::is_available(oldest, self.min_ready, self.now) {
                summary.available += 1;
            }
        }
        if self.updated(oldest) {
            summary.up_to_date += 1;
        }
    }
}

/// The DaemonSet's own status, to compare with the recomputed counters.
fn controller_status(ds: &DaemonSet) -> ControllerStatus {
    let st = ds.status.as_ref();
    ControllerStatus {
        desired_number_scheduled: st.map_or(0, |s| s.desired_number_scheduled),
        current_number_scheduled: st.map_or(0, |s| s.current_number_scheduled),
        number_ready: st.map_or(0, |s| s.number_ready),
        updated_number_scheduled: st.and_then(|s| s.updated_number_scheduled).unwrap_or(0),
        number_available: st.and_then(|s| s.number_available).unwrap_or(0),
        number_misscheduled: st.map_or(0, |s| s.number_misscheduled),
        observed_generation: st.and_then(|s| s.observed_generation),
        generation: ds.metadata.generation,
    }
}

/// A node that should not run the DaemonSet but has its pods.
fn misscheduled_entry(
    node: &Node,
    on_node: &[&Pod],
    exclusion: &Exclusion,
    (should_continue, tolerations): (bool, &[k8s_openapi::api::core::v1::Toleration]),
    now: Timestamp,
) -> Misscheduled {
    let terminating = on_node.iter().all(|p| pods::is_terminating(p));
    // Kept by the DaemonSet controller, but maybe not by the taint-eviction controller; it is
    // not recreated here (the node does not run the DaemonSet).
    let eviction = (!terminating && should_continue)
        .then(|| {
            let created = on_node.iter().filter_map(|p| pods::created(p)).min();
            eviction::pending(node, tolerations, false, created, now)
        })
        .flatten();
    Misscheduled {
        node: node.metadata.name.clone().unwrap_or_default(),
        pods: on_node.iter().map(|p| pods::name(p).to_string()).collect(),
        reason: exclusion.sentence(),
        exclusion: exclusion.clone(),
        will_be_removed: !should_continue || terminating || eviction.is_some(),
        terminating,
        waits_for: terminating
            .then(|| stuck_terminating(on_node, node, now))
            .flatten(),
        eviction,
    }
}

/// For pods stuck Terminating on a node whose kubelet is gone: why, and the way out.
fn stuck_terminating(on_node: &[&Pod], node: &Node, now: Timestamp) -> Option<String> {
    let first = on_node.first()?;
    match nodelifecycle::fate(first, Some(node), 0, 0, now) {
        nodelifecycle::Fate::Blocked(b) => Some(match b.way_out() {
            Some(way) => format!("{}; {way}", b.sentence()),
            None => b.sentence(),
        }),
        _ => None,
    }
}

/// Percent with one decimal, rounded down so 99.96% never shows as 100%.
pub fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        return 100.0;
    }
    ((part as f64) * 1000.0 / (whole as f64)).floor() / 10.0
}

/// One DaemonSet's coverage in a cluster reached through `context`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CoverageItem {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    #[serde(flatten)]
    pub coverage: DaemonSetCoverage,
}

/// A cluster that could not be reported on (multi-context reports only).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterError {
    pub context: String,
    pub error: String,
}

/// The whole `coverage` answer.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CoverageReport {
    pub items: Vec<CoverageItem>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ClusterError>,
}

impl CoverageReport {
    /// True when some DaemonSet's coverage is below `pct`.
    pub fn below(&self, pct: f64) -> bool {
        self.under(pct).next().is_some()
    }

    /// The DaemonSets whose coverage is below `pct`.
    pub fn under(&self, pct: f64) -> impl Iterator<Item = &CoverageItem> {
        self.items
            .iter()
            .filter(move |i| i.coverage.summary.coverage_percent < pct)
    }
}
