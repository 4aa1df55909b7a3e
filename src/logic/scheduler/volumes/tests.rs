//! The volume filters against the upstream rules, on objects shaped as the testbed's API
//! server returns them.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Node, Pod, PodSpec};

use super::binding::{BIND_CONFLICT, NODE_CONFLICT, PV_NOT_EXIST, UNBOUND_IMMEDIATE};
use super::limits::MAX_VOLUME_COUNT;
use super::restrictions::RWOP_CONFLICT;
use super::zone::CONFLICT;
use super::{Storage, run};
use crate::logic::fixtures::{node, pod};
use crate::logic::scheduler::{ClusterView, FilterObjects, IncomingPod, Outcome};

fn yaml<T: serde::de::DeserializeOwned>(text: &str) -> T {
    crate::yaml::from_str(text).expect("object")
}

fn claim_spec(claims: &[&str]) -> PodSpec {
    let volumes: Vec<String> = claims
        .iter()
        .map(|c| format!("{{name: {c}, persistentVolumeClaim: {{claimName: {c}}}}}"))
        .collect();
    yaml(&format!(
        "containers: [{{name: c}}]\nvolumes: [{}]",
        volumes.join(", ")
    ))
}

fn pvc(name: &str, extra: &str) -> k8s_openapi::api::core::v1::PersistentVolumeClaim {
    yaml(&format!(
        "metadata: {{name: {name}, namespace: default{extra}}}\nspec: {{accessModes: [ReadWriteOnce], resources: {{requests: {{storage: 1Gi}}}}, storageClassName: local}}"
    ))
}

/// A claim bound by the PersistentVolume controller (`pv.kubernetes.io/bind-completed`).
fn bound_pvc(name: &str, pv: &str) -> k8s_openapi::api::core::v1::PersistentVolumeClaim {
    yaml(&format!(
        "metadata: {{name: {name}, namespace: default, annotations: {{pv.kubernetes.io/bind-completed: \"yes\"}}}}\nspec: {{accessModes: [ReadWriteOnce], resources: {{requests: {{storage: 1Gi}}}}, storageClassName: local, volumeName: {pv}}}\nstatus: {{phase: Bound}}"
    ))
}

fn pv(name: &str, extra: &str) -> k8s_openapi::api::core::v1::PersistentVolume {
    yaml(&format!(
        "metadata: {{name: {name}{extra}}}\nspec:\n  capacity: {{storage: 1Gi}}\n  accessModes: [ReadWriteOnce]\n  storageClassName: local\n  csi: {{driver: csi.example.com, volumeHandle: {name}}}\n  nodeAffinity: {{required: {{nodeSelectorTerms: [{{matchExpressions: [{{key: kubernetes.io/hostname, operator: In, values: [n1]}}]}}]}}}}\nstatus: {{phase: Available}}"
    ))
}

fn class(name: &str, mode: &str, extra: &str) -> k8s_openapi::api::storage::v1::StorageClass {
    yaml(&format!(
        "metadata: {{name: {name}}}\nprovisioner: csi.example.com\nvolumeBindingMode: {mode}\n{extra}"
    ))
}

fn nodes() -> (Node, Node) {
    (
        node(
            "n1",
            &[
                ("kubernetes.io/hostname", "n1"),
                ("topology.kubernetes.io/zone", "a"),
            ],
            &[],
        ),
        node(
            "n2",
            &[
                ("kubernetes.io/hostname", "n2"),
                ("topology.kubernetes.io/zone", "b"),
            ],
            &[],
        ),
    )
}

fn storage() -> Storage {
    Storage {
        claims: Some(Vec::new()),
        volumes: Some(Vec::new()),
        classes: Some(vec![
            class("local", "WaitForFirstConsumer", ""),
            class("fast", "Immediate", ""),
        ]),
        csi_nodes: Some(Vec::new()),
        csi_drivers: Some(Vec::new()),
        attachments: Some(Vec::new()),
    }
}

/// Each volume filter's outcome on `node`, by plugin.
fn outcomes(
    spec: &PodSpec,
    node: &Node,
    storage: Storage,
    pods: &[&Pod],
) -> BTreeMap<&'static str, Outcome> {
    let labels = BTreeMap::new();
    let incoming = IncomingPod {
        namespace: "default",
        labels: &labels,
        spec,
    };
    let objects = FilterObjects {
        storage: Some(storage.clone()),
        dra: None,
    };
    let view_nodes = [node];
    let view = ClusterView::new(&view_nodes, pods, true, &objects);
    run(&incoming, node, Some(&storage), &view)
        .into_iter()
        .map(|f| (f.plugin, f.outcome))
        .collect()
}

fn reason(o: &Outcome) -> &str {
    match o {
        Outcome::Reject { reason, .. } | Outcome::NotChecked { reason } => reason,
        Outcome::Pass => "pass",
    }
}

#[test]
fn a_pod_without_claims_passes_every_volume_filter_without_reading_anything() {
    let (n1, _) = nodes();
    let spec: PodSpec = yaml("containers: [{name: c}]\nvolumes: [{name: v, emptyDir: {}}]");
    let labels = BTreeMap::new();
    let incoming = IncomingPod {
        namespace: "default",
        labels: &labels,
        spec: &spec,
    };
    let view_nodes = [&n1];
    let view = without_pods(&view_nodes);
    for f in run(&incoming, &n1, None, &view) {
        assert_eq!(f.outcome, Outcome::Pass, "{}", f.plugin);
    }
}

#[test]
fn claims_without_the_storage_objects_are_not_checked() {
    let (n1, _) = nodes();
    let spec = claim_spec(&["data"]);
    let labels = BTreeMap::new();
    let incoming = IncomingPod {
        namespace: "default",
        labels: &labels,
        spec: &spec,
    };
    let view_nodes = [&n1];
    let view = without_pods(&view_nodes);
    for f in run(&incoming, &n1, None, &view) {
        assert!(
            reason(&f.outcome).starts_with("not checked: "),
            "{}",
            f.plugin
        );
    }
}

#[test]
fn bound_pv_node_affinity_accepts_its_node_and_rejects_the_others() {
    // checkBoundClaims with volume.CheckNodeAffinity.
    let (n1, n2) = nodes();
    let mut s = storage();
    s.claims = Some(vec![bound_pvc("data", "pv1")]);
    s.volumes = Some(vec![pv("pv1", "")]);
    let spec = claim_spec(&["data"]);
    assert_eq!(
        outcomes(&spec, &n1, s.clone(), &[])["VolumeBinding"],
        Outcome::Pass
    );
    assert_eq!(
        reason(&outcomes(&spec, &n2, s, &[])["VolumeBinding"]),
        NODE_CONFLICT
    );
}

#[test]
fn a_claim_bound_to_a_missing_pv_rejects_every_node() {
    let (n1, _) = nodes();
    let mut s = storage();
    s.claims = Some(vec![bound_pvc("data", "gone")]);
    let o = outcomes(&claim_spec(&["data"]), &n1, s, &[]);
    assert_eq!(reason(&o["VolumeBinding"]), PV_NOT_EXIST);
    // VolumeZone's getPVbyPod looks the PV up too.
    assert_eq!(
        reason(&o["VolumeZone"]),
        "persistentvolume \"gone\" not found"
    );
}

#[test]
fn a_missing_claim_is_the_listers_not_found_message() {
    let (n1, _) = nodes();
    let o = outcomes(&claim_spec(&["nope"]), &n1, storage(), &[]);
    assert_eq!(
        reason(&o["VolumeRestrictions"]),
        "persistentvolumeclaim \"nope\" not found"
    );
    assert_eq!(
        reason(&o["NodeVolumeLimits"]),
        "looking up PVC default/nope: persistentvolumeclaim \"nope\" not found"
    );
}

#[test]
fn an_unbound_immediate_claim_stops_the_pod_in_prefilter() {
    // GetPodVolumeClaims: not WaitForFirstConsumer, so unboundClaimsImmediate.
    let (n1, _) = nodes();
    let mut s = storage();
    let mut c = pvc("data", "");
    c.spec.as_mut().unwrap().storage_class_name = Some("fast".into());
    s.claims = Some(vec![c]);
    let o = outcomes(&claim_spec(&["data"]), &n1, s, &[]);
    assert_eq!(reason(&o["VolumeBinding"]), UNBOUND_IMMEDIATE);
}

#[test]
fn wait_for_first_consumer_binds_an_available_pv_only_where_its_affinity_allows() {
    // findMatchingVolumes, then checkVolumeProvisions with a class that cannot provision.
    let (n1, n2) = nodes();
    let mut s = storage();
    s.claims = Some(vec![pvc("data", "")]);
    s.volumes = Some(vec![pv("pv1", "")]);
    s.classes = Some(vec![yaml(
        "metadata: {name: local}\nprovisioner: kubernetes.io/no-provisioner\nvolumeBindingMode: WaitForFirstConsumer",
    )]);
    let spec = claim_spec(&["data"]);
    assert_eq!(
        outcomes(&spec, &n1, s.clone(), &[])["VolumeBinding"],
        Outcome::Pass
    );
    assert_eq!(
        reason(&outcomes(&spec, &n2, s, &[])["VolumeBinding"]),
        BIND_CONFLICT
    );
}

#[test]
fn provisioning_follows_the_storage_class_allowed_topologies() {
    let (n1, n2) = nodes();
    let mut s = storage();
    s.claims = Some(vec![pvc("data", "")]);
    s.classes = Some(vec![class(
        "local",
        "WaitForFirstConsumer",
        "allowedTopologies: [{matchLabelExpressions: [{key: topology.kubernetes.io/zone, values: [a]}]}]",
    )]);
    let spec = claim_spec(&["data"]);
    assert_eq!(
        outcomes(&spec, &n1, s.clone(), &[])["VolumeBinding"],
        Outcome::Pass
    );
    assert_eq!(
        reason(&outcomes(&spec, &n2, s, &[])["VolumeBinding"]),
        BIND_CONFLICT
    );
}

#[test]
fn a_claim_provisioned_for_another_node_rejects_this_one() {
    let (_, n2) = nodes();
    let mut s = storage();
    s.claims = Some(vec![pvc(
        "data",
        ", annotations: {volume.kubernetes.io/selected-node: n1}",
    )]);
    let o = outcomes(&claim_spec(&["data"]), &n2, s, &[]);
    assert_eq!(reason(&o["VolumeBinding"]), BIND_CONFLICT);
}

#[test]
fn capacity_tracking_drivers_are_not_checked() {
    let (n1, _) = nodes();
    let mut s = storage();
    s.claims = Some(vec![pvc("data", "")]);
    s.csi_drivers = Some(vec![yaml(
        "metadata: {name: csi.example.com}\nspec: {storageCapacity: true}",
    )]);
    let o = outcomes(&claim_spec(&["data"]), &n1, s, &[]);
    assert!(
        reason(&o["VolumeBinding"])
            .starts_with("not checked: CSI driver csi.example.com tracks storage capacity")
    );
}

#[test]
fn volume_zone_compares_pv_zone_labels_with_the_node() {
    // VolumeZone.Filter with getPVTopologies; `a__c` is two zones.
    let (n1, n2) = nodes();
    let mut s = storage();
    s.claims = Some(vec![bound_pvc("data", "pv1")]);
    let mut v = pv("pv1", ", labels: {topology.kubernetes.io/zone: a__c}");
    v.spec.as_mut().unwrap().node_affinity = None;
    s.volumes = Some(vec![v]);
    let spec = claim_spec(&["data"]);
    assert_eq!(
        outcomes(&spec, &n1, s.clone(), &[])["VolumeZone"],
        Outcome::Pass
    );
    assert_eq!(
        reason(&outcomes(&spec, &n2, s.clone(), &[])["VolumeZone"]),
        CONFLICT
    );
    // A node with no zone or region label accepts any volume.
    let bare = node("n3", &[("kubernetes.io/hostname", "n3")], &[]);
    assert_eq!(outcomes(&spec, &bare, s, &[])["VolumeZone"], Outcome::Pass);
}

fn csi_node(count: i32) -> k8s_openapi::api::storage::v1::CSINode {
    yaml(&format!(
        "metadata: {{name: n1}}\nspec: {{drivers: [{{name: csi.example.com, nodeID: n1, allocatable: {{count: {count}}}}}]}}"
    ))
}

fn user(name: &str, claim: &str) -> Pod {
    pod(&format!(
        "metadata: {{name: {name}, namespace: default}}\nspec:\n  nodeName: n1\n  containers: [{{name: c}}]\n  volumes: [{{name: v, persistentVolumeClaim: {{claimName: {claim}}}}}]"
    ))
}

#[test]
fn csinode_allocatable_count_limits_the_volumes_of_its_driver() {
    // CSILimits.Filter: one volume already attached by a pod, a limit of 1, the pod adds one.
    let (n1, _) = nodes();
    let mut s = storage();
    s.claims = Some(vec![bound_pvc("data", "pv1"), bound_pvc("other", "pv2")]);
    s.volumes = Some(vec![pv("pv1", ""), pv("pv2", "")]);
    s.csi_nodes = Some(vec![csi_node(1)]);
    let holder = user("holder", "other");
    let spec = claim_spec(&["data"]);
    let o = outcomes(&spec, &n1, s.clone(), &[&holder]);
    assert_eq!(reason(&o["NodeVolumeLimits"]), MAX_VOLUME_COUNT);
    // The same volume mounted again is not counted twice.
    let sharer = user("sharer", "data");
    let o = outcomes(&spec, &n1, s.clone(), &[&sharer]);
    assert_eq!(o["NodeVolumeLimits"], Outcome::Pass);
    s.csi_nodes = Some(vec![csi_node(2)]);
    let o = outcomes(&spec, &n1, s, &[&holder]);
    assert_eq!(o["NodeVolumeLimits"], Outcome::Pass);
}

#[test]
fn volume_attachments_count_toward_the_limit() {
    let (n1, _) = nodes();
    let mut s = storage();
    s.claims = Some(vec![bound_pvc("data", "pv1")]);
    s.volumes = Some(vec![pv("pv1", ""), pv("pv2", "")]);
    s.csi_nodes = Some(vec![csi_node(1)]);
    s.attachments = Some(vec![yaml(
        "metadata: {name: va}\nspec: {attacher: csi.example.com, nodeName: n1, source: {persistentVolumeName: pv2}}",
    )]);
    let o = outcomes(&claim_spec(&["data"]), &n1, s, &[]);
    assert_eq!(reason(&o["NodeVolumeLimits"]), MAX_VOLUME_COUNT);
}

#[test]
fn a_read_write_once_pod_claim_in_use_rejects_every_node() {
    // VolumeRestrictions.PreFilter: IsPVCUsedByPods counts scheduled pods cluster-wide.
    let (n1, n2) = nodes();
    let mut s = storage();
    let mut c = bound_pvc("data", "pv1");
    c.spec.as_mut().unwrap().access_modes = Some(vec!["ReadWriteOncePod".into()]);
    s.claims = Some(vec![c]);
    s.volumes = Some(vec![pv("pv1", "")]);
    let holder = user("holder", "data");
    let spec = claim_spec(&["data"]);
    assert_eq!(
        reason(&outcomes(&spec, &n2, s.clone(), &[&holder])["VolumeRestrictions"]),
        RWOP_CONFLICT
    );
    assert_eq!(
        reason(&outcomes(&spec, &n1, s.clone(), &[&holder])["VolumeRestrictions"]),
        RWOP_CONFLICT
    );
    // Unused, which daemon pod gets it depends on the binding order.
    assert!(
        reason(&outcomes(&spec, &n1, s, &[])["VolumeRestrictions"]).starts_with("not checked: ")
    );
}

/// A view of `nodes` with no pod on them and no storage object read.
fn without_pods<'a>(nodes: &'a [&'a Node]) -> ClusterView<'a> {
    ClusterView::new(nodes, &[], true, &crate::logic::scheduler::NOTHING_READ)
}
