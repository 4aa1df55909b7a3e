//! VolumeRestrictions (`pkg/scheduler/framework/plugins/volumerestrictions`): `PreFilter`
//! (`readWriteOncePodPVCsForPod`, `calPreFilterState`) rejects every node while a scheduled
//! pod anywhere in the cluster uses one of the pod's ReadWriteOncePod claims
//! (`satisfyReadWriteOncePod`); `satisfyVolumeConflicts` compares inline GCE PD, AWS EBS, RBD
//! and iSCSI disks with the node's pods.

use super::{Storage, claim_of};
use crate::logic::scheduler::{ClusterView, IncomingPod, Outcome, qualified};

/// `ErrReasonReadWriteOncePodConflict`.
pub const RWOP_CONFLICT: &str = "node(s) unavailable due to PersistentVolumeClaim with ReadWriteOncePod access mode already in-use by another pod";

/// VolumeRestrictions for one node (the verdict is the same on every node).
pub fn filter(pod: &IncomingPod<'_>, storage: &Storage, view: &ClusterView<'_>) -> Outcome {
    let inline = pod.spec.volumes.iter().flatten().find(|v| {
        v.gce_persistent_disk.is_some()
            || v.aws_elastic_block_store.is_some()
            || v.rbd.is_some()
            || v.iscsi.is_some()
    });
    if let Some(v) = inline {
        return Outcome::not_checked(format!(
            "volume {} is an inline disk; the node's pods' inline disks are not read",
            v.name
        ));
    }
    let mut rwop = Vec::new();
    for v in pod.spec.volumes.iter().flatten() {
        if v.persistent_volume_claim.is_none() {
            continue;
        }
        let claim = match claim_of(v, pod.namespace, storage) {
            Some(Ok(c)) => c,
            Some(Err(o)) => return o,
            None => continue,
        };
        let modes = claim.spec.as_ref().and_then(|s| s.access_modes.as_ref());
        if modes.is_some_and(|m| m.iter().any(|m| m == "ReadWriteOncePod")) {
            rwop.push(super::claim_name(&claim).to_string());
        }
    }
    if rwop.is_empty() {
        return Outcome::Pass;
    }
    holder(pod, &rwop, view)
}

/// `StorageInfos().IsPVCUsedByPods`: a scheduled pod that mounts one of the claims.
fn holder(pod: &IncomingPod<'_>, rwop: &[String], view: &ClusterView<'_>) -> Outcome {
    let holding = view.pods.iter().find_map(|p| {
        if super::super::pod_namespace(p) != pod.namespace {
            return None;
        }
        let claims = p.spec.as_ref()?.volumes.as_ref()?;
        claims.iter().find_map(|v| {
            let name = &v.persistent_volume_claim.as_ref()?.claim_name;
            rwop.contains(name).then(|| (name.clone(), qualified(p)))
        })
    });
    if let Some((claim, by)) = holding {
        let detail = format!("claim {claim} is ReadWriteOncePod and pod {by} uses it");
        return Outcome::reject(RWOP_CONFLICT, detail);
    }
    if !view.complete {
        return Outcome::not_checked(format!(
            "claim(s) {} are ReadWriteOncePod; only the node's own pods were read, and a pod on another node may hold them",
            rwop.join(", ")
        ));
    }
    Outcome::not_checked(format!(
        "claim(s) {} are ReadWriteOncePod and no pod uses them yet: only the first daemon pod bound gets them, and which node that is depends on the order the scheduler binds",
        rwop.join(", ")
    ))
}
