//! InterPodAffinity (`pkg/scheduler/framework/plugins/interpodaffinity/filtering.go`): the
//! daemon pod's own required pod affinity and anti-affinity, and the required anti-affinity of
//! pods already in the cluster against the daemon pod's labels.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{Node, Pod, PodAffinityTerm};

use super::{
    ClusterView, HOSTNAME, IncomingPod, Outcome, matches, merged_selector, node_label, pod_labels,
    pod_namespace, qualified, selector,
};
use crate::logic::apimachinery::labels::Selector;

pub const AFFINITY: &str = "node(s) didn't match pod affinity rules";
pub const ANTI_AFFINITY: &str = "node(s) didn't match pod anti-affinity rules";
pub const EXISTING_ANTI_AFFINITY: &str = "node(s) didn't satisfy existing pods anti-affinity rules";

/// Which namespaces a term selects (`getNamespacesFromPodAffinityTerm`).
enum Namespaces {
    Listed(BTreeSet<String>),
    /// An empty namespaceSelector: every namespace.
    All,
    /// A namespaceSelector that needs namespace labels, which are not read.
    ByLabels(BTreeSet<String>),
}

/// A required term, parsed (`framework.AffinityTerm`).
struct Term {
    selector: Option<Selector>,
    namespaces: Namespaces,
    topology_key: String,
}

enum Match {
    Yes,
    No,
    Unknown,
}

impl Term {
    /// `newAffinityTerm`: the term's namespaces default to its own pod's namespace.
    fn new(t: &PodAffinityTerm, owner_ns: &str, sel: Option<Selector>) -> Term {
        let listed: BTreeSet<String> = t.namespaces.iter().flatten().cloned().collect();
        let namespaces = match &t.namespace_selector {
            None if listed.is_empty() => Namespaces::Listed([owner_ns.to_string()].into()),
            None => Namespaces::Listed(listed),
            Some(s)
                if s.match_labels.as_ref().is_none_or(|m| m.is_empty())
                    && s.match_expressions.as_ref().is_none_or(|e| e.is_empty()) =>
            {
                Namespaces::All
            }
            Some(_) => Namespaces::ByLabels(listed),
        };
        Term {
            selector: sel,
            namespaces,
            topology_key: t.topology_key.clone(),
        }
    }

    /// `AffinityTerm.Matches`: the namespace is selected and the selector matches the labels.
    fn matches(&self, namespace: &str, labels: &BTreeMap<String, String>) -> Match {
        if !matches(&self.selector, labels) {
            return Match::No;
        }
        match &self.namespaces {
            Namespaces::All => Match::Yes,
            Namespaces::Listed(ns) if ns.contains(namespace) => Match::Yes,
            Namespaces::Listed(_) => Match::No,
            Namespaces::ByLabels(ns) if ns.contains(namespace) => Match::Yes,
            Namespaces::ByLabels(_) => Match::Unknown,
        }
    }

    fn describe(&self) -> String {
        let sel = self
            .selector
            .as_ref()
            .map_or("<none>".to_string(), |s| s.to_string());
        format!("topologyKey {} selector {sel}", self.topology_key)
    }
}

/// The daemon pod's required terms of one kind, with `matchLabelKeys`/`mismatchLabelKeys`
/// merged as the API server merges them into the pod it creates.
fn incoming_terms(pod: &IncomingPod<'_>, anti: bool) -> Result<Vec<Term>, String> {
    let affinity = pod.spec.affinity.as_ref();
    let terms = if anti {
        affinity
            .and_then(|a| a.pod_anti_affinity.as_ref())
            .and_then(|a| {
                a.required_during_scheduling_ignored_during_execution
                    .as_ref()
            })
    } else {
        affinity
            .and_then(|a| a.pod_affinity.as_ref())
            .and_then(|a| {
                a.required_during_scheduling_ignored_during_execution
                    .as_ref()
            })
    };
    terms
        .into_iter()
        .flatten()
        .map(|t| {
            let merged = merged_selector(
                t.label_selector.as_ref(),
                t.match_label_keys.as_ref(),
                t.mismatch_label_keys.as_ref(),
                pod.labels,
            );
            Ok(Term::new(t, pod.namespace, selector(merged.as_ref())?))
        })
        .collect()
}

/// A pod's required anti-affinity terms, as written (merged by the API server).
fn required_anti_affinity(p: &Pod) -> &[PodAffinityTerm] {
    p.spec
        .as_ref()
        .and_then(|s| s.affinity.as_ref())
        .and_then(|a| a.pod_anti_affinity.as_ref())
        .and_then(|a| {
            a.required_during_scheduling_ignored_during_execution
                .as_deref()
        })
        .unwrap_or_default()
}

/// Whether `p` has a required pod anti-affinity term (`PodsWithRequiredAntiAffinity`).
pub fn has_required_anti_affinity(p: &Pod) -> bool {
    !required_anti_affinity(p).is_empty()
}

/// The required anti-affinity terms of a pod already in the cluster.
fn existing_anti_terms(p: &Pod) -> Vec<Term> {
    required_anti_affinity(p)
        .iter()
        .filter_map(|t| {
            let sel = selector(t.label_selector.as_ref()).ok()?;
            Some(Term::new(t, pod_namespace(p), sel))
        })
        .collect()
}

/// Whether `p` runs in the same `key` domain as `node`; `None` when its node was not read.
fn same_domain(view: &ClusterView<'_>, p: &Pod, node: &Node, key: &str) -> Option<bool> {
    let here = node_label(node, key)?;
    let theirs = view.node_of(p)?;
    Some(node_label(theirs, key) == Some(here))
}

/// `InterPodAffinity.Filter`: affinity, then the pod's anti-affinity, then existing pods'.
pub fn filter(pod: &IncomingPod<'_>, node: &Node, view: &ClusterView<'_>) -> Outcome {
    let (affinity, anti) = match (incoming_terms(pod, false), incoming_terms(pod, true)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return Outcome::not_checked(format!("invalid selector: {e}")),
    };
    let checks = [
        satisfy_pod_affinity(pod, &affinity, node, view),
        satisfy_pod_anti_affinity(&anti, node, view),
        satisfy_existing_pods_anti_affinity(pod, node, view),
    ];
    let mut unknown = None;
    for c in checks {
        match c {
            Outcome::Reject { .. } => return c,
            Outcome::NotChecked { .. } => unknown = unknown.or(Some(c)),
            Outcome::Pass => {}
        }
    }
    unknown.unwrap_or(Outcome::Pass)
}

/// `satisfyPodAffinity`: the node has every term's topology key and, in each of its domains,
/// an existing pod matching all terms; or no pod anywhere matches them and the pod matches its
/// own terms (the first pod of a series).
fn satisfy_pod_affinity(
    pod: &IncomingPod<'_>,
    terms: &[Term],
    node: &Node,
    view: &ClusterView<'_>,
) -> Outcome {
    if terms.is_empty() {
        return Outcome::Pass;
    }
    if let Some(t) = terms
        .iter()
        .find(|t| node_label(node, &t.topology_key).is_none())
    {
        return Outcome::reject(
            AFFINITY,
            format!(
                "the node has no label {} (pod affinity term {})",
                t.topology_key,
                t.describe()
            ),
        );
    }
    let Some((any_match_anywhere, domains_with_match)) = matching_domains(terms, node, view) else {
        return Outcome::not_checked(
            "a pod affinity term selects namespaces by label, and namespace labels are not read",
        );
    };
    let local_only = terms.iter().all(|t| t.topology_key == HOSTNAME);
    if terms
        .iter()
        .all(|t| domains_with_match.contains(t.topology_key.as_str()))
    {
        return Outcome::Pass;
    }
    if !view.complete && !local_only {
        return Outcome::not_checked(
            "the pod's affinity spans nodes other than this one, and only this node's pods were read (explain ds reads them all)",
        );
    }
    let self_match = terms
        .iter()
        .all(|t| matches!(t.matches(pod.namespace, pod.labels), Match::Yes));
    if !any_match_anywhere && self_match {
        if view.complete {
            return Outcome::Pass;
        }
        return Outcome::not_checked(
            "no pod on this node matches the pod's affinity, and whether one does elsewhere decides it (explain ds reads them all)",
        );
    }
    let t = terms
        .iter()
        .find(|t| !domains_with_match.contains(t.topology_key.as_str()))
        .map(Term::describe)
        .unwrap_or_default();
    Outcome::reject(
        AFFINITY,
        format!("no pod in the node's domain matches pod affinity term {t}"),
    )
}

/// Whether any existing pod matches all `terms`, and the topology keys of the terms in whose
/// domain (the node's) such a pod runs. `None` when a term cannot be decided (namespaces chosen
/// by label).
fn matching_domains<'t>(
    terms: &'t [Term],
    node: &Node,
    view: &ClusterView<'_>,
) -> Option<(bool, BTreeSet<&'t str>)> {
    let mut any_match_anywhere = false;
    let mut domains_with_match: BTreeSet<&str> = BTreeSet::new();
    for p in view.pods {
        let all = terms.iter().try_fold(true, |acc, t| {
            match t.matches(pod_namespace(p), &pod_labels(p)) {
                Match::Yes => Some(acc),
                Match::No => Some(false),
                Match::Unknown => None,
            }
        })?;
        if !all {
            continue;
        }
        any_match_anywhere = true;
        for t in terms {
            if same_domain(view, p, node, &t.topology_key) == Some(true) {
                domains_with_match.insert(t.topology_key.as_str());
            }
        }
    }
    Some((any_match_anywhere, domains_with_match))
}

/// `satisfyPodAntiAffinity`: no existing pod matching one of the pod's anti-affinity terms in
/// the node's domain of that term (a node without the key is not constrained by it).
fn satisfy_pod_anti_affinity(terms: &[Term], node: &Node, view: &ClusterView<'_>) -> Outcome {
    let mut unknown = None;
    for t in terms {
        if node_label(node, &t.topology_key).is_none() {
            continue;
        }
        for p in view.pods {
            match t.matches(pod_namespace(p), &pod_labels(p)) {
                Match::No => continue,
                Match::Unknown => {
                    unknown = Some(
                        "a pod anti-affinity term selects namespaces by label, and namespace labels are not read",
                    );
                    continue;
                }
                Match::Yes => {}
            }
            if same_domain(view, p, node, &t.topology_key) == Some(true) {
                return Outcome::reject(
                    ANTI_AFFINITY,
                    format!(
                        "pod {} matches pod anti-affinity term {}",
                        qualified(p),
                        t.describe()
                    ),
                );
            }
        }
        if !view.complete && t.topology_key != HOSTNAME {
            unknown = unknown.or(Some("the pod's anti-affinity spans nodes other than this one, and only this node's pods were read (explain ds reads them all)"));
        }
    }
    unknown.map_or(Outcome::Pass, Outcome::not_checked)
}

/// `satisfyExistingPodsAntiAffinity`: no pod already in the node's domain has a required
/// anti-affinity term that matches the daemon pod.
fn satisfy_existing_pods_anti_affinity(
    pod: &IncomingPod<'_>,
    node: &Node,
    view: &ClusterView<'_>,
) -> Outcome {
    let mut unknown = None;
    for &p in &view.with_required_anti_affinity {
        for t in existing_anti_terms(p) {
            match t.matches(pod.namespace, pod.labels) {
                Match::No => continue,
                Match::Unknown => {
                    unknown = Some(format!(
                        "pod {} has an anti-affinity term that selects namespaces by label, and namespace labels are not read",
                        qualified(p)
                    ));
                    continue;
                }
                Match::Yes => {}
            }
            if same_domain(view, p, node, &t.topology_key) == Some(true) {
                return Outcome::reject(
                    EXISTING_ANTI_AFFINITY,
                    format!(
                        "pod {} has required anti-affinity against the daemon pod's labels ({})",
                        qualified(p),
                        t.describe()
                    ),
                );
            }
        }
    }
    if !view.complete {
        unknown = unknown.or(Some("pods on other nodes of this node's topology domains may have anti-affinity against the daemon pod, and only this node's pods were read (explain ds reads them all)".into()));
    }
    unknown.map_or(Outcome::Pass, Outcome::not_checked)
}
