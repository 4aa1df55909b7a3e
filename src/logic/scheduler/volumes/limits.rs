//! NodeVolumeLimits (`pkg/scheduler/framework/plugins/nodevolumelimits/csi.go`
//! `CSILimits.Filter`): the CSI volumes the pod adds, per driver, on top of those the node's
//! pods and VolumeAttachments already hold, against the CSINode's `allocatable.count`.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Node, PersistentVolumeClaim, Pod};
use k8s_openapi::api::storage::v1::CSINode;

use super::{
    IN_TREE_PROVISIONERS, Storage, claim_class, claim_name, claims_of, csi_node, find_class,
    find_volume, in_tree_migratable, volume_name,
};
use crate::logic::scheduler::{ClusterView, IncomingPod, Outcome};

/// `ErrReasonMaxVolumeCountExceeded`.
pub const MAX_VOLUME_COUNT: &str = "node(s) exceed max volume count";

/// Unique volume name (`getVolumeUniqueName`: `<driver>/<handle>`) → driver.
type Volumes = BTreeMap<String, String>;

/// NodeVolumeLimits for one node.
pub fn filter(
    pod: &IncomingPod<'_>,
    node: &Node,
    storage: &Storage,
    view: &ClusterView<'_>,
) -> Outcome {
    let node_name = node.metadata.name.as_deref().unwrap_or("");
    let Some(csi) = csi_node(storage, node_name) else {
        return Outcome::not_checked("CSINodes could not be read");
    };
    let claims = match claims_of(pod, pod.spec, storage) {
        Ok(c) => c,
        Err(Outcome::Reject { reason, detail, .. }) => {
            // `filterAttachableVolumes` wraps the lister's error with the claim's key.
            let name = reason.split('"').nth(1).unwrap_or("");
            let wrapped = format!("looking up PVC {}/{name}: {reason}", pod.namespace);
            return Outcome::reject(&wrapped, detail);
        }
        Err(o) => return o,
    };
    let mut new = Volumes::new();
    for c in &claims {
        match driver_info(c, storage) {
            Err(o) => return o,
            Ok(Some(v)) => {
                new.insert(v.0, v.1);
            }
            Ok(None) => {}
        }
    }
    if new.is_empty() {
        return Outcome::Pass;
    }
    if let Some(o) = missing_driver(&new, csi, storage) {
        return o;
    }
    let limits = limits(csi);
    if limits.is_empty() {
        return Outcome::Pass;
    }
    let attached = match attached(node_name, storage, view) {
        Ok(a) => a,
        Err(o) => return o,
    };
    over_limit(new, &attached, &limits)
}

/// Counts per driver and the verdict.
fn over_limit(mut new: Volumes, attached: &Volumes, limits: &BTreeMap<String, i64>) -> Outcome {
    let mut in_use: BTreeMap<&str, i64> = BTreeMap::new();
    for (unique, driver) in attached {
        // A volume the node already has is not added again.
        new.remove(unique);
        *in_use.entry(driver).or_default() += 1;
    }
    let mut adding: BTreeMap<&str, i64> = BTreeMap::new();
    for driver in new.values() {
        *adding.entry(driver).or_default() += 1;
    }
    for (driver, count) in adding {
        let Some(limit) = limits.get(driver) else {
            continue;
        };
        let used = in_use.get(driver).copied().unwrap_or(0);
        if used + count > *limit {
            let detail = format!(
                "CSI driver {driver} allows {limit} volume(s) on the node (CSINode allocatable.count); {used} are in use and the pod adds {count}"
            );
            return Outcome::reject(MAX_VOLUME_COUNT, detail);
        }
    }
    Outcome::Pass
}

/// `getVolumeLimits`.
fn limits(csi: Option<&CSINode>) -> BTreeMap<String, i64> {
    csi.map(|c| &c.spec.drivers)
        .into_iter()
        .flatten()
        .filter_map(|d| Some((d.name.clone(), i64::from(d.allocatable.as_ref()?.count?))))
        .collect()
}

/// `checkCSIDriverOnNode` (VolumeLimitScaling, on by default in 1.37): a driver whose
/// CSIDriver sets `preventPodSchedulingIfMissing` must be registered on the node.
fn missing_driver(new: &Volumes, csi: Option<&CSINode>, storage: &Storage) -> Option<Outcome> {
    let Some(drivers) = storage.csi_drivers.as_ref() else {
        return Some(Outcome::not_checked("CSIDrivers could not be read"));
    };
    new.values().find_map(|name| {
        let opted_in = drivers.iter().any(|d| {
            d.metadata.name.as_deref() == Some(name.as_str())
                && crate::logic::apimachinery::compat::prevents_scheduling_if_missing(d)
        });
        let installed = csi.is_some_and(|c| c.spec.drivers.iter().any(|d| &d.name == name));
        (opted_in && !installed).then(|| {
            Outcome::reject(
                &format!("{name} CSI driver is not installed on the node"),
                "its CSIDriver sets preventPodSchedulingIfMissing and the node's CSINode does not list it",
            )
        })
    })
}

/// `getCSIDriverInfo`: (unique name, driver) of a claim's CSI volume, `None` for a volume
/// that is not CSI.
fn driver_info(
    c: &PersistentVolumeClaim,
    storage: &Storage,
) -> Result<Option<(String, String)>, Outcome> {
    let pv_name = volume_name(c);
    if pv_name.is_empty() {
        return from_class(c, storage);
    }
    let Some(found) = find_volume(storage, pv_name) else {
        return Err(Outcome::not_checked("PersistentVolumes could not be read"));
    };
    let Some(pv) = found else {
        return from_class(c, storage);
    };
    if let Some(source) = pv.spec.as_ref().and_then(|s| s.csi.as_ref()) {
        return Ok(Some((
            format!("{}/{}", source.driver, source.volume_handle),
            source.driver.clone(),
        )));
    }
    match in_tree_migratable(pv) {
        Some(kind) => Err(Outcome::not_checked(format!(
            "PersistentVolume {pv_name} is an in-tree {kind} volume, whose CSI migration is not modelled"
        ))),
        None => Ok(None),
    }
}

/// `getCSIDriverInfoFromSC`: an unbound claim counts for its class's provisioner, under a
/// name of its own.
fn from_class(
    c: &PersistentVolumeClaim,
    storage: &Storage,
) -> Result<Option<(String, String)>, Outcome> {
    let class = claim_class(c);
    if class.is_empty() {
        return Ok(None);
    }
    let Some(found) = find_class(storage, class) else {
        return Err(Outcome::not_checked("StorageClasses could not be read"));
    };
    let Some(sc) = found else {
        return Ok(None);
    };
    if IN_TREE_PROVISIONERS.contains(&sc.provisioner.as_str()) {
        return Err(Outcome::not_checked(format!(
            "StorageClass {class} uses the in-tree provisioner {}, whose CSI migration is not modelled",
            sc.provisioner
        )));
    }
    let ns = c.metadata.namespace.as_deref().unwrap_or("");
    Ok(Some((
        format!("{}/new-{ns}/{}", sc.provisioner, claim_name(c)),
        sc.provisioner.clone(),
    )))
}

/// The CSI volumes the node's pods use and its VolumeAttachments hold
/// (`filterAttachableVolumes` on existing pods, `getNodeVolumeAttachmentInfo`).
fn attached(node: &str, storage: &Storage, view: &ClusterView<'_>) -> Result<Volumes, Outcome> {
    let mut out = Volumes::new();
    let on_node = view
        .pods
        .iter()
        .filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(node));
    for p in on_node {
        for c in existing_claims(p, storage) {
            if let Some((unique, driver)) = driver_info(c, storage)? {
                out.insert(unique, driver);
            }
        }
    }
    let Some(attachments) = storage.attachments.as_ref() else {
        return Err(Outcome::not_checked("VolumeAttachments could not be read"));
    };
    for va in attachments.iter().filter(|va| va.spec.node_name == node) {
        let Some(pv_name) = va.spec.source.persistent_volume_name.as_deref() else {
            continue;
        };
        let handle = find_volume(storage, pv_name)
            .flatten()
            .and_then(|pv| pv.spec.as_ref()?.csi.as_ref())
            .map(|s| s.volume_handle.clone());
        if let Some(handle) = handle.filter(|_| !va.spec.attacher.is_empty()) {
            let unique = format!("{}/{handle}", va.spec.attacher);
            out.entry(unique)
                .or_insert_with(|| va.spec.attacher.clone());
        }
    }
    Ok(out)
}

/// The claims an existing pod mounts that exist (a claim not found is not counted).
fn existing_claims<'a>(p: &Pod, storage: &'a Storage) -> Vec<&'a PersistentVolumeClaim> {
    let ns = p.metadata.namespace.as_deref().unwrap_or("");
    let pod_name = crate::logic::daemon::pods::name(p);
    let names: Vec<String> = p
        .spec
        .as_ref()
        .and_then(|s| s.volumes.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|v| match (&v.persistent_volume_claim, &v.ephemeral) {
            (Some(c), _) => Some(c.claim_name.clone()),
            (None, Some(_)) => Some(format!("{pod_name}-{}", v.name)),
            _ => None,
        })
        .collect();
    storage
        .claims
        .iter()
        .flatten()
        .filter(|c| {
            c.metadata.namespace.as_deref() == Some(ns)
                && names.iter().any(|n| c.metadata.name.as_deref() == Some(n))
        })
        .collect()
}
