//! What a node gets from the DaemonSets when it joins: which daemon pods the controller creates
//! for it (`NodeShouldRunDaemonPod`), what each requests once admitted, and which of them the
//! scheduler can then bind there (`fitsRequest`) while the node runs nothing else yet.
//! `overhead` evaluates every node this way; `preview --node` one node that does not exist.

use std::borrow::Cow;
use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, PodSpec};
use serde::Serialize;

use crate::logic::admission;
use crate::logic::apimachinery::quantity;
use crate::logic::daemon::placement::{DaemonPlacement, Exclusion};
use crate::logic::daemon::taints;
use crate::logic::scheduler::nodeports::{HostPort, PortConflict};
use crate::logic::scheduler::noderesources::{Insufficient, Resources};
use crate::logic::scheduler::{nodeports, noderesources};

/// The cluster objects the API server's admission reads (LimitRanges, RuntimeClasses,
/// PriorityClasses, ...): see [`crate::logic::admission::Objects`].
pub type AdmissionFacts = admission::Objects;

/// A daemon pod of a DaemonSet as the API server admits it.
pub struct Admitted {
    pub spec: PodSpec,
    /// The API server would refuse to create it: its message.
    pub refusal: Option<String>,
    /// What LimitRanger changed: requests the template does not state.
    pub limit_range: Vec<String>,
}

/// The pod the controller creates for `ds` ([`admission::daemon_pod`]) through defaulting and
/// the default admission chain ([`admission::admit`]): requests from limits, LimitRange
/// defaults, RuntimeClass overhead, priority.
pub fn admitted(ds: &DaemonSet, facts: &AdmissionFacts) -> Option<Admitted> {
    // The node only pins the pod's affinity, which decides nothing here.
    let result = admission::admit(admission::daemon_pod(ds, "", None)?, facts);
    Some(Admitted {
        limit_range: result
            .changes
            .iter()
            .filter(|c| c.rule == "LimitRanger")
            .map(|c| c.change.clone())
            .collect(),
        refusal: result.refusal.map(|r| r.message),
        spec: result.pod.spec?,
    })
}

/// One DaemonSet, prepared once for evaluating many nodes.
pub struct Daemon<'a> {
    pub ds: &'a DaemonSet,
    pub namespace: String,
    pub name: String,
    pub uid: String,
    placement: DaemonPlacement<'a>,
    /// Requests of one admitted pod (`resource.PodRequests`), pods excluded.
    pub request: Resources,
    pub priority: i32,
    pub priority_class: Option<String>,
    /// Host ports of one pod (`util.GetHostPorts`).
    pub ports: Vec<HostPort>,
    /// Why the API server refuses its pods, if it does.
    pub refusal: Option<String>,
    /// Requests LimitRange defaults add to what the template says.
    pub limit_range: Vec<String>,
}

impl<'a> Daemon<'a> {
    /// `None` for a DaemonSet without a pod template spec.
    pub fn new(ds: &'a DaemonSet, facts: &AdmissionFacts) -> Option<Self> {
        let Admitted {
            spec: admitted,
            refusal,
            limit_range,
        } = admitted(ds, facts)?;
        Some(Daemon {
            ds,
            namespace: ds.metadata.namespace.clone().unwrap_or_default(),
            name: ds.metadata.name.clone().unwrap_or_default(),
            uid: ds.metadata.uid.clone().unwrap_or_default(),
            placement: DaemonPlacement::new(ds)?,
            request: noderesources::pod_requests(&admitted),
            ports: nodeports::host_ports(&admitted),
            refusal,
            limit_range,
            priority: admitted.priority.unwrap_or(0),
            priority_class: admitted.priority_class_name.filter(|c| !c.is_empty()),
        })
    }

    pub fn id(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// No cpu and no memory request: invisible to anyone sizing nodes from requests.
    pub fn requests_nothing(&self) -> bool {
        !self.request.contains_key("cpu") && !self.request.contains_key("memory")
    }

    /// The request with the pod slot it takes, for summing.
    pub fn request_with_slot(&self) -> Resources {
        let mut r = self.request.clone();
        r.insert("pods".into(), 1000);
        r
    }
}

/// What happens to one DaemonSet on a fresh node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all_fields = "camelCase")]
pub enum Verdict {
    /// The controller creates a pod and the scheduler binds it.
    Lands,
    /// The controller creates no pod for the node.
    NotTargeted { exclusion: Exclusion },
    /// The controller tries, and the API server refuses the pod.
    Refused { message: String },
    /// The pod is created but stays Pending.
    Pending {
        insufficient: Vec<Insufficient>,
        /// Host ports another daemon pod on the node holds (NodePorts).
        port_conflicts: Vec<PortConflict>,
        /// It would fit alone: the daemon pods of higher priority (or, with `contended`, of
        /// equal priority) take the room first.
        fits_alone: bool,
        /// A pod of equal priority took the room; which of them lands depends on which the
        /// scheduler takes first.
        contended: bool,
    },
}

impl Verdict {
    pub fn lands(&self) -> bool {
        matches!(self, Verdict::Lands)
    }

    pub fn code(&self) -> &'static str {
        match self {
            Verdict::Lands => "Lands",
            Verdict::NotTargeted { .. } => "NotTargeted",
            Verdict::Refused { .. } => "Refused",
            Verdict::Pending { .. } => "Pending",
        }
    }

    /// One sentence on why the pod does not land, or `None` when it does.
    pub fn sentence(&self) -> Option<String> {
        match self {
            Verdict::Lands => None,
            Verdict::NotTargeted { exclusion } => Some(exclusion.sentence()),
            Verdict::Refused { message } => {
                Some(format!("the API server refuses its pod: {message}"))
            }
            Verdict::Pending {
                insufficient,
                port_conflicts,
                fits_alone,
                contended,
            } => {
                let mut what: Vec<String> = insufficient
                    .iter()
                    .map(|i| {
                        format!(
                            "{} (requests {}, {} of {} taken)",
                            i.reason, i.requested, i.used, i.allocatable
                        )
                    })
                    .collect();
                what.extend(
                    port_conflicts
                        .iter()
                        .map(|c| format!("host port {} is held by {}", c.wanted, c.pod)),
                );
                let why = if *contended {
                    "; it fits alone, so it may land instead of a DaemonSet of equal priority"
                } else if *fits_alone {
                    "; DaemonSets of higher priority take the room first"
                } else {
                    ""
                };
                Some(format!("{}{why}", what.join(", ")))
            }
        }
    }
}

/// Taints a node has only while it is unhealthy or cordoned; a node that joins does not.
const CONDITION_TAINTS: [&str; 7] = [
    taints::NOT_READY,
    taints::UNREACHABLE,
    taints::DISK_PRESSURE,
    taints::MEMORY_PRESSURE,
    taints::PID_PRESSURE,
    taints::UNSCHEDULABLE,
    taints::NETWORK_UNAVAILABLE,
];

/// The node as it is when it has just joined, healthy: without the taints the node lifecycle
/// controller adds for its conditions (`TaintNodesByCondition`) and without a cordon. A node
/// that is NotReady or drained for the moment still stands for its kind.
pub fn as_joined(node: &Node) -> Cow<'_, Node> {
    let spec = node.spec.as_ref();
    let conditional = spec
        .and_then(|s| s.taints.as_deref())
        .unwrap_or(&[])
        .iter()
        .any(|t| CONDITION_TAINTS.contains(&t.key.as_str()));
    let cordoned = spec.and_then(|s| s.unschedulable).unwrap_or(false);
    if !conditional && !cordoned {
        return Cow::Borrowed(node);
    }
    let mut node = node.clone();
    if let Some(spec) = node.spec.as_mut() {
        spec.unschedulable = None;
        if let Some(list) = spec.taints.as_mut() {
            list.retain(|t| !CONDITION_TAINTS.contains(&t.key.as_str()));
        }
    }
    Cow::Owned(node)
}

/// The order the scheduler ends in: higher priority first (it is dequeued first, and
/// preempts lower-priority daemon pods that got there before it), then by name.
fn queue_order(daemons: &[Daemon<'_>]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..daemons.len()).collect();
    order.sort_by(|&a, &b| {
        let (da, db) = (&daemons[a], &daemons[b]);
        db.priority
            .cmp(&da.priority)
            .then_with(|| (&da.namespace, &da.name).cmp(&(&db.namespace, &db.name)))
    });
    order
}

/// The verdict of every DaemonSet (in `daemons`' order) on `node` as if it ran nothing yet:
/// its daemon pods taken in queue order, each checked by `fitsRequest` and NodePorts against
/// those already bound.
pub fn evaluate(node: &Node, daemons: &[Daemon<'_>]) -> Vec<Verdict> {
    let alloc = noderesources::allocatable(node);
    let mut verdicts = vec![Verdict::Lands; daemons.len()];
    let mut used = Resources::new();
    let mut placed: Vec<usize> = Vec::new();
    for i in queue_order(daemons) {
        let d = &daemons[i];
        let p = d.placement.evaluate(node);
        if let (false, Some(exclusion)) = (p.should_run, p.exclusion) {
            verdicts[i] = Verdict::NotTargeted { exclusion };
            continue;
        }
        if let Some(message) = &d.refusal {
            verdicts[i] = Verdict::Refused {
                message: message.clone(),
            };
            continue;
        }
        let short = noderesources::shortfalls(&d.request, &alloc, &used, placed.len());
        let ports = held_ports(d, placed.iter().map(|&j| &daemons[j]));
        if short.is_empty() && ports.is_empty() {
            for (k, v) in &d.request {
                *used.entry(k.clone()).or_default() += v;
            }
            placed.push(i);
            continue;
        }
        let fits_alone =
            noderesources::shortfalls(&d.request, &alloc, &Resources::new(), 0).is_empty();
        verdicts[i] = Verdict::Pending {
            insufficient: short,
            port_conflicts: ports,
            fits_alone,
            contended: fits_alone && placed.iter().any(|&j| daemons[j].priority == d.priority),
        };
    }
    verdicts
}

/// The host ports `d` wants that daemon pods already bound hold.
fn held_ports<'d>(
    d: &Daemon<'_>,
    placed: impl Iterator<Item = &'d Daemon<'d>>,
) -> Vec<PortConflict> {
    let mut out = Vec::new();
    for other in placed {
        for held in &other.ports {
            for wanted in d.ports.iter().filter(|w| nodeports::ports_clash(w, held)) {
                out.push(PortConflict {
                    wanted: wanted.clone(),
                    held: held.clone(),
                    pod: format!("DaemonSet {}", other.id()),
                });
            }
        }
    }
    out
}

/// Resources for people: `cpu 100m, memory 128Mi`.
pub fn shown(r: &Resources) -> BTreeMap<String, String> {
    r.iter()
        .map(|(k, v)| (k.clone(), quantity::exact(k, *v)))
        .collect()
}
