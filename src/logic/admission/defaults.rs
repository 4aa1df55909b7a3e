//! API defaulting of a created pod: `SetDefaults_Pod` (`pkg/apis/core/v1/defaults.go`) on
//! decode, and `podutil.DefaultPodLevelResources` (`pkg/api/pod/util.go`) in the pod
//! strategy's `PrepareForCreate`, which with PodLevelResourcesFixDefaulting (on in 1.37) runs
//! after the mutating admission plugins.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Container;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use super::{Admission, Refusal};
use crate::logic::apimachinery::quantity::parse_milli;
use crate::logic::scheduler::noderesources;

const RULE: &str = "defaulting";

fn list(items: &[(String, String)]) -> String {
    items
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Requests default to limits where only a limit is set.
fn copy_limits(c: &mut Container) -> Vec<(String, String)> {
    let Some(res) = c.resources.as_mut() else {
        return Vec::new();
    };
    let Some(limits) = res.limits.clone() else {
        return Vec::new();
    };
    let requests = res.requests.get_or_insert_with(Default::default);
    let mut copied = Vec::new();
    for (k, v) in limits {
        if let std::collections::btree_map::Entry::Vacant(e) = requests.entry(k) {
            copied.push((e.key().clone(), v.0.clone()));
            e.insert(v);
        }
    }
    copied
}

/// `SetDefaults_Pod`: container requests from limits, and for hostNetwork pods every port's
/// hostPort from its containerPort (`defaultHostNetworkPorts`).
pub fn set_defaults_pod(a: &mut Admission) -> Option<Refusal> {
    let mut notes = Vec::new();
    let spec = a.pod.spec.as_mut()?;
    let host_network = spec.host_network == Some(true);
    let containers = spec
        .containers
        .iter_mut()
        .chain(spec.init_containers.iter_mut().flatten());
    for c in containers {
        let copied = copy_limits(c);
        if !copied.is_empty() {
            notes.push(format!(
                "container {}: requests {} copied from its limits",
                c.name,
                list(&copied)
            ));
        }
        if host_network {
            for p in c.ports.iter_mut().flatten() {
                if p.host_port.unwrap_or(0) == 0 {
                    p.host_port = Some(p.container_port);
                    notes.push(format!(
                        "container {}: hostPort {} (hostNetwork pods get hostPort = containerPort)",
                        c.name, p.container_port
                    ));
                }
            }
        }
    }
    for n in notes {
        a.change(RULE, "SetDefaults_Pod", n);
    }
    None
}

/// A quantity string that parses back to exactly `milli`.
pub fn exact(milli: i128) -> String {
    if milli % 1000 != 0 {
        format!("{milli}m")
    } else {
        (milli / 1000).to_string()
    }
}

fn supported_pod_level(name: &str) -> bool {
    name == "cpu" || name == "memory" || name.starts_with("hugepages-")
}

/// `defaultPodLevelRequests`: when pod-level resources are set, missing pod-level requests of
/// cpu and memory come from the containers' aggregated requests, then any remaining from the
/// pod-level limits. (Hugepage limit defaulting changes no request the scheduler reads.)
pub fn default_pod_level_resources(a: &mut Admission) -> Option<Refusal> {
    let spec = a.pod.spec.as_mut()?;
    let res = spec.resources.as_ref()?;
    let limits = res.limits.clone().unwrap_or_default();
    let mut requests: BTreeMap<String, Quantity> = res.requests.clone().unwrap_or_default();
    if requests.is_empty() && limits.is_empty() {
        return None;
    }
    let mut containers_only = spec.clone();
    containers_only.resources = None;
    containers_only.overhead = None;
    let aggregated = noderesources::pod_requests(&containers_only);
    let mut added = Vec::new();
    for (k, v) in &aggregated {
        let overcommit = k == "cpu" || k == "memory";
        if overcommit && !requests.contains_key(k) {
            requests.insert(k.clone(), Quantity(exact(*v)));
            added.push((k.clone(), exact(*v)));
        }
    }
    for (k, v) in &limits {
        if supported_pod_level(k) && !requests.contains_key(k) && parse_milli(&v.0).is_some() {
            requests.insert(k.clone(), v.clone());
            added.push((k.clone(), v.0.clone()));
        }
    }
    if added.is_empty() {
        return None;
    }
    if let Some(r) = spec.resources.as_mut() {
        r.requests = Some(requests);
    }
    a.change(
        RULE,
        "DefaultPodLevelResources",
        format!("pod-level requests {}", list(&added)),
    );
    None
}
