//! `preview`: where a DaemonSet manifest would land, before it is applied. The same placement
//! core as `coverage` and the same scheduler filters as `explain`, evaluated for a pod of the
//! manifest's template against the live nodes and pods.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, Pod, PodSpec};
use serde::Serialize;

use k8s_openapi::api::core::v1::ResourceQuota;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;

use crate::logic::admission::{self, Admission, Priority};
use crate::logic::apimachinery::compat;
use crate::logic::apimachinery::quantity::show;
use crate::logic::daemon::placement::{DaemonPlacement, Exclusion, ExclusionGroup, Exclusions};
use crate::logic::daemon::pods;
use crate::logic::daemon::pods::PodIndex;
use crate::logic::daemon::rollout::{self, Strategy};
use crate::logic::scheduler::defaultpreemption::{Preemption, Preemptor};
use crate::logic::scheduler::nodeports::PortConflict;
use crate::logic::scheduler::noderesources::{Insufficient, Resources};
use crate::logic::scheduler::{
    self, ClusterView, FilterResult, IncomingPod, Outcome, defaultpreemption, nodeports,
    noderesources,
};

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Unplaceable {
    pub node: String,
    /// One sentence: what does not fit or which port is taken.
    pub reason: String,
    pub insufficient: Vec<Insufficient>,
    pub port_conflicts: Vec<PortConflict>,
    /// The other scheduler filters that reject the node, with the scheduler's reason.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<FilterResult>,
}

/// A filter that could not be decided from what was read, and the nodes it concerns: they are
/// counted as would-run only as far as the other filters go.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NotChecked {
    pub plugin: String,
    /// `not checked: <why>`.
    pub reason: String,
    pub nodes: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Headroom {
    pub node: String,
    /// What would be left of cpu and memory on the node after the pod, e.g. `200m`, `1.5Gi`.
    pub cpu_left: String,
    pub memory_left: String,
    #[serde(skip)]
    pub ratio: f64,
}

/// How an existing DaemonSet would change.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// Nodes that would get a pod and have none now.
    pub gained: Vec<String>,
    /// Nodes whose pod the controller would delete.
    pub lost: Vec<String>,
    /// The pod template differs from the live one (compared field by field on what the
    /// manifest sets; exact when the manifest went through --server-dry-run).
    pub template_changed: bool,
    /// Nodes whose running pod would be replaced by the rollout.
    pub replaced: usize,
    pub strategy: Strategy,
    pub max_unavailable: usize,
    pub max_surge: usize,
    /// Rollout waves: replaced pods over the budget, rounded up (0 for OnDelete).
    pub waves: usize,
}

/// A node the pod fits only once DefaultPreemption has evicted these pods.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AfterPreemption {
    pub node: String,
    /// What does not fit before preemption.
    pub reason: String,
    pub victims: Vec<defaultpreemption::Victim>,
    /// Pending pods of higher priority waiting for this node that fit into the room the
    /// victims free and leave too little for the pod: the scheduler gives it to them if they
    /// come out of their back-off first, and the pod then stays Pending.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub contested_by: Vec<String>,
}

/// What admission and preemption add to a preview: the DaemonSet's pod as the API server
/// would admit it (the local model or the server's dry run), and the PodDisruptionBudgets and
/// ResourceQuotas preemption and quota counting read.
#[derive(Clone, Copy, Default)]
pub struct Admitted<'a> {
    pub admission: Option<&'a Admission>,
    pub pdbs: &'a [PodDisruptionBudget],
    pub quotas: &'a [ResourceQuota],
    /// The storage and device objects of the volume and DynamicResources filters.
    pub objects: Option<&'a scheduler::FilterObjects>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Preview {
    pub namespace: String,
    pub name: String,
    pub exists: bool,
    /// Targeted nodes where the pod would fit (those after preemption included).
    pub would_run: Vec<String>,
    /// Targeted nodes where it fits only after preemption, and the victims.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub after_preemption: Vec<AfterPreemption>,
    /// Targeted nodes where the scheduler would reject the pod.
    pub unplaceable: Vec<Unplaceable>,
    /// Targeted nodes that would get no pod: the API server refuses the create.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub create_refused: Vec<String>,
    /// What admission changed in the pod, or why it refuses it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admission: Option<Admission>,
    pub excluded: Vec<ExclusionGroup>,
    /// Filters not evaluated on some would-run nodes, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_checked: Vec<NotChecked>,
    /// Requests of one pod, and of all pods that would run.
    pub per_pod: BTreeMap<String, String>,
    pub total: BTreeMap<String, String>,
    /// The nodes with the least cpu or memory left after the pod (at most five).
    pub least_headroom: Vec<Headroom>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<Change>,
    pub warnings: Vec<String>,
}

/// Whether every leaf the manifest sets has the same value in the live object (arrays must have
/// the same length): a manifest omits what the API server defaults.
fn subset(manifest: &serde_json::Value, live: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (manifest, live) {
        (Value::Object(a), Value::Object(b)) => a
            .iter()
            .all(|(k, v)| v.is_null() || b.get(k).is_some_and(|lv| subset(v, lv))),
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| subset(x, y))
        }
        (a, b) => a == b,
    }
}

fn template_json(ds: &DaemonSet) -> serde_json::Value {
    let mut v = compat::daemonset_spec(ds)
        .and_then(|s| serde_json::to_value(&s.template).ok())
        .unwrap_or_default();
    // A null creationTimestamp is an artefact of older writers, not a difference.
    if let Some(m) = v.get_mut("metadata").and_then(|m| m.as_object_mut()) {
        m.remove("creationTimestamp");
    }
    v
}

fn warnings(ds: &DaemonSet, spec: &PodSpec) -> Vec<String> {
    let mut out = Vec::new();
    let surge = compat::daemonset_spec(ds)
        .and_then(|s| s.update_strategy.as_ref())
        .and_then(|u| u.rolling_update.as_ref())
        .and_then(|r| r.max_surge.as_ref())
        .is_some_and(|s| {
            !matches!(
                s,
                k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(0)
            ) && *s
                != k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String("0%".into())
        });
    if surge && !nodeports::host_ports(spec).is_empty() {
        out.push("hostPort (or hostNetwork) with maxSurge > 0: the surge pod can never get the port on a node that still runs the old pod, so the rollout stalls (kubernetes/kubernetes#106417)".into());
    }
    let tolerations = spec.tolerations.as_deref().unwrap_or(&[]);
    if let Some(t) = tolerations.iter().find(|t| {
        t.operator.as_deref() == Some("Exists") && t.key.as_deref().unwrap_or("").is_empty()
    }) {
        let which = match t.effect.as_deref().filter(|e| !e.is_empty()) {
            Some(effect) => format!("every {effect} taint"),
            None => "every taint".to_string(),
        };
        out.push(format!("tolerates {which} (operator Exists without a key): pods also land on nodes being drained, NotReady nodes and dedicated pools"));
    }
    if noderesources::pod_requests(spec).is_empty() {
        out.push("no resource requests: the scheduler cannot reserve room for the pods and they are evicted first under pressure".into());
    }
    let no_execute = tolerations.iter().any(|t| {
        t.effect
            .as_deref()
            .is_none_or(|e| e.is_empty() || e == "NoExecute")
    });
    if no_execute && spec.priority_class_name.as_deref().unwrap_or("").is_empty() {
        out.push("tolerates NoExecute taints but has no priorityClassName: on a full node it cannot preempt, and it is among the first evicted (consider system-node-critical)".into());
    }
    out
}

/// The preview of `ds` (from the manifest, defaulted as far as known) against the cluster,
/// judging the template as it is.
pub fn preview(
    ds: &DaemonSet,
    existing: Option<&DaemonSet>,
    nodes: &[Node],
    pods: &[Pod],
) -> Option<Preview> {
    preview_admitted(ds, existing, nodes, pods, Admitted::default())
}

/// The other scheduler filters' rejections (InterPodAffinity, PodTopologySpread), as a node
/// that does not take the pod.
fn rejected_by_filters(node: String, rejected: Vec<FilterResult>) -> Unplaceable {
    let parts: Vec<String> = rejected
        .iter()
        .filter_map(|f| f.rejected())
        .map(|(reason, detail)| format!("{reason} ({detail})"))
        .collect();
    Unplaceable {
        node,
        reason: parts.join("; "),
        insufficient: Vec::new(),
        port_conflicts: Vec::new(),
        filters: rejected,
    }
}

/// What NodeAffinity, NodeResourcesFit, NodePorts and preemption make of one targeted node.
enum NodeFate {
    Fits,
    AfterPreemption(AfterPreemption),
    Unplaceable(Unplaceable),
}

fn shortfall(short: &[Insufficient], ports: &[PortConflict]) -> String {
    let mut parts: Vec<String> = short.iter().map(Insufficient::phrase).collect();
    parts.extend(
        ports
            .iter()
            .map(|c| format!("host port {} is held by pod {}", c.wanted, c.pod)),
    );
    parts.join("; ")
}

/// NodeAffinity (for what admission added to the selector), NodeResourcesFit and NodePorts on
/// one node, then DefaultPreemption when they fail.
fn judge(
    spec: &PodSpec,
    request: &Resources,
    priority: &Priority,
    node: &Node,
    others: &[&Pod],
    pdbs: &[PodDisruptionBudget],
) -> NodeFate {
    let name = node.metadata.name.clone().unwrap_or_default();
    if let (Some(class), Err(mismatch)) = (
        spec.runtime_class_name.as_deref(),
        crate::logic::daemon::node_affinity::check(spec.node_selector.as_ref(), None, node),
    ) {
        let e = Exclusion::Affinity { mismatch };
        return NodeFate::Unplaceable(Unplaceable {
            node: name,
            reason: format!(
                "RuntimeClass {class} adds a nodeSelector the node does not match ({}): the pod would stay Pending",
                e.sentence()
            ),
            insufficient: Vec::new(),
            port_conflicts: Vec::new(),
            filters: Vec::new(),
        });
    }
    let short = noderesources::insufficient(request, node, others);
    let ports = nodeports::port_conflicts(spec, others);
    if short.is_empty() && ports.is_empty() {
        return NodeFate::Fits;
    }
    let reason = shortfall(&short, &ports);
    let pre = defaultpreemption::preemption(
        &Preemptor {
            spec,
            request,
            priority: priority.value,
            never: priority.never_preempts(),
        },
        node,
        others,
        pdbs,
    );
    match pre {
        Preemption::WouldHelp { details, .. } => NodeFate::AfterPreemption(AfterPreemption {
            node: name,
            reason,
            victims: details,
            contested_by: Vec::new(),
        }),
        other => NodeFate::Unplaceable(Unplaceable {
            node: name,
            reason: format!(
                "{reason}{}",
                super::explain::preemption_text(&other, priority)
            ),
            insufficient: short,
            port_conflicts: ports,
            filters: Vec::new(),
        }),
    }
}

/// The pod spec the scheduler would see: the admitted pod's, else the template's with the
/// API defaulting of requests from limits.
fn judged_spec(ds: &DaemonSet, admitted: Admitted<'_>) -> Option<PodSpec> {
    if let Some(spec) = admitted
        .admission
        .filter(|a| !a.refused())
        .and_then(|a| a.pod.spec.clone())
    {
        return Some(spec);
    }
    let mut spec = compat::daemonset_spec(ds)?.template.spec.clone()?;
    noderesources::default_requests(&mut spec);
    Some(spec)
}

/// [`preview`] with the pod as admission leaves it, preemption and quotas.
pub fn preview_admitted(
    ds: &DaemonSet,
    existing: Option<&DaemonSet>,
    nodes: &[Node],
    pods: &[Pod],
    admitted: Admitted<'_>,
) -> Option<Preview> {
    let template = compat::daemonset_spec(ds)?.template.spec.as_ref()?;
    let spec = judged_spec(ds, admitted)?;
    let existing_uid = existing.and_then(|e| e.metadata.uid.as_deref());
    let all_nodes: Vec<&Node> = nodes.iter().collect();
    let waiting: Vec<&Pod> = pods.iter().filter(|p| !pods::is_bound(p)).collect();
    let bound: Vec<&Pod> = scheduler::bound_pods(pods)
        .into_iter()
        .filter(|p| not_owned_by(existing_uid, p))
        .collect();
    let empty = BTreeMap::new();
    let rolls = existing.is_some_and(|live| !subset(&template_json(ds), &template_json(live)))
        && rollout::strategy(ds) == Strategy::RollingUpdate;
    let pass = Pass {
        // The controller places by the template (with its own tolerations), not by what
        // admission adds.
        placement: DaemonPlacement::for_pod_spec(template),
        request: noderesources::pod_requests(&spec),
        priority: Priority::of(&Pod {
            spec: Some(spec.clone()),
            ..Default::default()
        }),
        refused: admitted.admission.is_some_and(Admission::refused),
        existing_uid,
        index: PodIndex::new(pods),
        by_node: noderesources::pods_by_node(pods),
        view: ClusterView::new(
            &all_nodes,
            &bound,
            true,
            admitted.objects.unwrap_or(&scheduler::NOTHING_READ),
        ),
        waiting,
        incoming: IncomingPod {
            namespace: ds.metadata.namespace.as_deref().unwrap_or(""),
            labels: compat::daemonset_spec(ds)
                .and_then(|s| s.template.metadata.as_ref())
                .and_then(|m| m.labels.as_ref())
                .unwrap_or(&empty),
            spec: &spec,
        },
        pdbs: admitted.pdbs,
        rolls,
        // `rollingUpdate` surging: the new pod is created while the old one still runs.
        beside_old: rolls && rollout::budget(ds, 1).max_surge > 0,
    };
    let mut tally = Tally::default();
    for node in nodes {
        pass.node(node, &mut tally);
    }
    let mut warnings = warnings(ds, &spec);
    warnings.extend(quota_warning(&admitted, tally.would_run.len()));
    Some(tally.into_preview(ds, existing, &pass.request, admitted, warnings))
}

/// The DaemonSet's own pods are replaced, so they are left out of the filters (but for
/// resources and ports when surging).
/// `namespace/name`, as preemption names its victims.
fn pod_key(p: &Pod) -> String {
    format!(
        "{}/{}",
        p.metadata.namespace.as_deref().unwrap_or(""),
        pods::name(p)
    )
}

fn not_owned_by(existing_uid: Option<&str>, p: &Pod) -> bool {
    existing_uid.is_none_or(|uid| !pods::is_controlled_by(p, uid))
}

/// What the preview holds fixed while it goes over the nodes.
struct Pass<'a> {
    placement: DaemonPlacement<'a>,
    request: Resources,
    priority: Priority,
    /// The API server refuses the pod: no node gets one.
    refused: bool,
    existing_uid: Option<&'a str>,
    index: PodIndex<'a>,
    by_node: HashMap<&'a str, Vec<&'a Pod>>,
    view: ClusterView<'a>,
    /// Pods not yet bound, some nominated to a node.
    waiting: Vec<&'a Pod>,
    incoming: IncomingPod<'a>,
    pdbs: &'a [PodDisruptionBudget],
    /// The template changes and `rollingUpdate` replaces the pods.
    rolls: bool,
    beside_old: bool,
}

/// The nodes sorted by what the preview finds there.
#[derive(Default)]
struct Tally {
    would_run: Vec<String>,
    after_preemption: Vec<AfterPreemption>,
    unplaceable: Vec<Unplaceable>,
    create_refused: Vec<String>,
    excluded: Exclusions,
    headroom: Vec<Headroom>,
    not_checked: BTreeMap<(String, String), Vec<String>>,
    /// Nodes that run the DaemonSet now, and those that would run it.
    before: BTreeSet<String>,
    after: BTreeSet<String>,
}

impl<'a> Pass<'a> {
    fn node(&self, node: &Node, t: &mut Tally) {
        let name = node.metadata.name.clone().unwrap_or_default();
        let own: &[&Pod] = self
            .existing_uid
            .map_or(&[], |uid| self.index.on_node(uid, &name));
        let has_pod = own.iter().any(|p| !pods::is_terminating(p));
        if has_pod {
            t.before.insert(name.clone());
        }
        let p = self.placement.evaluate(node);
        if !p.should_run {
            // A pod that may continue but should not be created again stays only while the
            // template is the same: `rollingUpdate` deletes old pods on every node that has
            // one (a no-surge candidate; surging, a shouldNotRun pod once enough are
            // available), and nothing replaces them.
            if has_pod && p.should_continue && !self.rolls {
                t.after.insert(name.clone());
            }
            if let Some(e) = p.exclusion {
                t.excluded.add(&e, &name);
            }
            return;
        }
        if self.refused {
            t.create_refused.push(name);
            return;
        }
        t.after.insert(name.clone());
        // Without surge the DaemonSet's own pod is deleted before its replacement is created,
        // so it takes no room from the new one; surging, the new pod must fit beside it.
        let mut others: Vec<&Pod> = self
            .by_node
            .get(name.as_str())
            .into_iter()
            .flatten()
            .copied()
            .filter(|p| self.beside_old || not_owned_by(self.existing_uid, p))
            .collect();
        // Pods nominated to the node at equal or higher priority hold their room
        // (`RunFilterPluginsWithNominatedPods`).
        let own_uid = self.existing_uid.unwrap_or("");
        others.extend(scheduler::nominated::counted(
            &self.waiting,
            &name,
            self.priority.value,
            own_uid,
        ));
        // Extended resources DRA serves on this node are DynamicResources' to decide.
        let dra = self.view.objects.dra.as_ref();
        let request = scheduler::dynamic_resources::fit_request(&self.request, node, dra);
        let spec = self.incoming.spec;
        match self.judged(spec, &request, node, others.clone()) {
            NodeFate::Fits => self.other_filters(node, name, &request, &others, t),
            NodeFate::AfterPreemption(a) => {
                t.would_run.push(name);
                t.after_preemption.push(a);
            }
            NodeFate::Unplaceable(mut u) => {
                if self.beside_old && has_pod {
                    u.reason.push_str(" (with maxSurge the new pod is scheduled while the old one still holds its share)");
                }
                t.unplaceable.push(u);
            }
        }
    }

    /// [`judge`], and when preemption makes room, who may get it. Once the victims are gone
    /// the scheduling queue pops pending pods by priority (`PrioritySort`), and a pod of
    /// higher priority ignores the room held for a nominated pod of lower priority
    /// (`addGENominatedPods` counts only equal or higher): a pending pod of higher priority
    /// waiting for this node takes the freed room when it is in the active queue then, not
    /// when it still serves its back-off (`podBackoffQ`). Which one it is depends on when it
    /// was last tried, so such a node is named contested, not decided.
    fn judged(
        &self,
        spec: &PodSpec,
        request: &Resources,
        node: &Node,
        mut on_node: Vec<&'a Pod>,
    ) -> NodeFate {
        let name = node.metadata.name.as_deref().unwrap_or("");
        let mut a = match judge(spec, request, &self.priority, node, &on_node, self.pdbs) {
            NodeFate::AfterPreemption(a) => a,
            other => return other,
        };
        let gone: BTreeSet<&str> = a.victims.iter().map(|v| v.pod.as_str()).collect();
        on_node.retain(|p| !gone.contains(pod_key(p).as_str()));
        let taken = self.take_freed_room(node, name, &mut on_node);
        let left_out = !noderesources::insufficient(request, node, &on_node).is_empty()
            || !nodeports::port_conflicts(spec, &on_node).is_empty();
        if left_out {
            a.contested_by = taken.iter().map(|p| pod_key(p)).collect();
        }
        NodeFate::AfterPreemption(a)
    }

    /// The pending pods of higher priority than the daemon pod's, pinned to `name`, that fit
    /// beside `on_node`, highest priority and oldest first (`PrioritySort`); each one that
    /// fits is added to `on_node`.
    fn take_freed_room(&self, node: &Node, name: &str, on_node: &mut Vec<&'a Pod>) -> Vec<&'a Pod> {
        let mut higher: Vec<&'a Pod> = self
            .waiting
            .iter()
            .copied()
            .filter(|p| pods::target_node(p) == Some(name))
            .filter(|p| !pods::is_terminal(p) && !pods::is_terminating(p))
            .filter(|p| defaultpreemption::pod_priority(p) > self.priority.value)
            .filter(|p| not_owned_by(self.existing_uid, p))
            .filter(|p| !on_node.iter().any(|o| std::ptr::eq(*o, *p)))
            .collect();
        higher.sort_by_key(|p| {
            (
                std::cmp::Reverse(defaultpreemption::pod_priority(p)),
                p.metadata.creation_timestamp.as_ref().map(|t| t.0),
            )
        });
        let mut stolen = Vec::new();
        for p in higher {
            let Some(spec) = p.spec.as_ref() else {
                continue;
            };
            let request = noderesources::pod_requests(spec);
            if noderesources::insufficient(&request, node, on_node).is_empty()
                && nodeports::port_conflicts(spec, on_node).is_empty()
            {
                on_node.push(p);
                stolen.push(p);
            }
        }
        stolen
    }

    /// A node with room for the pod: the scheduler's other filters decide.
    fn other_filters(
        &self,
        node: &Node,
        name: String,
        request: &Resources,
        others: &[&Pod],
        t: &mut Tally,
    ) {
        let filters = scheduler::run_all(&self.incoming, node, &self.view);
        for f in &filters {
            if let Outcome::NotChecked { reason } = &f.outcome {
                t.not_checked
                    .entry((f.plugin.to_string(), reason.clone()))
                    .or_default()
                    .push(name.clone());
            }
        }
        let rejected: Vec<FilterResult> = filters
            .into_iter()
            .filter(|f| f.rejected().is_some())
            .collect();
        if !rejected.is_empty() {
            t.unplaceable.push(rejected_by_filters(name, rejected));
            return;
        }
        if let Some(h) = room_left(request, node, others, &name) {
            t.headroom.push(h);
        }
        t.would_run.push(name);
    }
}

impl Tally {
    fn into_preview(
        self,
        ds: &DaemonSet,
        existing: Option<&DaemonSet>,
        request: &Resources,
        admitted: Admitted<'_>,
        warnings: Vec<String>,
    ) -> Preview {
        let targeted = self.would_run.len() + self.unplaceable.len();
        let count = self.would_run.len() as i128;
        Preview {
            namespace: ds.metadata.namespace.clone().unwrap_or_default(),
            name: ds.metadata.name.clone().unwrap_or_default(),
            exists: existing.is_some(),
            change: existing.map(|live| change(ds, live, &self.before, &self.after, targeted)),
            would_run: self.would_run,
            after_preemption: self.after_preemption,
            unplaceable: self.unplaceable,
            create_refused: self.create_refused,
            admission: admitted.admission.cloned(),
            excluded: self.excluded.into_groups(),
            not_checked: self
                .not_checked
                .into_iter()
                .map(|((plugin, reason), nodes)| NotChecked {
                    plugin,
                    reason,
                    nodes,
                })
                .collect(),
            per_pod: shown_times(request, 1),
            total: shown_times(request, count),
            least_headroom: least_headroom(self.headroom),
            warnings,
        }
    }
}

/// `count` pods' worth of `request`, as quantities.
fn shown_times(request: &Resources, count: i128) -> BTreeMap<String, String> {
    request
        .iter()
        .map(|(k, v)| (k.clone(), show(k, v * count)))
        .collect()
}

/// The five nodes with the least cpu or memory left.
fn least_headroom(mut headroom: Vec<Headroom>) -> Vec<Headroom> {
    headroom.sort_by(|a, b| {
        a.ratio
            .total_cmp(&b.ratio)
            .then_with(|| a.node.cmp(&b.node))
    });
    headroom.truncate(5);
    headroom
}

/// How the live DaemonSet would change: the nodes it gains and loses, and the rollout that
/// replaces the pods on the others. `targeted` counts the nodes that should run it.
pub(super) fn change(
    ds: &DaemonSet,
    live: &DaemonSet,
    before: &BTreeSet<String>,
    after: &BTreeSet<String>,
    targeted: usize,
) -> Change {
    let template_changed = !subset(&template_json(ds), &template_json(live));
    let replaced = if template_changed {
        before.intersection(after).count()
    } else {
        0
    };
    let strategy = rollout::strategy(ds);
    let budget = rollout::budget(ds, targeted);
    let per_wave = if budget.max_surge > 0 {
        budget.max_surge
    } else {
        budget.max_unavailable
    };
    Change {
        gained: after.difference(before).cloned().collect(),
        lost: before.difference(after).cloned().collect(),
        template_changed,
        replaced,
        strategy,
        max_unavailable: budget.max_unavailable,
        max_surge: budget.max_surge,
        waves: if strategy == Strategy::OnDelete || per_wave == 0 {
            0
        } else {
            replaced.div_ceil(per_wave)
        },
    }
}

/// ResourceQuota charges creates one by one: past what a quota still admits, the controller's
/// creates are refused (`CheckRequest`), on whichever nodes come last.
fn quota_warning(admitted: &Admitted<'_>, pods: usize) -> Option<String> {
    let a = admitted.admission.filter(|a| !a.refused())?;
    let (quota, fit) = admission::pods_that_fit(&a.pod, admitted.quotas)?;
    let fit = usize::try_from(fit).unwrap_or(usize::MAX);
    (fit < pods).then(|| {
        format!(
            "ResourceQuota {quota} admits only {fit} more such pod(s): the creates for the other {} node(s) would be refused (exceeded quota), which ones depends on the order the controller creates them",
            pods - fit
        )
    })
}

fn room_left(request: &Resources, node: &Node, others: &[&Pod], name: &str) -> Option<Headroom> {
    let alloc: Resources = node
        .status
        .as_ref()?
        .allocatable
        .as_ref()?
        .iter()
        .filter_map(|(k, q)| {
            crate::logic::apimachinery::quantity::parse_milli(&q.0).map(|v| (k.clone(), v))
        })
        .collect();
    let used = noderesources::requested_by(others);
    let left = |r: &str| {
        alloc.get(r).copied().unwrap_or(0)
            - used.get(r).copied().unwrap_or(0)
            - request.get(r).copied().unwrap_or(0)
    };
    let ratio = |r: &str| {
        let a = alloc.get(r).copied().unwrap_or(0);
        if a > 0 {
            left(r) as f64 / a as f64
        } else {
            1.0
        }
    };
    Some(Headroom {
        node: name.to_string(),
        cpu_left: show("cpu", left("cpu")),
        memory_left: show("memory", left("memory")),
        ratio: ratio("cpu").min(ratio("memory")),
    })
}
