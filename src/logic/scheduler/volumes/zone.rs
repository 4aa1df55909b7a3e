//! VolumeZone (`pkg/scheduler/framework/plugins/volumezone`): `getPVbyPod` collects the zone
//! and region labels of the PVs bound to the pod's `persistentVolumeClaim` volumes, `Filter`
//! requires the node to carry one of each label's values.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{Node, PersistentVolume};

use super::{Storage, claim_class, find_class, find_volume, not_found, volume_name};
use crate::logic::scheduler::{IncomingPod, Outcome};

/// `ErrReasonConflict`.
pub const CONFLICT: &str = "node(s) had no available volume zone";

/// `topologyLabels`: beta zone, beta region, zone, region.
const TOPOLOGY_LABELS: [&str; 4] = [
    "failure-domain.beta.kubernetes.io/zone",
    "failure-domain.beta.kubernetes.io/region",
    "topology.kubernetes.io/zone",
    "topology.kubernetes.io/region",
];

/// `translateToGALabel`.
fn ga_label(key: &str) -> &str {
    match key {
        "failure-domain.beta.kubernetes.io/region" => "topology.kubernetes.io/region",
        "failure-domain.beta.kubernetes.io/zone" => "topology.kubernetes.io/zone",
        other => other,
    }
}

struct Topology {
    pv: String,
    key: String,
    values: BTreeSet<String>,
}

/// VolumeZone for one node.
pub fn filter(pod: &IncomingPod<'_>, node: &Node, storage: &Storage) -> Outcome {
    let topologies = match pv_topologies(pod, storage) {
        Ok(t) => t,
        Err(o) => return o,
    };
    let labels = node.metadata.labels.clone().unwrap_or_default();
    // A node without any zone or region label accepts every volume (single-zone clusters).
    if !TOPOLOGY_LABELS.iter().any(|k| labels.contains_key(*k)) {
        return Outcome::Pass;
    }
    for t in &topologies {
        let value = labels.get(&t.key).or_else(|| labels.get(ga_label(&t.key)));
        if !value.is_some_and(|v| t.values.contains(v)) {
            let detail = format!(
                "PersistentVolume {} is in {}={}, the node has {}",
                t.pv,
                t.key,
                t.values.iter().cloned().collect::<Vec<_>>().join(","),
                value.map_or("no such label".to_string(), |v| format!("{v:?}"))
            );
            return Outcome::reject(CONFLICT, detail);
        }
    }
    Outcome::Pass
}

/// `getPVbyPod`: only `persistentVolumeClaim` volumes; unbound WaitForFirstConsumer claims
/// are skipped, other unbound claims stop the pod.
fn pv_topologies(pod: &IncomingPod<'_>, storage: &Storage) -> Result<Vec<Topology>, Outcome> {
    let mut out = Vec::new();
    for v in pod.spec.volumes.iter().flatten() {
        let Some(pvc) = &v.persistent_volume_claim else {
            continue;
        };
        let claim = super::claim_of(v, pod.namespace, storage).transpose()?;
        let Some(claim) = claim else { continue };
        let pv_name = volume_name(&claim);
        if pv_name.is_empty() {
            unbound(&claim, storage)?;
            continue;
        }
        let pv = match find_volume(storage, pv_name) {
            None => return Err(Outcome::not_checked("PersistentVolumes could not be read")),
            Some(None) => {
                return Err(Outcome::reject_pre(
                    &not_found("persistentvolume", pv_name),
                    format!(
                        "claim {} is bound to a PersistentVolume that does not exist",
                        pvc.claim_name
                    ),
                ));
            }
            Some(Some(pv)) => pv,
        };
        out.extend(topologies(pv));
    }
    Ok(out)
}

/// An unbound claim: skipped when its class waits for the first consumer.
fn unbound(
    claim: &k8s_openapi::api::core::v1::PersistentVolumeClaim,
    storage: &Storage,
) -> Result<(), Outcome> {
    let name = super::claim_name(claim);
    let class = claim_class(claim);
    let reject = |reason: &str| {
        Err(Outcome::reject_pre(
            reason,
            format!("claim {name} is not bound"),
        ))
    };
    if class.is_empty() {
        return reject("PersistentVolumeClaim had no pv name and storageClass name");
    }
    match find_class(storage, class) {
        None => Err(Outcome::not_checked("StorageClasses could not be read")),
        Some(None) => reject(&format!(
            "storageclass.storage.k8s.io \"{class}\" not found"
        )),
        Some(Some(sc)) => match sc.volume_binding_mode.as_deref() {
            None => reject(&format!(
                "VolumeBindingMode not set for StorageClass {class:?}"
            )),
            Some("WaitForFirstConsumer") => Ok(()),
            Some(_) => reject("PersistentVolume had no name"),
        },
    }
}

/// `getPVTopologies`: each topology label's values, split at `__`
/// (`volumehelpers.LabelZonesToSet`).
fn topologies(pv: &PersistentVolume) -> Vec<Topology> {
    let labels = pv.metadata.labels.clone().unwrap_or_default();
    TOPOLOGY_LABELS
        .iter()
        .filter_map(|key| {
            let value = labels.get(*key)?;
            let values: BTreeSet<String> = value
                .split("__")
                .map(str::trim)
                .filter(|z| !z.is_empty())
                .map(String::from)
                .collect();
            (!values.is_empty()).then(|| Topology {
                pv: pv.metadata.name.clone().unwrap_or_default(),
                key: key.to_string(),
                values,
            })
        })
        .collect()
}
