//! The DaemonSet controller's own account of pods it could not create: `FailedCreate` events
//! (`RealPodControl.createPods` records `Error creating: <API error>` on the DaemonSet) and
//! `FailedDaemonPod` events (`podsShouldBeOnNode`: a failed pod it deletes and recreates).
//! For an existing DaemonSet these are the truth about admission, whatever a model predicts.

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::{Event, Pod};
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;

use super::pods;

/// One kind of refusal the controller keeps hitting for one DaemonSet.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateFailure {
    pub namespace: String,
    pub daemon_set: String,
    /// `FailedCreate` or `FailedDaemonPod`.
    pub reason: String,
    /// The API server's refusal (after `Error creating: `), or the failed-pod message.
    pub message: String,
    /// How often the event was recorded.
    pub count: i32,
    /// When it was last recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<Timestamp>,
    /// For `FailedDaemonPod`: the node of the failed pod.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// How long ago it was last recorded (`2m`), once [`Self::aged`] has seen the clock.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age: Option<String>,
}

impl CreateFailure {
    /// With `age` filled in for the report.
    pub fn aged(mut self, now: Timestamp) -> Self {
        self.age = self.last_seen.map(|t| age(t, now));
        self
    }

    /// `FailedCreate, 14 times, last 2m ago`, from `age` (for renderers, which have no clock).
    pub fn shown(&self) -> String {
        let times = if self.count == 1 {
            "once".to_string()
        } else {
            format!("{} times", self.count)
        };
        match &self.age {
            Some(a) => format!("{}, {times}, last {a} ago", self.reason),
            None => format!("{}, {times}", self.reason),
        }
    }

    /// `FailedCreate, 14 times, last 2m ago`.
    pub fn evidence(&self, now: Timestamp) -> String {
        let times = if self.count == 1 {
            "once".to_string()
        } else {
            format!("{} times", self.count)
        };
        match self.last_seen {
            Some(t) => format!("{}, {times}, last {} ago", self.reason, age(t, now)),
            None => format!("{}, {times}", self.reason),
        }
    }
}

/// A short age like kubectl's: `45s`, `12m`, `3h`, `2d`.
pub fn age(then: Timestamp, now: Timestamp) -> String {
    let secs = now.duration_since(then).as_secs().max(0);
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

fn last_seen(e: &Event) -> Option<Timestamp> {
    e.series
        .as_ref()
        .and_then(|s| s.last_observed_time.as_ref())
        .map(|t| t.0)
        .or(e.last_timestamp.as_ref().map(|t| t.0))
        .or(e.event_time.as_ref().map(|t| t.0))
        .or(e.first_timestamp.as_ref().map(|t| t.0))
        .or(e.metadata.creation_timestamp.as_ref().map(|t| t.0))
}

/// `Found failed daemon pod <ns>/<name> on node <node>, will try to kill it`.
fn failed_pod_node(message: &str) -> Option<String> {
    let (_, rest) = message.split_once(" on node ")?;
    Some(rest.split(',').next()?.trim().to_string())
}

/// The FailedCreate and FailedDaemonPod events on DaemonSets, newest first.
pub fn from_events(events: &[Event]) -> Vec<CreateFailure> {
    let mut out: Vec<CreateFailure> = events
        .iter()
        .filter(|e| e.involved_object.kind.as_deref() == Some("DaemonSet"))
        .filter_map(|e| {
            let reason = e.reason.clone()?;
            if reason != "FailedCreate" && reason != "FailedDaemonPod" {
                return None;
            }
            let raw = e.message.clone().unwrap_or_default();
            let message = raw
                .strip_prefix("Error creating: ")
                .unwrap_or(&raw)
                .to_string();
            Some(CreateFailure {
                namespace: e.involved_object.namespace.clone().unwrap_or_default(),
                daemon_set: e.involved_object.name.clone().unwrap_or_default(),
                node: (reason == "FailedDaemonPod")
                    .then(|| failed_pod_node(&message))
                    .flatten(),
                reason,
                message,
                count: e
                    .count
                    .or(e.series.as_ref().and_then(|s| s.count))
                    .unwrap_or(1),
                last_seen: last_seen(e),
                age: None,
            })
        })
        .collect();
    out.sort_by_key(|f| std::cmp::Reverse(f.last_seen));
    out
}

fn is_of(f: &CreateFailure, ds: &DaemonSet) -> bool {
    Some(f.namespace.as_str()) == ds.metadata.namespace.as_deref()
        && Some(f.daemon_set.as_str()) == ds.metadata.name.as_deref()
}

/// The refusal that still holds for `ds`: its newest FailedCreate, unless a pod of the
/// DaemonSet was created after it (creates succeed again). `ds_pods` are the DaemonSet's pods,
/// gone over only when there is a FailedCreate: most DaemonSets have none, and finding a
/// DaemonSet's pods among every pod of a big cluster costs more than the rest of its coverage.
pub fn current<'a, 'p>(
    ds: &DaemonSet,
    failures: &'a [CreateFailure],
    ds_pods: impl IntoIterator<Item = &'p Pod>,
) -> Option<&'a CreateFailure> {
    let f = failures
        .iter()
        .find(|f| f.reason == "FailedCreate" && is_of(f, ds))?;
    let newest_pod = ds_pods
        .into_iter()
        .filter_map(|p| p.metadata.creation_timestamp.as_ref().map(|t| t.0))
        .max();
    match (f.last_seen, newest_pod) {
        // Timestamps have whole seconds: a pod created in the second of the last failure
        // was created after it (the controller retries only later).
        (Some(failed), Some(created)) if created >= failed => None,
        _ => Some(f),
    }
}

/// How long the controller's failed-pod back-off remembers a node: kube-controller-manager
/// builds it as `flowcontrol.NewBackOff(1s, 15m)`, and an entry is reset (`hasExpired`, also
/// its once-a-minute `GC`) only after twice the maximum, 30 minutes, without a failure.
const BACKOFF_MEMORY_SECS: i64 = 2 * 15 * 60;

/// The failed pods of `ds` on `node` that the controller's back-off (`dsc.failedPodsBackoff`
/// in `podsShouldBeOnNode`) still counts in a row: its FailedDaemonPod events (one per failed
/// pod it deletes, each doubling the next delay), newest first, as long as each is within the
/// back-off's memory of the one after it and of `now`, and not older than the current
/// revision (`revisions`' newest owned one). The newest event is returned with `count` the
/// sum; `None` without one.
pub fn failed_pod_on(
    ds: &DaemonSet,
    failures: &[CreateFailure],
    node: &str,
    revisions: &[ControllerRevision],
    now: Timestamp,
) -> Option<CreateFailure> {
    let since = super::revisions::owned(ds, revisions)
        .last()
        .and_then(|r| r.metadata.creation_timestamp.as_ref())
        .map(|t| t.0);
    let mut chain = failures
        .iter()
        .filter(|f| {
            f.reason == "FailedDaemonPod" && is_of(f, ds) && f.node.as_deref() == Some(node)
        })
        .filter(|f| match (since, f.last_seen) {
            (Some(since), Some(seen)) => seen >= since,
            _ => true,
        });
    let newest = chain.next()?.clone();
    let mut later = newest.last_seen.unwrap_or(now);
    if now.as_second() - later.as_second() > BACKOFF_MEMORY_SECS {
        return None;
    }
    let mut sum = newest.count;
    for f in chain {
        let seen = f.last_seen.unwrap_or(later);
        if later.as_second() - seen.as_second() > BACKOFF_MEMORY_SECS {
            break;
        }
        sum += f.count;
        later = seen;
    }
    Some(CreateFailure {
        count: sum,
        ..newest
    })
}

/// How many Failed pods of the DaemonSet in a row the node has seen: the ones the
/// controller deleted (`failed_pod_on`), and a Failed pod there now that no event names yet.
pub fn failed_in_a_row(chain: Option<&CreateFailure>, on_node: &[&Pod]) -> usize {
    let deleted = chain.map_or(0, |f| usize::try_from(f.count).unwrap_or(0));
    let named =
        |p: &Pod| chain.is_some_and(|f| f.message.contains(&format!("/{} on node", pods::name(p))));
    let current = on_node
        .iter()
        .filter(|p| pods::phase(p) == "Failed" && !pods::is_terminating(p) && !named(p))
        .count();
    deleted + current
}

/// All pods owned by `ds` (any node), for [`current`].
pub fn owned_pods<'a, P: std::borrow::Borrow<Pod>>(ds: &DaemonSet, all: &'a [P]) -> Vec<&'a Pod> {
    owned_by(ds, all).collect()
}

/// [`owned_pods`], found as they are read.
pub fn owned_by<'a, P: std::borrow::Borrow<Pod>>(
    ds: &DaemonSet,
    all: &'a [P],
) -> impl Iterator<Item = &'a Pod> {
    let uid = ds.metadata.uid.as_deref().unwrap_or("");
    all.iter()
        .map(|p| p.borrow())
        .filter(move |p| pods::is_controlled_by(p, uid))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(reason: &str, message: &str, count: i32, last: &str) -> Event {
        crate::yaml::from_str(&format!(
            "metadata: {{name: e, namespace: logging}}\ninvolvedObject: {{kind: DaemonSet, namespace: logging, name: fluent-bit}}\nreason: {reason}\nmessage: {message:?}\ncount: {count}\nlastTimestamp: {last:?}"
        ))
        .expect("event")
    }

    #[test]
    fn failed_creates_keep_the_api_message_count_and_age() {
        let events = [event(
            "FailedCreate",
            "Error creating: pods \"fluent-bit-\" is forbidden: error looking up service account logging/fluent-bit: serviceaccount \"fluent-bit\" not found",
            14,
            "2026-01-01T10:00:00Z",
        )];
        let f = from_events(&events);
        assert_eq!(f.len(), 1);
        assert!(
            f[0].message
                .starts_with("pods \"fluent-bit-\" is forbidden")
        );
        let now: Timestamp = "2026-01-01T10:02:30Z".parse().unwrap();
        assert_eq!(f[0].evidence(now), "FailedCreate, 14 times, last 2m ago");
    }

    #[test]
    fn a_pod_created_after_the_failure_means_creates_succeed_again() {
        let ds: DaemonSet = crate::yaml::from_str(
            "metadata: {name: fluent-bit, namespace: logging, uid: u}\nspec: {selector: {}, template: {}}",
        )
        .unwrap();
        let f = from_events(&[event(
            "FailedCreate",
            "Error creating: x",
            3,
            "2026-01-01T10:00:00Z",
        )]);
        let old: Pod =
            crate::yaml::from_str("metadata: {name: a, creationTimestamp: '2026-01-01T09:00:00Z'}")
                .unwrap();
        let new: Pod =
            crate::yaml::from_str("metadata: {name: b, creationTimestamp: '2026-01-01T10:05:00Z'}")
                .unwrap();
        assert!(current(&ds, &f, [&old]).is_some());
        assert!(current(&ds, &f, [&old, &new]).is_none());
    }

    #[test]
    fn failed_daemon_pod_names_its_node() {
        let f = from_events(&[event(
            "FailedDaemonPod",
            "Found failed daemon pod logging/fluent-bit-x on node n3, will try to kill it",
            2,
            "2026-01-01T10:00:00Z",
        )]);
        assert_eq!(f[0].node.as_deref(), Some("n3"));
    }
    #[test]
    fn the_back_off_counts_failed_pods_in_a_row_while_it_remembers_them() {
        let ds: DaemonSet = crate::yaml::from_str(
            "metadata: {name: fluent-bit, namespace: logging, uid: u}\nspec: {selector: {}, template: {}}",
        )
        .unwrap();
        let failed = |pod: &str, node: &str, last: &str| {
            event(
                "FailedDaemonPod",
                &format!(
                    "Found failed daemon pod logging/{pod} on node {node}, will try to kill it"
                ),
                1,
                last,
            )
        };
        let events = [
            failed("fb-4", "n1", "2026-01-01T10:59:00Z"),
            failed("fb-3", "n1", "2026-01-01T10:40:00Z"),
            failed("fb-9", "n2", "2026-01-01T10:40:00Z"),
            // More than 30 minutes before the next one: `hasExpired` reset the back-off.
            failed("fb-2", "n1", "2026-01-01T10:05:00Z"),
            failed("fb-1", "n1", "2026-01-01T10:04:00Z"),
        ];
        let all = from_events(&events);
        let now: Timestamp = "2026-01-01T11:00:00Z".parse().unwrap();
        let chain = failed_pod_on(&ds, &all, "n1", &[], now).expect("chain");
        assert_eq!(
            chain.count, 2,
            "only the failures since the back-off was reset"
        );
        // A Failed pod no event names yet is one more; the one named is not counted twice.
        let pod = |name: &str| -> Pod {
            crate::yaml::from_str(&format!(
                "metadata: {{name: {name}}}\nstatus: {{phase: Failed}}"
            ))
            .unwrap()
        };
        assert_eq!(failed_in_a_row(Some(&chain), &[&pod("fb-5")]), 3);
        assert_eq!(failed_in_a_row(Some(&chain), &[&pod("fb-4")]), 2);
        // Forgotten half an hour after the last failure.
        let later: Timestamp = "2026-01-01T11:30:01Z".parse().unwrap();
        assert!(failed_pod_on(&ds, &all, "n1", &[], later).is_none());
        // Failures before the current revision belong to another template.
        let rev: ControllerRevision = crate::yaml::from_str(
            "metadata: {name: r, creationTimestamp: '2026-01-01T10:50:00Z', ownerReferences: [{apiVersion: apps/v1, kind: DaemonSet, name: fluent-bit, uid: u, controller: true}]}\nrevision: 2",
        )
        .unwrap();
        let chain = failed_pod_on(&ds, &all, "n1", &[rev], now).expect("chain");
        assert_eq!(chain.count, 1);
    }
}
