//! DynamicResources (`pkg/scheduler/framework/plugins/dynamicresources`): `PreFilter` skips a
//! pod without `spec.resourceClaims` (and, with DRAExtendedResource, without an extended
//! resource a DeviceClass maps to DRA). For a pod with claims it reads ResourceClaims,
//! DeviceClasses and ResourceSlices, which are not read here, so it is "not checked".

use k8s_openapi::api::core::v1::PodSpec;

use super::Outcome;

/// `DynamicResources.PreFilter`: Pass when the pod has no resource claims.
pub fn filter(spec: &PodSpec) -> Outcome {
    let names: Vec<&str> = spec
        .resource_claims
        .iter()
        .flatten()
        .map(|c| c.name.as_str())
        .collect();
    if names.is_empty() {
        return Outcome::Pass;
    }
    Outcome::not_checked(format!(
        "the pod has resource claim(s) {}; DynamicResources decides on ResourceClaims, DeviceClasses and ResourceSlices, which are not read",
        names.join(", ")
    ))
}
