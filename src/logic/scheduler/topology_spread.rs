//! PodTopologySpread with `whenUnsatisfiable: DoNotSchedule`
//! (`pkg/scheduler/framework/plugins/podtopologyspread/filtering.go`).
//!
//! A daemon pod carries the required node affinity `metadata.name In [its node]`, so under the
//! default `nodeAffinityPolicy: Honor` only its own node counts (`calPreFilterState`,
//! `matchNodeInclusionPolicies`): the skew is then at most 1 and only a missing topology label
//! or `minDomains` above one can reject it. `nodeAffinityPolicy: Ignore` counts every node.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Node, TopologySpreadConstraint};

use super::{
    ClusterView, IncomingPod, Outcome, matches, merged_selector, node_label, pod_labels,
    pod_namespace, selector,
};
use crate::logic::apimachinery::labels::Selector;
use crate::logic::daemon::{pods, taints};

pub const NOT_MATCH: &str = "node(s) didn't match pod topology spread constraints";
pub const MISSING_LABEL: &str =
    "node(s) didn't match pod topology spread constraints (missing required label)";

/// `filterTopologySpreadConstraints`: the DoNotSchedule constraints, selectors parsed with
/// `matchLabelKeys` merged.
fn hard_constraints<'a>(
    pod: &IncomingPod<'a>,
) -> Result<Vec<(&'a TopologySpreadConstraint, Option<Selector>)>, String> {
    pod.spec
        .topology_spread_constraints
        .iter()
        .flatten()
        .filter(|c| c.when_unsatisfiable == "DoNotSchedule")
        .map(|c| {
            let merged = merged_selector(
                c.label_selector.as_ref(),
                c.match_label_keys.as_ref(),
                None,
                pod.labels,
            );
            Ok((c, selector(merged.as_ref())?))
        })
        .collect()
}

/// `matchNodeInclusionPolicies` for a daemon pod: under Honor only its own node passes the
/// injected node affinity; under Honor for taints, the node's NoSchedule/NoExecute taints must
/// be tolerated.
fn included(
    c: &TopologySpreadConstraint,
    pod: &IncomingPod<'_>,
    candidate: &Node,
    target: &Node,
) -> bool {
    let honor_affinity = c.node_affinity_policy.as_deref().unwrap_or("Honor") == "Honor";
    if honor_affinity && candidate.metadata.name != target.metadata.name {
        return false;
    }
    if c.node_taints_policy.as_deref() == Some("Honor") {
        let tolerations = taints::daemon_pod_tolerations(pod.spec);
        let node_taints = candidate
            .spec
            .as_ref()
            .and_then(|s| s.taints.as_deref())
            .unwrap_or(&[]);
        return taints::first_untolerated(node_taints, &tolerations).is_none();
    }
    true
}

/// `countPodsMatchSelector`: pods of the pod's namespace that are not terminating and match; an
/// empty selector counts none.
fn count_on(
    node: &Node,
    sel: &Option<Selector>,
    pod: &IncomingPod<'_>,
    view: &ClusterView<'_>,
) -> i64 {
    if sel.as_ref().is_some_and(Selector::is_empty) {
        return 0;
    }
    let name = node.metadata.name.as_deref();
    view.pods
        .iter()
        .filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == name)
        .filter(|p| !pods::is_terminating(p) && pod_namespace(p) == pod.namespace)
        .filter(|p| matches(sel, &pod_labels(p)))
        .count() as i64
}

/// `PodTopologySpread.Filter`, constraint by constraint in order.
pub fn filter(pod: &IncomingPod<'_>, node: &Node, view: &ClusterView<'_>) -> Outcome {
    let constraints = match hard_constraints(pod) {
        Ok(c) => c,
        Err(e) => return Outcome::not_checked(format!("invalid selector: {e}")),
    };
    let has_all_keys = |n: &Node| {
        constraints
            .iter()
            .all(|(c, _)| node_label(n, &c.topology_key).is_some())
    };
    for (c, sel) in &constraints {
        let Some(value) = node_label(node, &c.topology_key) else {
            return Outcome::reject(
                MISSING_LABEL,
                format!("the node has no label {}", c.topology_key),
            );
        };
        let ignores_affinity = c.node_affinity_policy.as_deref() == Some("Ignore");
        if ignores_affinity && !view.complete {
            return Outcome::not_checked(format!(
                "the constraint on {} counts pods on every node (nodeAffinityPolicy: Ignore), and only this node's pods were read (explain ds reads them all)",
                c.topology_key
            ));
        }
        // `calPreFilterState`: match counts per domain over the nodes that count.
        let mut per_domain: BTreeMap<&str, i64> = BTreeMap::new();
        for n in view
            .nodes
            .iter()
            .filter(|n| has_all_keys(n) && included(c, pod, n, node))
        {
            let v = node_label(n, &c.topology_key).unwrap_or("");
            *per_domain.entry(v).or_default() += count_on(n, sel, pod, view);
        }
        let min_domains = i64::from(c.min_domains.unwrap_or(1));
        // `minMatchNum`: fewer domains than minDomains means a global minimum of zero.
        let min_match = if (per_domain.len() as i64) < min_domains {
            0
        } else {
            per_domain.values().copied().min().unwrap_or(0)
        };
        let here = per_domain.get(value).copied().unwrap_or(0);
        let self_match = i64::from(matches(sel, pod.labels));
        let skew = here + self_match - min_match;
        if skew > i64::from(c.max_skew) {
            return Outcome::reject(
                NOT_MATCH,
                format!(
                    "on {}={value}: {here} matching pod(s) plus this one against a minimum of {min_match} is a skew of {skew}, above maxSkew {}",
                    c.topology_key, c.max_skew
                ),
            );
        }
    }
    Outcome::Pass
}
