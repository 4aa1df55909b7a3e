//! Rollout history of a DaemonSet from its ControllerRevisions, and the choice of the revision
//! a rollback restores (`DaemonSetHistoryViewer`, `findHistory`, `daemonSetMatch` in
//! `k8s.io/kubectl/pkg/polymorphichelpers/{history,rollback}.go`).

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use super::pods;
use super::revisions;

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
    let data =
        super::compat::revision_data(rev).ok_or_else(|| "the revision has no data".to_string())?;
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
    let last = owned.last().map(|r| super::compat::revision_number(r));
    owned
        .into_iter()
        .map(|r| {
            let hash = revisions::hash(r);
            let template = template_of(r).unwrap_or(Value::Null);
            Revision {
                revision: super::compat::revision_number(r),
                name: r.metadata.name.clone().unwrap_or_default(),
                created: r.metadata.creation_timestamp.as_ref().map(|t| t.0),
                current: Some(super::compat::revision_number(r)) == last,
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
    history
        .iter()
        .find(|r| r.revision == to_revision)
        .ok_or_else(|| FindError::Unknown {
            wanted: to_revision,
            existing: history.iter().map(|r| r.revision).collect(),
        })
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
    let data =
        super::compat::revision_data(rev).ok_or_else(|| "the revision has no data".to_string())?;
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

/// A unified-style line diff with `context` lines around each change.
pub fn line_diff(a: &str, b: &str, label_a: &str, label_b: &str, context: usize) -> String {
    let a: Vec<&str> = a.lines().collect();
    let b: Vec<&str> = b.lines().collect();
    // Longest common subsequence table, from the end.
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    // Edit script: (' ' | '-' | '+', line).
    let mut ops: Vec<(char, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            ops.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            ops.push(('-', a[i]));
            i += 1;
        } else {
            ops.push(('+', b[j]));
            j += 1;
        }
    }
    if ops.iter().all(|(op, _)| *op == ' ') {
        return String::new();
    }
    let mut out = format!("--- {label_a}\n+++ {label_b}\n");
    let changed: Vec<usize> = (0..ops.len()).filter(|&k| ops[k].0 != ' ').collect();
    let mut k = 0;
    while k < changed.len() {
        let start = changed[k].saturating_sub(context);
        let mut end = changed[k];
        while k < changed.len() && changed[k] <= end + 2 * context + 1 {
            end = changed[k];
            k += 1;
        }
        let end = (end + context + 1).min(ops.len());
        let line_a = 1 + ops[..start].iter().filter(|(op, _)| *op != '+').count();
        let line_b = 1 + ops[..start].iter().filter(|(op, _)| *op != '-').count();
        let len_a = ops[start..end].iter().filter(|(op, _)| *op != '+').count();
        let len_b = ops[start..end].iter().filter(|(op, _)| *op != '-').count();
        out.push_str(&format!("@@ -{line_a},{len_a} +{line_b},{len_b} @@\n"));
        for (op, line) in &ops[start..end] {
            out.push(*op);
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}
