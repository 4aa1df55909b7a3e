//! One pass of the DaemonSet controller's rolling update, node by node (`rollingUpdate` and
//! `findUpdatedPodsOnNode` in `pkg/controller/daemon/update.go`, with the pod creation and
//! pruning of `podsShouldBeOnNode` in `daemon_controller.go`): which nodes the controller counts
//! against maxUnavailable (no surge) or maxSurge (surge), which it acts on now whatever the
//! budget, which wait for budget, and which stay as they are without help.

use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::jiff::Timestamp;

use super::pods;
use crate::logic::nodelifecycle::{self, Blocker, Fate};

/// What the rollout can expect of one node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Available on the current revision.
    Done,
    /// Changes by itself, or the controller acts on it at its next sync whatever the budget.
    Moving,
    /// An available old pod waiting for budget (`candidatePodsToDelete`, `candidateNewNodes`);
    /// with OnDelete, waiting for someone to delete it.
    Candidate,
    /// Stays as it is without help.
    Blocked,
    /// Plays no part in the rollout (an old pod the controller leaves alone for now).
    Outside,
}

/// One node as the rolling update sees it.
#[derive(Clone, Debug)]
pub struct Slot<'a> {
    pub effect: Effect,
    /// Counted in `numUnavailable` (no surge) or `numSurge` (surge).
    pub uses_budget: bool,
    /// The pod the slot is about: the new one when there is one.
    pub pod: Option<&'a Pod>,
    pub blocker: Option<Blocker>,
    /// What the node is doing, for people.
    pub note: String,
    /// The pod is on an old revision.
    pub old_pod: bool,
}

impl<'a> Slot<'a> {
    fn new(effect: Effect, uses_budget: bool, pod: Option<&'a Pod>, note: &str) -> Self {
        Slot {
            effect,
            uses_budget,
            pod,
            blocker: None,
            note: note.to_string(),
            old_pod: false,
        }
    }

    fn blocked(uses_budget: bool, pod: &'a Pod, blocker: Blocker, prefix: &str) -> Self {
        let note = if blocker.is_node_problem() {
            blocker.sentence()
        } else {
            format!("{prefix}{}", blocker.sentence())
        };
        Slot {
            effect: Effect::Blocked,
            uses_budget,
            pod: Some(pod),
            blocker: Some(blocker),
            note,
            old_pod: false,
        }
    }
}

impl<'a> Slot<'a> {
    /// A pod on a node that reports NotReady (Ready=False) waits for its node, not for help:
    /// the kubelet still runs and reports there, and the pod's readiness is its to set again
    /// (the node-lifecycle controller's `MarkPodsNotReady` is the kubelet's to undo). Only a
    /// silent kubelet (Ready=Unknown) leaves the pod as it is for good.
    fn down_or_blocked(uses_budget: bool, pod: &'a Pod, blocker: Blocker, prefix: &str) -> Self {
        let reporting = matches!(&blocker, Blocker::NodeDown { down } if !down.unreachable);
        if !reporting {
            return Slot::blocked(uses_budget, pod, blocker, prefix);
        }
        let note = format!(
            "{}; its kubelet still reports, so the pod is ready again when the node is",
            blocker.sentence()
        );
        Slot {
            effect: Effect::Moving,
            uses_budget,
            pod: Some(pod),
            blocker: Some(blocker),
            note,
            old_pod: false,
        }
    }
}

/// The DaemonSet-wide inputs of the pass.
pub struct Pass<'f> {
    /// maxSurge > 0 (`util.AllowsSurge`).
    pub surge: bool,
    /// OnDelete: `rollingUpdate` never runs; only `manage` creates pods where none are.
    pub on_delete: bool,
    pub min_ready_seconds: i32,
    pub now: Timestamp,
    pub updated: &'f dyn Fn(&Pod) -> bool,
}

/// One node's inputs.
pub struct NodeInput<'a> {
    pub node: Option<&'a Node>,
    /// The node should run the DaemonSet (`NodeShouldRunDaemonPod`'s shouldRun).
    pub desired: bool,
    /// The DaemonSet's pods for the node, oldest first, terminating ones included.
    pub pods: &'a [&'a Pod],
    /// Failed pods seen in a row for this node.
    pub failures: usize,
}

/// `findUpdatedPodsOnNode`: at most one new and one old pod among those not being deleted;
/// `None` when there are more (the node is left to `manage` this round).
pub fn find_updated_pods_on_node<'a>(
    pods: &[&'a Pod],
    updated: &dyn Fn(&Pod) -> bool,
) -> Option<(Option<&'a Pod>, Option<&'a Pod>)> {
    let (mut new, mut old) = (None, None);
    for &p in pods.iter().filter(|p| !pods::is_terminating(p)) {
        let slot = if updated(p) { &mut new } else { &mut old };
        if slot.is_some() {
            return None;
        }
        *slot = Some(p);
    }
    Some((new, old))
}

impl Pass<'_> {
    fn fate(&self, pod: &Pod, n: &NodeInput<'_>) -> Fate {
        nodelifecycle::fate(pod, n.node, n.failures, self.min_ready_seconds, self.now)
    }

    /// No surge, the unavailable nodes use maxUnavailable; with surge only the nodes whose
    /// new pod is not available yet use maxSurge; OnDelete has no budget.
    fn counts(&self, no_surge: bool, surge: bool) -> bool {
        !self.on_delete && if self.surge { surge } else { no_surge }
    }

    /// The node as this pass sees it; `None` when it has nothing to do with the rollout.
    pub fn classify<'a>(&self, n: &NodeInput<'a>) -> Option<Slot<'a>> {
        let mut slot = self.slot(n)?;
        slot.old_pod = slot.pod.is_some_and(|p| !(self.updated)(p));
        Some(slot)
    }

    fn slot<'a>(&self, n: &NodeInput<'a>) -> Option<Slot<'a>> {
        let Some((new, old)) = find_updated_pods_on_node(n.pods, self.updated) else {
            return Some(Slot::new(
                Effect::Moving,
                self.counts(true, true),
                n.pods.first().copied(),
                "more than one pod of a revision; the controller deletes the extra ones",
            ));
        };
        match (new, old) {
            (None, None) => self.no_live_pod(n),
            (Some(new), None) => self.new_only(new, n),
            (None, Some(old)) => self.old_only(old, n),
            (Some(new), Some(_)) => Some(self.both(new, n)),
        }
    }

    /// No pod at all, or only Terminating ones.
    fn no_live_pod<'a>(&self, n: &NodeInput<'a>) -> Option<Slot<'a>> {
        let Some(&terminating) = n.pods.first() else {
            // `manage` creates the pod; without surge the empty node counts as unavailable.
            return n.desired.then(|| {
                Slot::new(
                    Effect::Moving,
                    self.counts(true, false),
                    None,
                    "no pod yet; the controller creates it",
                )
            });
        };
        if self.surge && !self.on_delete {
            // Surging, `podsShouldBeOnNode` creates the new pod beside the terminating one.
            return n.desired.then(|| {
                Slot::new(
                    Effect::Moving,
                    false,
                    Some(terminating),
                    "old pod terminating; the new pod is created beside it",
                )
            });
        }
        match self.fate(terminating, n) {
            Fate::Blocked(b) => Some(Slot::blocked(self.counts(true, false), terminating, b, "")),
            _ => n.desired.then(|| {
                Slot::new(
                    Effect::Moving,
                    self.counts(true, false),
                    Some(terminating),
                    "old pod terminating; the new pod follows once it is gone",
                )
            }),
        }
    }

    fn new_only<'a>(&self, new: &'a Pod, n: &NodeInput<'a>) -> Option<Slot<'a>> {
        match self.fate(new, n) {
            Fate::Available => n
                .desired
                .then(|| Slot::new(Effect::Done, false, Some(new), "")),
            Fate::Transient(t) => Some(Slot::new(
                Effect::Moving,
                self.counts(true, false),
                Some(new),
                &format!("new pod {}", t.sentence()),
            ))
            .filter(|s| n.desired || s.uses_budget),
            Fate::Blocked(b) => Some(Slot::down_or_blocked(
                self.counts(true, false),
                new,
                b,
                "new pod ",
            ))
            .filter(|s| n.desired || s.uses_budget),
        }
    }

    fn old_only<'a>(&self, old: &'a Pod, n: &NodeInput<'a>) -> Option<Slot<'a>> {
        if self.on_delete {
            let note = "old revision; delete the pod to update it";
            return Some(Slot::new(Effect::Candidate, false, Some(old), note));
        }
        if pods::is_available(old, self.min_ready_seconds, self.now) {
            // Without surge an old pod on a node that no longer should run one is a candidate
            // too: it is deleted within budget and not replaced. Surging, it is deleted only
            // once more pods are available than desired.
            let effect = if n.desired || !self.surge {
                Effect::Candidate
            } else {
                Effect::Outside
            };
            return Some(Slot::new(
                effect,
                false,
                Some(old),
                "old revision, waiting for its turn",
            ));
        }
        if self.surge {
            // An unavailable old pod gets its new pod at once, outside maxSurge.
            let note = "old pod unavailable; the new pod is created at once";
            let effect = if n.desired {
                Effect::Moving
            } else {
                Effect::Outside
            };
            return Some(Slot::new(effect, false, Some(old), note));
        }
        // Without surge it is deleted at once and counted unavailable; on an unreachable node
        // that deletion never completes.
        match self.fate(old, n) {
            Fate::Blocked(b @ Blocker::NodeDown { .. }) => {
                let unreachable = matches!(&b, Blocker::NodeDown { down } if down.unreachable);
                if unreachable {
                    Some(Slot::blocked(true, old, b, ""))
                } else {
                    Some(Slot::new(
                        Effect::Moving,
                        true,
                        Some(old),
                        &format!("{}; the controller deletes the old pod", b.sentence()),
                    ))
                }
            }
            _ => Some(Slot::new(
                Effect::Moving,
                true,
                Some(old),
                "old pod unavailable; the controller replaces it at once",
            )),
        }
    }

    fn both<'a>(&self, new: &'a Pod, n: &NodeInput<'a>) -> Slot<'a> {
        if !self.surge || self.on_delete {
            let note = "old and new pod both present; the controller deletes one";
            return Slot::new(Effect::Moving, self.counts(true, true), Some(new), note);
        }
        match self.fate(new, n) {
            Fate::Available => Slot::new(
                Effect::Moving,
                false,
                Some(new),
                "new pod available; old pod being removed",
            ),
            Fate::Transient(t) => Slot::new(
                Effect::Moving,
                true,
                Some(new),
                &format!("new pod {}", t.sentence()),
            ),
            Fate::Blocked(b) => Slot::down_or_blocked(true, new, b, "new pod "),
        }
    }
}
