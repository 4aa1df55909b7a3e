//! PodSecurity (`staging/src/k8s.io/pod-security-admission`): the namespace's
//! `pod-security.kubernetes.io/enforce` level (`api.PolicyToEvaluate`) against the pod, with
//! the checks of `policy/check_*.go` in the registry's order (`populate`: baseline IDs sorted,
//! then restricted IDs sorted, restricted overriding some baseline checks) and the message of
//! `Admission.EvaluatePod` / `AggregateCheckResult.ForbiddenDetail`. Exemptions configured on
//! the API server cannot be read and are taken to be none.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{Container, Namespace, PodSpec, Probe};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

use super::{Admission, Objects, Refusal, refusal};

const RULE: &str = "PodSecurity";
/// The newest policy version the 1.37 checks know; `latest` evaluates as this.
const LATEST_MINOR: u32 = 37;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Level {
    Privileged,
    Baseline,
    Restricted,
}

/// The enforce policy of a namespace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyLevel {
    pub level: Level,
    /// `None` for `latest`.
    pub minor: Option<u32>,
}

impl std::fmt::Display for PolicyLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let level = match self.level {
            Level::Privileged => "privileged",
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        };
        match self.minor {
            Some(m) => write!(f, "{level}:v1.{m}"),
            None => write!(f, "{level}:latest"),
        }
    }
}

/// `api.PolicyToEvaluate` for the enforce mode, with the API server's default (privileged,
/// latest): an invalid level enforces `restricted` (`ParseLevel`), an invalid version `latest`.
pub fn namespace_policy(labels: Option<&BTreeMap<String, String>>) -> PolicyLevel {
    let get = |k: &str| labels.and_then(|l| l.get(k)).map(String::as_str);
    let level = match get("pod-security.kubernetes.io/enforce") {
        None | Some("privileged") => Level::Privileged,
        Some("baseline") => Level::Baseline,
        Some(_) => Level::Restricted,
    };
    let minor = get("pod-security.kubernetes.io/enforce-version")
        .and_then(|v| v.strip_prefix("v1."))
        .and_then(|m| m.parse::<u32>().ok());
    PolicyLevel { level, minor }
}

/// One failed check: `ForbiddenReason` and `ForbiddenDetail`.
type Failed = (String, String);
type Check = fn(&ObjectMeta, &PodSpec, u32) -> Option<Failed>;

fn plural(one: &str, many: &str, n: usize) -> String {
    if n == 1 { one.into() } else { many.into() }
}

fn join_quote<S: AsRef<str>>(items: &[S]) -> String {
    if items.is_empty() {
        return String::new();
    }
    let parts: Vec<&str> = items.iter().map(|s| s.as_ref()).collect();
    format!("\"{}\"", parts.join("\", \""))
}

fn containers_phrase(names: &[String]) -> String {
    format!(
        "{} {}",
        plural("container", "containers", names.len()),
        join_quote(names)
    )
}

/// `visitContainers`: init containers, then containers (ephemeral ones are not in a new pod).
fn containers(spec: &PodSpec) -> impl Iterator<Item = &Container> {
    spec.init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter())
}

fn bad_containers(spec: &PodSpec, bad: impl Fn(&Container) -> bool) -> Vec<String> {
    containers(spec)
        .filter(|c| bad(c))
        .map(|c| c.name.clone())
        .collect()
}

fn user_namespace(spec: &PodSpec) -> bool {
    spec.host_users == Some(false)
}

fn windows(spec: &PodSpec) -> bool {
    spec.os.as_ref().is_some_and(|o| o.name == "windows")
}

/// `appArmorProfile_1_0`.
fn app_armor(meta: &ObjectMeta, spec: &PodSpec, _: u32) -> Option<Failed> {
    let allowed = |t: &str| t == "RuntimeDefault" || t == "Localhost";
    let mut setters = Vec::new();
    let mut values = BTreeSet::new();
    if let Some(p) = spec
        .security_context
        .as_ref()
        .and_then(|s| s.app_armor_profile.as_ref())
        && !allowed(&p.type_)
    {
        setters.push("pod".to_string());
        values.insert(p.type_.clone());
    }
    let bad = bad_containers(spec, |c| {
        let t = c
            .security_context
            .as_ref()
            .and_then(|s| s.app_armor_profile.as_ref());
        t.is_some_and(|p| !allowed(&p.type_))
    });
    for c in containers(spec) {
        if let Some(p) = c
            .security_context
            .as_ref()
            .and_then(|s| s.app_armor_profile.as_ref())
            && !allowed(&p.type_)
        {
            values.insert(p.type_.clone());
        }
    }
    if !bad.is_empty() {
        setters.push(containers_phrase(&bad));
    }
    let mut values: Vec<String> = values.into_iter().collect();
    let mut annotations: Vec<String> = meta
        .annotations
        .iter()
        .flatten()
        .filter(|(k, v)| {
            k.starts_with("container.apparmor.security.beta.kubernetes.io/")
                && !(v.is_empty() || *v == "runtime/default" || v.starts_with("localhost/"))
        })
        .map(|(k, v)| format!("{k}={v:?}"))
        .collect();
    if !annotations.is_empty() {
        annotations.sort();
        setters.push(plural("annotation", "annotations", annotations.len()));
        values.extend(annotations);
    }
    (!setters.is_empty()).then(|| {
        (
            plural(
                "forbidden AppArmor profile",
                "forbidden AppArmor profiles",
                values.len(),
            ),
            format!(
                "{} must not set AppArmor profile type to {}",
                setters.join(" and "),
                join_quote(&values)
            ),
        )
    })
}

const BASELINE_CAPABILITIES: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

fn added(c: &Container) -> &[String] {
    c.security_context
        .as_ref()
        .and_then(|s| s.capabilities.as_ref())
        .and_then(|c| c.add.as_deref())
        .unwrap_or(&[])
}

/// `capabilitiesBaseline_1_0`.
fn capabilities_baseline(_: &ObjectMeta, spec: &PodSpec, _: u32) -> Option<Failed> {
    let mut caps = BTreeSet::new();
    let bad = bad_containers(spec, |c| {
        added(c)
            .iter()
            .any(|x| !BASELINE_CAPABILITIES.contains(&x.as_str()))
    });
    for c in containers(spec) {
        caps.extend(
            added(c)
                .iter()
                .filter(|x| !BASELINE_CAPABILITIES.contains(&x.as_str()))
                .cloned(),
        );
    }
    let caps: Vec<String> = caps.into_iter().collect();
    (!bad.is_empty()).then(|| {
        (
            "non-default capabilities".into(),
            format!(
                "{} must not include {} in securityContext.capabilities.add",
                containers_phrase(&bad),
                join_quote(&caps)
            ),
        )
    })
}

/// `hostNamespaces_1_0`.
fn host_namespaces(_: &ObjectMeta, spec: &PodSpec, _: u32) -> Option<Failed> {
    let mut found = Vec::new();
    for (on, name) in [
        (spec.host_network, "hostNetwork=true"),
        (spec.host_pid, "hostPID=true"),
        (spec.host_ipc, "hostIPC=true"),
    ] {
        if on == Some(true) {
            found.push(name);
        }
    }
    (!found.is_empty()).then(|| ("host namespaces".into(), found.join(", ")))
}

/// `hostPathVolumes_1_0`.
fn host_path_volumes(_: &ObjectMeta, spec: &PodSpec, _: u32) -> Option<Failed> {
    let names: Vec<String> = spec
        .volumes
        .iter()
        .flatten()
        .filter(|v| v.host_path.is_some())
        .map(|v| v.name.clone())
        .collect();
    (!names.is_empty()).then(|| {
        (
            "hostPath volumes".into(),
            format!(
                "{} {}",
                plural("volume", "volumes", names.len()),
                join_quote(&names)
            ),
        )
    })
}

/// `hostPorts_1_0`.
fn host_ports(_: &ObjectMeta, spec: &PodSpec, _: u32) -> Option<Failed> {
    let port = |c: &Container| -> Vec<i32> {
        c.ports
            .iter()
            .flatten()
            .filter_map(|p| p.host_port.filter(|h| *h != 0))
            .collect()
    };
    let bad = bad_containers(spec, |c| !port(c).is_empty());
    let ports: BTreeSet<String> = containers(spec)
        .flat_map(port)
        .map(|p| p.to_string())
        .collect();
    let ports: Vec<String> = ports.into_iter().collect();
    (!bad.is_empty()).then(|| {
        (
            "hostPort".into(),
            format!(
                "{} {} {} {}",
                containers_phrase(&bad),
                plural("uses", "use", bad.len()),
                plural("hostPort", "hostPorts", ports.len()),
                ports.join(", ")
            ),
        )
    })
}

fn probe_hosts(p: Option<&Probe>) -> Vec<String> {
    let Some(p) = p else { return Vec::new() };
    let http = p.http_get.as_ref().and_then(|h| h.host.clone());
    let tcp = p.tcp_socket.as_ref().and_then(|t| t.host.clone());
    [http, tcp]
        .into_iter()
        .flatten()
        .filter(|h| !h.is_empty())
        .collect()
}

fn lifecycle_hosts(c: &Container) -> Vec<String> {
    let Some(l) = c.lifecycle.as_ref() else {
        return Vec::new();
    };
    [l.post_start.as_ref(), l.pre_stop.as_ref()]
        .into_iter()
        .flatten()
        .flat_map(|h| {
            let http = h.http_get.as_ref().and_then(|x| x.host.clone());
            let tcp = h.tcp_socket.as_ref().and_then(|x| x.host.clone());
            [http, tcp]
        })
        .flatten()
        .filter(|h| !h.is_empty())
        .collect()
}

/// `hostProbesAndHostLifecycleV1Dot34`.
fn host_probes(_: &ObjectMeta, spec: &PodSpec, version: u32) -> Option<Failed> {
    if version < 34 {
        return None;
    }
    let hosts = |c: &Container| -> Vec<String> {
        let mut h = probe_hosts(c.liveness_probe.as_ref());
        h.extend(probe_hosts(c.readiness_probe.as_ref()));
        h.extend(probe_hosts(c.startup_probe.as_ref()));
        h.extend(lifecycle_hosts(c));
        h
    };
    let bad: BTreeSet<String> = containers(spec)
        .filter(|c| !hosts(c).is_empty())
        .map(|c| c.name.clone())
        .collect();
    let all: BTreeSet<String> = containers(spec).flat_map(hosts).collect();
    let (bad, all): (Vec<String>, Vec<String>) =
        (bad.into_iter().collect(), all.into_iter().collect());
    (!bad.is_empty()).then(|| {
        (
            "probe or lifecycle host".into(),
            format!(
                "{} {} {} {}",
                containers_phrase(&bad),
                plural("uses", "use", bad.len()),
                plural(
                    "probe or lifecycle host",
                    "probe or lifecycle hosts",
                    all.len()
                ),
                join_quote(&all)
            ),
        )
    })
}

/// `privileged_1_0`.
fn privileged(_: &ObjectMeta, spec: &PodSpec, _: u32) -> Option<Failed> {
    let bad = bad_containers(spec, |c| {
        c.security_context.as_ref().and_then(|s| s.privileged) == Some(true)
    });
    (!bad.is_empty()).then(|| {
        (
            "privileged".into(),
            format!(
                "{} must not set securityContext.privileged=true",
                containers_phrase(&bad)
            ),
        )
    })
}

/// `procMount_1_0` (and from 1.35 `procMount1_35baseline`, relaxed in user namespaces).
fn proc_mount(_: &ObjectMeta, spec: &PodSpec, version: u32) -> Option<Failed> {
    if version >= 35 && user_namespace(spec) {
        return None;
    }
    let mount = |c: &Container| {
        c.security_context
            .as_ref()
            .and_then(|s| s.proc_mount.clone())
    };
    let bad = bad_containers(spec, |c| mount(c).is_some_and(|m| m != "Default"));
    let types: BTreeSet<String> = containers(spec)
        .filter_map(mount)
        .filter(|m| m != "Default")
        .collect();
    let types: Vec<String> = types.into_iter().collect();
    (!bad.is_empty()).then(|| {
        (
            "procMount".into(),
            format!(
                "{} must not set securityContext.procMount to {}",
                containers_phrase(&bad),
                join_quote(&types)
            ),
        )
    })
}

/// `seLinuxOptions1_0` / `seLinuxOptions1_31`.
fn selinux(_: &ObjectMeta, spec: &PodSpec, version: u32) -> Option<Failed> {
    let mut allowed = vec!["", "container_t", "container_init_t", "container_kvm_t"];
    if version >= 31 {
        allowed.push("container_engine_t");
    }
    let mut types = BTreeSet::new();
    let (mut user, mut role) = (false, false);
    let mut valid = |o: &k8s_openapi::api::core::v1::SELinuxOptions| {
        let t = o.type_.clone().unwrap_or_default();
        let mut ok = true;
        if !allowed.contains(&t.as_str()) {
            ok = false;
            types.insert(t);
        }
        if o.user.as_deref().is_some_and(|u| !u.is_empty()) {
            ok = false;
            user = true;
        }
        if o.role.as_deref().is_some_and(|r| !r.is_empty()) {
            ok = false;
            role = true;
        }
        ok
    };
    let mut setters = Vec::new();
    if let Some(o) = spec
        .security_context
        .as_ref()
        .and_then(|s| s.se_linux_options.as_ref())
        && !valid(o)
    {
        setters.push("pod".to_string());
    }
    let mut bad = Vec::new();
    for c in containers(spec) {
        if let Some(o) = c
            .security_context
            .as_ref()
            .and_then(|s| s.se_linux_options.as_ref())
            && !valid(o)
        {
            bad.push(c.name.clone());
        }
    }
    if !bad.is_empty() {
        setters.push(containers_phrase(&bad));
    }
    if setters.is_empty() {
        return None;
    }
    let mut data = Vec::new();
    if !types.is_empty() {
        let t: Vec<String> = types.into_iter().collect();
        data.push(format!(
            "{} {}",
            plural("type", "types", t.len()),
            join_quote(&t)
        ));
    }
    if user {
        data.push("user may not be set".into());
    }
    if role {
        data.push("role may not be set".into());
    }
    Some((
        "seLinuxOptions".into(),
        format!(
            "{} set forbidden securityContext.seLinuxOptions: {}",
            setters.join(" and "),
            data.join("; ")
        ),
    ))
}

fn valid_seccomp(t: &str) -> bool {
    t == "Localhost" || t == "RuntimeDefault"
}

fn seccomp_type(c: &Container) -> Option<String> {
    c.security_context
        .as_ref()?
        .seccomp_profile
        .as_ref()
        .map(|p| p.type_.clone())
}

/// `seccompProfileBaseline_1_19` (the 1.0 annotation check for older pinned versions).
fn seccomp_baseline(meta: &ObjectMeta, spec: &PodSpec, version: u32) -> Option<Failed> {
    if version < 19 {
        let bad: Vec<String> = meta
            .annotations
            .iter()
            .flatten()
            .filter(|(k, v)| {
                (k.as_str() == "seccomp.security.alpha.kubernetes.io/pod"
                    || k.starts_with("container.seccomp.security.alpha.kubernetes.io/"))
                    && !(*v == "runtime/default"
                        || *v == "docker/default"
                        || v.starts_with("localhost/"))
            })
            .map(|(k, v)| format!("{k}={v:?}"))
            .collect();
        return (!bad.is_empty()).then(|| {
            (
                "seccompProfile".into(),
                format!(
                    "forbidden {} {}",
                    plural("annotation", "annotations", bad.len()),
                    bad.join(", ")
                ),
            )
        });
    }
    let mut setters = Vec::new();
    let mut values = BTreeSet::new();
    if let Some(p) = spec
        .security_context
        .as_ref()
        .and_then(|s| s.seccomp_profile.as_ref())
        && !valid_seccomp(&p.type_)
    {
        setters.push("pod".to_string());
        values.insert(p.type_.clone());
    }
    let bad = bad_containers(spec, |c| {
        seccomp_type(c).is_some_and(|t| !valid_seccomp(&t))
    });
    values.extend(
        containers(spec)
            .filter_map(seccomp_type)
            .filter(|t| !valid_seccomp(t)),
    );
    if !bad.is_empty() {
        setters.push(containers_phrase(&bad));
    }
    let values: Vec<String> = values.into_iter().collect();
    (!setters.is_empty()).then(|| {
        (
            "seccompProfile".into(),
            format!(
                "{} must not set securityContext.seccompProfile.type to {}",
                setters.join(" and "),
                join_quote(&values)
            ),
        )
    })
}

/// `sysctlsV1Dot*`: the safe set grows with the version.
fn sysctls(_: &ObjectMeta, spec: &PodSpec, version: u32) -> Option<Failed> {
    let mut allowed = vec![
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_unprivileged_port_start",
    ];
    let later: [(u32, &[&str]); 4] = [
        (27, &["net.ipv4.ip_local_reserved_ports"]),
        (
            29,
            &[
                "net.ipv4.tcp_keepalive_time",
                "net.ipv4.tcp_fin_timeout",
                "net.ipv4.tcp_keepalive_intvl",
                "net.ipv4.tcp_keepalive_probes",
            ],
        ),
        (32, &["net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"]),
        (
            37,
            &[
                "net.ipv4.tcp_slow_start_after_idle",
                "net.ipv4.tcp_notsent_lowat",
            ],
        ),
    ];
    for (since, names) in later {
        if version >= since {
            allowed.extend_from_slice(names);
        }
    }
    let bad: Vec<String> = spec
        .security_context
        .iter()
        .flat_map(|s| s.sysctls.iter().flatten())
        .filter(|s| !allowed.contains(&s.name.as_str()))
        .map(|s| s.name.clone())
        .collect();
    (!bad.is_empty()).then(|| ("forbidden sysctls".into(), bad.join(", ")))
}

/// `windowsHostProcess_1_0`.
fn windows_host_process(_: &ObjectMeta, spec: &PodSpec, _: u32) -> Option<Failed> {
    let host = |w: Option<&k8s_openapi::api::core::v1::WindowsSecurityContextOptions>| {
        w.and_then(|w| w.host_process) == Some(true)
    };
    let mut setters = Vec::new();
    if host(
        spec.security_context
            .as_ref()
            .and_then(|s| s.windows_options.as_ref()),
    ) {
        setters.push("pod".to_string());
    }
    let bad = bad_containers(spec, |c| {
        host(
            c.security_context
                .as_ref()
                .and_then(|s| s.windows_options.as_ref()),
        )
    });
    if !bad.is_empty() {
        setters.push(containers_phrase(&bad));
    }
    (!setters.is_empty()).then(|| {
        (
            "hostProcess".into(),
            format!(
                "{} must not set securityContext.windowsOptions.hostProcess=true",
                setters.join(" and ")
            ),
        )
    })
}

/// `allowPrivilegeEscalation_1_8` / `_1_25` (Windows pods exempt).
fn allow_privilege_escalation(_: &ObjectMeta, spec: &PodSpec, version: u32) -> Option<Failed> {
    if version < 8 || (version >= 25 && windows(spec)) {
        return None;
    }
    let bad = bad_containers(spec, |c| {
        c.security_context
            .as_ref()
            .and_then(|s| s.allow_privilege_escalation)
            != Some(false)
    });
    (!bad.is_empty()).then(|| {
        (
            "allowPrivilegeEscalation != false".into(),
            format!(
                "{} must set securityContext.allowPrivilegeEscalation=false",
                containers_phrase(&bad)
            ),
        )
    })
}

/// `capabilitiesRestricted_1_22` / `_1_25`.
fn capabilities_restricted(_: &ObjectMeta, spec: &PodSpec, version: u32) -> Option<Failed> {
    if version >= 25 && windows(spec) {
        return None;
    }
    let caps = |c: &Container| {
        c.security_context
            .as_ref()
            .and_then(|s| s.capabilities.clone())
    };
    let missing_drop = bad_containers(spec, |c| {
        caps(c).is_none_or(|k| !k.drop.iter().flatten().any(|d| d == "ALL"))
    });
    let forbidden_add = |c: &Container| -> Vec<String> {
        caps(c)
            .and_then(|k| k.add)
            .unwrap_or_default()
            .into_iter()
            .filter(|a| a != "NET_BIND_SERVICE")
            .collect()
    };
    let adding = bad_containers(spec, |c| !forbidden_add(c).is_empty());
    let forbidden: BTreeSet<String> = containers(spec).flat_map(forbidden_add).collect();
    let forbidden: Vec<String> = forbidden.into_iter().collect();
    let mut details = Vec::new();
    if !missing_drop.is_empty() {
        details.push(format!(
            "{} must set securityContext.capabilities.drop=[\"ALL\"]",
            containers_phrase(&missing_drop)
        ));
    }
    if !adding.is_empty() {
        details.push(format!(
            "{} must not include {} in securityContext.capabilities.add",
            containers_phrase(&adding),
            join_quote(&forbidden)
        ));
    }
    (!details.is_empty()).then(|| ("unrestricted capabilities".into(), details.join("; ")))
}

/// `restrictedVolumes_1_0`.
fn restricted_volumes(_: &ObjectMeta, spec: &PodSpec, _: u32) -> Option<Failed> {
    let mut names = Vec::new();
    let mut types = BTreeSet::new();
    for v in spec.volumes.iter().flatten() {
        let value = serde_json::to_value(v).unwrap_or_default();
        let kind = value
            .as_object()
            .and_then(|o| o.keys().find(|k| k.as_str() != "name").cloned())
            .unwrap_or_else(|| "unknown".into());
        let allowed = [
            "configMap",
            "csi",
            "downwardAPI",
            "emptyDir",
            "ephemeral",
            "image",
            "persistentVolumeClaim",
            "projected",
            "secret",
        ];
        if !allowed.contains(&kind.as_str()) {
            names.push(v.name.clone());
            types.insert(kind);
        }
    }
    let types: Vec<String> = types.into_iter().collect();
    (!names.is_empty()).then(|| {
        (
            "restricted volume types".into(),
            format!(
                "{} {} {} {} {}",
                plural("volume", "volumes", names.len()),
                join_quote(&names),
                plural("uses", "use", names.len()),
                plural(
                    "restricted volume type",
                    "restricted volume types",
                    types.len()
                ),
                join_quote(&types)
            ),
        )
    })
}

/// `runAsNonRoot1_0` (relaxed in user namespaces from 1.35).
fn run_as_non_root(_: &ObjectMeta, spec: &PodSpec, version: u32) -> Option<Failed> {
    if version >= 35 && user_namespace(spec) {
        return None;
    }
    let pod = spec
        .security_context
        .as_ref()
        .and_then(|s| s.run_as_non_root);
    let mut setters = Vec::new();
    if pod == Some(false) {
        setters.push("pod".to_string());
    }
    let own = |c: &Container| c.security_context.as_ref().and_then(|s| s.run_as_non_root);
    let explicit = bad_containers(spec, |c| own(c) == Some(false));
    let implicit = bad_containers(spec, |c| own(c).is_none() && pod != Some(true));
    if !explicit.is_empty() {
        setters.push(containers_phrase(&explicit));
    }
    let reason = "runAsNonRoot != true".to_string();
    if !setters.is_empty() {
        return Some((
            reason,
            format!(
                "{} must not set securityContext.runAsNonRoot=false",
                setters.join(" and ")
            ),
        ));
    }
    (!implicit.is_empty()).then(|| {
        (
            reason,
            format!(
                "pod or {} {} must set securityContext.runAsNonRoot=true",
                plural("container", "containers", implicit.len()),
                join_quote(&implicit)
            ),
        )
    })
}

/// `runAsUser1_23` (relaxed in user namespaces from 1.35).
fn run_as_user(_: &ObjectMeta, spec: &PodSpec, version: u32) -> Option<Failed> {
    if version < 23 || (version >= 35 && user_namespace(spec)) {
        return None;
    }
    let mut setters = Vec::new();
    if spec.security_context.as_ref().and_then(|s| s.run_as_user) == Some(0) {
        setters.push("pod".to_string());
    }
    let bad = bad_containers(spec, |c| {
        c.security_context.as_ref().and_then(|s| s.run_as_user) == Some(0)
    });
    if !bad.is_empty() {
        setters.push(containers_phrase(&bad));
    }
    (!setters.is_empty()).then(|| {
        (
            "runAsUser=0".into(),
            format!("{} must not set runAsUser=0", setters.join(" and ")),
        )
    })
}

/// `seccompProfileRestricted_1_19` / `_1_25`.
fn seccomp_restricted(_: &ObjectMeta, spec: &PodSpec, version: u32) -> Option<Failed> {
    if version >= 25 && windows(spec) {
        return None;
    }
    let mut setters = Vec::new();
    let mut values = BTreeSet::new();
    let mut pod_set = false;
    if let Some(p) = spec
        .security_context
        .as_ref()
        .and_then(|s| s.seccomp_profile.as_ref())
    {
        if valid_seccomp(&p.type_) {
            pod_set = true;
        } else {
            setters.push("pod".to_string());
            values.insert(p.type_.clone());
        }
    }
    let explicit = bad_containers(spec, |c| {
        seccomp_type(c).is_some_and(|t| !valid_seccomp(&t))
    });
    values.extend(
        containers(spec)
            .filter_map(seccomp_type)
            .filter(|t| !valid_seccomp(t)),
    );
    let implicit = bad_containers(spec, |c| seccomp_type(c).is_none() && !pod_set);
    if !explicit.is_empty() {
        setters.push(containers_phrase(&explicit));
    }
    let values: Vec<String> = values.into_iter().collect();
    if !setters.is_empty() {
        return Some((
            "seccompProfile".into(),
            format!(
                "{} must not set securityContext.seccompProfile.type to {}",
                setters.join(" and "),
                join_quote(&values)
            ),
        ));
    }
    (!implicit.is_empty()).then(|| {
        (
            "seccompProfile".into(),
            format!(
                "pod or {} {} must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"",
                plural("container", "containers", implicit.len()),
                join_quote(&implicit)
            ),
        )
    })
}

/// The checks of one level at one version, in the registry's order (`populate`): baseline
/// IDs sorted, then restricted IDs sorted; at restricted, `restrictedVolumes`,
/// `seccompProfile_restricted`, `capabilities_restricted` and (from 1.35)
/// `procMount_restricted` replace their baseline checks.
fn checks(level: Level, version: u32) -> Vec<Check> {
    let restricted = level == Level::Restricted;
    let mut out: Vec<Check> = vec![app_armor];
    if !(restricted && version >= 22) {
        out.push(capabilities_baseline);
    }
    out.push(host_namespaces);
    if !restricted {
        out.push(host_path_volumes);
    }
    out.extend([host_ports as Check, host_probes, privileged]);
    // Before 1.35 restricted keeps the baseline procMount check; after, procMount_restricted
    // (the 1.0 check, not relaxed for user namespaces) sorts later.
    let strict_proc_mount = restricted && version >= 35;
    if !strict_proc_mount {
        out.push(proc_mount);
    }
    out.push(selinux);
    if !(restricted && version >= 19) {
        out.push(seccomp_baseline);
    }
    out.extend([sysctls as Check, windows_host_process]);
    if restricted {
        out.push(allow_privilege_escalation);
        if version >= 22 {
            out.push(capabilities_restricted);
        }
        if strict_proc_mount {
            out.push(|m, s, _| proc_mount(m, s, 0));
        }
        out.extend([restricted_volumes as Check, run_as_non_root, run_as_user]);
        if version >= 19 {
            out.push(seccomp_restricted);
        }
    }
    out
}

/// `Admission.ValidatePod` / `EvaluatePod` in enforce mode.
pub fn validate(a: &mut Admission, objects: &Objects) -> Option<Refusal> {
    let ns = a.pod.metadata.namespace.clone().unwrap_or_default();
    let Some(namespaces) = objects.namespaces.as_deref() else {
        a.unchecked.push(RULE.into());
        return None;
    };
    let labels = namespaces
        .iter()
        .find(|n: &&Namespace| n.metadata.name.as_deref() == Some(ns.as_str()))
        .and_then(|n| n.metadata.labels.as_ref());
    let policy = namespace_policy(labels);
    if policy.level == Level::Privileged {
        return None;
    }
    let version = policy.minor.unwrap_or(LATEST_MINOR).min(LATEST_MINOR);
    let spec = a.pod.spec.as_ref()?;
    let failed: Vec<Failed> = checks(policy.level, version)
        .into_iter()
        .filter_map(|c| c(&a.pod.metadata, spec, version))
        .collect();
    if failed.is_empty() {
        return None;
    }
    let detail: Vec<String> = failed
        .iter()
        .map(|(r, d)| {
            if d.is_empty() {
                r.clone()
            } else {
                format!("{r} ({d})")
            }
        })
        .collect();
    let why = format!("violates PodSecurity \"{policy}\": {}", detail.join(", "));
    refusal(&a.pod, RULE, "Admission.EvaluatePod", &why)
}
