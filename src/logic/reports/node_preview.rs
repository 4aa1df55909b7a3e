//! `preview --node`: what a node that does not exist yet would get from the DaemonSets, built
//! from a Node manifest or from an existing node with labels and taints changed.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, Taint};
use serde::Serialize;

use super::fresh_node::{self, AdmissionFacts, Daemon, Verdict};
use crate::logic::apimachinery::labels::{label_key_error, label_value_error};
use crate::logic::scheduler::noderesources;
use crate::logic::scheduler::noderesources::Resources;

/// A label to set (`k=v`) or remove (`k-`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LabelChange {
    Set(String, String),
    Remove(String),
}

/// A taint to add (`k=v:Effect`, `k:Effect`) or remove (`k-`, `k:Effect-`).
#[derive(Clone, Debug, PartialEq)]
pub enum TaintChange {
    Add(Taint),
    Remove { key: String, effect: Option<String> },
}

const EFFECTS: [&str; 3] = ["NoSchedule", "PreferNoSchedule", "NoExecute"];

fn items(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').map(str::trim).filter(|s| !s.is_empty())
}

/// `--labels k=v,k2=v2,k3-`, with kubectl label's syntax and apimachinery's validation.
pub fn parse_labels(list: &str) -> Result<Vec<LabelChange>, String> {
    items(list)
        .map(|item| {
            if let Some(key) = item.strip_suffix('-').filter(|k| !k.contains('=')) {
                return match label_key_error(key) {
                    Some(e) => Err(e),
                    None => Ok(LabelChange::Remove(key.to_string())),
                };
            }
            let (k, v) = item
                .split_once('=')
                .ok_or_else(|| format!("label {item:?} is neither key=value nor key-"))?;
            if let Some(e) = label_key_error(k).or_else(|| label_value_error(v)) {
                return Err(e);
            }
            Ok(LabelChange::Set(k.to_string(), v.to_string()))
        })
        .collect()
}

/// `--taints k=v:Effect,k:Effect,k-,k:Effect-`, with kubectl taint's syntax.
pub fn parse_taints(list: &str) -> Result<Vec<TaintChange>, String> {
    items(list).map(parse_taint).collect()
}

fn parse_taint(item: &str) -> Result<TaintChange, String> {
    if let Some(rest) = item.strip_suffix('-') {
        let (key, effect) = match rest.split_once(':') {
            Some((k, e)) => (k, Some(e.to_string())),
            None => (rest, None),
        };
        if let Some(e) = label_key_error(key) {
            return Err(e);
        }
        if let Some(e) = effect.as_deref().filter(|e| !EFFECTS.contains(e)) {
            return Err(format!("taint {item:?}: unknown effect {e:?}"));
        }
        return Ok(TaintChange::Remove {
            key: key.to_string(),
            effect,
        });
    }
    let (kv, effect) = item.split_once(':').ok_or_else(|| {
        format!("taint {item:?} has no effect: write key=value:Effect or key:Effect")
    })?;
    if !EFFECTS.contains(&effect) {
        return Err(format!(
            "taint {item:?}: the effect must be NoSchedule, PreferNoSchedule or NoExecute"
        ));
    }
    let (key, value) = kv.split_once('=').unwrap_or((kv, ""));
    if let Some(e) = label_key_error(key).or_else(|| label_value_error(value)) {
        return Err(e);
    }
    Ok(TaintChange::Add(Taint {
        key: key.to_string(),
        value: (!value.is_empty()).then(|| value.to_string()),
        effect: effect.to_string(),
        time_added: None,
    }))
}

/// A new node like `existing`: its labels, taints and allocatable, without the condition
/// taints and the cordon a node only gets later ([`fresh_node::as_joined`]), with `labels`
/// and `taints` applied.
pub fn node_like(existing: &Node, labels: &[LabelChange], taint_changes: &[TaintChange]) -> Node {
    apply(
        fresh_node::as_joined(existing).into_owned(),
        labels,
        taint_changes,
    )
}

/// `node` with `labels` and `taints` applied, in order, as `kubectl label` and `kubectl taint`
/// would.
pub fn apply(mut node: Node, labels: &[LabelChange], taint_changes: &[TaintChange]) -> Node {
    let spec = node.spec.get_or_insert_with(Default::default);
    let mut list: Vec<Taint> = spec.taints.take().unwrap_or_default();
    for change in taint_changes {
        match change {
            TaintChange::Add(t) => {
                list.retain(|o| !(o.key == t.key && o.effect == t.effect));
                list.push(t.clone());
            }
            TaintChange::Remove { key, effect } => {
                list.retain(|o| !(o.key == *key && effect.as_deref().is_none_or(|e| e == o.effect)))
            }
        }
    }
    spec.taints = Some(list);
    let map = node.metadata.labels.get_or_insert_with(Default::default);
    for change in labels {
        match change {
            LabelChange::Set(k, v) => {
                map.insert(k.clone(), v.clone());
            }
            LabelChange::Remove(k) => {
                map.remove(k);
            }
        }
    }
    node
}

/// One DaemonSet on the new node.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeDaemonSet {
    pub namespace: String,
    pub name: String,
    #[serde(flatten)]
    pub verdict: Verdict,
    /// Why it does not land; absent when it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Requests of its pod, as admitted.
    pub requests: BTreeMap<String, String>,
}

/// One resource of the new node: what its daemon pods take and what is left.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeResource {
    pub resource: String,
    pub allocatable: String,
    pub daemon_sets: String,
    pub percent: f64,
    pub left: String,
    /// Allocatable and the daemon pods' requests, in milli-units.
    #[serde(skip)]
    pub milli: (i128, i128),
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodePreview {
    pub node: String,
    pub daemon_sets: Vec<NodeDaemonSet>,
    /// The overhead of the daemon pods that land.
    pub resources: Vec<NodeResource>,
}

impl NodePreview {
    pub fn count(&self, code: &str) -> usize {
        self.daemon_sets
            .iter()
            .filter(|d| d.verdict.code() == code)
            .count()
    }
}

/// What `node` would get from `daemonsets`: a verdict per DaemonSet, landing ones first.
pub fn preview(node: &Node, daemonsets: &[DaemonSet], facts: &AdmissionFacts) -> NodePreview {
    let daemons: Vec<Daemon<'_>> = daemonsets
        .iter()
        .filter_map(|d| Daemon::new(d, facts))
        .collect();
    let verdicts = fresh_node::evaluate(node, &daemons);
    let mut used = Resources::new();
    for (d, _) in daemons.iter().zip(&verdicts).filter(|(_, v)| v.lands()) {
        for (k, v) in d.request_with_slot() {
            *used.entry(k).or_default() += v;
        }
    }
    let mut rows: Vec<NodeDaemonSet> = daemons
        .iter()
        .zip(verdicts)
        .map(|(d, verdict)| NodeDaemonSet {
            namespace: d.namespace.clone(),
            name: d.name.clone(),
            reason: verdict.sentence(),
            verdict,
            requests: fresh_node::shown(&d.request),
        })
        .collect();
    let rank = |v: &Verdict| match v {
        Verdict::Lands => 0,
        Verdict::Pending { .. } | Verdict::Refused { .. } => 1,
        Verdict::NotTargeted { .. } => 2,
    };
    rows.sort_by(|a, b| {
        rank(&a.verdict)
            .cmp(&rank(&b.verdict))
            .then_with(|| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)))
    });
    NodePreview {
        node: node.metadata.name.clone().unwrap_or_default(),
        daemon_sets: rows,
        resources: resources(&noderesources::allocatable(node), &used),
    }
}

fn resources(alloc: &Resources, used: &Resources) -> Vec<NodeResource> {
    let mut names: Vec<String> = ["cpu", "memory"].map(String::from).to_vec();
    if alloc.contains_key("ephemeral-storage") {
        names.push("ephemeral-storage".into());
    }
    for k in used.keys() {
        if !names.contains(k) && k != "pods" {
            names.push(k.clone());
        }
    }
    names.push("pods".into());
    names
        .into_iter()
        .map(|r| {
            let a = alloc.get(&r).copied().unwrap_or(0);
            let u = used.get(&r).copied().unwrap_or(0);
            NodeResource {
                allocatable: crate::logic::apimachinery::quantity::exact(&r, a),
                daemon_sets: crate::logic::apimachinery::quantity::exact(&r, u),
                percent: if a > 0 {
                    ((u as f64) * 1000.0 / (a as f64)).round() / 10.0
                } else {
                    0.0
                },
                left: crate::logic::apimachinery::quantity::exact(&r, a - u),
                milli: (a, u),
                resource: r,
            }
        })
        .collect()
}
