//! DefaultTolerationSeconds (`plugin/pkg/admission/defaulttolerationseconds/admission.go`,
//! in the default chain after Priority): a pod that does not tolerate the NoExecute taints
//! `node.kubernetes.io/not-ready` and `node.kubernetes.io/unreachable` gets a toleration for
//! each with `tolerationSeconds: 300` (the API server's `--default-not-ready-toleration-seconds`
//! and `--default-unreachable-toleration-seconds`). A daemon pod always carries the
//! controller's forever-tolerations of both (`AddOrUpdateDaemonPodTolerations`), so for it the
//! plugin adds nothing; it is kept in the chain so the model says so rather than assumes it.

use k8s_openapi::api::core::v1::Toleration;

use super::{Admission, Refusal};

const RULE: &str = "DefaultTolerationSeconds";
const NOT_READY: &str = "node.kubernetes.io/not-ready";
const UNREACHABLE: &str = "node.kubernetes.io/unreachable";
/// The flags' default, 300 s.
const DEFAULT_SECONDS: i64 = 300;

/// `Admit`: a toleration with the taint's key (or no key) and effect NoExecute (or none)
/// already tolerates it; otherwise one with the default seconds is added.
pub fn admit(a: &mut Admission) -> Option<Refusal> {
    let spec = a.pod.spec.as_mut()?;
    let tolerations = spec.tolerations.get_or_insert_with(Vec::new);
    let tolerates = |key: &str| {
        tolerations.iter().any(|t| {
            let k = t.key.as_deref().unwrap_or("");
            let e = t.effect.as_deref().unwrap_or("");
            (k == key || k.is_empty()) && (e == "NoExecute" || e.is_empty())
        })
    };
    let missing: Vec<&str> = [NOT_READY, UNREACHABLE]
        .into_iter()
        .filter(|k| !tolerates(k))
        .collect();
    for key in &missing {
        tolerations.push(Toleration {
            key: Some(key.to_string()),
            operator: Some("Exists".into()),
            effect: Some("NoExecute".into()),
            toleration_seconds: Some(DEFAULT_SECONDS),
            ..Default::default()
        });
    }
    if !missing.is_empty() {
        a.change(
            RULE,
            "Admit",
            format!(
                "added tolerations for {} (NoExecute, {DEFAULT_SECONDS}s)",
                missing.join(" and ")
            ),
        );
    }
    None
}
