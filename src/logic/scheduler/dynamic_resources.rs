//! DynamicResources (`pkg/scheduler/framework/plugins/dynamicresources`): `PreFilter` skips a
//! pod without `spec.resourceClaims` and without an extended resource a DeviceClass maps to
//! DRA (`hasDeviceClassMappedExtendedResource`, DRAExtendedResource, GA in 1.37). For the
//! others the structured allocator looks for devices in the node's ResourceSlices. That is
//! modelled for device classes and requests whose CEL selectors only name the driver
//! (`device.driver == "…"`), counting one device per requested unit in the newest generation
//! of each pool and leaving out devices other claims hold. Any other selector, request kind
//! (firstAvailable, admin access, capacity, constraints) or device the allocator would judge
//! on more than its driver (taints, counters) is "not checked", never a pass nor an
//! "Insufficient". Claims named by the pod are looked up as PreEnqueue and PreFilter do;
//! allocated ones are only checked against the node.
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
    /// Partitionable devices: each device names its own node, and counters are shared.
    pub per_device_node_selection: Option<bool>,
    pub shared_counters: Option<Vec<serde_json::Value>>,
    #[serde(default)]
    pub devices: Vec<Named>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pool {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub generation: i64,
    #[serde(default)]
    pub resource_slice_count: i64,
}

/// A device, with the fields that make the allocator's choice depend on more than its
/// driver (taints, shared counters, multiple allocations, binding conditions).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Named {
    #[serde(default)]
    pub name: String,
    pub taints: Option<Vec<serde_json::Value>>,
    pub consumes_counters: Option<Vec<serde_json::Value>>,
    pub allow_multiple_allocations: Option<bool>,
    pub binding_conditions: Option<Vec<String>>,
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
    /// `matchAttribute` constraints across requests: not modelled.
    pub constraints: Option<Vec<serde_json::Value>>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceRequest {
    #[serde(default)]
    pub name: String,
    pub exactly: Option<ExactRequest>,
    pub first_available: Option<Vec<SubRequest>>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubRequest {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub device_class_name: String,
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
    pub admin_access: Option<bool>,
    /// Consumable capacity (`DRAConsumableCapacity`): not modelled.
    pub capacity: Option<serde_json::Value>,
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
            // DeviceClasses that could not be read might map it: DynamicResources says
            // "not checked" rather than NodeResourcesFit "Insufficient".
            advertised == 0 && (dra.classes.is_none() || class_for(dra, name).is_some())
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
    /// The ResourceClaim every pod of the DaemonSet names (`resourceClaimName`), not yet
    /// allocated: whichever pod is scheduled first allocates it.
    shared: Option<&'a str>,
}

/// DynamicResources for one node: PreFilter's checks of the pod's claims, then Filter's
/// allocation of what is left and its node check of the allocated claims.
pub fn filter(
    spec: &PodSpec,
    namespace: &str,
    node: &Node,
    dra: Option<&Dra>,
    request: &Resources,
) -> Outcome {
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
        let Some(class) = class_for(dra, resource) else {
            // `delegated` keeps it from NodeResourcesFit only when the classes are unknown.
            return Outcome::not_checked(format!(
                "DeviceClasses could not be read, so whether one serves extended resource {resource} (which the node does not advertise) is unknown"
            ));
        };
        wants.push(Want {
            what: format!("extended resource {resource}"),
            class,
            selectors: &[],
            count: Some(crate::logic::apimachinery::quantity::milli_to_units(*milli) as i64),
            shared: None,
        });
    }
    let claims = match claim_wants(spec, namespace, node, dra) {
        Ok(c) => c,
        Err(o) => return o,
    };
    wants.extend(claims.wants);
    let local = match allocate(&wants, node, dra) {
        Ok(local) => local,
        Err(o) => return o,
    };
    // Filter reports allocated claims the node cannot reach after a successful allocation.
    if let Some(name) = claims.unavailable.first() {
        let detail = format!("claim {name} is allocated to devices the node cannot reach");
        return Outcome::reject(NOT_ON_NODE, detail);
    }
    match local.first() {
        Some(name) => Outcome::not_checked(format!(
            "resource claim {name} is shared by every pod of the DaemonSet and not allocated yet: the pod scheduled first allocates it to devices of its own node, and the others then fail with \"{NOT_ON_NODE}\""
        )),
        None => Outcome::Pass,
    }
}

fn claim_names(spec: &PodSpec) -> Vec<String> {
    spec.resource_claims
        .iter()
        .flatten()
        .map(|c| c.name.clone())
        .collect()
}

/// The pod's claims as PreFilter sees them: the requests still to allocate, and the
/// allocated claims whose node selector leaves the node out.
#[derive(Default)]
struct ClaimWants<'a> {
    wants: Vec<Want<'a>>,
    unavailable: Vec<String>,
}

/// `foreachPodResourceClaim` and PreFilter's loop over the claims. An allocated claim is not
/// allocated again, only checked against the node (`nodeSelectorFromAllocation`); who it is
/// reserved for does not matter, since `resourceclaim.CanBeReserved` puts no limit on
/// sharing.
fn claim_wants<'a>(
    spec: &PodSpec,
    namespace: &str,
    node: &Node,
    dra: &'a Dra,
) -> Result<ClaimWants<'a>, Outcome> {
    let mut out = ClaimWants::default();
    for c in spec.resource_claims.iter().flatten() {
        let (claim_spec, shared) = if let Some(name) = &c.resource_claim_name {
            let claim = named_claim(dra, namespace, name)?;
            if let Some(a) = claim.status.as_ref().and_then(|s| s.allocation.as_ref()) {
                if !allocation_on(a, node) {
                    out.unavailable.push(name.clone());
                }
                continue;
            }
            (&claim.spec, claim.metadata.name.as_deref())
        } else if let Some(name) = &c.resource_claim_template_name {
            (&template(dra, namespace, name)?.spec.spec, None)
        } else {
            continue;
        };
        let mut wants = requests(&c.name, claim_spec, dra)?;
        for w in &mut wants {
            w.shared = shared;
        }
        out.wants.extend(wants);
    }
    Ok(out)
}

fn in_namespace(meta: &ObjectMeta, namespace: &str, name: &str) -> bool {
    meta.name.as_deref() == Some(name) && meta.namespace.as_deref().is_none_or(|n| n == namespace)
}

/// The ResourceClaim a pod names (`foreachPodResourceClaim`): a missing or deleted one stops
/// the pod before any node is filtered. The scheduler's PreEnqueue gates such a pod with this
/// message and never attempts it, so no FailedScheduling event carries it.
fn named_claim<'a>(
    dra: &'a Dra,
    namespace: &str,
    name: &str,
) -> Result<&'a ResourceClaim, Outcome> {
    let Some(claims) = dra.claims.as_deref() else {
        return Err(Outcome::not_checked("ResourceClaims could not be read"));
    };
    let Some(claim) = claims
        .iter()
        .find(|k| in_namespace(&k.metadata, namespace, name))
    else {
        // `AssumeCache.Get`'s NotFoundError for the ResourceClaim key.
        let reason = format!("could not find ResourceClaim \"{namespace}/{name}\"");
        return Err(Outcome::reject_pre(&reason, "the claim does not exist"));
    };
    if claim.metadata.deletion_timestamp.is_some() {
        let reason = format!("resourceclaim \"{name}\" is being deleted");
        return Err(Outcome::reject_pre(
            &reason,
            "the claim has a deletionTimestamp",
        ));
    }
    Ok(claim)
}

/// The ResourceClaimTemplate a pod's claim is made from. Without it the resourceclaim
/// controller never creates the claim, and PreFilter waits with `resourceclaim.Name`'s
/// message, which names the pod.
fn template<'a>(
    dra: &'a Dra,
    namespace: &str,
    name: &str,
) -> Result<&'a ResourceClaimTemplate, Outcome> {
    let Some(templates) = dra.templates.as_deref() else {
        return Err(Outcome::not_checked(
            "ResourceClaimTemplates could not be read",
        ));
    };
    templates
        .iter()
        .find(|t| in_namespace(&t.metadata, namespace, name))
        .ok_or_else(|| {
            Outcome::not_checked(format!(
                "ResourceClaimTemplate {name} does not exist, so the pod's claim is never created (the scheduler says \"pod \\\"{namespace}/<pod>\\\": ResourceClaim not created yet\")"
            ))
        })
}

/// PreFilter's checks of each request (`validateDeviceClass`), and what the allocator would
/// look for; what the model does not cover is "not checked".
fn requests<'a>(claim: &str, spec: &'a ClaimSpec, dra: &'a Dra) -> Result<Vec<Want<'a>>, Outcome> {
    let mut out = Vec::new();
    for r in &spec.devices.requests {
        let Some(exact) = &r.exactly else {
            let Some(subs) = r.first_available.as_deref().filter(|s| !s.is_empty()) else {
                return Err(Outcome::not_checked(format!(
                    "claim {claim} request {} is of a kind that is not modelled",
                    r.name
                )));
            };
            for sub in subs {
                device_class(
                    dra,
                    &sub.device_class_name,
                    &format!("{}/{}", r.name, sub.name),
                    claim,
                )?;
            }
            return Err(Outcome::not_checked(format!(
                "claim {claim} request {} lists firstAvailable alternatives, which are not modelled",
                r.name
            )));
        };
        let class = device_class(dra, &exact.device_class_name, &r.name, claim)?;
        if let Some(why) = unmodelled(exact) {
            return Err(Outcome::not_checked(format!(
                "claim {claim} request {} {why}, which is not modelled",
                r.name
            )));
        }
        let count = match exact.allocation_mode.as_deref() {
            Some("All") => None,
            _ => Some(exact.count.unwrap_or(1)),
        };
        out.push(Want {
            what: format!("claim {claim} request {}", r.name),
            class,
            selectors: &exact.selectors,
            count,
            shared: None,
        });
    }
    if spec
        .devices
        .constraints
        .as_ref()
        .is_some_and(|c| !c.is_empty())
    {
        return Err(Outcome::not_checked(format!(
            "claim {claim} constrains its requests to matching device attributes, which is not modelled"
        )));
    }
    Ok(out)
}

/// `validateDeviceClass`: a class that does not exist stops the pod in PreFilter.
fn device_class<'a>(
    dra: &'a Dra,
    class_name: &str,
    request: &str,
    claim: &str,
) -> Result<&'a DeviceClass, Outcome> {
    let classes = dra.classes.as_deref().unwrap_or(&[]);
    classes
        .iter()
        .find(|c| c.metadata.name.as_deref() == Some(class_name))
        .ok_or_else(|| {
            let reason = format!("request {request}: device class {class_name} does not exist");
            Outcome::reject_pre(&reason, format!("claim {claim}"))
        })
}

/// What of an exact request the allocator model leaves out.
fn unmodelled(exact: &ExactRequest) -> Option<&'static str> {
    if exact.admin_access == Some(true) {
        return Some("asks for admin access (which may use devices other claims hold)");
    }
    if exact.capacity.is_some() {
        return Some("asks for device capacity");
    }
    match exact.allocation_mode.as_deref() {
        None | Some("ExactCount" | "All") => None,
        Some(_) => Some("has an allocation mode other than ExactCount or All"),
    }
}

type DeviceKey = (String, String, String);

/// A device the allocator may pick, from a slice reachable from the node. `settled`: nothing
/// but its driver decides whether it fits a request (no taints, counters, multiple
/// allocations, binding conditions, per-device node selection, and a complete pool).
struct Free {
    key: DeviceKey,
    node_local: bool,
    settled: bool,
}

/// The free devices reachable from the node, by driver: the newest generation of each pool
/// (`GatherPools`), leaving out devices allocated to any claim.
fn free_devices<'a>(
    slices: &'a [ResourceSlice],
    claims: &[ResourceClaim],
    node: &Node,
) -> BTreeMap<&'a str, Vec<Free>> {
    let taken: BTreeSet<DeviceKey> = claims
        .iter()
        .filter_map(|c| c.status.as_ref()?.allocation.as_ref()?.devices.as_ref())
        .flat_map(|d| &d.results)
        .map(|r| (r.driver.clone(), r.pool.clone(), r.device.clone()))
        .collect();
    let pool_of = |s: &ResourceSlice| (s.spec.driver.clone(), s.spec.pool.name.clone());
    let mut newest: BTreeMap<(String, String), (i64, i64, i64)> = BTreeMap::new();
    for s in slices {
        let e = newest
            .entry(pool_of(s))
            .or_insert((s.spec.pool.generation, 0, 0));
        if s.spec.pool.generation > e.0 {
            *e = (s.spec.pool.generation, 0, 0);
        }
        if s.spec.pool.generation == e.0 {
            e.1 += 1;
            e.2 = s.spec.pool.resource_slice_count;
        }
    }
    let mut free: BTreeMap<&str, Vec<Free>> = BTreeMap::new();
    for s in slices.iter().filter(|s| slice_on(s, node)) {
        let (generation, seen, count) = newest[&pool_of(s)];
        if s.spec.pool.generation != generation {
            continue;
        }
        let slice_settled = seen >= count
            && s.spec.per_device_node_selection != Some(true)
            && s.spec.shared_counters.as_ref().is_none_or(|c| c.is_empty());
        for d in &s.spec.devices {
            let key = (
                s.spec.driver.clone(),
                s.spec.pool.name.clone(),
                d.name.clone(),
            );
            if taken.contains(&key) {
                continue;
            }
            let settled = slice_settled
                && d.taints.as_ref().is_none_or(|t| t.is_empty())
                && d.consumes_counters.as_ref().is_none_or(|c| c.is_empty())
                && d.allow_multiple_allocations != Some(true)
                && d.binding_conditions.as_ref().is_none_or(|b| b.is_empty());
            let node_local = s.spec.all_nodes != Some(true);
            free.entry(s.spec.driver.as_str()).or_default().push(Free {
                key,
                node_local,
                settled,
            });
        }
    }
    free
}

/// The allocator over the node's devices: each want takes its devices in turn. Returns the
/// shared claims that would take devices only this node reaches.
fn allocate<'a>(wants: &[Want<'a>], node: &Node, dra: &Dra) -> Result<Vec<&'a str>, Outcome> {
    let (Some(slices), Some(claims)) = (dra.slices.as_deref(), dra.claims.as_deref()) else {
        return Err(Outcome::not_checked(
            "ResourceSlices or ResourceClaims could not be read",
        ));
    };
    let mut free = free_devices(slices, claims, node);
    let mut local = Vec::new();
    for w in wants {
        let drivers = drivers_of(w).map_err(|expr| {
            Outcome::not_checked(format!(
                "{} selects devices with `{expr}`, which is not evaluated",
                w.what
            ))
        })?;
        let (settled, unsettled): (Vec<&Free>, Vec<&Free>) = free
            .iter()
            .filter(|(d, _)| drivers.as_ref().is_none_or(|ds| ds.contains(**d)))
            .flat_map(|(_, v)| v.iter())
            .partition(|f| f.settled);
        let needed = w.count.map_or(1, |c| c.max(0) as usize);
        let all = w.count.is_none();
        if (all || settled.len() < needed) && !unsettled.is_empty() {
            return Err(Outcome::not_checked(format!(
                "{} could take {} device(s) with taints, shared counters, multiple allocations or binding conditions, or from a pool being updated, which are not modelled",
                w.what,
                unsettled.len()
            )));
        }
        if settled.len() < needed {
            let detail = format!(
                "{} needs {needed} device(s) of class {}; the node's ResourceSlices have {} free",
                w.what,
                w.class.metadata.name.as_deref().unwrap_or(""),
                settled.len()
            );
            return Err(Outcome::reject(CANNOT_ALLOCATE, detail));
        }
        let take = if all { settled.len() } else { needed };
        let used: Vec<(DeviceKey, bool)> = settled[..take]
            .iter()
            .map(|f| (f.key.clone(), f.node_local))
            .collect();
        if let Some(name) = w.shared.filter(|_| used.iter().any(|(_, l)| *l)) {
            local.push(name);
        }
        for list in free.values_mut() {
            list.retain(|f| !used.iter().any(|(k, _)| *k == f.key));
        }
    }
    Ok(local)
}

/// The drivers the class's and request's selectors allow (`None`: any), or the first
/// selector that is not a plain `device.driver == "…"` CEL comparison.
fn drivers_of(w: &Want<'_>) -> Result<Option<BTreeSet<String>>, String> {
    let mut allowed: Option<BTreeSet<String>> = None;
    for s in w.class.spec.selectors.iter().chain(w.selectors) {
        let Some(cel) = &s.cel else {
            return Err("a selector of a kind other than CEL".to_string());
        };
        let driver =
            driver_equals(&cel.expression).ok_or_else(|| format!("CEL {}", cel.expression))?;
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
        assert_eq!(
            filter(&spec, "default", &n1, Some(&d), &gpu_request(2)),
            Outcome::Pass
        );
        let o = filter(&spec, "default", &n1, Some(&d), &gpu_request(3));
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
            filter(&spec, "default", &n1, Some(&d), &Resources::new()),
            Outcome::Pass
        );
        let o = filter(&spec, "default", &n2, Some(&d), &Resources::new());
        assert!(
            matches!(o, Outcome::Reject { ref reason, .. } if reason == CANNOT_ALLOCATE),
            "{o:?}"
        );
        // The only device is allocated to another claim.
        d.claims = Some(vec![yaml(
            "metadata: {name: other, namespace: default}\nspec: {}\nstatus: {allocation: {devices: {results: [{driver: gpu.example.com, pool: n1, device: gpu-0, request: gpu}]}}}",
        )]);
        let o = filter(&spec, "default", &n1, Some(&d), &Resources::new());
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
        let o = filter(&spec, "default", &n1, Some(&d), &Resources::new());
        assert!(
            matches!(o, Outcome::NotChecked { ref reason } if reason.contains("is not evaluated")),
            "{o:?}"
        );
        d.classes = Some(Vec::new());
        let o = filter(&spec, "default", &n1, Some(&d), &Resources::new());
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
        let o = filter(&spec, "default", &n1, None, &Resources::new());
        assert!(matches!(o, Outcome::NotChecked { .. }), "{o:?}");
        let plain: PodSpec = yaml("containers: [{name: c}]");
        assert_eq!(
            filter(&plain, "default", &n1, None, &Resources::new()),
            Outcome::Pass
        );
    }

    fn reason(o: &Outcome) -> &str {
        match o {
            Outcome::Reject { reason, .. } | Outcome::NotChecked { reason } => reason,
            Outcome::Pass => "pass",
        }
    }

    fn pre_filter(o: &Outcome) -> bool {
        matches!(
            o,
            Outcome::Reject {
                pre_filter: true,
                ..
            }
        )
    }

    fn named(claim: &str) -> PodSpec {
        yaml(&format!(
            "containers: [{{name: c}}]\nresourceClaims: [{{name: gpu, resourceClaimName: {claim}}}]"
        ))
    }

    fn templated() -> PodSpec {
        yaml(
            "containers: [{name: c}]\nresourceClaims: [{name: gpu, resourceClaimTemplateName: one-gpu}]",
        )
    }

    fn claim(text: &str) -> ResourceClaim {
        yaml(text)
    }

    const ONE_GPU: &str =
        "spec: {devices: {requests: [{name: gpu, exactly: {deviceClassName: gpu.example.com}}]}}";

    #[test]
    fn a_named_claim_that_does_not_exist_stops_the_pod_in_pre_filter() {
        // foreachPodResourceClaim: the assume cache's NotFoundError is PreFilter's
        // UnschedulableAndUnresolvable message; a claim of that name in another namespace is
        // not the pod's.
        let n1 = node("n1", &[], &[]);
        let mut d = dra(1);
        d.claims = Some(vec![claim(&format!(
            "metadata: {{name: shared-gpu, namespace: other}}\n{ONE_GPU}"
        ))]);
        let o = filter(
            &named("shared-gpu"),
            "default",
            &n1,
            Some(&d),
            &Resources::new(),
        );
        assert_eq!(
            reason(&o),
            "could not find ResourceClaim \"default/shared-gpu\"",
            "{o:?}"
        );
        assert!(pre_filter(&o), "{o:?}");
        // Being deleted: foreachPodResourceClaim's own message.
        d.claims = Some(vec![claim(&format!(
            "metadata: {{name: shared-gpu, namespace: default, deletionTimestamp: '2026-01-01T00:00:00Z'}}\n{ONE_GPU}"
        ))]);
        let o = filter(
            &named("shared-gpu"),
            "default",
            &n1,
            Some(&d),
            &Resources::new(),
        );
        assert_eq!(reason(&o), "resourceclaim \"shared-gpu\" is being deleted");
        assert!(pre_filter(&o), "{o:?}");
        // A template that does not exist: the claim is never created, and the scheduler's
        // message names the pod, which a preview does not know.
        d.templates = Some(Vec::new());
        let o = filter(&templated(), "default", &n1, Some(&d), &Resources::new());
        assert!(
            matches!(o, Outcome::NotChecked { ref reason } if reason.contains("ResourceClaim not created yet")),
            "{o:?}"
        );
    }

    #[test]
    fn an_allocated_claim_is_checked_against_the_node_whoever_it_is_reserved_for() {
        // PreFilter: an allocated claim is not allocated again; CanBeReserved puts no limit
        // on sharing, so reservedFor other pods does not matter. Filter: the allocation's
        // node selector must match ("resourceclaim not available on the node").
        let (n1, n2) = (node("n1", &[], &[]), node("n2", &[], &[]));
        let mut d = dra(1);
        let allocated = format!(
            "metadata: {{name: shared-gpu, namespace: default}}\n{ONE_GPU}\nstatus:\n  allocation:\n    devices: {{results: [{{driver: gpu.example.com, pool: n1, device: gpu-0, request: gpu}}]}}\n    nodeSelector: {{nodeSelectorTerms: [{{matchFields: [{{key: metadata.name, operator: In, values: [n1]}}]}}]}}\n  reservedFor: [{{resource: pods, name: other, uid: u-1}}]"
        );
        d.claims = Some(vec![claim(&allocated)]);
        let spec = named("shared-gpu");
        assert_eq!(
            filter(&spec, "default", &n1, Some(&d), &Resources::new()),
            Outcome::Pass
        );
        let o = filter(&spec, "default", &n2, Some(&d), &Resources::new());
        assert_eq!(reason(&o), NOT_ON_NODE, "{o:?}");
        // Filter allocates the other claims first: a failed allocation is what it reports.
        let both: PodSpec = yaml(
            "containers: [{name: c}]\nresourceClaims: [{name: gpu, resourceClaimName: shared-gpu}, {name: more, resourceClaimTemplateName: one-gpu}]",
        );
        let o = filter(&both, "default", &n2, Some(&d), &Resources::new());
        assert_eq!(reason(&o), CANNOT_ALLOCATE, "{o:?}");
        // Devices every node reaches: no node selector in the allocation.
        d.claims = Some(vec![claim(
            "metadata: {name: shared-gpu, namespace: default}\nspec: {}\nstatus: {allocation: {devices: {results: []}}}",
        )]);
        assert_eq!(
            filter(&spec, "default", &n2, Some(&d), &Resources::new()),
            Outcome::Pass
        );
    }

    #[test]
    fn a_shared_claim_not_yet_allocated_is_decided_by_the_first_pod_scheduled() {
        // Every daemon pod names the same claim; the first pod the scheduler takes allocates
        // it, to devices of its own node unless they come from a slice for all nodes.
        let n1 = node("n1", &[], &[]);
        let mut d = dra(1);
        d.claims = Some(vec![claim(&format!(
            "metadata: {{name: shared-gpu, namespace: default}}\n{ONE_GPU}"
        ))]);
        let spec = named("shared-gpu");
        let o = filter(&spec, "default", &n1, Some(&d), &Resources::new());
        assert!(
            matches!(o, Outcome::NotChecked { ref reason } if reason.contains("shared by every pod")),
            "{o:?}"
        );
        d.slices = Some(vec![yaml(
            "spec: {driver: gpu.example.com, allNodes: true, pool: {name: net, resourceSliceCount: 1}, devices: [{name: gpu-0}]}",
        )]);
        assert_eq!(
            filter(&spec, "default", &n1, Some(&d), &Resources::new()),
            Outcome::Pass
        );
        d.slices = Some(Vec::new());
        let o = filter(&spec, "default", &n1, Some(&d), &Resources::new());
        assert_eq!(reason(&o), CANNOT_ALLOCATE, "{o:?}");
    }

    fn with_request(d: &mut Dra, request: &str, devices: &str) {
        d.templates = Some(vec![yaml(&format!(
            "metadata: {{name: one-gpu, namespace: default}}\nspec: {{spec: {{devices: {{{request}}}}}}}"
        ))]);
        if !devices.is_empty() {
            d.slices = Some(vec![yaml(&format!(
                "spec: {{driver: gpu.example.com, nodeName: n1, pool: {{name: n1, generation: 2, resourceSliceCount: 1}}, devices: [{devices}]}}"
            ))]);
        }
    }

    #[test]
    fn what_the_allocator_model_leaves_out_is_not_checked_never_insufficient() {
        let n1 = node("n1", &[], &[]);
        let not_checked = |d: &Dra, what: &str| {
            let o = filter(&templated(), "default", &n1, Some(d), &Resources::new());
            assert!(
                matches!(o, Outcome::NotChecked { ref reason } if reason.contains(what)),
                "{what}: {o:?}"
            );
        };
        let mut d = dra(1);
        // Requests and claims of kinds the model does not cover.
        let kinds = [
            (
                "requests: [{name: gpu, exactly: {deviceClassName: gpu.example.com, adminAccess: true}}]",
                "admin access",
            ),
            (
                "requests: [{name: gpu, exactly: {deviceClassName: gpu.example.com, capacity: {requests: {memory: 1Gi}}}}]",
                "capacity",
            ),
            (
                "requests: [{name: gpu, exactly: {deviceClassName: gpu.example.com}}, {name: b, exactly: {deviceClassName: gpu.example.com}}], constraints: [{matchAttribute: gpu.example.com/numa}]",
                "matching device attributes",
            ),
            ("requests: [{name: gpu}]", "not modelled"),
            (
                "requests: [{name: gpu, exactly: {deviceClassName: gpu.example.com, selectors: [{}]}}]",
                "other than CEL",
            ),
            (
                "requests: [{name: gpu, firstAvailable: [{name: a, deviceClassName: gpu.example.com}]}]",
                "firstAvailable",
            ),
        ];
        for (request, what) in kinds {
            with_request(&mut d, request, "");
            not_checked(&d, what);
        }
        // PreFilter's validateDeviceClass covers firstAvailable's subrequests too.
        with_request(
            &mut d,
            "requests: [{name: gpu, firstAvailable: [{name: a, deviceClassName: missing}]}]",
            "",
        );
        let o = filter(&templated(), "default", &n1, Some(&d), &Resources::new());
        assert_eq!(
            reason(&o),
            "request gpu/a: device class missing does not exist"
        );
        assert!(pre_filter(&o));
        // Devices whose fit depends on more than the driver, when they are needed.
        let one = "requests: [{name: gpu, exactly: {deviceClassName: gpu.example.com}}]";
        with_request(
            &mut d,
            one,
            "{name: gpu-0, taints: [{key: broken, effect: NoSchedule}]}",
        );
        not_checked(&d, "taints");
        with_request(
            &mut d,
            one,
            "{name: gpu-0, consumesCounters: [{counterSet: s, counters: {memory: {value: 1Gi}}}]}",
        );
        not_checked(&d, "shared counters");
        // ... but a plain free device beside them decides.
        with_request(
            &mut d,
            one,
            "{name: gpu-0, taints: [{key: broken, effect: NoSchedule}]}, {name: gpu-1}",
        );
        assert_eq!(
            filter(&templated(), "default", &n1, Some(&d), &Resources::new()),
            Outcome::Pass
        );
        // A pool with a slice still missing (resourceSliceCount 2, one seen).
        d.slices = Some(vec![yaml(
            "spec: {driver: gpu.example.com, nodeName: n1, pool: {name: n1, generation: 1, resourceSliceCount: 2}, devices: [{name: gpu-0}]}",
        )]);
        not_checked(&d, "pool being updated");
    }

    #[test]
    fn only_the_newest_generation_of_a_pool_counts() {
        // GatherPools: slices of an older generation are left out.
        let n1 = node("n1", &[], &[]);
        let mut d = dra(0);
        let slice = |generation: i64, device: &str| {
            yaml(&format!(
                "spec: {{driver: gpu.example.com, nodeName: n1, pool: {{name: n1, generation: {generation}, resourceSliceCount: 1}}, devices: [{device}]}}"
            ))
        };
        d.slices = Some(vec![slice(1, "{name: gpu-0}"), slice(2, "")]);
        let o = filter(&templated(), "default", &n1, Some(&d), &Resources::new());
        assert_eq!(reason(&o), CANNOT_ALLOCATE, "{o:?}");
        d.slices = Some(vec![slice(3, "{name: gpu-0}"), slice(2, "")]);
        assert_eq!(
            filter(&templated(), "default", &n1, Some(&d), &Resources::new()),
            Outcome::Pass
        );
    }

    #[test]
    fn an_extended_resource_with_device_classes_unread_is_not_checked_not_insufficient() {
        // shouldDelegateResourceToDRA depends on the DeviceClasses: unread, NodeResourcesFit
        // must not call the resource Insufficient.
        let n1 = node("n1", &[], &[]);
        let d = Dra {
            classes: None,
            ..dra(1)
        };
        assert!(fit_request(&gpu_request(1), &n1, Some(&d)).is_empty());
        let plain: PodSpec = yaml("containers: [{name: c}]");
        let o = filter(&plain, "default", &n1, Some(&d), &gpu_request(1));
        assert!(
            matches!(o, Outcome::NotChecked { ref reason } if reason.contains("DeviceClasses could not be read")),
            "{o:?}"
        );
    }
}
