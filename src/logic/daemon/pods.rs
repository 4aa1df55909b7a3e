//! Facts about daemon pods as the DaemonSet controller reads them: which DaemonSet owns a pod,
//! which node it is for, whether it is ready, available and on the current revision
//! (`getNodesToDaemonPods`, `util.GetTargetNodeName`, `util.IsPodUpdated`,
//! `podByCreationTimestampAndPhase`, `podutil.IsPodAvailable`).

use std::cmp::Ordering;
use std::sync::Arc;

use foldhash::HashMap;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::{SignedDuration, Timestamp};

/// Label with the ControllerRevision hash the pod was created from.
pub const REVISION_HASH_LABEL: &str = "controller-revision-hash";
/// Legacy label with the DaemonSet template generation.
pub const TEMPLATE_GENERATION_LABEL: &str = "pod-template-generation";
/// DaemonSet annotation mirroring `spec.templateGeneration`.
pub const TEMPLATE_GENERATION_ANNOTATION: &str = "deprecated.daemonset.template.generation";

pub fn name(pod: &Pod) -> &str {
    pod.metadata.name.as_deref().unwrap_or("")
}

/// True when the pod's controller owner reference points at `uid`.
pub fn is_controlled_by(pod: &Pod, uid: &str) -> bool {
    pod.metadata
        .owner_references
        .iter()
        .flatten()
        .any(|r| r.controller == Some(true) && r.uid == uid)
}

/// The UID of the pod's controller, if it has one.
pub fn controller_uid(pod: &Pod) -> Option<&str> {
    pod.metadata
        .owner_references
        .iter()
        .flatten()
        .find(|r| r.controller == Some(true))
        .map(|r| r.uid.as_str())
}

/// `spec.nodeName`, or for a pod not yet bound the node its `metadata.name In [node]`
/// matchFields term pins it to. Pending pods therefore already count as on their node.
pub fn target_node(pod: &Pod) -> Option<&str> {
    let spec = pod.spec.as_ref()?;
    if let Some(n) = spec.node_name.as_deref().filter(|n| !n.is_empty()) {
        return Some(n);
    }
    let terms = &spec
        .affinity
        .as_ref()?
        .node_affinity
        .as_ref()?
        .required_during_scheduling_ignored_during_execution
        .as_ref()?
        .node_selector_terms;
    for term in terms {
        for f in term.match_fields.iter().flatten() {
            if f.key == "metadata.name" && f.operator == "In" {
                let values = f.values.as_deref().unwrap_or(&[]);
                return if values.len() == 1 {
                    Some(values[0].as_str())
                } else {
                    None
                };
            }
        }
    }
    None
}

/// `metadata.creationTimestamp`.
pub fn created(pod: &Pod) -> Option<Timestamp> {
    pod.metadata.creation_timestamp.as_ref().map(|t| t.0)
}

pub fn is_bound(pod: &Pod) -> bool {
    pod.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .is_some_and(|n| !n.is_empty())
}

pub fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("Pending")
}

pub fn is_terminal(pod: &Pod) -> bool {
    matches!(phase(pod), "Succeeded" | "Failed")
}

pub fn is_terminating(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_some()
}

fn ready_condition(pod: &Pod) -> Option<&k8s_openapi::api::core::v1::PodCondition> {
    pod.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready")
}

pub fn is_ready(pod: &Pod) -> bool {
    ready_condition(pod).is_some_and(|c| c.status == "True")
}

/// Ready for at least `min_ready_seconds` (`podutil.IsPodAvailable`).
pub fn is_available(pod: &Pod, min_ready_seconds: i32, now: Timestamp) -> bool {
    if !is_ready(pod) {
        return false;
    }
    if min_ready_seconds <= 0 {
        return true;
    }
    match ready_condition(pod).and_then(|c| c.last_transition_time.as_ref()) {
        Some(t) => {
            t.0.saturating_add(SignedDuration::from_secs(i64::from(min_ready_seconds)))
                .is_ok_and(|ready_at| ready_at <= now)
        }
        None => false,
    }
}

/// `util.IsPodUpdated`: the pod carries the current revision hash, or the legacy template
/// generation label equals the DaemonSet's template generation.
pub fn is_updated(pod: &Pod, current_hash: Option<&str>, template_generation: Option<i64>) -> bool {
    let labels = pod.metadata.labels.as_ref();
    let label = |k: &str| labels.and_then(|l| l.get(k)).map(String::as_str);
    let hash_matches = current_hash
        .filter(|h| !h.is_empty())
        .is_some_and(|h| label(REVISION_HASH_LABEL) == Some(h));
    // Formatting the generation allocates; most pods match by hash and never need it.
    hash_matches
        || template_generation
            .is_some_and(|g| label(TEMPLATE_GENERATION_LABEL) == Some(g.to_string().as_str()))
}

/// The pod's revision hash label, if any.
pub fn revision_hash(pod: &Pod) -> Option<&str> {
    pod.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(REVISION_HASH_LABEL))
        .map(String::as_str)
}

/// `podByCreationTimestampAndPhase`: bound pods first, then oldest, then by name.
pub fn oldest_first(a: &Pod, b: &Pod) -> Ordering {
    match (is_bound(a), is_bound(b)) {
        (true, false) => return Ordering::Less,
        (false, true) => return Ordering::Greater,
        _ => {}
    }
    let ta = a.metadata.creation_timestamp.as_ref().map(|t| t.0);
    let tb = b.metadata.creation_timestamp.as_ref().map(|t| t.0);
    if ta == tb {
        name(a).cmp(name(b))
    } else {
        ta.cmp(&tb)
    }
}

/// Daemon pods grouped by owner UID, then by target node, skipping terminal pods that are
/// already being deleted (`getNodesToDaemonPods(includeDeletedTerminal=false)`).
pub struct PodIndex<'a> {
    by_owner: HashMap<&'a str, HashMap<&'a str, Vec<&'a Pod>>>,
}

impl<'a> PodIndex<'a> {
    pub fn new<P: std::borrow::Borrow<Pod>>(pods: &'a [P]) -> Self {
        let mut by_owner: HashMap<&str, HashMap<&str, Vec<&Pod>>> = HashMap::default();
        for pod in pods {
            let pod: &Pod = pod.borrow();
            let Some((owner, node)) = indexed(pod) else {
                continue;
            };
            by_owner
                .entry(owner)
                .or_default()
                .entry(node)
                .or_default()
                .push(pod);
        }
        for nodes in by_owner.values_mut() {
            for list in nodes.values_mut() {
                list.sort_by(|a, b| oldest_first(a, b));
            }
        }
        PodIndex { by_owner }
    }

    /// The DaemonSet's pods on a node, oldest first.
    pub fn on_node(&self, owner_uid: &str, node: &str) -> &[&'a Pod] {
        self.of_owner(owner_uid).on_node(node)
    }

    /// The DaemonSet's pods, looked up once for a pass over every node.
    pub fn of_owner(&self, owner_uid: &str) -> OwnerPods<'_, 'a> {
        OwnerPods(self.by_owner.get(owner_uid))
    }
}

/// The owner UID and target node a pod is indexed under; `None` for a pod without either,
/// and for a terminal pod already being deleted (`getNodesToDaemonPods(includeDeletedTerminal=false)`).
fn indexed(pod: &Pod) -> Option<(&str, &str)> {
    if is_terminal(pod) && is_terminating(pod) {
        return None;
    }
    Some((controller_uid(pod)?, target_node(pod)?))
}

/// The pods of [`PodIndex`] grouped by target node first, for a pass that goes node by node
/// over many DaemonSets: a node's pods are found once rather than once per DaemonSet.
///
/// It holds the pods it was built from, and [`NodePods::refresh`] builds it again only when
/// they are not the same: a watch's stores keep an unchanged pod's `Arc`, so from one frame to
/// the next the same pods are the same pointers in the same order.
#[derive(Default)]
pub struct NodePods {
    pods: Vec<Arc<Pod>>,
    /// Each controller UID seen, as the number the entries name it by.
    owners: HashMap<String, u32>,
    /// Per node, (owner, position in `pods`), each owner's pods oldest first.
    by_node: HashMap<String, Vec<(u32, u32)>>,
}

impl NodePods {
    /// Brings the index up to `pods`.
    pub fn refresh(&mut self, pods: &[Arc<Pod>]) {
        let same = self.pods.len() == pods.len()
            && self.pods.iter().zip(pods).all(|(a, b)| Arc::ptr_eq(a, b));
        if !same {
            *self = NodePods::build(pods);
        }
    }

    fn build(pods: &[Arc<Pod>]) -> NodePods {
        let mut owners: HashMap<String, u32> = HashMap::default();
        let mut by_node: HashMap<String, Vec<(u32, u32)>> = HashMap::default();
        for (at, pod) in pods.iter().enumerate() {
            let (Some((owner, node)), Ok(at)) = (indexed(pod), u32::try_from(at)) else {
                continue;
            };
            // Looked up before inserting: most pods share an owner, and a key is a new String.
            let owner = match owners.get(owner) {
                Some(&known) => known,
                None => {
                    let next = u32::try_from(owners.len()).unwrap_or(u32::MAX);
                    owners.insert(owner.to_string(), next);
                    next
                }
            };
            match by_node.get_mut(node) {
                Some(list) => list.push((owner, at)),
                None => {
                    by_node.insert(node.to_string(), vec![(owner, at)]);
                }
            }
        }
        for list in by_node.values_mut() {
            list.sort_by(|(o, a), (p, b)| {
                o.cmp(p)
                    .then_with(|| oldest_first(&pods[*a as usize], &pods[*b as usize]))
            });
        }
        NodePods {
            pods: pods.to_vec(),
            owners,
            by_node,
        }
    }

    /// The number the entries give the pods of the controller `uid`, if it has pods.
    pub fn owner(&self, uid: &str) -> Option<u32> {
        self.owners.get(uid).copied()
    }

    /// The node's pods as (owner number, pod), each owner's oldest first.
    pub fn on_node<'s>(&'s self, node: &str) -> impl Iterator<Item = (u32, &'s Pod)> + 's {
        let list = self.by_node.get(node).map_or(&[][..], Vec::as_slice);
        list.iter().map(|&(o, at)| (o, &*self.pods[at as usize]))
    }
}

/// One DaemonSet's pods by target node ([`PodIndex::of_owner`]).
pub struct OwnerPods<'i, 'a>(Option<&'i HashMap<&'a str, Vec<&'a Pod>>>);

impl<'i, 'a> OwnerPods<'i, 'a> {
    /// The pods on a node, oldest first.
    pub fn on_node(&self, node: &str) -> &'i [&'a Pod] {
        self.0.and_then(|m| m.get(node)).map_or(&[], Vec::as_slice)
    }
}
