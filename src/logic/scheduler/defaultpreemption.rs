//! What preemption would do for a daemon pod its node cannot take (`plugins/defaultpreemption`).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Node, Pod, PodSpec};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use serde::Serialize;

use super::nodeports::port_conflicts;
use super::noderesources::{Resources, insufficient};
use crate::logic::daemon::pods;

/// One pod preemption would evict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Victim {
    /// `namespace/name`.
    pub pod: String,
    pub priority: i32,
    /// Evicting it takes a PodDisruptionBudget below zero disruptions allowed.
    pub violates_pdb: bool,
}

/// What `DefaultPreemption` would do for a pod the node cannot take as it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all_fields = "camelCase")]
pub enum Preemption {
    /// Evicting these lower-priority pods makes room (resources and host ports).
    WouldHelp {
        /// `namespace/name` of each victim, most important first (`MoreImportantPod`).
        victims: Vec<String>,
        details: Vec<Victim>,
    },
    /// `PodEligibleToPreemptOthers`: the pod's preemptionPolicy is Never.
    NotEligible { reason: String },
    /// The pod asks for more than the node has in total.
    Impossible,
    /// What fills the node has equal or higher priority, or evicting every lower-priority
    /// pod would still not make room.
    WouldNotHelp { lower_priority_pods: usize },
}

pub fn pod_priority(p: &Pod) -> i32 {
    p.spec.as_ref().and_then(|s| s.priority).unwrap_or(0)
}

/// The pod that wants the node: its admitted spec, requests and priority.
pub struct Preemptor<'a> {
    pub spec: &'a PodSpec,
    pub request: &'a Resources,
    pub priority: i32,
    /// `preemptionPolicy: Never`.
    pub never: bool,
}

fn pod_key(p: &Pod) -> String {
    format!(
        "{}/{}",
        p.metadata.namespace.as_deref().unwrap_or(""),
        pods::name(p)
    )
}

/// `MoreImportantPod`: higher priority first, then the one that started earlier.
fn more_important_first(a: &&Pod, b: &&Pod) -> std::cmp::Ordering {
    let start = |p: &Pod| {
        p.status
            .as_ref()
            .and_then(|s| s.start_time.as_ref())
            .map(|t| t.0)
    };
    pod_priority(b)
        .cmp(&pod_priority(a))
        .then_with(|| match (start(a), start(b)) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        })
}

/// `FilterVictimsWithPDBViolation`: in order, each pod matched by a budget of its namespace
/// uses one of its allowed disruptions; past zero it violates.
fn pdb_violations(victims: &[&Pod], pdbs: &[PodDisruptionBudget]) -> Vec<bool> {
    let mut allowed: Vec<i32> = pdbs
        .iter()
        .map(|b| {
            b.status
                .as_ref()
                .map_or(0, crate::logic::apimachinery::compat::disruptions_allowed)
        })
        .collect();
    victims
        .iter()
        .map(|p| {
            let labels: BTreeMap<String, String> = p
                .metadata
                .labels
                .clone()
                .unwrap_or_default()
                .into_iter()
                .collect();
            if labels.is_empty() {
                return false;
            }
            let mut violates = false;
            for (i, b) in pdbs.iter().enumerate() {
                if b.metadata.namespace != p.metadata.namespace {
                    continue;
                }
                let Some(sel) = b.spec.as_ref().and_then(|s| s.selector.as_ref()) else {
                    continue;
                };
                let Ok(sel) =
                    crate::logic::apimachinery::labels::Selector::from_label_selector(sel)
                else {
                    continue;
                };
                let disrupted = b
                    .status
                    .as_ref()
                    .and_then(|s| s.disrupted_pods.as_ref())
                    .is_some_and(|d| d.contains_key(pods::name(p)));
                if sel.is_empty() || !sel.matches(&labels) || disrupted {
                    continue;
                }
                allowed[i] -= 1;
                if allowed[i] < 0 {
                    violates = true;
                    break;
                }
            }
            violates
        })
        .collect()
}

/// `DefaultPreemption` on the pod's one node: not for `preemptionPolicy: Never`
/// (`PodEligibleToPreemptOthers`); no help when the request exceeds allocatable
/// (UnschedulableAndUnresolvable); otherwise `SelectVictimsOnNode`: remove every pod of lower
/// priority, check the pod fits (resources and host ports), then give pods back, most
/// important first, those whose eviction would violate a PodDisruptionBudget before the
/// others, keeping each one that still leaves room.
pub fn preemption(
    p: &Preemptor<'_>,
    node: &Node,
    on_node: &[&Pod],
    pdbs: &[PodDisruptionBudget],
) -> Preemption {
    if p.never {
        return Preemption::NotEligible {
            reason: "not eligible due to preemptionPolicy=Never".into(),
        };
    }
    if insufficient(p.request, node, on_node)
        .iter()
        .any(|i| i.unresolvable)
    {
        return Preemption::Impossible;
    }
    let fits = |pods: &[&Pod]| {
        insufficient(p.request, node, pods).is_empty() && port_conflicts(p.spec, pods).is_empty()
    };
    let (mut lower, mut kept): (Vec<&Pod>, Vec<&Pod>) = on_node
        .iter()
        .partition(|v| pod_priority(v) < p.priority && !pods::is_terminating(v));
    if lower.is_empty() || !fits(&kept) {
        return Preemption::WouldNotHelp {
            lower_priority_pods: lower.len(),
        };
    }
    lower.sort_by(more_important_first);
    let violates = pdb_violations(&lower, pdbs);
    let order: Vec<(&Pod, bool)> = lower
        .iter()
        .zip(&violates)
        .filter(|(_, v)| **v)
        .chain(lower.iter().zip(&violates).filter(|(_, v)| !**v))
        .map(|(p, v)| (*p, *v))
        .collect();
    let mut victims: Vec<(&Pod, bool)> = Vec::new();
    for (pod, violating) in order {
        kept.push(pod);
        if !fits(&kept) {
            kept.pop();
            victims.push((pod, violating));
        }
    }
    victims.sort_by(|a, b| more_important_first(&a.0, &b.0));
    Preemption::WouldHelp {
        victims: victims.iter().map(|(v, _)| pod_key(v)).collect(),
        details: victims
            .iter()
            .map(|(v, violates_pdb)| Victim {
                pod: pod_key(v),
                priority: pod_priority(v),
                violates_pdb: *violates_pdb,
            })
            .collect(),
    }
}
