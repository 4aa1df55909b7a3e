//! The stable reason codes every command and document uses: why a node runs no daemon pod, or
//! a broken one, or none by design. `explain` gives one per DaemonSet and node; coverage and
//! preview group the nodes a DaemonSet does not target by the same codes.

use serde::Serialize;

/// Stable reason codes, worst first. Documented in docs/commands.md (under `explain`).
///
/// Serialised as the variant's name, the string `as_str` gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Code {
    /// Should run, but the scheduler cannot fit the pod: cpu, memory, pods, extended resources.
    InsufficientResources,
    /// Should run, but the API server refuses the controller's pod (admission).
    CreateRefused,
    /// Should run, but what admission adds (a RuntimeClass nodeSelector) excludes the node, so
    /// the scheduler leaves the pod Pending.
    RuntimeClassMismatch,
    /// Should run, but a host port the pod needs is taken on the node.
    HostPortConflict,
    /// Should run, but the pod's (anti-)affinity, or an existing pod's anti-affinity, rejects it.
    PodAffinityConflict,
    /// Should run, but a DoNotSchedule topology spread constraint rejects the node.
    TopologySpreadConflict,
    /// Should run, but a volume filter (VolumeRestrictions, NodeVolumeLimits, VolumeBinding,
    /// VolumeZone) rejects the node.
    VolumeConflict,
    /// Should run, but DynamicResources cannot allocate the pod's devices on the node.
    DeviceUnavailable,
    /// A container cannot start: CrashLoopBackOff, ImagePullBackOff, ErrImagePull, ...
    ContainerWaiting,
    /// The pod ended (Failed) and waits for the controller to replace it.
    PodFailed,
    /// The pod is bound to a node that does not run pods (kubelet unreachable or NotReady).
    NodeDown,
    /// The pod is Pending (not yet scheduled, or scheduled to a node that does not start it).
    PodPending,
    /// The pod is bound and its containers are being created.
    ContainerCreating,
    /// Running, but not Ready.
    PodNotReady,
    /// The pod is being deleted.
    PodTerminating,
    /// Ready and up to date, but a NoExecute taint is tolerated for `tolerationSeconds` only:
    /// the taint-eviction controller evicts the pod and the DaemonSet controller creates it
    /// again, without end.
    EvictionLoop,
    /// Should run and would fit, but there is no pod yet.
    PodMissing,
    /// Ready, but on an old revision.
    OldRevision,
    /// A pod runs on a node that should not run it.
    Misscheduled,
    /// Not targeted: nodeSelector does not match (correct that there is no pod).
    NodeSelectorMismatch,
    /// Not targeted: required node affinity does not match.
    NodeAffinityMismatch,
    /// Not targeted: an untolerated NoSchedule/NoExecute taint.
    UntoleratedTaint,
    /// Not targeted: the template pins another node.
    NodeNameMismatch,
    /// Ready and up to date.
    Healthy,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::InsufficientResources => "InsufficientResources",
            Code::CreateRefused => "CreateRefused",
            Code::RuntimeClassMismatch => "RuntimeClassMismatch",
            Code::HostPortConflict => "HostPortConflict",
            Code::PodAffinityConflict => "PodAffinityConflict",
            Code::TopologySpreadConflict => "TopologySpreadConflict",
            Code::VolumeConflict => "VolumeConflict",
            Code::DeviceUnavailable => "DeviceUnavailable",
            Code::ContainerWaiting => "ContainerWaiting",
            Code::PodFailed => "PodFailed",
            Code::NodeDown => "NodeDown",
            Code::PodPending => "PodPending",
            Code::ContainerCreating => "ContainerCreating",
            Code::PodNotReady => "PodNotReady",
            Code::PodTerminating => "PodTerminating",
            Code::EvictionLoop => "EvictionLoop",
            Code::PodMissing => "PodMissing",
            Code::OldRevision => "OldRevision",
            Code::Misscheduled => "Misscheduled",
            Code::NodeSelectorMismatch => "NodeSelectorMismatch",
            Code::NodeAffinityMismatch => "NodeAffinityMismatch",
            Code::UntoleratedTaint => "UntoleratedTaint",
            Code::NodeNameMismatch => "NodeNameMismatch",
            Code::Healthy => "Healthy",
        }
    }

    /// True for codes that mean something is wrong (not "not targeted" or healthy).
    pub fn is_problem(self) -> bool {
        self <= Code::Misscheduled
    }
}

#[cfg(test)]
mod tests {
    use super::Code;

    /// The documents carry the codes as `as_str` spells them, whichever path wrote them.
    #[test]
    fn every_code_serialises_as_its_name() {
        for code in [
            Code::InsufficientResources,
            Code::CreateRefused,
            Code::RuntimeClassMismatch,
            Code::HostPortConflict,
            Code::PodAffinityConflict,
            Code::TopologySpreadConflict,
            Code::VolumeConflict,
            Code::DeviceUnavailable,
            Code::ContainerWaiting,
            Code::PodFailed,
            Code::NodeDown,
            Code::PodPending,
            Code::ContainerCreating,
            Code::PodNotReady,
            Code::PodTerminating,
            Code::EvictionLoop,
            Code::PodMissing,
            Code::OldRevision,
            Code::Misscheduled,
            Code::NodeSelectorMismatch,
            Code::NodeAffinityMismatch,
            Code::UntoleratedTaint,
            Code::NodeNameMismatch,
            Code::Healthy,
        ] {
            let json = serde_json::to_value(code).expect("a code serialises");
            assert_eq!(json, serde_json::Value::from(code.as_str()));
        }
    }
}
