//! RuntimeClass (`plugin/pkg/admission/runtimeclass/admission.go`): the class's
//! `overhead.podFixed` becomes the pod's overhead (`setOverhead`), and its
//! `scheduling.nodeSelector` and tolerations are merged into the pod (`setScheduling`). The
//! DaemonSet controller decided placement on the template without them, so a class that
//! selects nodes leaves pods Pending on the nodes it excludes.

use k8s_openapi::api::core::v1::Toleration;

use super::{Admission, Objects, Refusal, refusal};

const RULE: &str = "RuntimeClass";

/// `tolerations.isSuperset`: `ss` tolerates everything `t` does.
fn is_superset(ss: &Toleration, t: &Toleration) -> bool {
    if ss == t {
        return true;
    }
    let key = |x: &Toleration| x.key.clone().unwrap_or_default();
    let op = |x: &Toleration| x.operator.clone().unwrap_or_default();
    let effect = |x: &Toleration| x.effect.clone().unwrap_or_default();
    if key(t) != key(ss) && (!key(ss).is_empty() || op(ss) != "Exists") {
        return false;
    }
    if effect(t) != effect(ss) && !effect(ss).is_empty() {
        return false;
    }
    if effect(ss) == "NoExecute"
        && let Some(limit) = ss.toleration_seconds
        && t.toleration_seconds.is_none_or(|s| s > limit)
    {
        return false;
    }
    match op(ss).as_str() {
        "Equal" | "" => op(t) == "Equal" && t.value == ss.value,
        "Exists" => true,
        _ => false,
    }
}

/// `tolerations.MergeTolerations`: both lists, dropping any toleration another one covers.
pub fn merge_tolerations(first: &[Toleration], second: &[Toleration]) -> Vec<Toleration> {
    let all: Vec<&Toleration> = first.iter().chain(second).collect();
    let mut merged: Vec<Toleration> = Vec::new();
    for (i, t) in all.iter().enumerate() {
        if merged.iter().any(|m| is_superset(m, t)) {
            continue;
        }
        let later_covers = all[i + 1..]
            .iter()
            .any(|t2| *t2 != *t && is_superset(t2, t));
        if !later_covers {
            merged.push((*t).clone());
        }
    }
    merged
}

/// `RuntimeClass.Admit`: `prepareObjects`, `setOverhead`, `setScheduling`.
pub fn admit(a: &mut Admission, objects: &Objects) -> Option<Refusal> {
    let wanted = a.pod.spec.as_ref()?.runtime_class_name.clone()?;
    let Some(classes) = objects.runtime_classes.as_deref() else {
        a.unchecked.push(RULE.into());
        return None;
    };
    let Some(class) = classes
        .iter()
        .find(|c| c.metadata.name.as_deref() == Some(wanted.as_str()))
    else {
        return refusal(
            &a.pod,
            RULE,
            "RuntimeClass.prepareObjects",
            &format!("pod rejected: RuntimeClass \"{wanted}\" not found"),
        );
    };
    if let Some(fixed) = class.overhead.as_ref().and_then(|o| o.pod_fixed.clone()) {
        let spec = a.pod.spec.as_mut()?;
        if spec
            .overhead
            .as_ref()
            .is_some_and(|o| !o.is_empty() && *o != fixed)
        {
            return refusal(
                &a.pod,
                RULE,
                "setOverhead",
                "pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead",
            );
        }
        let shown: Vec<String> = fixed.iter().map(|(k, v)| format!("{k}={}", v.0)).collect();
        spec.overhead = Some(fixed);
        a.change(
            RULE,
            "setOverhead",
            format!("overhead {} from RuntimeClass {wanted}", shown.join(", ")),
        );
    }
    let scheduling = class.scheduling.as_ref()?;
    let spec = a.pod.spec.as_mut()?;
    let class_selector = scheduling.node_selector.clone().unwrap_or_default();
    let mut selector = spec.node_selector.clone().unwrap_or_default();
    for (k, v) in &class_selector {
        if let Some(own) = selector.get(k).filter(|own| *own != v) {
            let why = format!(
                "conflict: runtimeClass.scheduling.nodeSelector[{k}] = {v}; pod.spec.nodeSelector[{k}] = {own}"
            );
            return refusal(&a.pod, RULE, "setScheduling", &why);
        }
        selector.insert(k.clone(), v.clone());
    }
    if !class_selector.is_empty() {
        spec.node_selector = Some(selector);
    }
    let own = spec.tolerations.clone().unwrap_or_default();
    let extra = scheduling.tolerations.clone().unwrap_or_default();
    spec.tolerations = Some(merge_tolerations(&own, &extra));
    let mut parts = Vec::new();
    if !class_selector.is_empty() {
        let sel: Vec<String> = class_selector
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        parts.push(format!("nodeSelector {}", sel.join(", ")));
    }
    if !extra.is_empty() {
        parts.push(format!("{} toleration(s)", extra.len()));
    }
    if !parts.is_empty() {
        a.change(
            RULE,
            "setScheduling",
            format!("{} from RuntimeClass {wanted}", parts.join(" and ")),
        );
    }
    None
}
