//! The kube-scheduler (`pkg/scheduler/framework/plugins`): the filters that can still reject a
//! daemon pod the controller has pinned to its node, and what preemption would do for it.
//! NodeResourcesFit ([`noderesources`]) and NodePorts ([`nodeports`]) report what is short or
//! taken; the other filters, run by [`run_all`], each return the scheduler's own reason string,
//! or say why it could not be decided from what was read: a filter is never passed silently.
//! [`defaultpreemption`] is `DefaultPreemption` on the pod's one node.

pub mod defaultpreemption;
pub mod dynamic_resources;
pub mod interpod_affinity;
pub mod nodeports;
pub mod noderesources;
pub mod nominated;
pub mod topology_spread;
pub mod volumes;

#[cfg(test)]
mod fit_tests;

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Node, Pod, PodSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde::Serialize;

use crate::logic::apimachinery::labels::Selector;

/// What one filter said about the node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(
    tag = "status",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Outcome {
    Pass,
    /// The scheduler's reason string, and which object or term caused it. `pre_filter`: the
    /// plugin's PreFilter rejects the pod before any node is filtered, so this reason is the
    /// whole FailedScheduling message and beats every Filter rejection.
    Reject {
        reason: String,
        detail: String,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        pre_filter: bool,
    },
    /// `not checked: <why>`.
    NotChecked {
        reason: String,
    },
}

impl Outcome {
    pub fn reject(reason: &str, detail: impl Into<String>) -> Outcome {
        Outcome::Reject {
            reason: reason.to_string(),
            detail: detail.into(),
            pre_filter: false,
        }
    }

    /// A rejection by the plugin's PreFilter.
    pub fn reject_pre(reason: &str, detail: impl Into<String>) -> Outcome {
        Outcome::Reject {
            reason: reason.to_string(),
            detail: detail.into(),
            pre_filter: true,
        }
    }

    pub fn not_checked(why: impl std::fmt::Display) -> Outcome {
        Outcome::NotChecked {
            reason: format!("not checked: {why}"),
        }
    }
}

/// One filter's result, under its plugin's name (`InterPodAffinity`, `PodTopologySpread`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterResult {
    pub plugin: &'static str,
    #[serde(flatten)]
    pub outcome: Outcome,
}

impl FilterResult {
    pub fn rejected(&self) -> Option<(&str, &str)> {
        match &self.outcome {
            Outcome::Reject { reason, detail, .. } => Some((reason, detail)),
            _ => None,
        }
    }

    fn pre_filter_rejected(&self) -> bool {
        matches!(
            self.outcome,
            Outcome::Reject {
                pre_filter: true,
                ..
            }
        )
    }
}

/// The rejection the scheduler reports: the first PreFilter rejection in plugin order (every
/// PreFilter runs before any Filter), else the first Filter rejection.
pub fn deciding(filters: &[FilterResult]) -> Option<&FilterResult> {
    filters
        .iter()
        .find(|f| f.pre_filter_rejected())
        .or_else(|| filters.iter().find(|f| f.rejected().is_some()))
}

/// The daemon pod as the scheduler sees it: the template's namespace, labels and spec.
pub struct IncomingPod<'a> {
    pub namespace: &'a str,
    pub labels: &'a BTreeMap<String, String>,
    pub spec: &'a PodSpec,
}

/// What the filters read of the cluster besides the node itself.
pub struct ClusterView<'a> {
    /// The nodes read: every node, or only the target node (`explain node`).
    pub nodes: &'a [&'a Node],
    /// Pods bound to those nodes and not finished.
    pub pods: &'a [&'a Pod],
    /// Whether `nodes` and `pods` are the whole cluster.
    pub complete: bool,
    /// The storage and device objects the volume and DynamicResources filters read.
    pub objects: &'a FilterObjects,
    /// The pods of `pods` with a required anti-affinity term, found once rather than on every
    /// node's check (`NodeInfo.PodsWithRequiredAntiAffinity`, which the InterPodAffinity
    /// PreFilter walks instead of every pod).
    pub with_required_anti_affinity: Vec<&'a Pod>,
}

impl<'a> ClusterView<'a> {
    pub fn new(
        nodes: &'a [&'a Node],
        pods: &'a [&'a Pod],
        complete: bool,
        objects: &'a FilterObjects,
    ) -> Self {
        let with_required_anti_affinity = pods
            .iter()
            .copied()
            .filter(|p| interpod_affinity::has_required_anti_affinity(p))
            .collect();
        ClusterView {
            nodes,
            pods,
            complete,
            objects,
            with_required_anti_affinity,
        }
    }
}

/// The objects read only when some template needs them (claims, resource claims, extended
/// resources): `None` where they were not read.
#[derive(Debug, Default)]
pub struct FilterObjects {
    pub storage: Option<volumes::Storage>,
    pub dra: Option<dynamic_resources::Dra>,
}

/// Nothing read: every filter that needs these objects says "not checked" for a pod that
/// needs them.
pub static NOTHING_READ: FilterObjects = FilterObjects {
    storage: None,
    dra: None,
};

impl ClusterView<'_> {
    fn node_of(&self, pod: &Pod) -> Option<&Node> {
        let name = pod.spec.as_ref()?.node_name.as_deref()?;
        self.nodes
            .iter()
            .find(|n| n.metadata.name.as_deref() == Some(name))
            .copied()
    }
}

/// Every filter of this module for one node, in the scheduler's plugin order
/// (`getDefaultPlugins`: the volume filters, PodTopologySpread, InterPodAffinity, then
/// DynamicResources).
pub fn run_all(pod: &IncomingPod<'_>, node: &Node, view: &ClusterView<'_>) -> Vec<FilterResult> {
    let mut out = volumes::run(pod, node, view.objects.storage.as_ref(), view);
    out.push(FilterResult {
        plugin: "PodTopologySpread",
        outcome: topology_spread::filter(pod, node, view),
    });
    out.push(FilterResult {
        plugin: "InterPodAffinity",
        outcome: interpod_affinity::filter(pod, node, view),
    });
    out.push(FilterResult {
        plugin: "DynamicResources",
        outcome: dynamic_resources::filter(
            pod.spec,
            pod.namespace,
            node,
            view.objects.dra.as_ref(),
            &noderesources::pod_requests(pod.spec),
        ),
    });
    out
}

/// The topology key whose domain is the node itself: the only one `explain node` can decide
/// from the node's own pods.
pub const HOSTNAME: &str = "kubernetes.io/hostname";

/// `metav1.LabelSelectorAsSelector`, with the affinity and spread convention that a missing
/// selector matches nothing. `Err` for a malformed selector (the API server rejects those).
fn selector(sel: Option<&LabelSelector>) -> Result<Option<Selector>, String> {
    sel.map(Selector::from_label_selector).transpose()
}

fn matches(sel: &Option<Selector>, labels: &BTreeMap<String, String>) -> bool {
    sel.as_ref().is_some_and(|s| s.matches(labels))
}

/// The label selector with `matchLabelKeys` (In the pod's value) and `mismatchLabelKeys`
/// (NotIn) merged in, as the API server does when it creates the pod
/// (`MatchLabelKeysInPodAffinity`, `MatchLabelKeysInPodTopologySpreadSelectorMerge`).
fn merged_selector(
    sel: Option<&LabelSelector>,
    match_keys: Option<&Vec<String>>,
    mismatch_keys: Option<&Vec<String>>,
    labels: &BTreeMap<String, String>,
) -> Option<LabelSelector> {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;
    let mut out = sel?.clone();
    let mut add = |keys: Option<&Vec<String>>, op: &str| {
        for k in keys.into_iter().flatten() {
            if let Some(v) = labels.get(k) {
                out.match_expressions
                    .get_or_insert_with(Vec::new)
                    .push(LabelSelectorRequirement {
                        key: k.clone(),
                        operator: op.to_string(),
                        values: Some(vec![v.clone()]),
                    });
            }
        }
    };
    add(match_keys, "In");
    add(mismatch_keys, "NotIn");
    Some(out)
}

fn pod_labels(pod: &Pod) -> BTreeMap<String, String> {
    pod.metadata.labels.clone().unwrap_or_default()
}

pub(crate) fn pod_namespace(pod: &Pod) -> &str {
    pod.metadata.namespace.as_deref().unwrap_or("")
}

fn node_label<'a>(node: &'a Node, key: &str) -> Option<&'a str> {
    node.metadata.labels.as_ref()?.get(key).map(String::as_str)
}

fn qualified(pod: &Pod) -> String {
    format!(
        "{}/{}",
        pod_namespace(pod),
        crate::logic::daemon::pods::name(pod)
    )
}

#[cfg(test)]
mod tests;

/// The pods the scheduler's snapshot holds: bound to a node and not finished, in input order.
pub fn bound_pods(pods: &[Pod]) -> Vec<&Pod> {
    pods.iter()
        .filter(|p| {
            p.spec
                .as_ref()
                .and_then(|s| s.node_name.as_deref())
                .is_some()
        })
        .filter(|p| !crate::logic::daemon::pods::is_terminal(p))
        .collect()
}
