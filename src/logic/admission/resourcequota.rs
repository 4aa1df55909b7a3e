//! ResourceQuota (`staging/src/k8s.io/apiserver/pkg/admission/plugin/resourcequota`
//! `CheckRequest`, with the pod evaluator of `pkg/quota/v1/evaluator/core/pods.go`): a create
//! that would take a matching quota's `status.used` past its `status.hard` is refused.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Pod, PodSpec, ResourceQuota};

use super::{Admission, Objects, Refusal, in_namespace, refusal};
use crate::logic::apimachinery::quantity::parse_milli;
use crate::logic::scheduler::noderesources;
use crate::logic::scheduler::noderesources::Resources;

const RULE: &str = "ResourceQuota";

/// The pod's limits aggregated as its requests are (`resourcehelper.PodLimits`).
fn pod_limits(spec: &PodSpec) -> Resources {
    let mut s = spec.clone();
    for c in s
        .containers
        .iter_mut()
        .chain(s.init_containers.iter_mut().flatten())
    {
        if let Some(r) = c.resources.as_mut() {
            r.requests = r.limits.clone();
        }
    }
    if let Some(r) = s.resources.as_mut() {
        r.requests = r.limits.clone();
    }
    let limited: Vec<String> = s
        .containers
        .iter()
        .chain(s.init_containers.iter().flatten())
        .flat_map(|c| c.resources.iter().flat_map(|r| r.limits.iter().flatten()))
        .map(|(k, _)| k.clone())
        .collect();
    let mut out = noderesources::pod_requests(&s);
    // Overhead counts only towards resources some container limits.
    out.retain(|k, _| {
        limited.contains(k)
            || s.resources
                .as_ref()
                .and_then(|r| r.limits.as_ref())
                .is_some_and(|l| l.contains_key(k))
    });
    out
}

/// `PodUsageFunc` / `podComputeUsageHelper`: what one pod adds to a quota.
pub fn usage(pod: &Pod) -> Resources {
    let mut out = Resources::new();
    out.insert("pods".into(), 1000);
    out.insert("count/pods".into(), 1000);
    let Some(spec) = pod.spec.as_ref() else {
        return out;
    };
    let requests = noderesources::pod_requests(spec);
    let limits = pod_limits(spec);
    for r in ["cpu", "memory", "ephemeral-storage"] {
        if let Some(v) = requests.get(r) {
            out.insert(r.into(), *v);
            out.insert(format!("requests.{r}"), *v);
        }
        if let Some(v) = limits.get(r) {
            out.insert(format!("limits.{r}"), *v);
        }
    }
    for (k, v) in &requests {
        if k.starts_with("hugepages-") {
            out.insert(k.clone(), *v);
            out.insert(format!("requests.{k}"), *v);
        } else if k.contains('/') {
            out.insert(format!("requests.{k}"), *v);
        }
    }
    out
}

fn is_best_effort(spec: &PodSpec) -> bool {
    let any = |c: &k8s_openapi::api::core::v1::Container| {
        c.resources.as_ref().is_some_and(|r| {
            let set =
                |l: &Option<
                    BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>,
                >| { l.iter().flatten().any(|(k, _)| k == "cpu" || k == "memory") };
            set(&r.requests) || set(&r.limits)
        })
    };
    !spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .any(any)
        && spec.resources.is_none()
}

/// `podMatchesScopeFunc` for one scope selector.
fn scope_matches(scope: &str, op: &str, values: &[String], spec: &PodSpec) -> bool {
    let class = spec
        .priority_class_name
        .as_deref()
        .filter(|c| !c.is_empty());
    match scope {
        "Terminating" => spec.active_deadline_seconds.is_some_and(|s| s >= 0),
        "NotTerminating" => spec.active_deadline_seconds.is_none_or(|s| s < 0),
        "BestEffort" => is_best_effort(spec),
        "NotBestEffort" => !is_best_effort(spec),
        "PriorityClass" => match op {
            "Exists" => class.is_some(),
            "DoesNotExist" => class.is_none(),
            "In" => class.is_some_and(|c| values.iter().any(|v| v == c)),
            "NotIn" => class.is_none_or(|c| !values.iter().any(|v| v == c)),
            _ => false,
        },
        // Cross-namespace pod affinity: DaemonSet pods rarely use it; assume not.
        "CrossNamespacePodAffinity" => false,
        _ => false,
    }
}

fn quota_matches(q: &ResourceQuota, spec: &PodSpec) -> bool {
    let qs = q.spec.as_ref();
    let scopes = qs.and_then(|s| s.scopes.clone()).unwrap_or_default();
    let selectors = qs
        .and_then(|s| s.scope_selector.as_ref())
        .and_then(|s| s.match_expressions.clone())
        .unwrap_or_default();
    scopes.iter().all(|s| scope_matches(s, "Exists", &[], spec))
        && selectors.iter().all(|e| {
            scope_matches(
                &e.scope_name,
                &e.operator,
                e.values.as_deref().unwrap_or(&[]),
                spec,
            )
        })
}

/// `podEvaluator.MatchingResources`: the quota's resources that pods use.
fn pod_resource(name: &str) -> bool {
    const NAMES: [&str; 11] = [
        "count/pods",
        "cpu",
        "memory",
        "ephemeral-storage",
        "requests.cpu",
        "requests.memory",
        "requests.ephemeral-storage",
        "limits.cpu",
        "limits.memory",
        "limits.ephemeral-storage",
        "pods",
    ];
    NAMES.contains(&name)
        || name.starts_with("hugepages-")
        || name.starts_with("requests.hugepages-")
        || (name.starts_with("requests.") && name.contains('/'))
}

fn hard(q: &ResourceQuota) -> BTreeMap<String, String> {
    q.status
        .as_ref()
        .and_then(|s| s.hard.as_ref())
        .map(|h| h.iter().map(|(k, v)| (k.clone(), v.0.clone())).collect())
        .unwrap_or_default()
}

fn used(q: &ResourceQuota) -> BTreeMap<String, String> {
    q.status
        .as_ref()
        .and_then(|s| s.used.as_ref())
        .map(|h| h.iter().map(|(k, v)| (k.clone(), v.0.clone())).collect())
        .unwrap_or_default()
}

/// `podEvaluator.Constraints`: a quota on cpu or memory needs every container to set it.
fn constraints(restricted: &[String], spec: &PodSpec) -> Option<String> {
    if spec.resources.is_some() {
        return None;
    }
    let validated = [
        "cpu",
        "memory",
        "requests.cpu",
        "requests.memory",
        "limits.cpu",
        "limits.memory",
    ];
    let required: Vec<&String> = restricted
        .iter()
        .filter(|r| validated.contains(&r.as_str()))
        .collect();
    let mut missing: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for c in spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
    {
        let r = c.resources.as_ref();
        let has = |which: &str| -> bool {
            let (list, name) = match which.split_once('.') {
                Some(("limits", n)) => (r.and_then(|r| r.limits.as_ref()), n),
                Some((_, n)) => (r.and_then(|r| r.requests.as_ref()), n),
                None => (r.and_then(|r| r.requests.as_ref()), which),
            };
            list.is_some_and(|l| l.contains_key(name))
        };
        for req in &required {
            if !has(req) {
                missing
                    .entry((*req).clone())
                    .or_default()
                    .push(c.name.clone());
            }
        }
    }
    if missing.is_empty() {
        return None;
    }
    let parts: Vec<String> = missing
        .iter_mut()
        .map(|(r, cs)| {
            cs.sort();
            cs.dedup();
            format!("{r} for: {}", cs.join(","))
        })
        .collect();
    Some(format!("must specify {}", parts.join("; ")))
}

/// A canonical quantity for a message (`Quantity.String`).
fn canonical(resource: &str, milli: i128) -> String {
    let base = resource.rsplit('.').next().unwrap_or(resource);
    if base == "cpu" || milli % 1000 != 0 {
        return if milli % 1000 == 0 {
            (milli / 1000).to_string()
        } else {
            format!("{milli}m")
        };
    }
    let units = milli / 1000;
    if base == "memory" || base == "ephemeral-storage" || base.starts_with("hugepages-") {
        for (suffix, size) in [
            ("Ei", 1i128 << 60),
            ("Pi", 1 << 50),
            ("Ti", 1 << 40),
            ("Gi", 1 << 30),
            ("Mi", 1 << 20),
            ("Ki", 1 << 10),
        ] {
            if units != 0 && units % size == 0 {
                return format!("{}{suffix}", units / size);
            }
        }
    }
    units.to_string()
}

fn pretty(items: &BTreeMap<String, String>) -> String {
    items
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The quotas of the pod's namespace that match it, with the resources they restrict.
fn matching<'a>(
    pod: &'a Pod,
    quotas: &'a [ResourceQuota],
) -> Vec<(&'a ResourceQuota, Vec<String>)> {
    let ns = pod.metadata.namespace.as_deref().unwrap_or("");
    let Some(spec) = pod.spec.as_ref() else {
        return Vec::new();
    };
    in_namespace(quotas, ns)
        .filter_map(|q| {
            let restricted: Vec<String> = hard(q).into_keys().filter(|k| pod_resource(k)).collect();
            (!restricted.is_empty() && quota_matches(q, spec)).then_some((q, restricted))
        })
        .collect()
}

/// `CheckRequest` for a create.
pub fn validate(a: &mut Admission, objects: &Objects) -> Option<Refusal> {
    let Some(quotas) = objects.quotas.as_deref() else {
        a.unchecked.push(RULE.into());
        return None;
    };
    let spec = a.pod.spec.as_ref()?;
    let wanted = usage(&a.pod);
    for (q, restricted) in matching(&a.pod, quotas) {
        let name = q.metadata.name.clone().unwrap_or_default();
        if let Some(why) = constraints(&restricted, spec) {
            return refusal(
                &a.pod,
                RULE,
                "podEvaluator.Constraints",
                &format!("failed quota: {name}: {why}"),
            );
        }
        let (hard, used) = (hard(q), used(q));
        let unknown: Vec<&String> = restricted
            .iter()
            .filter(|r| !used.contains_key(*r))
            .collect();
        if !unknown.is_empty() {
            let list: Vec<&str> = unknown.iter().map(|s| s.as_str()).collect();
            return refusal(
                &a.pod,
                RULE,
                "CheckRequest",
                &format!(
                    "status unknown for quota: {name}, resources: {}",
                    list.join(",")
                ),
            );
        }
        let (mut req, mut was, mut lim) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
        for r in &restricted {
            let Some(want) = wanted.get(r).copied().filter(|w| *w > 0) else {
                continue;
            };
            let now = used.get(r).and_then(|u| parse_milli(u)).unwrap_or(0);
            let max = hard.get(r).and_then(|h| parse_milli(h)).unwrap_or(0);
            if now + want > max {
                req.insert(r.clone(), canonical(r, want));
                was.insert(r.clone(), used.get(r).cloned().unwrap_or_default());
                lim.insert(r.clone(), hard.get(r).cloned().unwrap_or_default());
            }
        }
        if !req.is_empty() {
            let why = format!(
                "exceeded quota: {name}, requested: {}, used: {}, limited: {}",
                pretty(&req),
                pretty(&was),
                pretty(&lim)
            );
            return refusal(&a.pod, RULE, "CheckRequest", &why);
        }
    }
    None
}

/// How many pods like this one the namespace's quotas still admit (`None`: no quota limits
/// it), and the quota that is the limit. Creates are charged one by one, so a DaemonSet
/// needing more pods than this gets the rest refused.
pub fn pods_that_fit(pod: &Pod, quotas: &[ResourceQuota]) -> Option<(String, u64)> {
    let wanted = usage(pod);
    let mut best: Option<(String, u64)> = None;
    for (q, restricted) in matching(pod, quotas) {
        let (hard, used) = (hard(q), used(q));
        for r in &restricted {
            let Some(want) = wanted.get(r).copied().filter(|w| *w > 0) else {
                continue;
            };
            let now = used.get(r).and_then(|u| parse_milli(u)).unwrap_or(0);
            let max = hard.get(r).and_then(|h| parse_milli(h)).unwrap_or(0);
            let fit = u64::try_from(((max - now) / want).max(0)).unwrap_or(u64::MAX);
            if best.as_ref().is_none_or(|(_, b)| fit < *b) {
                best = Some((q.metadata.name.clone().unwrap_or_default(), fit));
            }
        }
    }
    best
}
