//! The volume filters: VolumeRestrictions, NodeVolumeLimits, VolumeBinding and VolumeZone
//! (`pkg/scheduler/framework/plugins/{volumerestrictions,nodevolumelimits,volumebinding,
//! volumezone}`). Each skips a pod without PersistentVolumeClaims or generic ephemeral volumes
//! in its PreFilter (`volumebinding` `PreFilter` returns Skip when `podHasPVCs` is false); for
//! one with claims they read PersistentVolumes, StorageClasses and CSINodes, which are not
//! read here, so such a pod gets "not checked" rather than a pass.

use k8s_openapi::api::core::v1::PodSpec;

use super::Outcome;

/// The claims the pod's volumes name: `persistentVolumeClaim.claimName`, and
/// `<pod>-<volume>` for generic ephemeral volumes (named after the pod, so only the volume
/// name is given here).
fn claims(spec: &PodSpec) -> Vec<String> {
    spec.volumes
        .iter()
        .flatten()
        .filter_map(|v| {
            if let Some(pvc) = &v.persistent_volume_claim {
                Some(pvc.claim_name.clone())
            } else {
                v.ephemeral
                    .as_ref()
                    .map(|_| format!("ephemeral volume {}", v.name))
            }
        })
        .collect()
}

/// `VolumeBinding.PreFilter` (`podHasPVCs`): Pass when there is no claim to check.
pub fn filter(spec: &PodSpec) -> Outcome {
    let claims = claims(spec);
    if claims.is_empty() {
        return Outcome::Pass;
    }
    Outcome::not_checked(format!(
        "the pod mounts claim(s) {}; VolumeBinding, VolumeZone, NodeVolumeLimits and VolumeRestrictions decide on PersistentVolumes, StorageClasses and CSINodes, which are not read",
        claims.join(", ")
    ))
}
