//! Rollout progress of a DaemonSet: kubectl's verdict (`DaemonSetStatusViewer.Status` in
//! `k8s.io/kubectl/pkg/polymorphichelpers/rollout_status.go`) plus what kubectl does not say:
//! where each node stands, which nodes hold the rollout up and why, and the nodes that dropped
//! out of `desiredNumberScheduled` while still running an old revision.

use std::borrow::Borrow;

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;

use std::collections::{BTreeSet, HashMap};

use super::placement::DaemonPlacement;
use super::pods::{OwnerPods, PodIndex};
use super::rolling::{Effect, NodeInput, Pass, Slot};
use super::{pods, revisions};
use crate::logic::apimachinery::compat;
use crate::logic::nodelifecycle;
use crate::logic::nodelifecycle::{condition_taints, eviction};
use crate::logic::snapshot::Snapshot;

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
    let t = crate::logic::apimachinery::compat::daemonset_spec(ds)
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
    let ru = crate::logic::apimachinery::compat::daemonset_spec(ds)
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
    /// What a person can do to unblock it, when there is one thing to do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub way_out: Option<String>,
    /// The node is outside desiredNumberScheduled (listed because it holds the rollout up).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub outside_desired: bool,
}

/// The overall state of one DaemonSet's rollout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum State {
    /// kubectl says done; or the template is rolled out as far as it can be and the nodes not
    /// done are down (a node problem, not a rollout problem; kubectl keeps waiting).
    Complete,
    /// Still moving.
    Progressing,
    /// OnDelete: pods on old revisions stay until deleted.
    WaitingForDeletion,
    /// Cannot progress on its own: the controller has nothing to do and no node changes by
    /// itself, while old pods wait for budget or new pods cannot become available.
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
    /// Every node that should run the DaemonSet, stuck first; also a node outside the
    /// desired count that holds the rollout up.
    pub nodes: Vec<NodeProgress>,
    /// Nodes outside desiredNumberScheduled (typically NotReady) whose pods still run an old
    /// revision: kubectl reports success without them.
    pub excluded_old: Vec<NodeProgress>,
    /// Nodes whose pod the taint-eviction controller evicts when a toleration's seconds run
    /// out: `node: sentence`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evictions: Vec<String>,
}

impl RolloutStatus {
    pub fn is_done(&self) -> bool {
        self.state == State::Complete
    }
}

fn revision_number(pod: &Pod, numbers: &[(String, i64)]) -> Option<i64> {
    let hash = pods::revision_hash(pod)?;
    numbers.iter().find(|(h, _)| h == hash).map(|(_, n)| *n)
}

/// Failed daemon pods seen in a row, per DaemonSet, node and revision hash. `--watch`
/// remembers them from one snapshot to the next, which tells a pod the controller replaces
/// once from one that keeps failing; a single snapshot knows of one failure at most.
#[derive(Clone, Debug, Default)]
pub struct Failures(HashMap<(String, String, String), BTreeSet<String>>);

impl Failures {
    /// Adds the snapshot's Failed daemon pods; a Ready pod of the same revision on the node
    /// starts the count over.
    pub fn observe(&mut self, snapshot: &Snapshot) {
        for pod in &snapshot.pods {
            let (Some(owner), Some(node)) = (pods::controller_uid(pod), pods::target_node(pod))
            else {
                continue;
            };
            let hash = pods::revision_hash(pod).unwrap_or("");
            let key = (owner.to_string(), node.to_string(), hash.to_string());
            if pods::phase(pod) == "Failed" {
                let id = pod.metadata.uid.as_deref().unwrap_or(pods::name(pod));
                self.0.entry(key).or_default().insert(id.to_string());
            } else if pods::is_ready(pod) {
                self.0.remove(&key);
            }
        }
    }

    /// How many Failed pods in a row the DaemonSet had on the node with this revision.
    pub fn count(&self, owner: &str, node: &str, hash: Option<&str>) -> usize {
        let key = (
            owner.to_string(),
            node.to_string(),
            hash.unwrap_or("").to_string(),
        );
        self.0.get(&key).map_or(0, BTreeSet::len)
    }
}

/// Rollout status of every DaemonSet of the snapshot.
pub fn compute(snapshot: &Snapshot, now: Timestamp, failures: &Failures) -> Vec<RolloutStatus> {
    let index = PodIndex::new(&snapshot.pods);
    snapshot
        .daemonsets
        .iter()
        .map(|ds| for_daemonset(ds, snapshot, &index, now, failures))
        .collect()
}

/// The rows of one rollout and what the decision needs from them.
#[derive(Default)]
struct Tally {
    counts: Counts,
    nodes: Vec<NodeProgress>,
    excluded_old: Vec<NodeProgress>,
    /// Nodes counted against maxUnavailable (no surge) or maxSurge (surge).
    used: usize,
    /// Available old pods waiting for budget.
    candidates: usize,
    /// Some node changes by itself or through the controller's next sync.
    moving: bool,
    /// A new pod that cannot become available on a node that is up.
    rollout_problem: bool,
    /// `node (why)` for every node that holds budget and stays as it is.
    blockers: Vec<String>,
    evictions: Vec<String>,
}

impl Tally {
    fn add(&mut self, node: &Node, desired: bool, slot: Slot<'_>, numbers: &[(String, i64)]) {
        self.used += usize::from(slot.uses_budget);
        self.candidates += usize::from(slot.effect == Effect::Candidate);
        self.moving |= slot.effect == Effect::Moving;
        let blocker = slot.blocker.as_ref();
        self.rollout_problem |= blocker.is_some_and(|b| !b.is_node_problem());
        let node_down = matches!(blocker, Some(nodelifecycle::Blocker::NodeDown { .. }));
        let progress = match slot.effect {
            _ if node_down => Progress::NodeNotReady,
            Effect::Done => Progress::Done,
            Effect::Moving => Progress::Updating,
            Effect::Candidate | Effect::Outside => Progress::Waiting,
            Effect::Blocked => Progress::Stuck,
        };
        let mut row = NodeProgress {
            node: node.metadata.name.clone().unwrap_or_default(),
            progress,
            pod: slot.pod.map(|p| pods::name(p).to_string()),
            revision: slot.pod.and_then(|p| revision_number(p, numbers)),
            reason: (!slot.note.is_empty()).then_some(slot.note.clone()),
            way_out: blocker.and_then(nodelifecycle::Blocker::way_out),
            outside_desired: !desired,
        };
        let holds_up = slot.effect == Effect::Blocked && slot.uses_budget;
        if holds_up || (slot.effect == Effect::Blocked && desired) {
            let why = row.reason.as_deref().unwrap_or("stuck");
            self.blockers.push(format!("{} ({why})", row.node));
        }
        let terminating = slot.pod.is_some_and(pods::is_terminating);
        // Outside the desired count a node gets a row only as the Terminating pod that holds
        // the budget; an old pod there is listed apart.
        let listed = desired || (holds_up && terminating);
        if !listed {
            if slot.old_pod && !terminating {
                row.progress = Progress::NodeNotReady;
                row.reason = Some(match nodelifecycle::node_down(node) {
                    Some(d) => format!("{}; outside desiredNumberScheduled", d.phrase()),
                    None => "not targeted any more; old pod still there".to_string(),
                });
                self.excluded_old.push(row);
            }
            return;
        }
        match row.progress {
            Progress::Done => self.counts.done += 1,
            Progress::Updating => self.counts.updating += 1,
            Progress::Waiting => self.counts.waiting += 1,
            Progress::Stuck => self.counts.stuck += 1,
            Progress::NodeNotReady => self.counts.node_not_ready += 1,
        }
        self.nodes.push(row);
    }
}

pub fn for_daemonset(
    ds: &DaemonSet,
    snapshot: &Snapshot,
    index: &PodIndex<'_>,
    now: Timestamp,
    failures: &Failures,
) -> RolloutStatus {
    let name = ds.metadata.name.clone().unwrap_or_default();
    let strategy = strategy(ds);
    let owned = revisions::owned(ds, &snapshot.revisions);
    let numbers: Vec<(String, i64)> = owned
        .iter()
        .map(|r| (revisions::hash(r), compat::revision_number(r)))
        .collect();
    let hash = revisions::current_hash(ds, &snapshot.revisions);
    let generation = revisions::template_generation(ds);
    let updated = |pod: &Pod| pods::is_updated(pod, hash.as_deref(), generation);
    let placement = DaemonPlacement::new(ds);
    let desired = should_run(placement.as_ref(), &snapshot.nodes);
    let budget = budget(ds, desired.iter().filter(|d| **d).count());
    let pass = Pass {
        surge: budget.max_surge > 0,
        on_delete: strategy == Strategy::OnDelete,
        min_ready_seconds: compat::daemonset_spec(ds)
            .and_then(|s| s.min_ready_seconds)
            .unwrap_or(0),
        now,
        updated: &updated,
    };
    let uid = ds.metadata.uid.as_deref().unwrap_or("");
    let walk = Walk {
        ds,
        snapshot,
        uid,
        hash: hash.as_deref(),
        pass: &pass,
        placement: placement.as_ref(),
        own: index.of_owner(uid),
        failures,
        numbers: &numbers,
    };
    let mut t = Tally::default();
    for (node, &desired) in snapshot.nodes.iter().zip(&desired) {
        walk.node(node, desired, &mut t);
    }
    t.nodes.sort_by(|a, b| {
        a.progress
            .cmp(&b.progress)
            .then_with(|| a.node.cmp(&b.node))
    });
    let refused = refused_creates(ds, snapshot, now, &mut t);
    let kubectl = kubectl_verdict(ds);
    let mut state = decide(strategy, &kubectl, &t, budget);
    // Refused creates block every node that needs a pod until the cause is fixed, whatever
    // else still moves.
    if refused && state != State::Complete {
        state = State::Stuck;
    }
    let message = if refused && state == State::Stuck {
        stuck_message(&name, &t, budget)
    } else {
        message(&name, state, &kubectl, &t, budget)
    };
    RolloutStatus {
        namespace: ds.metadata.namespace.clone().unwrap_or_default(),
        name,
        strategy,
        state,
        message,
        kubectl,
        revision: owned.last().map(|r| compat::revision_number(r)),
        budget,
        counts: t.counts,
        nodes: t.nodes,
        excluded_old: t.excluded_old,
        evictions: t.evictions,
    }
}

/// Which nodes should run the DaemonSet (`desiredNumberScheduled`); none without a template.
fn should_run(placement: Option<&DaemonPlacement<'_>>, nodes: &[impl Borrow<Node>]) -> Vec<bool> {
    placement.map_or_else(Vec::new, |p| {
        nodes
            .iter()
            .map(|n| p.evaluate(n.borrow()).should_run)
            .collect()
    })
}

/// What stays fixed while the rollout goes over the nodes.
struct Walk<'a> {
    ds: &'a DaemonSet,
    snapshot: &'a Snapshot,
    uid: &'a str,
    hash: Option<&'a str>,
    pass: &'a Pass<'a>,
    placement: Option<&'a DaemonPlacement<'a>>,
    /// The DaemonSet's pods by node.
    own: OwnerPods<'a, 'a>,
    failures: &'a Failures,
    /// (hash, revision number) of the owned revisions.
    numbers: &'a [(String, i64)],
}

impl Walk<'_> {
    fn node(&self, node: &Node, desired: bool, t: &mut Tally) {
        let node_name = node.metadata.name.as_deref().unwrap_or("");
        let on_node = self.own.on_node(node_name);
        if desired {
            t.counts.desired += 1;
            // Status counters from the oldest pod, as updateDaemonSetStatus counts them.
            if let Some(oldest) = on_node.first() {
                t.counts.updated += usize::from((self.pass.updated)(oldest));
                t.counts.available += usize::from(pods::is_available(
                    oldest,
                    self.pass.min_ready_seconds,
                    self.pass.now,
                ));
            }
        }
        // The controller's FailedDaemonPod events tell a one-shot look what `--watch` sees
        // over time: how many pods in a row failed on the node.
        let chain = super::failed_creates::failed_pod_on(
            self.ds,
            &self.snapshot.create_failures,
            node_name,
            &self.snapshot.revisions,
            self.pass.now,
        );
        let seen = super::failed_creates::failed_in_a_row(chain.as_ref(), on_node);
        let input = NodeInput {
            node: Some(node),
            desired,
            pods: on_node,
            failures: self
                .failures
                .count(self.uid, node_name, self.hash)
                .max(seen),
        };
        if let Some(slot) = self.pass.classify(&input) {
            t.add(node, desired, slot, self.numbers);
        }
        t.moving |= self.joins_or_leaves(node, desired);
        // A toleration with seconds: the taint-eviction controller removes the pod (and the
        // DaemonSet controller recreates it where the node still should run it).
        let live = on_node.iter().find(|p| !pods::is_terminating(p));
        if let Some(e) = self.placement.zip(live).and_then(|(p, pod)| {
            eviction::pending(
                node,
                p.tolerations(),
                desired,
                pods::created(pod),
                self.pass.now,
            )
        }) {
            t.evictions.push(format!("{node_name}: {}", e.sentence()));
        }
    }
}

impl Walk<'_> {
    /// The node-lifecycle controller is about to retaint the node, its taints lagging behind its
    /// conditions (`condition_taints::pending`), and that moves it into or out of the desired
    /// set: a node just gone NotReady leaves it, so its unavailable pod holds nothing up.
    fn joins_or_leaves(&self, node: &Node, desired: bool) -> bool {
        let Some(placement) = self.placement else {
            return false;
        };
        condition_taints::pending(node)
            .is_some_and(|next| placement.evaluate(&next).should_run != desired)
    }
}

/// Desired nodes without a pod while the API server refuses the controller's creates (its
/// FailedCreate events, `failed_creates::current`): they wait for nothing the controller can
/// do, so they are stuck, with the refusal as the reason. True when there are such nodes.
fn refused_creates(ds: &DaemonSet, snapshot: &Snapshot, now: Timestamp, t: &mut Tally) -> bool {
    let owned = super::failed_creates::owned_by(ds, &snapshot.pods);
    let Some(f) = super::failed_creates::current(ds, &snapshot.create_failures, owned) else {
        return false;
    };
    let why = format!(
        "no pod: the API server refuses the controller's creates ({}): {}",
        f.evidence(now),
        f.message
    );
    let mut any = false;
    for row in t.nodes.iter_mut() {
        let waiting = matches!(row.progress, Progress::Updating | Progress::Waiting);
        if row.pod.is_some() || !waiting || row.outside_desired {
            continue;
        }
        match row.progress {
            Progress::Updating => t.counts.updating -= 1,
            _ => t.counts.waiting -= 1,
        }
        t.counts.stuck += 1;
        row.progress = Progress::Stuck;
        row.reason = Some(why.clone());
        t.blockers.push(format!("{} ({why})", row.node));
        any = true;
    }
    if any {
        t.nodes.sort_by(|a, b| {
            a.progress
                .cmp(&b.progress)
                .then_with(|| a.node.cmp(&b.node))
        });
    }
    any
}

/// The budget the rolling update spends: maxSurge when surging, else maxUnavailable.
fn limit(b: Budget) -> usize {
    if b.max_surge > 0 {
        b.max_surge
    } else {
        b.max_unavailable
    }
}

/// Done when kubectl says so; progressing while the controller has something to do or a
/// node changes by itself; stuck when neither holds and old pods still wait for budget or a
/// new pod cannot become available; otherwise rolled out as far as the nodes allow.
fn decide(strategy: Strategy, kubectl: &KubectlVerdict, t: &Tally, b: Budget) -> State {
    let c = &t.counts;
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
    if t.moving || kubectl.message.starts_with("Waiting for daemon set spec") {
        return State::Progressing;
    }
    // `rollingUpdate` (update.go) acts on candidates only while the nodes it counts leave
    // room in the budget.
    if t.candidates > 0 && t.used < limit(b) {
        return State::Progressing;
    }
    if t.candidates > 0 || t.rollout_problem {
        State::Stuck
    } else {
        State::Complete
    }
}

fn held_up(rows: &[NodeProgress]) -> Vec<String> {
    rows.iter()
        .filter(|r| matches!(r.progress, Progress::Stuck | Progress::NodeNotReady))
        .map(|r| format!("{} ({})", r.node, r.reason.as_deref().unwrap_or("stuck")))
        .collect()
}

fn stuck_message(name: &str, t: &Tally, b: Budget) -> String {
    let c = &t.counts;
    let mut m = format!(
        "daemon set {name:?} rollout is stuck: {} of {} nodes done; stuck on {}",
        c.done,
        c.desired,
        t.blockers.join(", ")
    );
    if t.candidates > 0 {
        let which = if b.max_surge > 0 {
            format!("maxSurge={}", b.max_surge)
        } else {
            format!("maxUnavailable={}", b.max_unavailable)
        };
        let noun = if t.candidates == 1 {
            "node waits"
        } else {
            "nodes wait"
        };
        m.push_str(&format!(
            "; that uses up {which}, so {} {noun} for a turn that never comes",
            t.candidates
        ));
    }
    if let Some(way) = t.nodes.iter().find_map(|r| r.way_out.as_deref()) {
        m.push_str(&format!("; to unblock it, {way}"));
    }
    m
}

fn complete_message(name: &str, kubectl: &KubectlVerdict, t: &Tally) -> String {
    let c = &t.counts;
    let mut m = format!(
        "daemon set {name:?} successfully rolled out: {} of {} nodes on the current revision",
        c.done, c.desired
    );
    if kubectl.done {
        return m;
    }
    let down = held_up(&t.nodes);
    if !down.is_empty() {
        m.push_str(&format!(
            "; not available because of the node (a node problem, not a rollout problem): {}",
            down.join(", ")
        ));
    }
    m.push_str(&format!("; kubectl keeps waiting ({})", kubectl.message));
    m
}

fn message(name: &str, state: State, kubectl: &KubectlVerdict, t: &Tally, b: Budget) -> String {
    let c = &t.counts;
    let mut m = match state {
        State::Complete => complete_message(name, kubectl, t),
        State::Progressing => format!(
            "daemon set {name:?} rolling out: {} of {} nodes done, {} updating, {} waiting",
            c.done, c.desired, c.updating, c.waiting
        ),
        State::WaitingForDeletion => format!(
            "daemon set {name:?} uses OnDelete: {} of {} nodes still run an old revision; delete their pods to update them",
            c.waiting, c.desired
        ),
        State::Stuck => stuck_message(name, t, b),
    };
    if c.node_not_ready > 0 && state != State::Complete {
        m.push_str(&format!(
            "; {} unavailable only because the node is NotReady",
            c.node_not_ready
        ));
    }
    if !t.excluded_old.is_empty() {
        let names: Vec<&str> = t.excluded_old.iter().map(|r| r.node.as_str()).collect();
        let noun = if names.len() == 1 { "node" } else { "nodes" };
        m.push_str(&format!(
            "; {} {noun} outside the desired count still run an old revision: {}",
            names.len(),
            names.join(", ")
        ));
    }
    if !t.evictions.is_empty() {
        m.push_str(&format!("; {}", t.evictions.join("; ")));
    }
    if state == State::Progressing && kubectl.message.starts_with("Waiting for daemon set spec") {
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
