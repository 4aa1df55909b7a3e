//! Whether a node should run a DaemonSet's pod: `NodeShouldRunDaemonPod` in
//! `pkg/controller/daemon/daemon_controller.go`, with the reason when it should not.
//! Resources and host ports are not part of this decision upstream; they belong to the scheduler.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, PodSpec, Toleration};
use serde::Serialize;

use crate::logic::reason::Code;

use super::node_affinity::{self, AffinityMismatch};
use super::taints::{self, TaintRef};

/// Why the controller does not place a pod on a node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "reason")]
pub enum Exclusion {
    /// The template pins `spec.nodeName` to another node.
    NodeName { wanted: String },
    /// `nodeSelector` or required node affinity does not match the node's labels.
    Affinity { mismatch: AffinityMismatch },
    /// An untolerated NoSchedule or NoExecute taint.
    Taint { taint: TaintRef },
}

impl Exclusion {
    /// Stable machine-readable reason code.
    pub fn code(&self) -> Code {
        match self {
            Exclusion::NodeName { .. } => Code::NodeNameMismatch,
            Exclusion::Affinity {
                mismatch: AffinityMismatch::NodeSelector { .. },
            } => Code::NodeSelectorMismatch,
            Exclusion::Affinity {
                mismatch: AffinityMismatch::NodeAffinity { .. },
            } => Code::NodeAffinityMismatch,
            Exclusion::Taint { .. } => Code::UntoleratedTaint,
        }
    }

    /// A short phrase that groups nodes excluded for the same cause, e.g.
    /// `taint dedicated=gpu:NoSchedule` or `selector disktype=ssd`.
    pub fn group(&self) -> String {
        match self {
            Exclusion::NodeName { wanted } => format!("template nodeName {wanted}"),
            Exclusion::Affinity {
                mismatch: AffinityMismatch::NodeSelector { key, wanted, .. },
            } => format!("selector {key}={wanted}"),
            Exclusion::Affinity {
                mismatch: AffinityMismatch::NodeAffinity { terms },
            } => {
                let exprs: Vec<&str> = terms.iter().map(|t| t.expression.as_str()).collect();
                if exprs.is_empty() {
                    "affinity: no usable term".to_string()
                } else {
                    format!("affinity {}", exprs.join(" | "))
                }
            }
            Exclusion::Taint { taint } => format!("taint {taint}"),
        }
    }

    /// One sentence for a person, with the evidence.
    pub fn sentence(&self) -> String {
        match self {
            Exclusion::NodeName { wanted } => {
                format!("the pod template pins spec.nodeName to {wanted}")
            }
            Exclusion::Affinity {
                mismatch:
                    AffinityMismatch::NodeSelector {
                        key,
                        wanted,
                        actual,
                    },
            } => match actual {
                Some(a) => format!("nodeSelector needs {key}={wanted}, node has {key}={a}"),
                None => format!("nodeSelector needs {key}={wanted}, node has no {key} label"),
            },
            Exclusion::Affinity {
                mismatch: AffinityMismatch::NodeAffinity { terms },
            } => {
                if terms.is_empty() {
                    return "required node affinity has no term with expressions or fields, so it matches no node".to_string();
                }
                let parts: Vec<String> = terms
                    .iter()
                    .map(|t| match (&t.invalid, &t.actual) {
                        (Some(why), _) => {
                            format!("term {}: {} is invalid ({why})", t.term, t.expression)
                        }
                        (None, Some(a)) => {
                            format!("term {}: {} failed (node has {a:?})", t.term, t.expression)
                        }
                        (None, None) => {
                            format!("term {}: {} failed (label absent)", t.term, t.expression)
                        }
                    })
                    .collect();
                format!(
                    "required node affinity does not match: {}",
                    parts.join("; ")
                )
            }
            Exclusion::Taint { taint } => format!(
                "taint {taint} is not tolerated; adding the toleration {} would allow it",
                taint.fixing_toleration()
            ),
        }
    }
}

/// The controller's two answers for one node, plus why not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placement {
    /// A pod should be created here (counts in desiredNumberScheduled).
    pub should_run: bool,
    /// A pod already here may stay (false only for selector/affinity/nodeName misses and
    /// untolerated NoExecute taints).
    pub should_continue: bool,
    pub exclusion: Option<Exclusion>,
}

/// Precomputed per-DaemonSet inputs, so evaluating thousands of nodes does not redo them.
pub struct DaemonPlacement<'a> {
    spec: &'a PodSpec,
    tolerations: Vec<Toleration>,
}

impl<'a> DaemonPlacement<'a> {
    pub fn new(ds: &'a DaemonSet) -> Option<Self> {
        let spec = crate::logic::apimachinery::compat::daemonset_spec(ds)?
            .template
            .spec
            .as_ref()?;
        Some(Self::for_pod_spec(spec))
    }

    pub fn for_pod_spec(spec: &'a PodSpec) -> Self {
        DaemonPlacement {
            spec,
            tolerations: taints::daemon_pod_tolerations(spec),
        }
    }

    /// The template's pod spec.
    pub fn pod_spec(&self) -> &'a PodSpec {
        self.spec
    }

    /// The tolerations every daemon pod gets (template plus controller defaults).
    pub fn tolerations(&self) -> &[Toleration] {
        &self.tolerations
    }

    pub fn evaluate(&self, node: &Node) -> Placement {
        let name = node.metadata.name.as_deref().unwrap_or("");
        if let Some(wanted) = self
            .spec
            .node_name
            .as_deref()
            .filter(|n| !n.is_empty() && *n != name)
        {
            return Placement {
                should_run: false,
                should_continue: false,
                exclusion: Some(Exclusion::NodeName {
                    wanted: wanted.to_string(),
                }),
            };
        }
        // Parse errors count as a mismatch ("Ignore parsing errors for backwards compatibility").
        if let Err(mismatch) = node_affinity::check(
            self.spec.node_selector.as_ref(),
            self.spec.affinity.as_ref(),
            node,
        ) {
            return Placement {
                should_run: false,
                should_continue: false,
                exclusion: Some(Exclusion::Affinity { mismatch }),
            };
        }
        let node_taints = node
            .spec
            .as_ref()
            .and_then(|s| s.taints.as_deref())
            .unwrap_or(&[]);
        if let Some(taint) = taints::first_untolerated(node_taints, &self.tolerations) {
            let no_execute = taints::first_untolerated_no_execute(node_taints, &self.tolerations);
            // Report the NoExecute taint when there is one: it is the stronger reason.
            let shown = no_execute.unwrap_or(taint);
            return Placement {
                should_run: false,
                should_continue: no_execute.is_none(),
                exclusion: Some(Exclusion::Taint {
                    taint: TaintRef::from(shown),
                }),
            };
        }
        Placement {
            should_run: true,
            should_continue: true,
            exclusion: None,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExclusionGroup {
    /// NodeNameMismatch, NodeSelectorMismatch, NodeAffinityMismatch or UntoleratedTaint.
    pub code: Code,
    /// e.g. `taint dedicated=gpu:NoSchedule`.
    pub reason: String,
    pub count: usize,
    pub nodes: Vec<String>,
}

/// Excluded nodes grouped by cause, most nodes first.
#[derive(Default)]
pub struct Exclusions {
    groups: BTreeMap<String, (Code, Vec<String>)>,
    /// The last exclusion added and its group: nodes come in runs excluded for the same
    /// cause, and phrasing the group anew for each of thousands of nodes is most of the cost.
    last: Option<(Exclusion, String)>,
}

impl Exclusions {
    pub fn add(&mut self, exclusion: &Exclusion, node: &str) {
        let group = match self.last.take() {
            Some((last, group)) if last == *exclusion => (last, group),
            _ => (exclusion.clone(), exclusion.group()),
        };
        let entry = match self.groups.get_mut(&group.1) {
            Some(entry) => entry,
            None => self
                .groups
                .entry(group.1.clone())
                .or_insert_with(|| (exclusion.code(), Vec::new())),
        };
        entry.1.push(node.to_string());
        self.last = Some(group);
    }

    pub fn into_groups(self) -> Vec<ExclusionGroup> {
        let mut groups: Vec<ExclusionGroup> = self
            .groups
            .into_iter()
            .map(|(reason, (code, nodes))| ExclusionGroup {
                code,
                reason,
                count: nodes.len(),
                nodes,
            })
            .collect();
        groups.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.reason.cmp(&b.reason)));
        groups
    }
}
