//! The objects behind the volume and DynamicResources filters: each kind listed once, in
//! parallel, and only when some template needs it, so an ordinary DaemonSet costs no extra
//! request. A kind that cannot be read becomes a note, and the filters that need it say
//! "not checked".

use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use k8s_openapi::api::storage::v1::{CSIDriver, CSINode, StorageClass, VolumeAttachment};

use super::Target;
use super::admission::{Unread, cluster_wide, namespaced, optional};
use super::errors::Request;
use super::fetch::list_at;
use crate::logic::scheduler::FilterObjects;
use crate::logic::scheduler::dynamic_resources::{self, Dra};
use crate::logic::scheduler::volumes::Storage;

/// What the templates need read.
#[derive(Clone, Copy, Debug, Default)]
pub struct Needs {
    /// A template mounts a PersistentVolumeClaim or a generic ephemeral volume.
    pub storage: bool,
    /// A template has resource claims, or requests an extended resource a DeviceClass may
    /// serve.
    pub dra: bool,
}

impl Needs {
    /// The union over pod specs.
    pub fn of<'a>(
        specs: impl IntoIterator<Item = &'a k8s_openapi::api::core::v1::PodSpec>,
    ) -> Self {
        let mut out = Needs::default();
        for s in specs {
            out.storage |= crate::logic::scheduler::volumes::has_claims(s);
            out.dra |= dynamic_resources::may_need(s);
        }
        out
    }
}

/// The objects `needs` asks for; claims only in `ns` (every namespace for `None`).
pub async fn read(
    target: &Target,
    needs: Needs,
    ns: Option<&str>,
    unread: &mut Unread,
) -> FilterObjects {
    let storage = if needs.storage {
        Some(storage(target, ns, unread).await)
    } else {
        None
    };
    let dra = if needs.dra {
        Some(dra(target, ns, unread).await)
    } else {
        None
    };
    FilterObjects { storage, dra }
}

async fn dra(target: &Target, ns: Option<&str>, unread: &mut Unread) -> Dra {
    const V1: &str = "/apis/resource.k8s.io/v1";
    let templates_path = match ns {
        Some(ns) => format!("{V1}/namespaces/{ns}/resourceclaimtemplates"),
        None => format!("{V1}/resourceclaimtemplates"),
    };
    let classes_path = format!("{V1}/deviceclasses");
    let slices_path = format!("{V1}/resourceslices");
    let claims_path = format!("{V1}/resourceclaims");
    let (classes, slices, claims, templates) = tokio::join!(
        list_at(
            target,
            &classes_path,
            Request::new("list", "deviceclasses", None)
        ),
        list_at(
            target,
            &slices_path,
            Request::new("list", "resourceslices", None)
        ),
        list_at(
            target,
            &claims_path,
            Request::new("list", "resourceclaims", None)
        ),
        list_at(
            target,
            &templates_path,
            Request::new("list", "resourceclaimtemplates", ns)
        ),
    );
    Dra {
        classes: optional(classes, "DynamicResources (deviceclasses)", unread),
        slices: optional(slices, "DynamicResources (resourceslices)", unread),
        claims: optional(claims, "DynamicResources (resourceclaims)", unread),
        templates: optional(
            templates,
            "DynamicResources (resourceclaimtemplates)",
            unread,
        ),
    }
}

async fn storage(target: &Target, ns: Option<&str>, unread: &mut Unread) -> Storage {
    let (pvcs, pvs, classes, csi_nodes, drivers, attachments) = tokio::join!(
        namespaced::<PersistentVolumeClaim>(target, ns, "persistentvolumeclaims"),
        cluster_wide::<PersistentVolume>(target, "persistentvolumes"),
        cluster_wide::<StorageClass>(target, "storageclasses"),
        cluster_wide::<CSINode>(target, "csinodes"),
        cluster_wide::<CSIDriver>(target, "csidrivers"),
        cluster_wide::<VolumeAttachment>(target, "volumeattachments"),
    );
    Storage {
        claims: optional(pvcs, "volume filters (persistentvolumeclaims)", unread),
        volumes: optional(pvs, "volume filters (persistentvolumes)", unread),
        classes: optional(classes, "volume filters (storageclasses)", unread),
        csi_nodes: optional(csi_nodes, "NodeVolumeLimits (csinodes)", unread),
        csi_drivers: optional(drivers, "volume filters (csidrivers)", unread),
        attachments: optional(attachments, "NodeVolumeLimits (volumeattachments)", unread),
    }
}
