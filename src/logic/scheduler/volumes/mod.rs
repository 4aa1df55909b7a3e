//! The volume filters, in the scheduler's plugin order: VolumeRestrictions, NodeVolumeLimits,
//! VolumeBinding and VolumeZone (`pkg/scheduler/framework/plugins/{volumerestrictions,
//! nodevolumelimits,volumebinding,volumezone}`). Each skips a pod without
//! PersistentVolumeClaims or generic ephemeral volumes in its PreFilter; for a pod with claims
//! they decide on the claims, PersistentVolumes, StorageClasses, CSINodes, CSIDrivers and
//! VolumeAttachments in [`Storage`]. What was not read, or cannot be decided from those
//! objects, is "not checked", never a pass.

pub mod binding;
pub mod limits;
pub mod restrictions;
pub mod zone;

use std::borrow::Cow;

use k8s_openapi::api::core::v1::{Node, PersistentVolume, PersistentVolumeClaim, PodSpec, Volume};
use k8s_openapi::api::storage::v1::{CSIDriver, CSINode, StorageClass, VolumeAttachment};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{FilterResult, IncomingPod, Outcome};

/// The storage objects the volume filters read; each `None` when it could not be read.
#[derive(Clone, Debug, Default)]
pub struct Storage {
    /// The claims of the namespaces whose templates mount claims.
    pub claims: Option<Vec<PersistentVolumeClaim>>,
    pub volumes: Option<Vec<PersistentVolume>>,
    pub classes: Option<Vec<StorageClass>>,
    pub csi_nodes: Option<Vec<CSINode>>,
    pub csi_drivers: Option<Vec<CSIDriver>>,
    pub attachments: Option<Vec<VolumeAttachment>>,
}

/// Whether a pod spec mounts a PersistentVolumeClaim or a generic ephemeral volume: what makes
/// the volume filters (and the reads behind them) necessary.
pub fn has_claims(spec: &PodSpec) -> bool {
    spec.volumes
        .iter()
        .flatten()
        .any(|v| v.persistent_volume_claim.is_some() || v.ephemeral.is_some())
}

/// The four volume filters for one node.
pub fn run(
    pod: &IncomingPod<'_>,
    node: &Node,
    storage: Option<&Storage>,
    view: &super::ClusterView<'_>,
) -> Vec<FilterResult> {
    let skip = !has_claims(pod.spec);
    let decide = |f: &dyn Fn(&Storage) -> Outcome| match (skip, storage) {
        (true, _) => Outcome::Pass,
        (false, Some(s)) => f(s),
        (false, None) => Outcome::not_checked(format!(
            "the pod mounts claim(s) {}; the storage objects (PersistentVolumeClaims, PersistentVolumes, StorageClasses, CSINodes) were not read",
            claim_names(pod.spec).join(", ")
        )),
    };
    vec![
        FilterResult {
            plugin: "VolumeRestrictions",
            outcome: decide(&|s| restrictions::filter(pod, s, view)),
        },
        FilterResult {
            plugin: "NodeVolumeLimits",
            outcome: decide(&|s| limits::filter(pod, node, s, view)),
        },
        FilterResult {
            plugin: "VolumeBinding",
            outcome: decide(&|s| binding::filter(pod, node, s)),
        },
        FilterResult {
            plugin: "VolumeZone",
            outcome: decide(&|s| zone::filter(pod, node, s)),
        },
    ]
}

/// The claims the pod's volumes name, as the user wrote them.
fn claim_names(spec: &PodSpec) -> Vec<String> {
    spec.volumes
        .iter()
        .flatten()
        .filter_map(|v| match (&v.persistent_volume_claim, &v.ephemeral) {
            (Some(pvc), _) => Some(pvc.claim_name.clone()),
            (None, Some(_)) => Some(format!("ephemeral volume {}", v.name)),
            _ => None,
        })
        .collect()
}

/// The scheduler's text for a missing object (`apierrors.NewNotFound(...).Error()`).
fn not_found(kind: &str, name: &str) -> String {
    format!("{kind} \"{name}\" not found")
}

/// The claim a volume stands for: the named claim, or for a generic ephemeral volume the
/// claim the ephemeral volume controller creates from its template
/// (`ephemeral.VolumeClaimName`: `<pod>-<volume>`). A daemon pod is named only when it is
/// created, so the ephemeral claim is modelled as freshly created: unbound, in its template's
/// StorageClass. `Err` when the named claim is not there or could not be read.
fn claim_of<'a>(
    volume: &'a Volume,
    namespace: &str,
    storage: &'a Storage,
) -> Option<Result<Cow<'a, PersistentVolumeClaim>, Outcome>> {
    if let Some(pvc) = &volume.persistent_volume_claim {
        let Some(claims) = storage.claims.as_ref() else {
            return Some(Err(Outcome::not_checked(
                "PersistentVolumeClaims could not be read",
            )));
        };
        let found = claims.iter().find(|c| {
            c.metadata.name.as_deref() == Some(pvc.claim_name.as_str())
                && c.metadata.namespace.as_deref() == Some(namespace)
        });
        return Some(match found {
            Some(c) => Ok(Cow::Borrowed(c)),
            None => Err(Outcome::reject_pre(
                &not_found("persistentvolumeclaim", &pvc.claim_name),
                format!("the pod mounts claim {namespace}/{}", pvc.claim_name),
            )),
        });
    }
    let template = volume.ephemeral.as_ref()?.volume_claim_template.as_ref()?;
    Some(Ok(Cow::Owned(PersistentVolumeClaim {
        metadata: ObjectMeta {
            name: Some(format!("<pod>-{}", volume.name)),
            namespace: Some(namespace.to_string()),
            ..Default::default()
        },
        spec: Some(template.spec.clone()),
        status: None,
    })))
}

/// Every claim of the pod, in volume order, or the first claim that decides the filter.
fn claims_of<'a>(
    pod: &IncomingPod<'_>,
    spec: &'a PodSpec,
    storage: &'a Storage,
) -> Result<Vec<Cow<'a, PersistentVolumeClaim>>, Outcome> {
    spec.volumes
        .iter()
        .flatten()
        .filter_map(|v| claim_of(v, pod.namespace, storage))
        .collect()
}

fn claim_name(c: &PersistentVolumeClaim) -> &str {
    c.metadata.name.as_deref().unwrap_or("")
}

/// `storagehelpers.GetPersistentVolumeClaimClass`: the beta annotation first.
fn claim_class(c: &PersistentVolumeClaim) -> &str {
    if let Some(class) = annotation(&c.metadata, "volume.beta.kubernetes.io/storage-class") {
        return class;
    }
    c.spec
        .as_ref()
        .and_then(|s| s.storage_class_name.as_deref())
        .unwrap_or("")
}

/// `storagehelpers.GetPersistentVolumeClass`.
fn volume_class(pv: &PersistentVolume) -> &str {
    if let Some(class) = annotation(&pv.metadata, "volume.beta.kubernetes.io/storage-class") {
        return class;
    }
    pv.spec
        .as_ref()
        .and_then(|s| s.storage_class_name.as_deref())
        .unwrap_or("")
}

fn annotation<'a>(meta: &'a ObjectMeta, key: &str) -> Option<&'a str> {
    meta.annotations.as_ref()?.get(key).map(String::as_str)
}

fn volume_name(c: &PersistentVolumeClaim) -> &str {
    c.spec
        .as_ref()
        .and_then(|s| s.volume_name.as_deref())
        .unwrap_or("")
}

fn find_volume<'a>(storage: &'a Storage, name: &str) -> Option<Option<&'a PersistentVolume>> {
    let volumes = storage.volumes.as_ref()?;
    Some(
        volumes
            .iter()
            .find(|v| v.metadata.name.as_deref() == Some(name)),
    )
}

fn find_class<'a>(storage: &'a Storage, name: &str) -> Option<Option<&'a StorageClass>> {
    let classes = storage.classes.as_ref()?;
    Some(
        classes
            .iter()
            .find(|c| c.metadata.name.as_deref() == Some(name)),
    )
}

fn csi_node<'a>(storage: &'a Storage, node: &str) -> Option<Option<&'a CSINode>> {
    let nodes = storage.csi_nodes.as_ref()?;
    Some(
        nodes
            .iter()
            .find(|c| c.metadata.name.as_deref() == Some(node)),
    )
}

/// In-tree volume sources that CSI migration translates (`csi-translation-lib`): the
/// translation can add node affinity and a CSI driver, which is not modelled here.
fn in_tree_migratable(pv: &PersistentVolume) -> Option<&'static str> {
    let s = pv.spec.as_ref()?;
    [
        (s.aws_elastic_block_store.is_some(), "awsElasticBlockStore"),
        (s.gce_persistent_disk.is_some(), "gcePersistentDisk"),
        (s.azure_disk.is_some(), "azureDisk"),
        (s.azure_file.is_some(), "azureFile"),
        (s.cinder.is_some(), "cinder"),
        (s.vsphere_volume.is_some(), "vsphereVolume"),
        (s.portworx_volume.is_some(), "portworxVolume"),
    ]
    .into_iter()
    .find_map(|(set, name)| set.then_some(name))
}

/// In-tree provisioners that CSI migration maps to a CSI driver
/// (`csi-translation-lib` `IsMigratableIntreePluginByName`).
const IN_TREE_PROVISIONERS: [&str; 7] = [
    "kubernetes.io/aws-ebs",
    "kubernetes.io/gce-pd",
    "kubernetes.io/azure-disk",
    "kubernetes.io/azure-file",
    "kubernetes.io/cinder",
    "kubernetes.io/vsphere-volume",
    "kubernetes.io/portworx-volume",
];

#[cfg(test)]
mod tests;
