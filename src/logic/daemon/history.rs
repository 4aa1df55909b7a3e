//! Rollout history of a DaemonSet from its ControllerRevisions, and the choice of the revision
//! a rollback restores (`DaemonSetHistoryViewer`, `findHistory`, `daemonSetMatch` in
//! `k8s.io/kubectl/pkg/polymorphichelpers/{history,rollback}.go`).

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use super::{pods, revisions};

pub const CHANGE_CAUSE_ANNOTATION: &str = "kubernetes.io/change-cause";

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Revision {
    pub revision: i64,
    /// The ControllerRevision's name.
    pub name: String,
    pub hash: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<Timestamp>,
    /// The revision matching the DaemonSet's template: the highest number.
    pub current: bool,
    /// Container images in template order (init containers first).
    pub images: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change_cause: Option<String>,
    /// Live pods of the DaemonSet labelled with this revision's hash.
    pub pods: usize,
    /// The pod template stored in the revision, normalised (see `template_of`); only in
    /// documents about one revision.
    #[serde(skip_serializing_if = "Value::is_null")]
    pub template: Value,
}

/// `data.spec.template` of a revision without the controller's `$patch: replace` directive and
/// with null values dropped (objects written before 1.34 carry `creationTimestamp: null`), so
/// it compares semantically with the DaemonSet's template (`Match` in `update.go` compares
/// bytes, which breaks across serializer changes).
pub fn template_of(rev: &ControllerRevision) -> Result<Value, String> {
    let data = crate::logic::apimachinery::compat::revision_data(rev)
        .ok_or_else(|| "the revision has no data".to_string())?;
    let template = data
        .get("spec")
        .and_then(|s| s.get("template"))
        .ok_or_else(|| "the revision's data has no spec.template".to_string())?;
    Ok(normalize(template.clone()))
}

/// Drops `$patch` keys, nulls and empty objects/arrays, recursively.
pub fn normalize(v: Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(k, _)| k != "$patch")
                .map(|(k, v)| (k, normalize(v)))
                .filter(|(_, v)| !is_empty(v))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(normalize).collect()),
        other => other,
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// The DaemonSet's own template, normalised like `template_of`.
pub fn daemonset_template(ds: &DaemonSet) -> Value {
    let v = serde_json::to_value(ds).unwrap_or(Value::Null);
    normalize(
        v.get("spec")
            .and_then(|s| s.get("template"))
            .cloned()
            .unwrap_or(Value::Null),
    )
}

fn images(template: &Value) -> Vec<String> {
    let spec = template.get("spec");
    ["initContainers", "containers"]
        .iter()
        .filter_map(|k| spec.and_then(|s| s.get(*k)).and_then(Value::as_array))
        .flatten()
        .filter_map(|c| c.get("image").and_then(Value::as_str))
        .map(str::to_string)
        .collect()
}

/// Every revision the DaemonSet controls (`controlledHistories`), ascending by number; the
/// highest is current. Pods are counted by their `controller-revision-hash` label.
pub fn history(ds: &DaemonSet, all: &[ControllerRevision], all_pods: &[Pod]) -> Vec<Revision> {
    let uid = ds.metadata.uid.as_deref().unwrap_or("");
    let mut per_hash: BTreeMap<&str, usize> = BTreeMap::new();
    for p in all_pods {
        if pods::is_controlled_by(p, uid)
            && !pods::is_terminating(p)
            && !pods::is_terminal(p)
            && let Some(h) = pods::revision_hash(p)
        {
            *per_hash.entry(h).or_default() += 1;
        }
    }
    let owned = revisions::owned(ds, all);
    let last = owned
        .last()
        .map(|r| crate::logic::apimachinery::compat::revision_number(r));
    owned
        .into_iter()
        .map(|r| {
            let hash = revisions::hash(r);
            let template = template_of(r).unwrap_or(Value::Null);
            Revision {
                revision: crate::logic::apimachinery::compat::revision_number(r),
                name: r.metadata.name.clone().unwrap_or_default(),
                created: r.metadata.creation_timestamp.as_ref().map(|t| t.0),
                current: Some(crate::logic::apimachinery::compat::revision_number(r)) == last,
                images: images(&template),
                change_cause: r
                    .metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get(CHANGE_CAUSE_ANNOTATION))
                    .cloned(),
                pods: per_hash.get(hash.as_str()).copied().unwrap_or(0),
                hash,
                template,
            }
        })
        .collect()
}

/// Why no revision could be chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FindError {
    /// `--to-revision` omitted and at most one revision (kubectl: "no last revision to roll back to").
    NoPrevious,
    /// The number is not in the history; the ones that are.
    Unknown { wanted: i64, existing: Vec<i64> },
    /// A rollback to revision `wanted`'s template gave it the number `now`.
    Renumbered { wanted: i64, now: i64 },
}

impl std::fmt::Display for FindError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FindError::NoPrevious => write!(f, "no previous revision to roll back to"),
            FindError::Unknown { wanted, existing } => {
                let list: Vec<String> = existing.iter().map(i64::to_string).collect();
                write!(
                    f,
                    "revision {wanted} is not in the history; the revisions are {}",
                    if list.is_empty() {
                        "none".to_string()
                    } else {
                        list.join(", ")
                    }
                )
            }
            FindError::Renumbered { wanted, now } => write!(
                f,
                "revision {wanted} became revision {now} when a rollback restored its template (the controller renumbers the restored revision); use revision {now}"
            ),
        }
    }
}

/// `findHistory` (`rollback.go`): N > 0 is exactly revision N; 0 is the second-highest.
pub fn find(history: &[Revision], to_revision: i64) -> Result<&Revision, FindError> {
    if to_revision == 0 {
        if history.len() <= 1 {
            return Err(FindError::NoPrevious);
        }
        return Ok(&history[history.len() - 2]);
    }
    if let Some(r) = history.iter().find(|r| r.revision == to_revision) {
        return Ok(r);
    }
    Err(match renumbered(history, to_revision) {
        Some(now) => FindError::Renumbered {
            wanted: to_revision,
            now,
        },
        None => FindError::Unknown {
            wanted: to_revision,
            existing: history.iter().map(|r| r.revision).collect(),
        },
    })
}

/// The number revision `n` has now, when a rollback renumbered it. `constructHistory`
/// (`pkg/controller/daemon/update.go`) gives a new revision `max + 1`, so numbers rise with
/// creation time; restoring an old template moves its revision to `max + 1` instead of creating
/// one. A revision numbered above one created after it was therefore renumbered, and its old
/// number lies between those of its neighbours in creation order. `Some` only when that leaves
/// exactly `n`; `None` when creation times tie or are missing (the order is then unknown).
pub fn renumbered(history: &[Revision], n: i64) -> Option<i64> {
    let mut by_age: Vec<(Timestamp, i64)> = history
        .iter()
        .map(|r| r.created.map(|t| (t, r.revision)))
        .collect::<Option<_>>()?;
    by_age.sort();
    if by_age.windows(2).any(|w| w[0].0 == w[1].0) {
        return None;
    }
    let numbers: Vec<i64> = by_age.iter().map(|(_, r)| *r).collect();
    let moved: Vec<bool> = (0..numbers.len())
        .map(|i| numbers[i + 1..].iter().any(|later| *later < numbers[i]))
        .collect();
    // The lowest and highest number each revision can have been created with.
    let mut lowest = vec![0; numbers.len()];
    let mut floor = 0;
    for i in 0..numbers.len() {
        lowest[i] = if moved[i] { floor + 1 } else { numbers[i] };
        floor = lowest[i];
    }
    let mut highest = vec![0; numbers.len()];
    let mut ceiling = i64::MAX;
    for i in (0..numbers.len()).rev() {
        highest[i] = if moved[i] {
            ceiling.min(numbers[i]) - 1
        } else {
            numbers[i]
        };
        ceiling = highest[i];
    }
    (0..numbers.len())
        .find(|&i| moved[i] && lowest[i] == n && highest[i] == n)
        .map(|i| numbers[i])
}

/// True when the DaemonSet's template already equals the revision's, semantically
/// (kubectl's `daemonSetMatch` compares bytes).
pub fn matches(ds: &DaemonSet, rev: &Revision) -> bool {
    daemonset_template(ds) == rev.template
}

/// The body of the rollback PATCH: the revision's `data` verbatim (a strategic-merge patch
/// replacing `spec.template`, as `DaemonSetRollbacker.Rollback` sends it) plus
/// `metadata.resourceVersion`, which makes the API server refuse it with 409 Conflict when the
/// DaemonSet changed since it was read.
pub fn rollback_patch(rev: &ControllerRevision, resource_version: &str) -> Result<Value, String> {
    let data = crate::logic::apimachinery::compat::revision_data(rev)
        .ok_or_else(|| "the revision has no data".to_string())?;
    let mut body = data.clone();
    let obj = body
        .as_object_mut()
        .ok_or_else(|| "the revision's data is not a JSON object".to_string())?;
    obj.insert(
        "metadata".to_string(),
        serde_json::json!({ "resourceVersion": resource_version }),
    );
    Ok(body)
}

/// A unified diff with `context` lines around each change; empty when the texts are equal.
pub fn line_diff(a: &str, b: &str, label_a: &str, label_b: &str, context: usize) -> String {
    let diff = similar::TextDiff::from_lines(a, b);
    if diff
        .ops()
        .iter()
        .all(|op| op.tag() == similar::DiffTag::Equal)
    {
        return String::new();
    }
    diff.unified_diff()
        .context_radius(context)
        .header(label_a, label_b)
        .to_string()
}

#[cfg(test)]
mod renumber_tests {
    use super::*;

    /// Revisions as (number now, creation second).
    fn revs(list: &[(i64, i64)]) -> Vec<Revision> {
        let mut out: Vec<Revision> = list
            .iter()
            .map(|&(revision, second)| Revision {
                revision,
                name: format!("agent-{revision}"),
                hash: format!("h{revision}"),
                created: Some(Timestamp::from_second(1_700_000_000 + second).unwrap()),
                current: false,
                images: Vec::new(),
                change_cause: None,
                pods: 0,
                template: Value::Null,
            })
            .collect();
        out.sort_by_key(|r| r.revision);
        out
    }

    #[test]
    fn a_restored_revision_is_found_under_its_new_number() {
        // 1 (A) and 2 (B); rolling back to A renumbers it to 3.
        let h = revs(&[(3, 0), (2, 10)]);
        assert_eq!(renumbered(&h, 1), Some(3));
        assert_eq!(
            find(&h, 1).unwrap_err(),
            FindError::Renumbered { wanted: 1, now: 3 }
        );
        // 1, 2, 3; back to 1 (now 4), then to 2 (now 5).
        let h = revs(&[(4, 0), (5, 10), (3, 20)]);
        assert_eq!(renumbered(&h, 1), Some(4));
        assert_eq!(renumbered(&h, 2), Some(5));
        assert_eq!(renumbered(&h, 3), None);
    }

    #[test]
    fn gaps_from_pruning_and_unknown_order_are_not_renumbering() {
        // Revision 1 pruned: nothing moved.
        let h = revs(&[(2, 10), (3, 20)]);
        assert_eq!(renumbered(&h, 1), None);
        assert!(matches!(find(&h, 1), Err(FindError::Unknown { .. })));
        // Same creation second: the order is unknown.
        let h = revs(&[(3, 0), (2, 0)]);
        assert_eq!(renumbered(&h, 1), None);
    }

    #[test]
    fn a_stored_template_compares_without_the_patch_directive_and_nulls() {
        let stored: ControllerRevision = crate::yaml::from_str(
            "metadata: {name: agent-1}
revision: 1
data:
  spec:
    template:
      $patch: replace
      metadata: {creationTimestamp: null, labels: {app: agent}}
      spec: {containers: [{name: c, image: 'agent:1', resources: {}}]}
",
        )
        .expect("revision");
        let t = template_of(&stored).expect("template");
        assert_eq!(
            t,
            serde_json::json!({"metadata": {"labels": {"app": "agent"}},
                "spec": {"containers": [{"name": "c", "image": "agent:1"}]}})
        );
        let empty: ControllerRevision =
            crate::yaml::from_str("metadata: {name: agent-2}\nrevision: 2\n").expect("revision");
        assert!(template_of(&empty).is_err());
    }
}
