//! `overhead`: what the DaemonSets take of each kind of node. Nodes are grouped by node pool;
//! every node is evaluated as a fresh, healthy node of its kind ([`super::fresh_node`]: the controller's
//! placement, the admitted pod's requests, the scheduler's fit), and the daemon pods really on
//! it are compared with that prediction.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::{Node, Pod};
use serde::Serialize;

use super::fresh_node::{self, AdmissionFacts, Daemon, Verdict};
use crate::logic::apimachinery::compat;
use crate::logic::apimachinery::quantity::exact;
use crate::logic::daemon::{pods, revisions};
use crate::logic::scheduler::noderesources;
use crate::logic::scheduler::noderesources::Resources;

/// Node-pool labels of the common provisioners and clouds, in the order they are tried, then
/// the instance type.
pub const POOL_LABELS: [&str; 5] = [
    "karpenter.sh/nodepool",
    "eks.amazonaws.com/nodegroup",
    "cloud.google.com/gke-nodepool",
    "kubernetes.azure.com/agentpool",
    "node.kubernetes.io/instance-type",
];

/// How nodes are grouped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Grouping {
    /// The first of [`POOL_LABELS`] a node has; else its placement-relevant labels and taints.
    Pools,
    /// The values of these labels (`--group-by`).
    Labels(Vec<String>),
}

/// What the report is computed over.
pub struct Inputs<'a> {
    pub daemonsets: &'a [DaemonSet],
    pub nodes: &'a [Node],
    pub pods: &'a [Pod],
    pub revisions: &'a [ControllerRevision],
    pub facts: &'a AdmissionFacts,
}

/// Smallest and largest value over a group's nodes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Range {
    pub min: String,
    pub max: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PercentRange {
    pub min: f64,
    pub max: f64,
}

/// The group's sums over all its nodes, for the picture.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    pub allocatable: String,
    pub daemon_sets: String,
    pub other_pods: String,
    pub free: String,
    /// The same in milli-units: allocatable, DaemonSets, other pods, free.
    #[serde(skip)]
    pub milli: [i128; 4],
}

/// One resource of a group: per node, what the DaemonSets request and what is left.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceLine {
    pub resource: String,
    pub allocatable: Range,
    /// The summed requests of the daemon pods a node gets.
    pub daemon_sets: Range,
    /// `daemonSets` in percent of the node's allocatable.
    pub percent: PercentRange,
    /// What is left for other workloads.
    pub left: Range,
    pub total: Totals,
}

/// A DaemonSet that targets nodes of the group.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupDaemonSet {
    pub namespace: String,
    pub name: String,
    /// Nodes of the group where its pod lands.
    pub nodes: usize,
    /// Nodes of the group where its pod is created but cannot be scheduled.
    pub pending: usize,
    /// Requests of one pod, as admitted, with pod overhead and sidecars.
    pub requests: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority_class_name: Option<String>,
}

/// A DaemonSet's share of the group's overhead.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Contributor {
    pub daemon_set: String,
    /// Percent of the DaemonSets' cpu and memory requests on a node.
    pub cpu_percent: f64,
    pub memory_percent: f64,
}

/// Something that makes the overhead wrong for whoever plans capacity from it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "trap", rename_all_fields = "camelCase")]
pub enum Trap {
    /// Neither cpu nor memory is requested: autoscalers cannot reserve room for it.
    NoRequests { daemon_set: String },
    /// Its pod does not fit a fresh node of the group, so it stays Pending there; no
    /// autoscaler adds capacity for a daemon pod.
    DoesNotFit {
        daemon_set: String,
        nodes: usize,
        reason: String,
    },
    /// No priorityClassName: its pods can be preempted and cannot preempt.
    NoPriorityClass { daemon_set: String },
    /// The API server refuses its pods: the nodes never get them.
    CreateRefused {
        daemon_set: String,
        nodes: usize,
        message: String,
    },
    /// A LimitRange gives its pods requests the template does not state.
    LimitRangeDefaults {
        daemon_set: String,
        changes: Vec<String>,
    },
    /// Real daemon pods request something else than the template's admitted pod.
    RequestsDiffer {
        daemon_set: String,
        pods: usize,
        /// `OldRevision` (created from an earlier template) or `Admission` (changed when
        /// created by something the admission model does not cover, e.g. a webhook).
        cause: String,
        /// One pod, what it requests and what the template says.
        example: String,
    },
}

impl Trap {
    pub fn sentence(&self) -> String {
        match self {
            Trap::NoRequests { daemon_set } => format!(
                "{daemon_set} requests no cpu or memory: autoscalers cannot reserve room for it"
            ),
            Trap::DoesNotFit {
                daemon_set,
                nodes,
                reason,
            } => format!(
                "{daemon_set} does not fit a fresh node ({nodes} {}): {reason}; it stays Pending and no autoscaler adds room for it",
                if *nodes == 1 { "node" } else { "nodes" }
            ),
            Trap::NoPriorityClass { daemon_set } => format!(
                "{daemon_set} has no priorityClassName: its pods can be preempted and cannot preempt"
            ),
            Trap::CreateRefused {
                daemon_set,
                nodes,
                message,
            } => format!(
                "{daemon_set}: the API server refuses its pods ({nodes} {}): {message}",
                if *nodes == 1 { "node" } else { "nodes" }
            ),
            Trap::LimitRangeDefaults {
                daemon_set,
                changes,
            } => format!(
                "{daemon_set}: its pods request more than the template says, from LimitRange defaults: {}",
                changes.join("; ")
            ),
            Trap::RequestsDiffer {
                daemon_set,
                pods,
                cause,
                example,
            } => {
                let why = if cause == "OldRevision" {
                    "created from an earlier template"
                } else {
                    "changed at admission beyond the built-in plugins (a webhook?)"
                };
                format!(
                    "{daemon_set}: {pods} pod(s) request other amounts than the template, {why}: {example}"
                )
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    /// e.g. `karpenter.sh/nodepool=general`.
    pub key: String,
    pub nodes: usize,
    pub node_names: Vec<String>,
    pub resources: Vec<ResourceLine>,
    pub daemon_sets: Vec<GroupDaemonSet>,
    /// At most three, largest first.
    pub largest: Vec<Contributor>,
    pub traps: Vec<Trap>,
}

/// The whole `overhead` answer.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OverheadReport {
    /// The labels nodes were grouped by, in the order tried.
    pub group_by: Vec<String>,
    pub groups: Vec<Group>,
}

/// Label keys the DaemonSets' node selectors and required node affinity read.
fn placement_label_keys(daemonsets: &[DaemonSet]) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    let specs = daemonsets
        .iter()
        .filter_map(|d| compat::daemonset_spec(d)?.template.spec.as_ref());
    for spec in specs {
        keys.extend(spec.node_selector.iter().flatten().map(|(k, _)| k.clone()));
        let terms = spec
            .affinity
            .as_ref()
            .and_then(|a| a.node_affinity.as_ref())
            .and_then(|n| {
                n.required_during_scheduling_ignored_during_execution
                    .as_ref()
            })
            .map(|r| r.node_selector_terms.as_slice())
            .unwrap_or(&[]);
        for t in terms {
            keys.extend(t.match_expressions.iter().flatten().map(|e| e.key.clone()));
        }
    }
    keys
}

/// The group a node belongs to.
fn group_key(node: &Node, grouping: &Grouping, placement_keys: &BTreeSet<String>) -> String {
    let labels = node.metadata.labels.as_ref();
    let label = |k: &str| labels.and_then(|l| l.get(k));
    match grouping {
        Grouping::Labels(keys) => keys
            .iter()
            .map(|k| format!("{k}={}", label(k).map_or("<none>", String::as_str)))
            .collect::<Vec<_>>()
            .join(","),
        Grouping::Pools => {
            if let Some((k, v)) = POOL_LABELS.iter().find_map(|k| Some((*k, label(k)?))) {
                return format!("{k}={v}");
            }
            let mut parts: Vec<String> = placement_keys
                .iter()
                .filter_map(|k| Some(format!("{k}={}", label(k)?)))
                .collect();
            let taints = node.spec.as_ref().and_then(|s| s.taints.as_deref());
            parts.extend(
                taints
                    .unwrap_or(&[])
                    .iter()
                    .filter(|t| t.effect == "NoSchedule" || t.effect == "NoExecute")
                    .map(|t| crate::logic::daemon::taints::TaintRef::from(t).to_string()),
            );
            if parts.is_empty() {
                "<no pool label>".to_string()
            } else {
                parts.join(",")
            }
        }
    }
}

/// What one node contributes to its group.
struct NodeFacts {
    name: String,
    alloc: Resources,
    daemons: Resources,
    others: Resources,
    verdicts: Vec<Verdict>,
}

/// Per DaemonSet, the real pods whose requests differ from the prediction.
#[derive(Default)]
struct Differ {
    old_revision: usize,
    admission: usize,
    example: Option<String>,
}

#[derive(Default)]
struct GroupAcc {
    nodes: Vec<NodeFacts>,
    differ: BTreeMap<usize, Differ>,
}

/// The daemon pods of the evaluated DaemonSets on a node, and everything else counted there.
fn split_pods<'p>(
    on_node: &[&'p Pod],
    uids: &HashMap<&str, usize>,
) -> (Vec<(usize, &'p Pod)>, Vec<&'p Pod>) {
    let mut daemon = Vec::new();
    let mut other = Vec::new();
    for p in on_node {
        match pods::controller_uid(p).and_then(|u| uids.get(u)) {
            Some(&i) => daemon.push((i, *p)),
            None => other.push(*p),
        }
    }
    (daemon, other)
}

fn request_text(r: &Resources) -> String {
    let parts: Vec<String> = ["cpu", "memory"]
        .iter()
        .map(|k| format!("{k} {}", r.get(*k).map_or("none".into(), |v| exact(k, *v))))
        .collect();
    parts.join(", ")
}

/// The report over every node in `inputs`.
pub fn compute(inputs: &Inputs<'_>, grouping: &Grouping) -> OverheadReport {
    let daemons: Vec<Daemon<'_>> = inputs
        .daemonsets
        .iter()
        .filter_map(|d| Daemon::new(d, inputs.facts))
        .collect();
    let uids: HashMap<&str, usize> = daemons
        .iter()
        .enumerate()
        .map(|(i, d)| (d.uid.as_str(), i))
        .collect();
    let current: Vec<(Option<String>, Option<i64>)> = daemons
        .iter()
        .map(|d| {
            (
                revisions::current_hash(d.ds, inputs.revisions),
                revisions::template_generation(d.ds),
            )
        })
        .collect();
    let keys = placement_label_keys(inputs.daemonsets);
    let by_node = noderesources::pods_by_node(inputs.pods);
    let mut groups: BTreeMap<String, GroupAcc> = BTreeMap::new();
    for node in inputs.nodes {
        let node = fresh_node::as_joined(node);
        let node = node.as_ref();
        let name = node.metadata.name.clone().unwrap_or_default();
        let on_node = by_node.get(name.as_str()).map_or(&[][..], Vec::as_slice);
        let (daemon_pods, other_pods) = split_pods(on_node, &uids);
        let verdicts = fresh_node::evaluate(node, &daemons);
        let mut used = Resources::new();
        for (d, _) in daemons.iter().zip(&verdicts).filter(|(_, v)| v.lands()) {
            add(&mut used, &d.request_with_slot());
        }
        let mut others = noderesources::requested_by(&other_pods);
        others.insert("pods".into(), other_pods.len() as i128 * 1000);
        let acc = groups.entry(group_key(node, grouping, &keys)).or_default();
        record_differences(&mut acc.differ, &daemon_pods, &daemons, &current);
        acc.nodes.push(NodeFacts {
            name,
            alloc: noderesources::allocatable(node),
            daemons: used,
            others,
            verdicts,
        });
    }
    OverheadReport {
        group_by: match grouping {
            Grouping::Pools => POOL_LABELS.iter().map(|s| s.to_string()).collect(),
            Grouping::Labels(keys) => keys.clone(),
        },
        groups: groups
            .into_iter()
            .map(|(key, acc)| finish_group(key, acc, &daemons))
            .collect(),
    }
}

/// Notes the daemon pods whose requests differ from their DaemonSet's admitted pod, and why:
/// a pod not on the current revision was made from an older template.
fn record_differences(
    differ: &mut BTreeMap<usize, Differ>,
    daemon_pods: &[(usize, &Pod)],
    daemons: &[Daemon<'_>],
    current: &[(Option<String>, Option<i64>)],
) {
    for &(i, pod) in daemon_pods {
        let real = pod.spec.as_ref().map(noderesources::pod_requests);
        if real.as_ref() == Some(&daemons[i].request) || pods::is_terminating(pod) {
            continue;
        }
        let (hash, generation) = &current[i];
        let e = differ.entry(i).or_default();
        if pods::is_updated(pod, hash.as_deref(), *generation) {
            e.admission += 1;
        } else {
            e.old_revision += 1;
        }
        e.example.get_or_insert_with(|| {
            format!(
                "{} requests {}, the template {}",
                pods::name(pod),
                request_text(&real.unwrap_or_default()),
                request_text(&daemons[i].request)
            )
        });
    }
}

fn add(into: &mut Resources, from: &Resources) {
    for (k, v) in from {
        *into.entry(k.clone()).or_default() += v;
    }
}

fn finish_group(key: String, acc: GroupAcc, daemons: &[Daemon<'_>]) -> Group {
    let mut landed = vec![0usize; daemons.len()];
    let mut pending = vec![0usize; daemons.len()];
    let mut no_fit: BTreeMap<usize, String> = BTreeMap::new();
    let mut refused = vec![0usize; daemons.len()];
    for n in &acc.nodes {
        for (i, v) in n.verdicts.iter().enumerate() {
            match v {
                Verdict::Lands => landed[i] += 1,
                Verdict::Pending { .. } => {
                    pending[i] += 1;
                    no_fit
                        .entry(i)
                        .or_insert_with(|| v.sentence().unwrap_or_default());
                }
                Verdict::Refused { .. } => refused[i] += 1,
                Verdict::NotTargeted { .. } => {}
            }
        }
    }
    let present: Vec<usize> = (0..daemons.len())
        .filter(|&i| landed[i] + pending[i] + refused[i] > 0)
        .collect();
    let resources = resource_lines(&acc.nodes, present.iter().map(|&i| &daemons[i]));
    let mut traps = traps(daemons, &present, &pending, &no_fit, &acc.differ);
    for &i in &present {
        let d = &daemons[i];
        if let (n @ 1.., Some(message)) = (refused[i], &d.refusal) {
            traps.push(Trap::CreateRefused {
                daemon_set: d.id(),
                nodes: n,
                message: message.clone(),
            });
        }
        if !d.limit_range.is_empty() {
            traps.push(Trap::LimitRangeDefaults {
                daemon_set: d.id(),
                changes: d.limit_range.clone(),
            });
        }
    }
    let largest = largest(daemons, &present);
    Group {
        key,
        nodes: acc.nodes.len(),
        node_names: acc.nodes.iter().map(|n| n.name.clone()).collect(),
        resources,
        daemon_sets: present
            .iter()
            .map(|&i| GroupDaemonSet {
                namespace: daemons[i].namespace.clone(),
                name: daemons[i].name.clone(),
                nodes: landed[i],
                pending: pending[i],
                requests: fresh_node::shown(&daemons[i].request),
                priority_class_name: daemons[i].priority_class.clone(),
            })
            .collect(),
        largest,
        traps,
    }
}

fn traps(
    daemons: &[Daemon<'_>],
    present: &[usize],
    pending: &[usize],
    no_fit: &BTreeMap<usize, String>,
    differ: &BTreeMap<usize, Differ>,
) -> Vec<Trap> {
    let mut out = Vec::new();
    for &i in present {
        let d = &daemons[i];
        let daemon_set = d.id();
        if let Some(reason) = no_fit.get(&i) {
            out.push(Trap::DoesNotFit {
                daemon_set: daemon_set.clone(),
                nodes: pending[i],
                reason: reason.clone(),
            });
        }
        if d.requests_nothing() {
            out.push(Trap::NoRequests {
                daemon_set: daemon_set.clone(),
            });
        }
        if d.priority_class.is_none() {
            out.push(Trap::NoPriorityClass {
                daemon_set: daemon_set.clone(),
            });
        }
    }
    for (&i, dif) in differ {
        for (cause, pods) in [
            ("OldRevision", dif.old_revision),
            ("Admission", dif.admission),
        ] {
            if pods > 0 {
                out.push(Trap::RequestsDiffer {
                    daemon_set: daemons[i].id(),
                    pods,
                    cause: cause.into(),
                    example: dif.example.clone().unwrap_or_default(),
                });
            }
        }
    }
    out
}

/// The resources worth a line: cpu, memory, pods, ephemeral-storage when the nodes have it,
/// and whatever else a DaemonSet of the group requests (extended resources, hugepages).
fn resource_names<'d>(
    nodes: &[NodeFacts],
    present: impl Iterator<Item = &'d Daemon<'d>>,
) -> Vec<String> {
    let mut names: Vec<String> = ["cpu", "memory"].map(String::from).to_vec();
    if nodes
        .iter()
        .any(|n| n.alloc.get("ephemeral-storage").is_some_and(|v| *v > 0))
    {
        names.push("ephemeral-storage".into());
    }
    let mut extra: BTreeSet<String> = BTreeSet::new();
    for d in present {
        extra.extend(d.request.keys().cloned());
    }
    extra.retain(|k| !names.contains(k) && k != "pods");
    names.extend(extra);
    names.push("pods".into());
    names
}

fn range(resource: &str, values: impl Iterator<Item = i128>) -> (Range, (i128, i128)) {
    let (lo, hi) = values.fold((i128::MAX, i128::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let (lo, hi) = if lo > hi { (0, 0) } else { (lo, hi) };
    (
        Range {
            min: exact(resource, lo),
            max: exact(resource, hi),
        },
        (lo, hi),
    )
}

fn percent(part: i128, whole: i128) -> f64 {
    if whole <= 0 {
        return 0.0;
    }
    ((part as f64) * 1000.0 / (whole as f64)).round() / 10.0
}

fn resource_lines<'d>(
    nodes: &[NodeFacts],
    present: impl Iterator<Item = &'d Daemon<'d>>,
) -> Vec<ResourceLine> {
    resource_names(nodes, present)
        .into_iter()
        .map(|r| {
            let get = |m: &Resources| m.get(&r).copied().unwrap_or(0);
            let (allocatable, _) = range(&r, nodes.iter().map(|n| get(&n.alloc)));
            let (daemon_sets, _) = range(&r, nodes.iter().map(|n| get(&n.daemons)));
            let (left, _) = range(&r, nodes.iter().map(|n| get(&n.alloc) - get(&n.daemons)));
            let pcts: Vec<f64> = nodes
                .iter()
                .map(|n| percent(get(&n.daemons), get(&n.alloc)))
                .collect();
            let alloc: i128 = nodes.iter().map(|n| get(&n.alloc)).sum();
            let ds: i128 = nodes.iter().map(|n| get(&n.daemons)).sum();
            let other: i128 = nodes.iter().map(|n| get(&n.others)).sum();
            let free = (alloc - ds - other).max(0);
            ResourceLine {
                allocatable,
                daemon_sets,
                percent: PercentRange {
                    min: pcts.iter().copied().reduce(f64::min).unwrap_or(0.0),
                    max: pcts.iter().copied().reduce(f64::max).unwrap_or(0.0),
                },
                left,
                total: Totals {
                    allocatable: exact(&r, alloc),
                    daemon_sets: exact(&r, ds),
                    other_pods: exact(&r, other),
                    free: exact(&r, free),
                    milli: [alloc, ds, other, free],
                },
                resource: r,
            }
        })
        .collect()
}

/// The three DaemonSets with the largest share of the cpu or memory the group's DaemonSets
/// request per pod.
fn largest(daemons: &[Daemon<'_>], present: &[usize]) -> Vec<Contributor> {
    let own = |i: usize, r: &str| daemons[i].request.get(r).copied().unwrap_or(0);
    let cpu_sum: i128 = present.iter().map(|&i| own(i, "cpu")).sum();
    let mem_sum: i128 = present.iter().map(|&i| own(i, "memory")).sum();
    let mut out: Vec<Contributor> = present
        .iter()
        .map(|&i| Contributor {
            daemon_set: daemons[i].id(),
            cpu_percent: percent(own(i, "cpu"), cpu_sum),
            memory_percent: percent(own(i, "memory"), mem_sum),
        })
        .filter(|c| c.cpu_percent > 0.0 || c.memory_percent > 0.0)
        .collect();
    out.sort_by(|a, b| {
        b.cpu_percent
            .max(b.memory_percent)
            .total_cmp(&a.cpu_percent.max(a.memory_percent))
            .then_with(|| a.daemon_set.cmp(&b.daemon_set))
    });
    out.truncate(3);
    out
}
