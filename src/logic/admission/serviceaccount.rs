//! ServiceAccount (`plugin/pkg/admission/serviceaccount/admission.go`): a pod without a
//! service account gets `default`; a pod whose service account does not exist is refused.

use super::{Admission, Objects, Refusal, in_namespace, refusal};

const RULE: &str = "ServiceAccount";
const DEFAULT: &str = "default";

/// `Plugin.Admit`: defaults `serviceAccountName`, then `getServiceAccount` must find it.
pub fn admit(a: &mut Admission, objects: &Objects) -> Option<Refusal> {
    let ns = a.pod.metadata.namespace.clone().unwrap_or_default();
    let spec = a.pod.spec.as_mut()?;
    let name = match spec
        .service_account_name
        .as_deref()
        .filter(|s| !s.is_empty())
    {
        Some(n) => n.to_string(),
        None => match spec.service_account.as_deref().filter(|s| !s.is_empty()) {
            // `SetDefaults_PodSpec` keeps the deprecated alias in step.
            Some(n) => n.to_string(),
            None => DEFAULT.to_string(),
        },
    };
    if let Some(spec) = a.pod.spec.as_mut() {
        spec.service_account_name = Some(name.clone());
        spec.service_account = Some(name.clone());
    }
    let Some(all) = objects.service_accounts.as_deref() else {
        a.unchecked.push(RULE.into());
        return None;
    };
    let exists = in_namespace(all, &ns).any(|sa| sa.metadata.name.as_deref() == Some(&name));
    if exists {
        return None;
    }
    refusal(
        &a.pod,
        RULE,
        "Plugin.getServiceAccount",
        &format!(
            "error looking up service account {ns}/{name}: serviceaccount \"{name}\" not found"
        ),
    )
}
