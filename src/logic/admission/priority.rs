//! Priority (`plugin/pkg/admission/priority/admission.go`): the pod's priority value and
//! preemptionPolicy come from its PriorityClass, or from the global default class.

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::scheduling::v1::PriorityClass;
use serde::Serialize;

use super::{Admission, Objects, Refusal, refusal};
use crate::logic::apimachinery::compat;

const RULE: &str = "Priority";

/// What the scheduler reads of an admitted pod's priority.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Priority {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    pub value: i32,
    /// `PreemptLowerPriority` or `Never`.
    pub preemption_policy: String,
}

impl Priority {
    /// The admitted pod's priority (`corev1helpers.PodPriority`, and `PreemptLowerPriority`
    /// when the policy is unset).
    pub fn of(pod: &Pod) -> Priority {
        let spec = pod.spec.as_ref();
        Priority {
            class: spec
                .and_then(|s| s.priority_class_name.clone())
                .filter(|c| !c.is_empty()),
            value: spec.and_then(|s| s.priority).unwrap_or(0),
            preemption_policy: spec
                .and_then(|s| s.preemption_policy.clone())
                .unwrap_or_else(|| "PreemptLowerPriority".into()),
        }
    }

    pub fn never_preempts(&self) -> bool {
        self.preemption_policy == "Never"
    }
}

/// `getDefaultPriorityClass`: of several global defaults, the lowest value.
fn default_class(classes: &[PriorityClass]) -> Option<&PriorityClass> {
    classes
        .iter()
        .filter(|c| c.global_default == Some(true))
        .min_by_key(|c| compat::priority_value(c).unwrap_or(0))
}

/// `Plugin.admitPod` on create, through `establishPriority`.
pub fn admit(a: &mut Admission, objects: &Objects) -> Option<Refusal> {
    let Some(classes) = objects.priority_classes.as_deref() else {
        a.unchecked.push(RULE.into());
        return None;
    };
    let spec = a.pod.spec.as_ref()?;
    let wanted = spec.priority_class_name.clone().filter(|c| !c.is_empty());
    let (name, value, policy) = match &wanted {
        None => match default_class(classes) {
            Some(c) => (
                c.metadata.name.clone(),
                compat::priority_value(c).unwrap_or(0),
                c.preemption_policy.clone(),
            ),
            None => (None, 0, Some("PreemptLowerPriority".to_string())),
        },
        Some(n) => match classes.iter().find(|c| c.metadata.name.as_ref() == Some(n)) {
            Some(c) => (
                Some(n.clone()),
                compat::priority_value(c).unwrap_or(0),
                c.preemption_policy.clone(),
            ),
            None => {
                return refusal(
                    &a.pod,
                    RULE,
                    "Plugin.resolvePriorityClass",
                    &format!("no PriorityClass with name {n} was found"),
                );
            }
        },
    };
    if let Some(p) = spec.priority.filter(|p| *p != value) {
        return refusal(
            &a.pod,
            RULE,
            "Plugin.admitPod",
            &format!(
                "the integer value of priority ({p}) must not be provided in pod spec; priority admission controller computed {value} from the given PriorityClass name"
            ),
        );
    }
    if let (Some(own), Some(computed)) = (spec.preemption_policy.as_deref(), policy.as_deref())
        && own != computed
    {
        return refusal(
            &a.pod,
            RULE,
            "Plugin.admitPod",
            &format!(
                "the string value of PreemptionPolicy ({own}) must not be provided in pod spec; priority admission controller computed {computed} from the given PriorityClass name"
            ),
        );
    }
    let spec = a.pod.spec.as_mut()?;
    spec.priority = Some(value);
    if name.is_some() {
        spec.priority_class_name = name.clone();
    }
    if policy.is_some() {
        spec.preemption_policy = policy.clone();
    }
    let from = match &name {
        Some(n) if wanted.is_some() => format!("PriorityClass {n}"),
        Some(n) => format!("the global default PriorityClass {n}"),
        // Priority 0 with no class: nothing worth telling.
        None => return None,
    };
    a.change(
        RULE,
        "Plugin.admitPod",
        format!(
            "priority {value}, preemptionPolicy {} from {from}",
            policy.as_deref().unwrap_or("PreemptLowerPriority")
        ),
    );
    None
}
