//! Reading DaemonSets from a manifest stream (`helm template`, `kustomize build`, a file):
//! multi-document YAML or JSON, `kind: List` expanded, other kinds skipped with a note, and the
//! checks the API server would make first (selector present and matching the template labels)
//! plus unknown fields, each error naming the file and line or the field path.

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::PodSpec;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use serde_json::Value;

use crate::logic::apimachinery::labels::{self, Selector};
use crate::logic::apimachinery::quantity;

/// A DaemonSet read from the stream, with where it started.
#[derive(Clone, Debug)]
pub struct Entry {
    pub daemonset: DaemonSet,
    pub line: usize,
}

#[derive(Clone, Debug, Default)]
pub struct Manifest {
    pub daemonsets: Vec<Entry>,
    /// Documents that were not DaemonSets, e.g. `Deployment web (line 12)`.
    pub skipped: Vec<String>,
}

/// Quantities may be written as bare numbers (`cpu: 1`); the API accepts that, so normalise
/// them to the string form the typed objects expect.
fn normalise_quantities(v: &mut Value, key: Option<&str>) {
    match v {
        Value::Object(map) => {
            let quantity_map = matches!(key, Some("requests" | "limits" | "overhead"));
            for (k, child) in map.iter_mut() {
                if quantity_map && child.is_number() {
                    *child = Value::String(child.to_string());
                } else {
                    normalise_quantities(child, Some(k));
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| normalise_quantities(i, key)),
        _ => {}
    }
}

/// Fields present in `input` that the typed object dropped: unknown to the API.
fn unknown_fields(input: &Value, typed: &Value, path: &str, out: &mut Vec<String>) {
    match (input, typed) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match b.get(k) {
                    Some(tv) => unknown_fields(v, tv, &p, out),
                    None if v.is_null() => {}
                    // Free-form maps (labels, annotations, nodeSelector, ...) keep every key,
                    // so a missing key is an unknown field.
                    None => out.push(p),
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for (i, (x, y)) in a.iter().zip(b.iter()).enumerate() {
                unknown_fields(x, y, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

fn describe(doc: &Value) -> String {
    let kind = doc["kind"].as_str().unwrap_or("(no kind)");
    match doc["metadata"]["name"].as_str() {
        Some(n) => format!("{kind} {n}"),
        None => kind.to_string(),
    }
}

/// Reads every DaemonSet of `text`; `source` names the file in messages.
pub fn read(source: &str, text: &str) -> Result<Manifest, String> {
    let docs = crate::yaml::documents(text).map_err(|e| match e.line {
        Some(l) => format!("{source}:{l}: not valid YAML or JSON: {}", e.message),
        None => format!("{source}: not valid YAML or JSON: {}", e.message),
    })?;
    let mut flat: Vec<(usize, Value)> = Vec::new();
    for d in docs {
        if !d.value.is_object() {
            return Err(format!(
                "{source}:{}: a document must be an object with apiVersion and kind",
                d.line
            ));
        }
        if d.value["kind"] == "List" {
            for item in d.value["items"].as_array().into_iter().flatten() {
                flat.push((d.line, item.clone()));
            }
        } else {
            flat.push((d.line, d.value));
        }
    }
    let mut out = Manifest::default();
    for (line, mut doc) in flat {
        let at = format!("{source}:{line}");
        match doc["kind"].as_str() {
            None => return Err(format!("{at}: the document has no kind")),
            Some("DaemonSet") => {}
            Some(_) => {
                out.skipped
                    .push(format!("{} (line {line})", describe(&doc)));
                continue;
            }
        }
        let api_version = doc["apiVersion"].as_str().unwrap_or("");
        if api_version != "apps/v1" {
            return Err(format!(
                "{at}: a DaemonSet needs apiVersion apps/v1, not {api_version:?}"
            ));
        }
        normalise_quantities(&mut doc, None);
        let ds: DaemonSet = serde_json::from_value(doc.clone())
            .map_err(|e| format!("{at}: not a valid DaemonSet: {e}"))?;
        let typed = serde_json::to_value(&ds).map_err(|e| format!("{at}: {e}"))?;
        let mut unknown = Vec::new();
        unknown_fields(&doc, &typed, "", &mut unknown);
        if !unknown.is_empty() {
            return Err(format!("{at}: unknown field(s) {}", unknown.join(", ")));
        }
        validate(&ds).map_err(|e| format!("{at}: {e}"))?;
        out.daemonsets.push(Entry {
            daemonset: ds,
            line,
        });
    }
    if out.daemonsets.is_empty() {
        let found = if out.skipped.is_empty() {
            "it is empty".to_string()
        } else {
            format!("found {}", out.skipped.join(", "))
        };
        return Err(format!("{source} contains no DaemonSet ({found})"));
    }
    Ok(out)
}

/// The checks of `ValidateDaemonSet` that decide placement, as field paths.
fn validate(ds: &DaemonSet) -> Result<(), String> {
    let name = ds.metadata.name.as_deref().unwrap_or("");
    if name.is_empty() {
        return Err("metadata.name is required".into());
    }
    if !labels::is_dns1123_subdomain(name) {
        return Err(format!(
            "metadata.name {name:?} is not a valid name (lowercase letters, digits, '-', '.')"
        ));
    }
    let spec = crate::logic::apimachinery::compat::daemonset_spec(ds).ok_or("spec is required")?;
    let selector =
        Selector::from_label_selector(&spec.selector).map_err(|e| format!("spec.selector: {e}"))?;
    if selector.is_empty() {
        return Err("spec.selector is required and must not be empty".into());
    }
    let template_labels = spec
        .template
        .metadata
        .as_ref()
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    if !selector.matches(&template_labels) {
        return Err(format!(
            "spec.selector ({selector}) does not match spec.template.metadata.labels ({})",
            template_labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        ));
    }
    let pod = spec
        .template
        .spec
        .as_ref()
        .ok_or("spec.template.spec is required")?;
    if pod.containers.is_empty() {
        return Err("spec.template.spec.containers must have at least one container".into());
    }
    check_quantities(pod)
}

/// Every resource quantity parses (`ValidateResourceRequirements` in
/// `pkg/apis/core/validation`, after the decoder's `resource.ParseQuantity`): the API server
/// refuses the object otherwise, and the scheduler arithmetic would silently skip the value.
fn check_quantities(pod: &PodSpec) -> Result<(), String> {
    let bad = |path: String, q: &Quantity| {
        Err(format!(
            "{path}: {:?} is not a valid quantity (write it like 500m, 64Mi or 1Gi)",
            q.0
        ))
    };
    let groups = [
        (
            "initContainers",
            pod.init_containers.as_deref().unwrap_or(&[]),
        ),
        ("containers", &pod.containers[..]),
    ];
    for (field, containers) in groups {
        for (i, c) in containers.iter().enumerate() {
            let Some(r) = &c.resources else { continue };
            for (kind, list) in [("requests", &r.requests), ("limits", &r.limits)] {
                for (name, q) in list.iter().flatten() {
                    if quantity::parse_milli(&q.0).is_none() {
                        let path =
                            format!("spec.template.spec.{field}[{i}].resources.{kind}.{name}");
                        return bad(path, q);
                    }
                }
            }
        }
    }
    for (name, q) in pod.overhead.iter().flatten() {
        if quantity::parse_milli(&q.0).is_none() {
            return bad(format!("spec.template.spec.overhead.{name}"), q);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DS: &str = "apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: c, image: x, resources: {requests: {cpu: 1, memory: 64Mi}}}]
";

    #[test]
    fn reads_daemonsets_and_skips_other_kinds() {
        let text = format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cfg}}\n---\n{DS}");
        let m = read("f.yaml", &text).unwrap();
        assert_eq!(m.daemonsets.len(), 1);
        assert_eq!(m.daemonsets[0].line, 5);
        assert_eq!(m.skipped, ["ConfigMap cfg (line 1)"]);
    }

    #[test]
    fn errors_name_the_file_and_line_or_field() {
        let e = read("f.yaml", "a: [").unwrap_err();
        assert!(e.starts_with("f.yaml:2: not valid YAML"), "{e}");
        let e = read(
            "f.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n",
        )
        .unwrap_err();
        assert_eq!(
            e,
            "f.yaml contains no DaemonSet (found Deployment web (line 1))"
        );
        let e = read(
            "f.yaml",
            &DS.replace("  selector: {matchLabels: {app: agent}}\n", ""),
        )
        .unwrap_err();
        assert!(e.starts_with("f.yaml:1: "), "{e}");
        let e = read(
            "f.yaml",
            &DS.replace("matchLabels: {app: agent}", "matchLabels: {app: other}"),
        )
        .unwrap_err();
        assert!(
            e.contains("does not match spec.template.metadata.labels"),
            "{e}"
        );
        let e = read("f.yaml", &DS.replace("image: x", "image: x, imagee: y")).unwrap_err();
        assert_eq!(
            e,
            "f.yaml:1: unknown field(s) spec.template.spec.containers[0].imagee"
        );
        let e = read("f.yaml", &DS.replace("apps/v1", "extensions/v1beta1")).unwrap_err();
        assert!(e.contains("needs apiVersion apps/v1"), "{e}");
    }

    #[test]
    fn a_bad_quantity_names_its_field() {
        let e = read("f.yaml", &DS.replace("memory: 64Mi", "memory: 1Gb")).unwrap_err();
        assert_eq!(
            e,
            "f.yaml:1: spec.template.spec.containers[0].resources.requests.memory: \"1Gb\" is not a valid quantity (write it like 500m, 64Mi or 1Gi)"
        );
        assert!(read("f.yaml", &DS.replace("memory: 64Mi", "memory: 1.5Gi")).is_ok());
    }
}
