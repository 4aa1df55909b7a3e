//! API validation of the pod after the mutating plugins (`rest.BeforeCreate` →
//! `ValidatePodCreate`), for the one rule admission can break: a LimitRange default limit
//! below the container's own request (`ValidateResourceRequirements`: requests must not exceed
//! limits; extended resources must be equal).

use super::{Admission, Objects, Refusal};
use crate::logic::apimachinery::quantity::parse_milli;

const RULE: &str = "validation";

/// Native resources may be overcommitted (`helper.IsOvercommitAllowed`); hugepages and
/// extended resources may not.
fn overcommit(name: &str) -> bool {
    !name.contains('/') && !name.starts_with("hugepages-")
}

fn errors(path: &str, c: &k8s_openapi::api::core::v1::Container) -> Vec<String> {
    let Some(r) = c.resources.as_ref() else {
        return Vec::new();
    };
    let limits = r.limits.clone().unwrap_or_default();
    let mut out = Vec::new();
    for (k, q) in r.requests.iter().flatten() {
        let Some(l) = limits.get(k) else { continue };
        let (Some(want), Some(max)) = (parse_milli(&q.0), parse_milli(&l.0)) else {
            continue;
        };
        let field = format!("{path}.resources.requests");
        if !overcommit(k) && want != max {
            out.push(format!(
                "{field}: Invalid value: \"{}\": must be equal to {k} limit of {}",
                q.0, l.0
            ));
        } else if want > max {
            out.push(format!(
                "{field}: Invalid value: \"{}\": must be less than or equal to {k} limit of {}",
                q.0, l.0
            ));
        }
    }
    out
}

/// `ValidateResourceRequirements` over every container, worded as the API server's
/// `StatusError` (`Pod "<name>" is invalid: ...`).
pub fn validate(a: &mut Admission, _: &Objects) -> Option<Refusal> {
    let spec = a.pod.spec.as_ref()?;
    let mut errs = Vec::new();
    for (i, c) in spec.init_containers.iter().flatten().enumerate() {
        errs.extend(errors(&format!("spec.initContainers[{i}]"), c));
    }
    for (i, c) in spec.containers.iter().enumerate() {
        errs.extend(errors(&format!("spec.containers[{i}]"), c));
    }
    if errs.is_empty() {
        return None;
    }
    let name = a
        .pod
        .metadata
        .generate_name
        .clone()
        .or(a.pod.metadata.name.clone())
        .unwrap_or_default();
    let list = if errs.len() == 1 {
        errs.remove(0)
    } else {
        format!("[{}]", errs.join(", "))
    };
    Some(Refusal {
        rule: RULE.into(),
        function: "ValidateResourceRequirements".into(),
        message: format!("Pod \"{name}\" is invalid: {list}"),
    })
}
