//! LimitRanger (`plugin/pkg/admission/limitranger/admission.go`): the namespace's
//! LimitRanges fill in missing container requests and limits (`PodMutateLimitFunc`), then
//! refuse containers and pods outside their min/max (`PodValidateLimitFunc`).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, LimitRange, Pod};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use super::{Admission, Objects, Refusal, in_namespace, refusal};
use crate::logic::apimachinery::quantity::parse_milli;
use crate::logic::scheduler::noderesources;

const RULE: &str = "LimitRanger";

type List = BTreeMap<String, Quantity>;

fn ranges<'a>(pod: &Pod, objects: &'a Objects) -> Option<Vec<&'a LimitRange>> {
    let ns = pod.metadata.namespace.clone().unwrap_or_default();
    let all = objects.limit_ranges.as_deref()?;
    Some(in_namespace(all, &ns).collect())
}

/// `defaultContainerResourceRequirements`: the Container items' defaultRequest and default.
/// (`SetDefaults_LimitRangeItem` already filled defaultRequest from default, max and min when
/// the LimitRange was stored.)
fn container_defaults(lr: &LimitRange) -> (List, List) {
    let mut requests = List::new();
    let mut limits = List::new();
    for item in lr.spec.iter().flat_map(|s| s.limits.iter()) {
        if item.type_ == "Container" {
            requests.extend(item.default_request.clone().unwrap_or_default());
            limits.extend(item.default.clone().unwrap_or_default());
        }
    }
    (requests, limits)
}

/// `mergeContainerResources`: only resources the container does not set.
fn merge(c: &mut Container, requests: &List, limits: &List) -> Vec<String> {
    let res = c.resources.get_or_insert_with(Default::default);
    let mut set = Vec::new();
    for (which, defaults, into) in [
        (
            "request",
            requests,
            res.requests.get_or_insert_with(Default::default),
        ),
        (
            "limit",
            limits,
            res.limits.get_or_insert_with(Default::default),
        ),
    ] {
        let mut names = Vec::new();
        for (k, v) in defaults {
            if !into.contains_key(k) {
                into.insert(k.clone(), v.clone());
                names.push(format!("{k}={}", v.0));
            }
        }
        if !names.is_empty() {
            set.push(format!("{which} {}", names.join(", ")));
        }
    }
    set
}

/// `LimitRanger.Admit` → `PodMutateLimitFunc` for each LimitRange of the namespace, in order.
pub fn admit(a: &mut Admission, objects: &Objects) -> Option<Refusal> {
    let Some(ranges) = ranges(&a.pod, objects) else {
        a.unchecked.push(RULE.into());
        return None;
    };
    let mut notes = Vec::new();
    for lr in ranges {
        let (requests, limits) = container_defaults(lr);
        if requests.is_empty() && limits.is_empty() {
            continue;
        }
        let lr_name = lr.metadata.name.clone().unwrap_or_default();
        let spec = a.pod.spec.as_mut()?;
        let containers = spec
            .containers
            .iter_mut()
            .chain(spec.init_containers.iter_mut().flatten());
        for c in containers {
            let set = merge(c, &requests, &limits);
            if !set.is_empty() {
                notes.push(format!(
                    "container {}: {} from LimitRange {lr_name}",
                    c.name,
                    set.join("; ")
                ));
            }
        }
    }
    for n in notes {
        a.change(RULE, "PodMutateLimitFunc", n);
    }
    None
}

fn milli(list: &List, k: &str) -> Option<(i128, String)> {
    let q = list.get(k)?;
    Some((parse_milli(&q.0)?, q.0.clone()))
}

/// `minConstraint`, `maxConstraint`, `limitRequestRatioConstraint` for one resource.
fn check(
    kind: &str,
    bound: &str,
    k: &str,
    enforced: &Quantity,
    req: &List,
    lim: &List,
) -> Option<String> {
    let e = parse_milli(&enforced.0)?;
    let es = &enforced.0;
    let (r, l) = (milli(req, k), milli(lim, k));
    match bound {
        "min" => match (r, l) {
            (None, _) => Some(format!(
                "minimum {k} usage per {kind} is {es}.  No request is specified"
            )),
            (Some((r, rs)), _) if r < e => Some(format!(
                "minimum {k} usage per {kind} is {es}, but request is {rs}"
            )),
            (_, Some((l, ls))) if l < e => Some(format!(
                "minimum {k} usage per {kind} is {es}, but limit is {ls}"
            )),
            _ => None,
        },
        "max" => match (r, l) {
            (_, None) => Some(format!(
                "maximum {k} usage per {kind} is {es}.  No limit is specified"
            )),
            (_, Some((l, ls))) if l > e => Some(format!(
                "maximum {k} usage per {kind} is {es}, but limit is {ls}"
            )),
            (Some((r, rs)), _) if r > e => Some(format!(
                "maximum {k} usage per {kind} is {es}, but request is {rs}"
            )),
            _ => None,
        },
        _ => match (r, l) {
            (None, _) | (Some((0, _)), _) => Some(format!(
                "{k} max limit to request ratio per {kind} is {es}, but no request is specified or request is 0"
            )),
            (_, None) | (_, Some((0, _))) => Some(format!(
                "{k} max limit to request ratio per {kind} is {es}, but no limit is specified or limit is 0"
            )),
            (Some((r, _)), Some((l, _))) => {
                let ratio = l as f64 / r as f64;
                (ratio * 1000.0 > e as f64).then(|| format!("{k} max limit to request ratio per {kind} is {es}, but provided ratio is {ratio:.6}"))
            }
        },
    }
}

fn violations(
    kind: &str,
    item: &k8s_openapi::api::core::v1::LimitRangeItem,
    req: &List,
    lim: &List,
) -> Vec<String> {
    let mut out = Vec::new();
    for (bound, list) in [
        ("min", &item.min),
        ("max", &item.max),
        ("ratio", &item.max_limit_request_ratio),
    ] {
        for (k, v) in list.iter().flatten() {
            out.extend(check(kind, bound, k, v, req, lim));
        }
    }
    out
}

fn resources(c: &Container) -> (List, List) {
    let r = c.resources.as_ref();
    (
        r.and_then(|r| r.requests.clone()).unwrap_or_default(),
        r.and_then(|r| r.limits.clone()).unwrap_or_default(),
    )
}

/// The pod's aggregated requests and limits as LimitRanger's `podRequests`/`podLimits` see them.
fn pod_totals(pod: &Pod) -> (List, List) {
    let Some(spec) = pod.spec.as_ref() else {
        return Default::default();
    };
    let mut bare = spec.clone();
    bare.overhead = None;
    let req = noderesources::pod_requests(&bare);
    let mut limits_spec = bare.clone();
    for c in limits_spec
        .containers
        .iter_mut()
        .chain(limits_spec.init_containers.iter_mut().flatten())
    {
        if let Some(r) = c.resources.as_mut() {
            r.requests = r.limits.clone();
        }
    }
    if let Some(r) = limits_spec.resources.as_mut() {
        r.requests = r.limits.clone();
    }
    let lim = noderesources::pod_requests(&limits_spec);
    let to_list = |m: crate::logic::scheduler::noderesources::Resources| -> List {
        m.into_iter()
            .map(|(k, v)| (k, Quantity(super::defaults::exact(v))))
            .collect()
    };
    (to_list(req), to_list(lim))
}

/// `LimitRanger.Validate` → `PodValidateLimitFunc`; the errors of one LimitRange are refused
/// together (`utilerrors.NewAggregate`).
pub fn validate(a: &mut Admission, objects: &Objects) -> Option<Refusal> {
    let ranges = ranges(&a.pod, objects)?;
    let spec = a.pod.spec.as_ref()?;
    for lr in ranges {
        let mut errs = Vec::new();
        for item in lr.spec.iter().flat_map(|s| s.limits.iter()) {
            if item.type_ == "Container" {
                for c in spec
                    .containers
                    .iter()
                    .chain(spec.init_containers.iter().flatten())
                {
                    let (req, lim) = resources(c);
                    errs.extend(violations("Container", item, &req, &lim));
                }
            } else if item.type_ == "Pod" {
                let (req, lim) = pod_totals(&a.pod);
                errs.extend(violations("Pod", item, &req, &lim));
            }
        }
        let why = match errs.len() {
            0 => continue,
            1 => errs.remove(0),
            _ => format!("[{}]", errs.join(", ")),
        };
        return refusal(&a.pod, RULE, "PodValidateLimitFunc", &why);
    }
    None
}
