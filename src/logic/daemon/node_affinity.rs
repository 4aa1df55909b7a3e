//! Required node affinity as the DaemonSet controller evaluates it: the template's `nodeSelector`
//! ANDed with `requiredDuringSchedulingIgnoredDuringExecution` (component-helpers
//! `nodeaffinity.NewRequiredNodeAffinity` / `RequiredNodeAffinity.Match`). Instead of a bare
//! boolean it reports the first thing that failed, so `explain` can say why.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Affinity, Node, NodeSelectorRequirement, NodeSelectorTerm};
use serde::Serialize;

use crate::logic::apimachinery::labels::{Op, Requirement};

/// Why a node failed the template's node selection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum AffinityMismatch {
    /// `nodeSelector` wants `key=wanted`; the node has `actual` (or no such label).
    NodeSelector {
        key: String,
        wanted: String,
        actual: Option<String>,
    },
    /// No required node-affinity term matched. One entry per term, in order.
    NodeAffinity { terms: Vec<TermMismatch> },
}

/// Why one `nodeSelectorTerm` did not match.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TermMismatch {
    pub term: usize,
    /// The first failing expression, as `key op values` (e.g. `zone in (a,b)`).
    pub expression: String,
    /// The node's value for the key, if it has one.
    pub actual: Option<String>,
    /// Set when the term is malformed; upstream treats such a term as non-matching.
    pub invalid: Option<String>,
}

/// A node's labels, borrowed: this runs for every node and every DaemonSet.
pub fn node_labels(node: &Node) -> &BTreeMap<String, String> {
    static NONE: BTreeMap<String, String> = BTreeMap::new();
    node.metadata.labels.as_ref().unwrap_or(&NONE)
}

fn node_name(node: &Node) -> &str {
    node.metadata.name.as_deref().unwrap_or("")
}

/// `Ok(())` when the node passes nodeSelector and required node affinity.
pub fn check(
    node_selector: Option<&BTreeMap<String, String>>,
    affinity: Option<&Affinity>,
    node: &Node,
) -> Result<(), AffinityMismatch> {
    let labels = node_labels(node);
    for (key, wanted) in node_selector.into_iter().flatten() {
        let actual = labels.get(key);
        if actual != Some(wanted) {
            return Err(AffinityMismatch::NodeSelector {
                key: key.clone(),
                wanted: wanted.clone(),
                actual: actual.cloned(),
            });
        }
    }
    let Some(required) = affinity
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|na| {
            na.required_during_scheduling_ignored_during_execution
                .as_ref()
        })
    else {
        return Ok(());
    };
    let mut failures = Vec::new();
    for (i, term) in required.node_selector_terms.iter().enumerate() {
        // Terms with neither expressions nor fields select nothing and are dropped upstream.
        if is_empty_term(term) {
            continue;
        }
        match term_mismatch(term, labels, node_name(node)) {
            None => return Ok(()),
            Some(mut m) => {
                m.term = i;
                failures.push(m);
            }
        }
    }
    Err(AffinityMismatch::NodeAffinity { terms: failures })
}

fn is_empty_term(term: &NodeSelectorTerm) -> bool {
    term.match_expressions.as_ref().is_none_or(|v| v.is_empty())
        && term.match_fields.as_ref().is_none_or(|v| v.is_empty())
}

fn label_op(op: &str) -> Option<Op> {
    Some(match op {
        "In" => Op::In,
        "NotIn" => Op::NotIn,
        "Exists" => Op::Exists,
        "DoesNotExist" => Op::DoesNotExist,
        "Gt" => Op::Gt,
        "Lt" => Op::Lt,
        _ => return None,
    })
}

fn describe(e: &NodeSelectorRequirement) -> String {
    let values = e.values.clone().unwrap_or_default();
    match e.operator.as_str() {
        "In" => format!("{} in ({})", e.key, values.join(",")),
        "NotIn" => format!("{} notin ({})", e.key, values.join(",")),
        "Exists" => format!("{} exists", e.key),
        "DoesNotExist" => format!("{} does not exist", e.key),
        "Gt" => format!("{} > {}", e.key, values.join(",")),
        "Lt" => format!("{} < {}", e.key, values.join(",")),
        op => format!("{} {op} ({})", e.key, values.join(",")),
    }
}

/// `None` when the term matches; otherwise the first failing (or malformed) expression.
fn term_mismatch(
    term: &NodeSelectorTerm,
    labels: &BTreeMap<String, String>,
    name: &str,
) -> Option<TermMismatch> {
    let exprs = term.match_expressions.as_deref().unwrap_or(&[]);
    let fields = term.match_fields.as_deref().unwrap_or(&[]);
    // Upstream parses the whole term first: any malformed expression makes the term non-matching.
    let mut parsed = Vec::with_capacity(exprs.len());
    for e in exprs {
        let req = label_op(&e.operator)
            .ok_or_else(|| format!("operator {:?} is not supported", e.operator))
            .and_then(|op| Requirement::new(&e.key, op, e.values.clone().unwrap_or_default()));
        match req {
            Ok(r) => parsed.push((e, r)),
            Err(msg) => return Some(invalid(e, msg)),
        }
    }
    for f in fields {
        let values = f.values.as_deref().unwrap_or(&[]);
        let msg = match f.operator.as_str() {
            "In" | "NotIn" if values.len() != 1 => Some("matchFields values must have one element"),
            "In" | "NotIn" => None,
            _ => Some("matchFields supports only In and NotIn"),
        };
        if let Some(msg) = msg {
            return Some(invalid(f, msg.to_string()));
        }
    }
    for (e, r) in &parsed {
        if !r.matches(labels) {
            return Some(TermMismatch {
                term: 0,
                expression: describe(e),
                actual: labels.get(&e.key).cloned(),
                invalid: None,
            });
        }
    }
    // A node without a name has no fields; upstream then skips field matching.
    if !name.is_empty() {
        for f in fields {
            // Nodes expose exactly one field, metadata.name; any other key reads as "".
            let have = if f.key == "metadata.name" { name } else { "" };
            let want = f
                .values
                .as_deref()
                .and_then(|v| v.first())
                .map_or("", |s| s);
            let ok = if f.operator == "In" {
                have == want
            } else {
                have != want
            };
            if !ok {
                return Some(TermMismatch {
                    term: 0,
                    expression: format!(
                        "field {} {} {}",
                        f.key,
                        if f.operator == "In" { "=" } else { "!=" },
                        want
                    ),
                    actual: Some(have.to_string()),
                    invalid: None,
                });
            }
        }
    }
    None
}

fn invalid(e: &NodeSelectorRequirement, msg: String) -> TermMismatch {
    TermMismatch {
        term: 0,
        expression: describe(e),
        actual: None,
        invalid: Some(msg),
    }
}
