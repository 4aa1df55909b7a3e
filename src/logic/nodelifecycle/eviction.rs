//! The taint-eviction controller (`pkg/controller/tainteviction/taint_eviction.go`): a pod on a
//! node with NoExecute taints is deleted once the shortest `tolerationSeconds` among the
//! tolerations it uses runs out. For daemon pods that matters because a template toleration
//! with seconds can match before the controller's own forever-tolerations (the pod's
//! tolerations are the template's first, then `AddOrUpdateDaemonPodTolerations`' defaults).

use k8s_openapi::api::core::v1::{Node, Taint, Toleration};
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;

use crate::logic::daemon::taints::{TaintRef, tolerates};

/// A pending eviction of a daemon pod by the taint-eviction controller.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Eviction {
    /// The NoExecute taint whose toleration runs out first.
    pub taint: TaintRef,
    pub toleration_seconds: i64,
    /// Seconds left, from when the controller started the pod's timer (0 when already due).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seconds_left: Option<i64>,
    /// The DaemonSet controller creates the pod again (it ignores tolerationSeconds), so the
    /// eviction repeats every time.
    pub recreated: bool,
}

impl Eviction {
    pub fn sentence(&self) -> String {
        let when = match self.seconds_left {
            Some(0) => "now".to_string(),
            Some(s) => format!("in {s}s"),
            None => format!("{}s after the taint came", self.toleration_seconds),
        };
        let then = if self.recreated {
            "; the DaemonSet controller creates it again, so the pod is evicted and recreated without end"
        } else {
            "; it is not recreated"
        };
        format!(
            "the taint-eviction controller evicts the pod {when}: taint {} is tolerated for {}s only (tolerationSeconds){then}",
            self.taint, self.toleration_seconds
        )
    }
}

/// `GetMatchingTolerations`: for every NoExecute taint the first toleration that tolerates it.
/// `None` when one is not tolerated at all (then the pod goes at once, and the DaemonSet
/// controller deletes it too).
fn used_tolerations<'a>(
    taints: &[&'a Taint],
    tolerations: &'a [Toleration],
) -> Option<Vec<(&'a Taint, &'a Toleration)>> {
    taints
        .iter()
        .map(|taint| {
            tolerations
                .iter()
                .find(|t| tolerates(t, taint))
                .map(|t| (*taint, t))
        })
        .collect()
}

/// `getMinTolerationTime` over the used tolerations (negative: forever), with the taint the
/// shortest one belongs to. The timer starts as `processPodOnNode` starts it: when the
/// controller first sees the pod on the tainted node, which is the taint's `timeAdded` for a
/// pod that was there before the taint, and the pod's creation (it is bound within moments)
/// for one the DaemonSet controller created after it. `pod_created` is that creation time.
pub fn pending(
    node: &Node,
    tolerations: &[Toleration],
    recreated: bool,
    pod_created: Option<Timestamp>,
    now: Timestamp,
) -> Option<Eviction> {
    let taints: Vec<&Taint> = node
        .spec
        .as_ref()?
        .taints
        .iter()
        .flatten()
        .filter(|t| t.effect == "NoExecute")
        .collect();
    let used = used_tolerations(&taints, tolerations)?;
    let (taint, seconds) = used
        .iter()
        .filter_map(|(taint, t)| t.toleration_seconds.map(|s| (*taint, s.max(0))))
        .min_by_key(|(_, s)| *s)?;
    // A taint written without `timeAdded` (only `kubectl taint` and the node-lifecycle
    // controller fill it in) leaves the pod's creation as the earliest start.
    let start = match (taint.time_added.as_ref().map(|t| t.0), pod_created) {
        (Some(added), Some(created)) => Some(added.max(created)),
        (added, created) => added.or(created),
    };
    let seconds_left = start.map(|s| (s.as_second() + seconds - now.as_second()).max(0));
    Some(Eviction {
        taint: TaintRef::from(taint),
        toleration_seconds: seconds,
        seconds_left,
        recreated,
    })
}

#[cfg(test)]
mod tests {
    use super::pending;
    use crate::logic::daemon::taints::daemon_pod_tolerations;
    use crate::logic::fixtures::node;
    use k8s_openapi::api::core::v1::{Node, PodSpec};
    use k8s_openapi::jiff::Timestamp;

    fn tainted(key: &str) -> Node {
        let mut n = node("n", &[], &[(key, "", "NoExecute")]);
        if let Some(t) = n.spec.as_mut().and_then(|s| s.taints.as_mut()) {
            t[0].time_added = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                "2026-01-01T00:00:00Z".parse().expect("time"),
            ));
        }
        n
    }

    fn spec(tolerations: &str) -> PodSpec {
        crate::yaml::from_str(&format!("containers: []\ntolerations: {tolerations}")).expect("spec")
    }

    #[test]
    fn taint_eviction_rows() {
        let now: Timestamp = "2026-01-01T00:01:40Z".parse().expect("time");
        // (branch, node taint, template tolerations, recreated, seconds left)
        let rows: &[(&str, &str, &str, bool, Option<i64>)] = &[
            (
                "GetMatchingTolerations takes the template's {Exists, NoExecute, 300s} before the default forever toleration",
                "node.kubernetes.io/unreachable",
                "[{operator: Exists, effect: NoExecute, tolerationSeconds: 300}]",
                false,
                Some(200),
            ),
            (
                "getMinTolerationTime: only the default forever toleration is used, no eviction",
                "node.kubernetes.io/unreachable",
                "[]",
                false,
                None,
            ),
            (
                "AddOrUpdateTolerationInPodSpec replaces a same-key toleration with seconds by the forever default",
                "node.kubernetes.io/unreachable",
                "[{key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 30}]",
                false,
                None,
            ),
            (
                "a custom NoExecute taint tolerated with seconds: evicted, and NodeShouldRunDaemonPod creates it again",
                "maintenance",
                "[{key: maintenance, operator: Exists, effect: NoExecute, tolerationSeconds: 60}]",
                true,
                Some(0),
            ),
            (
                "an untolerated NoExecute taint: not a timed eviction (the pod goes at once)",
                "maintenance",
                "[]",
                true,
                None,
            ),
        ];
        for (branch, key, tolerations, recreated, left) in rows {
            let t = daemon_pod_tolerations(&spec(tolerations));
            let e = pending(&tainted(key), &t, *recreated, None, now);
            assert_eq!(e.as_ref().and_then(|e| e.seconds_left), *left, "{branch}");
            if let Some(e) = e {
                assert_eq!(e.taint.key, *key, "{branch}");
                assert!(
                    e.sentence().contains("without end") == *recreated,
                    "{branch}: {}",
                    e.sentence()
                );
            }
        }
    }
    #[test]
    fn a_recreated_pod_starts_its_own_timer() {
        let now: Timestamp = "2026-01-01T00:01:40Z".parse().expect("time");
        let t = daemon_pod_tolerations(&spec(
            "[{key: maintenance, operator: Exists, effect: NoExecute, tolerationSeconds: 60}]",
        ));
        // processPodOnNode: the pod was created 20 s ago, long after the taint came.
        let created: Timestamp = "2026-01-01T00:01:20Z".parse().expect("time");
        let e = pending(&tainted("maintenance"), &t, true, Some(created), now);
        assert_eq!(e.and_then(|e| e.seconds_left), Some(40));
        // A pod older than the taint: the timer started with the taint.
        let older: Timestamp = "2025-12-31T00:00:00Z".parse().expect("time");
        let e = pending(&tainted("maintenance"), &t, true, Some(older), now);
        assert_eq!(e.and_then(|e| e.seconds_left), Some(0));
    }
}
