//! Taints against tolerations, as the DaemonSet controller and kube-scheduler's TaintToleration
//! filter see them (`Toleration.ToleratesTaint`, `v1helper.FindMatchingUntoleratedTaint`), and
//! the tolerations the controller adds to every daemon pod
//! (`util.AddOrUpdateDaemonPodTolerations` in `pkg/controller/daemon/util/daemonset_util.go`).

use std::fmt;

use k8s_openapi::api::core::v1::{PodSpec, Taint, Toleration};
use serde::Serialize;

pub const NOT_READY: &str = "node.kubernetes.io/not-ready";
pub const UNREACHABLE: &str = "node.kubernetes.io/unreachable";
pub const DISK_PRESSURE: &str = "node.kubernetes.io/disk-pressure";
pub const MEMORY_PRESSURE: &str = "node.kubernetes.io/memory-pressure";
pub const PID_PRESSURE: &str = "node.kubernetes.io/pid-pressure";
pub const UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";
pub const NETWORK_UNAVAILABLE: &str = "node.kubernetes.io/network-unavailable";

/// A taint as the reports name it: `key=value:Effect` (`key:Effect` when the value is empty).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaintRef {
    pub key: String,
    pub value: String,
    pub effect: String,
}

impl From<&Taint> for TaintRef {
    fn from(t: &Taint) -> Self {
        TaintRef {
            key: t.key.clone(),
            value: t.value.clone().unwrap_or_default(),
            effect: t.effect.clone(),
        }
    }
}

impl fmt::Display for TaintRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.value.is_empty() {
            write!(f, "{}:{}", self.key, self.effect)
        } else {
            write!(f, "{}={}:{}", self.key, self.value, self.effect)
        }
    }
}

impl TaintRef {
    /// The toleration a user would add to the template to tolerate this taint.
    pub fn fixing_toleration(&self) -> String {
        if self.value.is_empty() {
            format!(
                "{{key: {}, operator: Exists, effect: {}}}",
                self.key, self.effect
            )
        } else {
            format!(
                "{{key: {}, operator: Equal, value: {}, effect: {}}}",
                self.key, self.value, self.effect
            )
        }
    }
}

/// `Toleration.ToleratesTaint` with the TaintTolerationComparisonOperators gate off (its
/// default through 1.37): `Lt`/`Gt` tolerate nothing.
pub fn tolerates(t: &Toleration, taint: &Taint) -> bool {
    if t.effect
        .as_deref()
        .is_some_and(|e| !e.is_empty() && e != taint.effect)
    {
        return false;
    }
    if t.key
        .as_deref()
        .is_some_and(|k| !k.is_empty() && k != taint.key)
    {
        return false;
    }
    match t.operator.as_deref().unwrap_or("") {
        "" | "Equal" => t.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or(""),
        "Exists" => true,
        _ => false,
    }
}

/// The tolerations of a daemon pod: the template's plus the controller's defaults.
pub fn daemon_pod_tolerations(spec: &PodSpec) -> Vec<Toleration> {
    let mut out = spec.tolerations.clone().unwrap_or_default();
    let exists = |key: &str, effect: &str| Toleration {
        key: Some(key.to_string()),
        operator: Some("Exists".to_string()),
        effect: Some(effect.to_string()),
        ..Default::default()
    };
    let mut defaults = vec![
        exists(NOT_READY, "NoExecute"),
        exists(UNREACHABLE, "NoExecute"),
        exists(DISK_PRESSURE, "NoSchedule"),
        exists(MEMORY_PRESSURE, "NoSchedule"),
        exists(PID_PRESSURE, "NoSchedule"),
        exists(UNSCHEDULABLE, "NoSchedule"),
    ];
    if spec.host_network == Some(true) {
        defaults.push(exists(NETWORK_UNAVAILABLE, "NoSchedule"));
    }
    // `AddOrUpdateTolerationInPodSpec`: a toleration with the same key/operator/value/effect is
    // replaced (dropping its tolerationSeconds); others are kept alongside.
    for d in defaults {
        let same = |t: &Toleration| {
            t.key == d.key && t.operator == d.operator && t.value == d.value && t.effect == d.effect
        };
        match out.iter_mut().find(|t| same(t)) {
            Some(t) => *t = d,
            None => out.push(d),
        }
    }
    out
}

/// The first NoSchedule/NoExecute taint no toleration tolerates, in the node's taint order.
pub fn first_untolerated<'a>(taints: &'a [Taint], tolerations: &[Toleration]) -> Option<&'a Taint> {
    taints.iter().find(|taint| {
        (taint.effect == "NoSchedule" || taint.effect == "NoExecute")
            && !tolerations.iter().any(|t| tolerates(t, taint))
    })
}

/// The first untolerated NoExecute taint: such a taint also removes pods that already run.
pub fn first_untolerated_no_execute<'a>(
    taints: &'a [Taint],
    tolerations: &[Toleration],
) -> Option<&'a Taint> {
    taints.iter().find(|taint| {
        taint.effect == "NoExecute" && !tolerations.iter().any(|t| tolerates(t, taint))
    })
}
