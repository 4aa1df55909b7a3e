//! DynamicResources (`pkg/scheduler/framework/plugins/dynamicresources`): `PreFilter` skips a
//! pod without `spec.resourceClaims` and without an extended resource a DeviceClass maps to
//! DRA (`hasDeviceClassMappedExtendedResource`, DRAExtendedResource, GA in 1.37). For the
//! others the structured allocator looks for devices in the node's ResourceSlices. That is
//! modelled for device classes and requests whose CEL selectors only name the driver
//! (`device.driver == "…"`), counting one device per requested unit and leaving out devices
//! other claims hold; any other selector is "not checked", never a pass.
//!
//! The resource.k8s.io/v1 objects are decoded to the fields read, so the model builds for
//! every supported API level (the 1.33 types have no `resource.k8s.io/v1`).

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{Node, NodeSelector, PodSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Deserialize;

use super::Outcome;
use crate::logic::scheduler::noderesources::Resources;

/// The allocator's verdict when the node's devices do not satisfy every claim.
pub const CANNOT_ALLOCATE: &str = "cannot allocate all claims";
/// An allocated claim whose devices are on other nodes.
pub const NOT_ON_NODE: &str = "resourceclaim not available on the node";
/// The extended-resource prefix every DeviceClass answers to (`ResourceDeviceClassPrefix`).
const CLASS_PREFIX: &str = "deviceclass.resource.kubernetes.io/";

/// The resource.k8s.io objects DynamicResources reads; each `None` when not read.
#[derive(Clone, Debug, Default)]
pub struct Dra {
    pub classes: Option<Vec<DeviceClass>>,
    pub slices: Option<Vec<ResourceSlice>>,
    pub claims: Option<Vec<ResourceClaim>>,
    pub templates: Option<Vec<ResourceClaimTemplate>>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceClass {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: DeviceClassSpec,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceClassSpec {
    #[serde(default)]
    pub selectors: Vec<DeviceSelector>,
    pub extended_resource_name: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct DeviceSelector {
    pub cel: Option<CelSelector>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct CelSelector {
    #[serde(default)]
    pub expression: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceSlice {
    #[serde(default)]
    pub spec: SliceSpec,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SliceSpec {
    #[serde(default)]
    pub driver: String,
    #[serde(default)]
    pub pool: Pool,
    pub node_name: Option<String>,
    pub all_nodes: Option<bool>,
    pub node_selector: Option<NodeSelector>,
    #[serde(default)]
    pub devices: Vec<Named>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct Pool {
    #[serde(default)]
    pub name: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct Named {
    #[serde(default)]
    pub name: String,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceClaim {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: ClaimSpec,
    pub status: Option<ClaimStatus>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceClaimTemplate {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: TemplateSpec,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct TemplateSpec {
    #[serde(default)]
    pub spec: ClaimSpec,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct ClaimSpec {
    #[serde(default)]
    pub devices: DeviceClaim,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct DeviceClaim {
    #[serde(default)]
    pub requests: Vec<DeviceRequest>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceRequest {
    #[serde(default)]
    pub name: String,
    pub exactly: Option<ExactRequest>,
    pub first_available: Option<Vec<serde_json::Value>>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExactRequest {
    #[serde(default)]
    pub device_class_name: String,
    #[serde(default)]
    pub selectors: Vec<DeviceSelector>,
    pub allocation_mode: Option<String>,
    pub count: Option<i64>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimStatus {
    pub allocation: Option<Allocation>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Allocation {
    pub devices: Option<AllocatedDevices>,
    pub node_selector: Option<NodeSelector>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct AllocatedDevices {
    #[serde(default)]
    pub results: Vec<AllocatedDevice>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct AllocatedDevice {
    #[serde(default)]
    pub driver: String,
    #[serde(default)]
    pub pool: String,
    #[serde(default)]
    pub device: String,
}

/// Whether the pod needs DynamicResources at all, given what the node-independent part says:
/// resource claims, or an extended resource that some DeviceClass could serve.
pub fn has_claims(spec: &PodSpec) -> bool {
    spec.resource_claims.as_ref().is_some_and(|c| !c.is_empty())
}

/// Whether DynamicResources may have something to decide for the pod, before DeviceClasses
/// are read: resource claims, or a request for an extended resource (one that is not cpu,
/// memory, ephemeral-storage, pods or hugepages).
pub fn may_need(spec: &PodSpec) -> bool {
    has_claims(spec)
        || crate::logic::scheduler::noderesources::pod_requests(spec)
            .keys()
            .any(|k| is_extended(k))
}

/// `DeviceClassResolver.GetDeviceClass`: the class an extended resource maps to, by
/// `spec.extendedResourceName` or the implicit `deviceclass.resource.kubernetes.io/<class>`.
fn class_for<'a>(dra: &'a Dra, resource: &str) -> Option<&'a DeviceClass> {
    let classes = dra.classes.as_deref()?;
    classes.iter().find(|c| {
        c.spec.extended_resource_name.as_deref() == Some(resource)
            || resource
                .strip_prefix(CLASS_PREFIX)
                .is_some_and(|n| c.metadata.name.as_deref() == Some(n))
    })
}

/// `shouldDelegateResourceToDRA`: extended resources the node does not advertise but a
/// DeviceClass maps, which NodeResourcesFit leaves to DynamicResources.
pub fn delegated(request: &Resources, node: &Node, dra: Option<&Dra>) -> Resources {
    let Some(dra) = dra else {
        return Resources::new();
    };
    let allocatable = node.status.as_ref().and_then(|s| s.allocatable.as_ref());
    request
        .iter()
        .filter(|(name, milli)| **milli > 0 && is_extended(name))
        .filter(|(name, _)| {
            let advertised = allocatable
                .and_then(|a| a.get(*name))
                .and_then(|q| crate::logic::apimachinery::quantity::parse_milli(&q.0))
                .unwrap_or(0);
            advertised == 0 && class_for(dra, name).is_some()
        })
        .map(|(n, m)| (n.clone(), *m))
        .collect()
}

/// The request NodeResourcesFit checks on `node`: without what DRA serves there.
pub fn fit_request(request: &Resources, node: &Node, dra: Option<&Dra>) -> Resources {
    let delegated = delegated(request, node, dra);
    request
        .iter()
        .filter(|(k, _)| !delegated.contains_key(*k))
        .map(|(k, v)| (k.clone(), *v))
        .collect()
}

/// `schedutil.IsDRAExtendedResourceName`: a qualified name outside `kubernetes.io/`, or
/// the implicit class prefix.
fn is_extended(name: &str) -> bool {
    name.starts_with(CLASS_PREFIX)
        || (name.contains('/')
            && !name.starts_with("kubernetes.io/")
            && !name.starts_with("requests."))
}

/// One set of devices to find: `count` devices of `class` matching `selectors`.
struct Want<'a> {
    what: String,
    class: &'a DeviceClass,
    selectors: &'a [DeviceSelector],
    count: Option<i64>,
}

/// DynamicResources for one node.
pub fn filter(spec: &PodSpec, node: &Node, dra: Option<&Dra>, request: &Resources) -> Outcome {
    let Some(dra) = dra else {
        return if has_claims(spec) {
            Outcome::not_checked(format!(
                "the pod has resource claim(s) {}; the resource.k8s.io objects (DeviceClasses, ResourceSlices, ResourceClaims) were not read",
                claim_names(spec).join(", ")
            ))
        } else {
            Outcome::Pass
        };
    };
    let extended = delegated(request, node, Some(dra));
    if !has_claims(spec) && extended.is_empty() {
        return Outcome::Pass;
    }
    let mut wants = Vec::new();
    for (resource, milli) in &extended {
        if let Some(class) = class_for(dra, resource) {
            wants.push(Want {
                what: format!("extended resource {resource}"),
                class,
                selectors: &[],
                count: Some(crate::logic::apimachinery::quantity::milli_to_units(*milli) as i64),
            });
        }
    }
    match claim_wants(spec, node, dra) {
        Ok(w) => wants.extend(w),
        Err(o) => return o,
    }
    allocate(&wants, node, dra)
}

fn claim_names(spec: &PodSpec) -> Vec<String> {
    spec.resource_claims
        .iter()
        .flatten()
        .map(|c| c.name.clone())
        .collect()
}

/// The device requests of the pod's claims still to allocate; an allocated claim is checked
/// against the node here (`nodeSelectorFromAllocation`).
fn claim_wants<'a>(spec: &PodSpec, node: &Node, dra: &'a Dra) -> Result<Vec<Want<'a>>, Outcome> {
    let mut out = Vec::new();
    for c in spec.resource_claims.iter().flatten() {
        let claim_spec = if let Some(name) = &c.resource_claim_name {
            let Some(claims) = dra.claims.as_deref() else {
                return Err(Outcome::not_checked("ResourceClaims could not be read"));
            };
            let Some(claim) = claims
                .iter()
                .find(|k| k.metadata.name.as_deref() == Some(name))
            else {
                return Err(Outcome::not_checked(format!(
                    "resource claim {name} does not exist (the scheduler waits for it)"
                )));
            };
            if let Some(a) = claim.status.as_ref().and_then(|s| s.allocation.as_ref()) {
                if !allocation_on(a, node) {
                    let detail =
                        format!("claim {name} is allocated to devices the node cannot reach");
                    return Err(Outcome::reject(NOT_ON_NODE, detail));
                }
                continue;
            }
            &claim.spec
        } else if let Some(name) = &c.resource_claim_template_name {
            let Some(templates) = dra.templates.as_deref() else {
                return Err(Outcome::not_checked(
                    "ResourceClaimTemplates could not be read",
                ));
            };
            let Some(t) = templates
                .iter()
                .find(|t| t.metadata.name.as_deref() == Some(name))
            else {
                return Err(Outcome::not_checked(format!(
                    "ResourceClaimTemplate {name} does not exist, so the pod's claim is never created"
                )));
            };
            &t.spec.spec
        } else {
            continue;
        };
        out.extend(requests(&c.name, claim_spec, dra)?);
    }
    Ok(out)
}

fn requests<'a>(claim: &str, spec: &'a ClaimSpec, dra: &'a Dra) -> Result<Vec<Want<'a>>, Outcome> {
    let mut out = Vec::new();
    for r in &spec.devices.requests {
        let Some(exact) = &r.exactly else {
            return Err(Outcome::not_checked(format!(
                "claim {claim} request {} lists firstAvailable alternatives, which are not modelled",
                r.name
            )));
        };
        let class_name = &exact.device_class_name;
        let classes = dra.classes.as_deref().unwrap_or(&[]);
        let Some(class) = classes
            .iter()
            .find(|c| c.metadata.name.as_deref() == Some(class_name))
        else {
            let reason = format!(
                "request {}: device class {class_name} does not exist",
                r.name
            );
            return Err(Outcome::reject_pre(&reason, format!("claim {claim}")));
        };
        let count = match exact.allocation_mode.as_deref() {
            Some("All") => None,
            _ => Some(exact.count.unwrap_or(1)),
        };
        out.push(Want {
            what: format!("claim {claim} request {}", r.name),
            class,
            selectors: &exact.selectors,
            count,
        });
    }
    Ok(out)
}

/// The allocator over the node's devices: each want takes its devices in turn.
fn allocate(wants: &[Want<'_>], node: &Node, dra: &Dra) -> Outcome {
    let (Some(slices), Some(claims)) = (dra.slices.as_deref(), dra.claims.as_deref()) else {
        return Outcome::not_checked("ResourceSlices or ResourceClaims could not be read");
    };
    let taken: BTreeSet<(String, String, String)> = claims
        .iter()
        .filter_map(|c| c.status.as_ref()?.allocation.as_ref()?.devices.as_ref())
        .flat_map(|d| &d.results)
        .map(|r| (r.driver.clone(), r.pool.clone(), r.device.clone()))
        .collect();
    let mut free: BTreeMap<&str, Vec<(String, String, String)>> = BTreeMap::new();
    for s in slices.iter().filter(|s| slice_on(s, node)) {
        for d in &s.spec.devices {
            let key = (
                s.spec.driver.clone(),
                s.spec.pool.name.clone(),
                d.name.clone(),
            );
            if !taken.contains(&key) {
                free.entry(s.spec.driver.as_str()).or_default().push(key);
            }
        }
    }
    for w in wants {
        let drivers = match drivers_of(w) {
            Ok(d) => d,
            Err(expr) => {
                return Outcome::not_checked(format!(
                    "{} selects devices with CEL `{expr}`, which is not evaluated",
                    w.what
                ));
            }
        };
        let mut available: Vec<(String, String, String)> = free
            .iter()
            .filter(|(d, _)| drivers.as_ref().is_none_or(|ds| ds.contains(**d)))
            .flat_map(|(_, v)| v.iter().cloned())
            .collect();
        let needed = w.count.map_or(1, |c| c.max(0) as usize);
        if available.len() < needed {
            let detail = format!(
                "{} needs {needed} device(s) of class {}; the node's ResourceSlices have {} free",
                w.what,
                w.class.metadata.name.as_deref().unwrap_or(""),
                available.len()
            );
            return Outcome::reject(CANNOT_ALLOCATE, detail);
        }
        let used: Vec<_> = match w.count {
            None => std::mem::take(&mut available),
            Some(_) => available.drain(..needed).collect(),
        };
        for list in free.values_mut() {
            list.retain(|k| !used.contains(k));
        }
    }
    Outcome::Pass
}

/// The drivers the class's and request's selectors allow (`None`: any), or the first CEL
/// expression that is not a plain `device.driver == "…"` comparison.
fn drivers_of(w: &Want<'_>) -> Result<Option<BTreeSet<String>>, String> {
    let mut allowed: Option<BTreeSet<String>> = None;
    for s in w.class.spec.selectors.iter().chain(w.selectors) {
        let Some(cel) = &s.cel else { continue };
        let driver = driver_equals(&cel.expression).ok_or_else(|| cel.expression.clone())?;
        allowed = Some(match allowed {
            None => [driver].into(),
            Some(mut a) => {
                a.retain(|d| *d == driver);
                a
            }
        });
    }
    Ok(allowed)
}

/// `device.driver == "x"` (either quote, either order), the one CEL form decided here.
fn driver_equals(expr: &str) -> Option<String> {
    let (left, right) = expr.split_once("==")?;
    let (left, right) = (left.trim(), right.trim());
    let literal = |s: &str| {
        let q = s.chars().next()?;
        (matches!(q, '"' | '\'') && s.len() >= 2 && s.ends_with(q))
            .then(|| s[1..s.len() - 1].to_string())
            .filter(|v| !v.contains(['"', '\'', '\\']))
    };
    match (left, right) {
        ("device.driver", lit) | (lit, "device.driver") => literal(lit),
        _ => None,
    }
}

/// Whether a ResourceSlice's devices are reachable from the node.
fn slice_on(s: &ResourceSlice, node: &Node) -> bool {
    if let Some(n) = &s.spec.node_name {
        return node.metadata.name.as_deref() == Some(n.as_str());
    }
    if s.spec.all_nodes == Some(true) {
        return true;
    }
    s.spec
        .node_selector
        .as_ref()
        .is_some_and(|sel| selects(sel, node))
}

fn allocation_on(a: &Allocation, node: &Node) -> bool {
    a.node_selector
        .as_ref()
        .is_none_or(|sel| selects(sel, node))
}

fn selects(sel: &NodeSelector, node: &Node) -> bool {
    use k8s_openapi::api::core::v1::{Affinity, NodeAffinity};
    let affinity = Affinity {
        node_affinity: Some(NodeAffinity {
            required_during_scheduling_ignored_during_execution: Some(sel.clone()),
            ..Default::default()
        }),
        ..Default::default()
    };
    crate::logic::daemon::node_affinity::check(None, Some(&affinity), node).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logic::fixtures::node;

    fn yaml<T: serde::de::DeserializeOwned>(text: &str) -> T {
        crate::yaml::from_str(text).expect("object")
    }

    fn dra(devices_on_n1: usize) -> Dra {
        let devices: Vec<String> = (0..devices_on_n1)
            .map(|i| format!("{{name: gpu-{i}}}"))
            .collect();
        Dra {
            classes: Some(vec![yaml(
                "metadata: {name: gpu.example.com}\nspec: {extendedResourceName: example.com/gpu, selectors: [{cel: {expression: 'device.driver == \"gpu.example.com\"'}}]}",
            )]),
            slices: Some(vec![yaml(&format!(
                "spec: {{driver: gpu.example.com, nodeName: n1, pool: {{name: n1, resourceSliceCount: 1}}, devices: [{}]}}",
                devices.join(", ")
            ))]),
            claims: Some(Vec::new()),
            templates: Some(vec![yaml(
                "metadata: {name: one-gpu, namespace: default}\nspec: {spec: {devices: {requests: [{name: gpu, exactly: {deviceClassName: gpu.example.com}}]}}}",
            )]),
        }
    }

    fn gpu_request(n: i128) -> Resources {
        [("example.com/gpu".to_string(), n * 1000)].into()
    }

    #[test]
    fn an_extended_resource_a_device_class_maps_is_left_to_dra_where_the_node_does_not_advertise_it()
     {
        // shouldDelegateResourceToDRA: NodeResourcesFit does not report it Insufficient.
        let n1 = node("n1", &[], &[]);
        let d = dra(2);
        assert!(fit_request(&gpu_request(1), &n1, Some(&d)).is_empty());
        let spec: PodSpec = yaml("containers: [{name: c}]");
        assert_eq!(filter(&spec, &n1, Some(&d), &gpu_request(2)), Outcome::Pass);
        let o = filter(&spec, &n1, Some(&d), &gpu_request(3));
        assert!(
            matches!(o, Outcome::Reject { ref reason, .. } if reason == CANNOT_ALLOCATE),
            "{o:?}"
        );
        // Without a DeviceClass, NodeResourcesFit keeps it.
        let none = Dra {
            classes: Some(Vec::new()),
            ..d
        };
        assert_eq!(
            fit_request(&gpu_request(1), &n1, Some(&none)),
            gpu_request(1)
        );
    }

    #[test]
    fn a_claim_template_takes_a_free_device_of_its_class_on_the_node() {
        let (n1, n2) = (node("n1", &[], &[]), node("n2", &[], &[]));
        let spec: PodSpec = yaml(
            "containers: [{name: c}]\nresourceClaims: [{name: gpu, resourceClaimTemplateName: one-gpu}]",
        );
        let mut d = dra(1);
        assert_eq!(
            filter(&spec, &n1, Some(&d), &Resources::new()),
            Outcome::Pass
        );
        let o = filter(&spec, &n2, Some(&d), &Resources::new());
        assert!(
            matches!(o, Outcome::Reject { ref reason, .. } if reason == CANNOT_ALLOCATE),
            "{o:?}"
        );
        // The only device is allocated to another claim.
        d.claims = Some(vec![yaml(
            "metadata: {name: other, namespace: default}\nspec: {}\nstatus: {allocation: {devices: {results: [{driver: gpu.example.com, pool: n1, device: gpu-0, request: gpu}]}}}",
        )]);
        let o = filter(&spec, &n1, Some(&d), &Resources::new());
        assert!(
            matches!(o, Outcome::Reject { ref reason, .. } if reason == CANNOT_ALLOCATE),
            "{o:?}"
        );
    }

    #[test]
    fn other_cel_selectors_are_not_checked_and_missing_classes_rejected() {
        let n1 = node("n1", &[], &[]);
        let mut d = dra(1);
        d.templates = Some(vec![yaml(
            "metadata: {name: one-gpu}\nspec: {spec: {devices: {requests: [{name: gpu, exactly: {deviceClassName: gpu.example.com, selectors: [{cel: {expression: 'device.attributes[\"gpu.example.com\"].model == \"a100\"'}}]}}]}}}",
        )]);
        let spec: PodSpec = yaml(
            "containers: [{name: c}]\nresourceClaims: [{name: gpu, resourceClaimTemplateName: one-gpu}]",
        );
        let o = filter(&spec, &n1, Some(&d), &Resources::new());
        assert!(
            matches!(o, Outcome::NotChecked { ref reason } if reason.contains("is not evaluated")),
            "{o:?}"
        );
        d.classes = Some(Vec::new());
        let o = filter(&spec, &n1, Some(&d), &Resources::new());
        assert!(
            matches!(o, Outcome::Reject { ref reason, .. } if reason == "request gpu: device class gpu.example.com does not exist"),
            "{o:?}"
        );
        assert_eq!(
            driver_equals("device.driver == 'x.io'").as_deref(),
            Some("x.io")
        );
        assert_eq!(driver_equals("device.driver.startsWith('x')"), None);
    }

    #[test]
    fn without_the_dra_objects_claims_are_not_checked() {
        let n1 = node("n1", &[], &[]);
        let spec: PodSpec = yaml(
            "containers: [{name: c}]\nresourceClaims: [{name: gpu, resourceClaimTemplateName: one-gpu}]",
        );
        let o = filter(&spec, &n1, None, &Resources::new());
        assert!(matches!(o, Outcome::NotChecked { .. }), "{o:?}");
        let plain: PodSpec = yaml("containers: [{name: c}]");
        assert_eq!(filter(&plain, &n1, None, &Resources::new()), Outcome::Pass);
    }
}
