//! NodeResourcesFit (`plugins/noderesources/fit.go` `fitsRequest`), with pod requests from
//! component-helpers `resource.PodRequests`: whether the node has room for a daemon pod the
//! controller has pinned to it.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, ContainerStatus, Node, Pod, PodSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use serde::Serialize;

use crate::logic::apimachinery::quantity::{parse_milli, show};
use crate::logic::daemon::pods;

/// Resource name → amount in milli-units.
pub type Resources = BTreeMap<String, i128>;

fn add(into: &mut Resources, from: &Resources) {
    for (k, v) in from {
        *into.entry(k.clone()).or_default() += v;
    }
}

fn max_into(into: &mut Resources, from: &Resources) {
    for (k, v) in from {
        let e = into.entry(k.clone()).or_default();
        *e = (*e).max(*v);
    }
}

fn container_requests(c: &Container) -> Resources {
    c.resources
        .as_ref()
        .and_then(|r| r.requests.as_ref())
        .map(|reqs| {
            reqs.iter()
                .filter_map(|(k, q)| parse_milli(&q.0).map(|v| (k.clone(), v)))
                .collect()
        })
        .unwrap_or_default()
}

pub(super) fn is_sidecar(c: &Container) -> bool {
    c.restart_policy.as_deref() == Some("Always")
}

/// `resource.PodRequests`: regular containers plus restartable init containers (sidecars), or
/// the largest classic init container together with the sidecars started before it, whichever is
/// larger per resource; pod-level requests (cpu, memory, hugepages) override; overhead is added.
pub fn pod_requests(spec: &PodSpec) -> Resources {
    let mut result = Resources::new();
    for c in &spec.containers {
        add(&mut result, &container_requests(c));
    }
    let mut sidecars = Resources::new();
    let mut init_peak = Resources::new();
    for c in spec.init_containers.iter().flatten() {
        let own = container_requests(c);
        let usage = if is_sidecar(c) {
            add(&mut result, &own);
            add(&mut sidecars, &own);
            sidecars.clone()
        } else {
            let mut combined = own;
            add(&mut combined, &sidecars);
            combined
        };
        max_into(&mut init_peak, &usage);
    }
    max_into(&mut result, &init_peak);
    if let Some(pod_level) = spec.resources.as_ref().and_then(|r| r.requests.as_ref()) {
        for (k, q) in pod_level {
            let supported = k == "cpu" || k == "memory" || k.starts_with("hugepages-");
            if let Some(v) = parse_milli(&q.0).filter(|_| supported) {
                result.insert(k.clone(), v);
            }
        }
    }
    if let Some(overhead) = &spec.overhead {
        for (k, q) in overhead {
            if let Some(v) = parse_milli(&q.0) {
                *result.entry(k.clone()).or_default() += v;
            }
        }
    }
    result.retain(|_, v| *v != 0);
    result
}

/// One resource the node lacks (`InsufficientResource`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Insufficient {
    pub resource: String,
    /// As the scheduler words it: `Insufficient cpu`, `Too many pods`.
    pub reason: String,
    pub requested: String,
    pub used: String,
    pub allocatable: String,
    /// The request exceeds the node's whole allocatable: no eviction can help.
    pub unresolvable: bool,
    #[serde(skip)]
    pub milli: (i128, i128, i128),
}

impl Insufficient {
    /// `Insufficient cpu (requests 500m, node has 1 allocatable with 800m already requested)`.
    pub fn phrase(&self) -> String {
        format!(
            "{} (requests {}, node has {} allocatable with {} already requested)",
            self.reason, self.requested, self.allocatable, self.used
        )
    }
}

/// The node's allocatable resources in milli-units.
pub fn allocatable(node: &Node) -> Resources {
    node.status
        .as_ref()
        .and_then(|s| s.allocatable.as_ref())
        .map(|a| {
            a.iter()
                .filter_map(|(k, q)| parse_milli(&q.0).map(|v| (k.clone(), v)))
                .collect()
        })
        .unwrap_or_default()
}

/// The node the scheduler counts this pod on: where it is bound, unless it has finished.
fn counted_on(p: &Pod) -> Option<&str> {
    p.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .filter(|_| !pods::is_terminal(p))
}

/// Pods the scheduler counts on a node: bound there and not finished.
pub fn pods_on_node<'a>(node: &str, pods: &'a [Pod]) -> Vec<&'a Pod> {
    pods.iter()
        .filter(|p| counted_on(p) == Some(node))
        .collect()
}

/// [`pods_on_node`] for every node at once: one pass over the pods instead of one per node,
/// which on thousands of nodes is the difference between linear and quadratic.
pub fn pods_by_node(pods: &[Pod]) -> std::collections::HashMap<&str, Vec<&Pod>> {
    let mut out: std::collections::HashMap<&str, Vec<&Pod>> = std::collections::HashMap::new();
    for p in pods {
        if let Some(node) = counted_on(p) {
            out.entry(node).or_default().push(p);
        }
    }
    out
}

/// What these pods request together, as the scheduler sums them.
pub fn requested_by(pods: &[&Pod]) -> Resources {
    let mut total = Resources::new();
    for p in pods {
        add(&mut total, &scheduled_requests(p));
    }
    total
}

/// `resource.PodRequests` with `UseStatusResources`, as the scheduler counts a pod already on
/// a node: a container (or sidecar) that reports resources counts the larger of its spec, its
/// actual (`status.resources`) and its allocated requests (`determineContainerReqs`); when the
/// kubelet found the resize infeasible, only actual and allocated.
pub fn scheduled_requests(pod: &Pod) -> Resources {
    let Some(spec) = &pod.spec else {
        return Resources::new();
    };
    let Some(status) = &pod.status else {
        return pod_requests(spec);
    };
    let infeasible = status
        .conditions
        .iter()
        .flatten()
        .any(|c| c.type_ == "PodResizePending" && c.reason.as_deref() == Some("Infeasible"));
    let mut spec = spec.clone();
    let statuses = |list: &Option<Vec<ContainerStatus>>| {
        list.iter()
            .flatten()
            .map(|cs| (cs.name.clone(), cs.clone()))
            .collect::<BTreeMap<String, ContainerStatus>>()
    };
    let main = statuses(&status.container_statuses);
    let init = statuses(&status.init_container_statuses);
    for c in &mut spec.containers {
        effective_requests(c, main.get(&c.name), infeasible);
    }
    for c in spec
        .init_containers
        .iter_mut()
        .flatten()
        .filter(|c| is_sidecar(c))
    {
        effective_requests(c, init.get(&c.name), infeasible);
    }
    pod_requests(&spec)
}

/// `determineContainerReqs` for one container, written back into its requests.
fn effective_requests(c: &mut Container, cs: Option<&ContainerStatus>, infeasible: bool) {
    let Some(cs) = cs else { return };
    let Some(actual) = &cs.resources else { return };
    let quantities = |m: Option<&BTreeMap<String, Quantity>>| -> Resources {
        m.into_iter()
            .flatten()
            .filter_map(|(k, q)| parse_milli(&q.0).map(|v| (k.clone(), v)))
            .collect()
    };
    let mut effective = if infeasible {
        Resources::new()
    } else {
        container_requests(c)
    };
    max_into(&mut effective, &quantities(actual.requests.as_ref()));
    max_into(&mut effective, &quantities(cs.allocated_resources.as_ref()));
    let requests = effective
        .into_iter()
        .map(|(k, v)| (k, Quantity(format!("{v}m"))))
        .collect();
    c.resources.get_or_insert_with(Default::default).requests = Some(requests);
}

/// `fitsRequest`: pod count first, then (unless the pod requests nothing) cpu, memory,
/// ephemeral-storage and every other requested resource against allocatable minus what the
/// node's pods already request.
pub fn insufficient(request: &Resources, node: &Node, on_node: &[&Pod]) -> Vec<Insufficient> {
    shortfalls(
        request,
        &allocatable(node),
        &requested_by(on_node),
        on_node.len(),
    )
}

/// [`insufficient`] with the node's side already summed: its allocatable, what `pod_count`
/// pods on it request (`used`). For callers that add pods one by one.
pub fn shortfalls(
    request: &Resources,
    alloc: &Resources,
    used: &Resources,
    pod_count: usize,
) -> Vec<Insufficient> {
    let mut out = Vec::new();
    let allowed_pods = alloc.get("pods").copied().unwrap_or(0) / 1000;
    let pod_count = pod_count as i128;
    if pod_count + 1 > allowed_pods {
        out.push(Insufficient {
            resource: "pods".into(),
            reason: "Too many pods".into(),
            requested: "1".into(),
            used: pod_count.to_string(),
            allocatable: allowed_pods.to_string(),
            unresolvable: false,
            milli: (1000, pod_count * 1000, allowed_pods * 1000),
        });
    }
    if request.is_empty() {
        return out;
    }
    let mut names: Vec<&String> = request.keys().filter(|k| k.as_str() != "pods").collect();
    // The scheduler checks cpu, memory and ephemeral-storage first, then the others.
    names.sort_by_key(|k| match k.as_str() {
        "cpu" => (0, String::new()),
        "memory" => (1, String::new()),
        "ephemeral-storage" => (2, String::new()),
        other => (3, other.to_string()),
    });
    for name in names {
        let want = request[name];
        if want <= 0 {
            continue;
        }
        // cpu compares millicores; everything else whole units, rounded up.
        let unit = |v: i128| {
            if name == "cpu" {
                v
            } else {
                crate::logic::apimachinery::quantity::milli_to_units(v)
            }
        };
        let have = alloc.get(name).copied().unwrap_or(0);
        let in_use = used.get(name).copied().unwrap_or(0);
        if unit(want) > unit(have) - unit(in_use) {
            out.push(Insufficient {
                resource: name.clone(),
                reason: format!("Insufficient {name}"),
                requested: show(name, want),
                used: show(name, in_use),
                allocatable: show(name, have),
                unresolvable: unit(want) > unit(have),
                milli: (want, in_use, have),
            });
        }
    }
    out
}

/// API defaulting of a container's requests: a resource with a limit but no request requests
/// its limit (`SetDefaults_Pod` / `defaultRequests`). Pods in the cluster are already defaulted;
/// manifests are not.
pub fn default_requests(spec: &mut PodSpec) {
    let containers = spec
        .containers
        .iter_mut()
        .chain(spec.init_containers.iter_mut().flatten());
    for c in containers {
        let Some(res) = c.resources.as_mut() else {
            continue;
        };
        let Some(limits) = res.limits.clone() else {
            continue;
        };
        let requests = res.requests.get_or_insert_with(Default::default);
        for (k, v) in limits {
            requests.entry(k).or_insert(v);
        }
    }
}
