//! VolumeBinding (`pkg/scheduler/framework/plugins/volumebinding`): `PreFilter` (`podHasPVCs`,
//! `volumeBinder.GetPodVolumeClaims`) and `Filter` (`volumeBinder.FindPodVolumes` with
//! `checkBoundClaims`, `findMatchingVolumes` and `checkVolumeProvisions`).

use std::borrow::Cow;

use k8s_openapi::api::core::v1::{
    Affinity, Node, NodeAffinity, NodeSelector, PersistentVolume, PersistentVolumeClaim,
};
use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{
    Storage, annotation, claim_class, claim_name, claims_of, find_class, find_volume,
    in_tree_migratable, volume_class, volume_name,
};
use crate::logic::apimachinery::labels::Selector;
use crate::logic::apimachinery::quantity;
use crate::logic::scheduler::{IncomingPod, Outcome};

/// `ErrReasonNodeConflict`.
pub const NODE_CONFLICT: &str = "node(s) didn't match PersistentVolume's node affinity";
/// `ErrReasonBindConflict`.
pub const BIND_CONFLICT: &str = "node(s) didn't find available persistent volumes to bind";
/// `ErrReasonPVNotExist`.
pub const PV_NOT_EXIST: &str =
    "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)";
/// The PreFilter's reason for claims the PV controller must bind first.
pub const UNBOUND_IMMEDIATE: &str = "pod has unbound immediate PersistentVolumeClaims";

const BIND_COMPLETED: &str = "pv.kubernetes.io/bind-completed";
const SELECTED_NODE: &str = "volume.kubernetes.io/selected-node";
const NO_PROVISIONER: &str = "kubernetes.io/no-provisioner";

/// The pod's claims split as `GetPodVolumeClaims` splits them.
#[derive(Default)]
struct Split<'a> {
    bound: Vec<Cow<'a, PersistentVolumeClaim>>,
    delayed: Vec<Cow<'a, PersistentVolumeClaim>>,
    immediate: Vec<String>,
}

/// VolumeBinding for one node.
pub fn filter(pod: &IncomingPod<'_>, node: &Node, storage: &Storage) -> Outcome {
    let claims = match claims_of(pod, pod.spec, storage) {
        Ok(c) => c,
        Err(o) => return o,
    };
    if let Some(o) = claims.iter().find_map(|c| unusable(c)) {
        return o;
    }
    let split = match split(claims, storage) {
        Ok(s) => s,
        Err(o) => return o,
    };
    if !split.immediate.is_empty() {
        return Outcome::reject_pre(
            UNBOUND_IMMEDIATE,
            format!(
                "claim(s) {} are not bound and their StorageClass binds Immediately, so the PersistentVolume controller must bind them first",
                split.immediate.join(", ")
            ),
        );
    }
    match bound_claims(&split.bound, node, storage) {
        Err(o) => return o,
        Ok(Some(reject)) => return reject,
        Ok(None) => {}
    }
    delayed_claims(&split.delayed, node, storage).unwrap_or(Outcome::Pass)
}

/// `podHasPVCs`: a Lost or deleted claim stops the pod in PreFilter.
fn unusable(c: &PersistentVolumeClaim) -> Option<Outcome> {
    let name = claim_name(c);
    if c.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Lost") {
        let reason = format!(
            "persistentvolumeclaim \"{name}\" bound to non-existent persistentvolume \"{}\"",
            volume_name(c)
        );
        return Some(Outcome::reject_pre(&reason, "the claim's phase is Lost"));
    }
    c.metadata.deletion_timestamp.as_ref().map(|_| {
        Outcome::reject_pre(
            &format!("persistentvolumeclaim \"{name}\" is being deleted"),
            "the claim has a deletionTimestamp",
        )
    })
}

/// `GetPodVolumeClaims` with `isPVCFullyBound` and `volume.IsDelayBindingMode`.
fn split<'a>(
    claims: Vec<Cow<'a, PersistentVolumeClaim>>,
    storage: &Storage,
) -> Result<Split<'a>, Outcome> {
    let mut out = Split::default();
    for c in claims {
        let fully_bound =
            !volume_name(&c).is_empty() && annotation(&c.metadata, BIND_COMPLETED).is_some();
        if fully_bound {
            out.bound.push(c);
            continue;
        }
        let delay = match delay_binding(&c, storage)? {
            true => volume_name(&c).is_empty(),
            false => false,
        };
        if delay {
            out.delayed.push(c);
        } else {
            out.immediate.push(claim_name(&c).to_string());
        }
    }
    Ok(out)
}

/// `volume.IsDelayBindingMode`: a claim without a class, or with a class that does not exist,
/// binds Immediately.
fn delay_binding(c: &PersistentVolumeClaim, storage: &Storage) -> Result<bool, Outcome> {
    let class = claim_class(c);
    if class.is_empty() {
        return Ok(false);
    }
    let Some(found) = find_class(storage, class) else {
        return Err(Outcome::not_checked("StorageClasses could not be read"));
    };
    let Some(found) = found else {
        return Ok(false);
    };
    match found.volume_binding_mode.as_deref() {
        Some(mode) => Ok(mode == "WaitForFirstConsumer"),
        None => Err(Outcome::not_checked(format!(
            "StorageClass {class} has no volumeBindingMode"
        ))),
    }
}

/// `checkBoundClaims`: the first bound claim whose PV is missing or does not accept the node.
fn bound_claims(
    claims: &[Cow<'_, PersistentVolumeClaim>],
    node: &Node,
    storage: &Storage,
) -> Result<Option<Outcome>, Outcome> {
    for c in claims {
        let pv_name = volume_name(c);
        let Some(found) = find_volume(storage, pv_name) else {
            return Err(Outcome::not_checked("PersistentVolumes could not be read"));
        };
        let Some(pv) = found else {
            let detail = format!(
                "claim {} is bound to {pv_name}, which does not exist",
                claim_name(c)
            );
            return Ok(Some(Outcome::reject(PV_NOT_EXIST, detail)));
        };
        if let Some(source) = in_tree_migratable(pv) {
            return Err(Outcome::not_checked(format!(
                "PersistentVolume {pv_name} is an in-tree {source} volume, whose CSI migration may add node affinity"
            )));
        }
        if !node_affinity_matches(pv, node) {
            let detail = format!(
                "claim {} is bound to PersistentVolume {pv_name}, whose nodeAffinity does not select the node",
                claim_name(c)
            );
            return Ok(Some(Outcome::reject(NODE_CONFLICT, detail)));
        }
    }
    Ok(None)
}

/// `volume.CheckNodeAffinity`: the PV's required terms against the node's labels only.
pub fn node_affinity_matches(pv: &PersistentVolume, node: &Node) -> bool {
    let Some(required) = pv
        .spec
        .as_ref()
        .and_then(|s| s.node_affinity.as_ref())
        .and_then(|a| a.required.as_ref())
    else {
        return true;
    };
    let labels_only = Node {
        metadata: ObjectMeta {
            labels: node.metadata.labels.clone(),
            ..Default::default()
        },
        ..Default::default()
    };
    let affinity = Affinity {
        node_affinity: Some(NodeAffinity {
            required_during_scheduling_ignored_during_execution: Some(NodeSelector {
                node_selector_terms: required.node_selector_terms.clone(),
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    crate::logic::daemon::node_affinity::check(None, Some(&affinity), &labels_only).is_ok()
}

/// `FindPodVolumes` for claims the scheduler binds (WaitForFirstConsumer): a node chosen by
/// an earlier cycle, then an available PV, then provisioning.
fn delayed_claims(
    claims: &[Cow<'_, PersistentVolumeClaim>],
    node: &Node,
    storage: &Storage,
) -> Option<Outcome> {
    let node_name = node.metadata.name.as_deref().unwrap_or("");
    let mut to_match = Vec::new();
    let mut to_provision = Vec::new();
    for c in claims {
        match annotation(&c.metadata, SELECTED_NODE) {
            Some(selected) if selected != node_name => {
                let detail = format!(
                    "claim {} is being provisioned for node {selected}",
                    claim_name(c)
                );
                return Some(Outcome::reject(BIND_CONFLICT, detail));
            }
            Some(_) => to_provision.push(c.as_ref()),
            None => to_match.push(c.as_ref()),
        }
    }
    if !to_match.is_empty() {
        let Some(volumes) = storage.volumes.as_deref() else {
            return Some(Outcome::not_checked("PersistentVolumes could not be read"));
        };
        to_provision.extend(unmatched(to_match, volumes, node));
    }
    to_provision
        .iter()
        .find_map(|c| provisioning(c, node, storage))
}

/// `findMatchingVolumes`: the claims (smallest request first) left without an available PV.
fn unmatched<'a>(
    mut claims: Vec<&'a PersistentVolumeClaim>,
    volumes: &[PersistentVolume],
    node: &Node,
) -> Vec<&'a PersistentVolumeClaim> {
    claims.sort_by_key(|c| requested_bytes(c));
    let mut chosen: Vec<&str> = Vec::new();
    let mut left = Vec::new();
    for c in claims {
        match matching_volume(c, volumes, node, &chosen) {
            Some(pv) => chosen.push(pv.metadata.name.as_deref().unwrap_or("")),
            None => left.push(c),
        }
    }
    left
}

fn requested_bytes(c: &PersistentVolumeClaim) -> i128 {
    c.spec
        .as_ref()
        .and_then(|s| s.resources.as_ref())
        .and_then(|r| r.requests.as_ref())
        .and_then(|r| r.get("storage"))
        .and_then(|q| quantity::parse_milli(&q.0))
        .unwrap_or(0)
}

fn capacity_bytes(pv: &PersistentVolume) -> i128 {
    pv.spec
        .as_ref()
        .and_then(|s| s.capacity.as_ref())
        .and_then(|c| c.get("storage"))
        .and_then(|q| quantity::parse_milli(&q.0))
        .unwrap_or(0)
}

/// `volume.FindMatchingVolume` on the scheduler's path (node set, delayBinding true): a PV
/// pre-bound to the claim decides alone; otherwise the smallest Available PV of the claim's
/// class that fits, matches the selector, access and volume modes, and accepts the node.
fn matching_volume<'a>(
    c: &PersistentVolumeClaim,
    volumes: &'a [PersistentVolume],
    node: &Node,
    chosen: &[&str],
) -> Option<&'a PersistentVolume> {
    let class = claim_class(c);
    let mut best: Option<&PersistentVolume> = None;
    for pv in volumes.iter().filter(|v| volume_class(v) == class) {
        let name = pv.metadata.name.as_deref().unwrap_or("");
        if chosen.contains(&name) || !fits(c, pv) {
            continue;
        }
        let claim_ref = pv.spec.as_ref().and_then(|s| s.claim_ref.as_ref());
        if let Some(r) = claim_ref {
            if !bound_to(r, c) {
                continue;
            }
            return node_affinity_matches(pv, node).then_some(pv);
        }
        let available = pv.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Available");
        if available
            && selector_matches(c, pv)
            && node_affinity_matches(pv, node)
            && access_modes_match(c, pv)
            && best.is_none_or(|b| capacity_bytes(b) > capacity_bytes(pv))
        {
            best = Some(pv);
        }
    }
    best
}

/// Size, volume mode, VolumeAttributesClass and deletion: the checks before the claimRef.
fn fits(c: &PersistentVolumeClaim, pv: &PersistentVolume) -> bool {
    let (cs, ps) = (
        c.spec.clone().unwrap_or_default(),
        pv.spec.clone().unwrap_or_default(),
    );
    let mode = |m: Option<&String>| m.map_or("Filesystem".to_string(), String::clone);
    capacity_bytes(pv) >= requested_bytes(c)
        && mode(cs.volume_mode.as_ref()) == mode(ps.volume_mode.as_ref())
        && cs.volume_attributes_class_name == ps.volume_attributes_class_name
        && pv.metadata.deletion_timestamp.is_none()
}

/// `volume.IsVolumeBoundToClaim`.
fn bound_to(r: &k8s_openapi::api::core::v1::ObjectReference, c: &PersistentVolumeClaim) -> bool {
    r.name == c.metadata.name
        && r.namespace == c.metadata.namespace
        && (r.uid.as_deref().unwrap_or("").is_empty() || r.uid == c.metadata.uid)
}

fn selector_matches(c: &PersistentVolumeClaim, pv: &PersistentVolume) -> bool {
    let Some(sel) = c.spec.as_ref().and_then(|s| s.selector.as_ref()) else {
        return true;
    };
    let labels = pv.metadata.labels.clone().unwrap_or_default();
    Selector::from_label_selector(sel).is_ok_and(|s| s.matches(&labels))
}

/// `volume.CheckAccessModes`: the PV offers every mode the claim asks for.
fn access_modes_match(c: &PersistentVolumeClaim, pv: &PersistentVolume) -> bool {
    let offered = pv
        .spec
        .as_ref()
        .and_then(|s| s.access_modes.clone())
        .unwrap_or_default();
    c.spec
        .as_ref()
        .and_then(|s| s.access_modes.as_ref())
        .into_iter()
        .flatten()
        .all(|m| offered.contains(m))
}

/// `checkVolumeProvisions` for one claim: `None` when the node can have it provisioned.
fn provisioning(c: &PersistentVolumeClaim, node: &Node, storage: &Storage) -> Option<Outcome> {
    let name = claim_name(c);
    let class_name = claim_class(c);
    let class = match find_class(storage, class_name) {
        None => return Some(Outcome::not_checked("StorageClasses could not be read")),
        Some(None) => {
            return Some(Outcome::not_checked(format!(
                "claim {name} needs StorageClass {class_name:?}, which does not exist (the scheduler reports an error and retries)"
            )));
        }
        Some(Some(class)) => class,
    };
    if class.provisioner.is_empty() || class.provisioner == NO_PROVISIONER {
        let detail = format!(
            "no available PersistentVolume matches claim {name} on this node, and StorageClass {class_name} does not provision"
        );
        return Some(Outcome::reject(BIND_CONFLICT, detail));
    }
    if !topology_allows(class, node) {
        let detail = format!(
            "StorageClass {class_name} allows provisioning claim {name} only in its allowedTopologies, which do not include the node"
        );
        return Some(Outcome::reject(BIND_CONFLICT, detail));
    }
    capacity_unknown(c, class, storage)
}

/// `v1helper.MatchTopologySelectorTerms`: no terms allow every node; a term matches when each
/// of its expressions has the node's label value among its values.
fn topology_allows(class: &StorageClass, node: &Node) -> bool {
    let terms = class.allowed_topologies.as_deref().unwrap_or(&[]);
    if terms.is_empty() {
        return true;
    }
    let labels = node.metadata.labels.clone().unwrap_or_default();
    terms.iter().any(|t| {
        t.match_label_expressions
            .iter()
            .flatten()
            .all(|e| labels.get(&e.key).is_some_and(|v| e.values.contains(v)))
    })
}

/// `hasEnoughCapacity`: a CSI driver that opts into storage capacity tracking is judged on
/// CSIStorageCapacity objects, which are not read.
fn capacity_unknown(
    c: &PersistentVolumeClaim,
    class: &StorageClass,
    storage: &Storage,
) -> Option<Outcome> {
    if !has_storage_request(c) {
        return None;
    }
    let Some(drivers) = storage.csi_drivers.as_ref() else {
        return Some(Outcome::not_checked("CSIDrivers could not be read"));
    };
    let tracks = drivers.iter().any(|d| {
        d.metadata.name.as_deref() == Some(class.provisioner.as_str())
            && d.spec.storage_capacity == Some(true)
    });
    tracks.then(|| {
        Outcome::not_checked(format!(
            "CSI driver {} tracks storage capacity; its CSIStorageCapacity objects are not read",
            class.provisioner
        ))
    })
}

fn has_storage_request(c: &PersistentVolumeClaim) -> bool {
    c.spec
        .as_ref()
        .and_then(|s| s.resources.as_ref())
        .and_then(|r| r.requests.as_ref())
        .is_some_and(|r| r.contains_key("storage"))
}
