//! Kubeconfig resolution as kubectl does it: `--kubeconfig`, else `$KUBECONFIG` (merged), else
//! `~/.kube/config`, else the in-cluster service account; `--context`, `--cluster`, `--user`
//! override the current context's parts; `--as`/`--as-group` impersonate.

use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};
use kube::{Client, Config};

use crate::cli::GlobalArgs;
use crate::error::{Error, Result};

/// A client for one cluster plus what the commands need to know about it.
#[derive(Clone)]
pub struct Target {
    pub client: Client,
    /// The kubeconfig context, when one was used.
    pub context: Option<String>,
    /// The namespace of the context (or "default").
    pub namespace: String,
    pub server: String,
    /// `--request-timeout`, when not zero.
    pub timeout: Option<Duration>,
}

/// Parses kubectl's `--request-timeout`: `0` (none), a bare number of seconds, or a duration
/// with units such as `500ms`, `10s`, `2m`, `1h`, `1m30s`.
pub fn parse_timeout(s: &str) -> Result<Option<Duration>> {
    let bad = || {
        Error::input(format!(
            "invalid --request-timeout {s:?}: use a duration such as 10s, 2m or 0 for no limit"
        ))
    };
    let s = s.trim();
    if let Ok(secs) = s.parse::<u64>() {
        return Ok((secs > 0).then(|| Duration::from_secs(secs)));
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let value: f64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        total += Duration::from_secs_f64(value * scale);
    }
    Ok((!total.is_zero()).then_some(total))
}

async fn load_kubeconfig(global: &GlobalArgs) -> Result<Option<Kubeconfig>> {
    if let Some(path) = &global.kubeconfig {
        return match Kubeconfig::read_from(path) {
            Ok(k) => Ok(Some(k)),
            Err(e) => Err(kubeconfig_error(e, Some(path))),
        };
    }
    match Kubeconfig::read() {
        Ok(k) => Ok(Some(k)),
        // No kubeconfig anywhere: fall back to the in-cluster account, as kubectl does.
        Err(KubeconfigError::FindPath) => Ok(None),
        Err(KubeconfigError::ReadConfig(e, _))
            if e.kind() == std::io::ErrorKind::NotFound
                && std::env::var_os("KUBECONFIG").is_none() =>
        {
            Ok(None)
        }
        Err(e) => Err(kubeconfig_error(e, None)),
    }
}

fn kubeconfig_error(e: KubeconfigError, path: Option<&str>) -> Error {
    let msg = match &e {
        KubeconfigError::ReadConfig(io, p) if io.kind() == std::io::ErrorKind::NotFound => {
            format!(
                "kubeconfig file {} does not exist; check --kubeconfig or KUBECONFIG",
                p.display()
            )
        }
        KubeconfigError::ReadConfig(io, p) => {
            format!("cannot read kubeconfig {}: {io}", p.display())
        }
        KubeconfigError::Parse(err) => format!(
            "kubeconfig {} is not valid YAML ({err}); fix or regenerate it",
            path.unwrap_or("(from KUBECONFIG or ~/.kube/config)")
        ),
        KubeconfigError::CurrentContextNotSet => {
            "the kubeconfig has no current context; pass --context or run `kubectl config use-context NAME`".to_string()
        }
        KubeconfigError::LoadContext(name) => format!(
            "context {name:?} is not in the kubeconfig; list the contexts with `kubectl config get-contexts`"
        ),
        KubeconfigError::LoadClusterOfContext(name) => format!(
            "cluster {name:?} is not in the kubeconfig; check --cluster or the context's cluster"
        ),
        KubeconfigError::MissingClusterUrl => {
            "the selected cluster has no server URL in the kubeconfig".to_string()
        }
        KubeconfigError::LoadCertificateAuthority(err)
        | KubeconfigError::LoadClientCertificate(err)
        | KubeconfigError::LoadClientKey(err) => format!(
            "the kubeconfig's certificate data is broken ({e}: {err}); regenerate the kubeconfig"
        ),
        KubeconfigError::ParseCertificates(err) => format!(
            "the kubeconfig's certificate data is broken ({err}); regenerate the kubeconfig"
        ),
        other => format!("cannot use the kubeconfig: {other}"),
    };
    Error::input(msg)
}

/// The context names of the kubeconfig, for `--all-contexts`.
pub async fn context_names(global: &GlobalArgs) -> Result<Vec<String>> {
    let Some(k) = load_kubeconfig(global).await? else {
        return Err(Error::input(
            "--all-contexts needs a kubeconfig, and none was found",
        ));
    };
    Ok(k.contexts.into_iter().map(|c| c.name).collect())
}

/// Connects to one cluster. `context` overrides `--context` (used for multi-context reports).
pub async fn connect(global: &GlobalArgs, context: Option<&str>) -> Result<Target> {
    let timeout = parse_timeout(&global.request_timeout)?;
    let context = context
        .map(str::to_string)
        .or_else(|| global.context.clone());
    let (mut config, context) = match load_kubeconfig(global).await? {
        Some(kubeconfig) => {
            let current = kubeconfig.current_context.clone();
            let options = KubeConfigOptions {
                context: context.clone(),
                cluster: global.cluster.clone(),
                user: global.user.clone(),
            };
            let config = Config::from_custom_kubeconfig(kubeconfig, &options)
                .await
                .map_err(|e| kubeconfig_error(e, global.kubeconfig.as_deref()))?;
            (config, context.or(current))
        }
        None => {
            let config = Config::incluster().map_err(|_| {
                Error::input(
                    "no kubeconfig found (KUBECONFIG is unset and ~/.kube/config does not exist) and not running inside a cluster; pass --kubeconfig",
                )
            })?;
            (config, None)
        }
    };
    if let Some(t) = timeout {
        config.connect_timeout = Some(t);
        config.read_timeout = Some(t);
        config.write_timeout = Some(t);
    }
    // Retries are ours (bounded, within --request-timeout), not the client's open-ended ones.
    config.default_retry = false;
    if let Some(user) = &global.as_user {
        config.auth_info.impersonate = Some(user.clone());
    }
    if !global.as_group.is_empty() {
        if global.as_user.is_none() {
            return Err(Error::input(
                "--as-group needs --as: a group can only be impersonated together with a user",
            ));
        }
        config.auth_info.impersonate_groups = Some(global.as_group.clone());
    }
    let server = config.cluster_url.to_string();
    let namespace = config.default_namespace.clone();
    let client = Client::try_from(config).map_err(|e| {
        Error::input(format!(
            "cannot build a client from the kubeconfig ({e}); check its certificate data"
        ))
    })?;
    Ok(Target {
        client,
        context,
        namespace,
        server,
        timeout,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_timeout_like_kubectl() {
        assert_eq!(parse_timeout("0").unwrap(), None);
        assert_eq!(parse_timeout("5").unwrap(), Some(Duration::from_secs(5)));
        assert_eq!(parse_timeout("10s").unwrap(), Some(Duration::from_secs(10)));
        assert_eq!(
            parse_timeout("1m30s").unwrap(),
            Some(Duration::from_secs(90))
        );
        assert_eq!(
            parse_timeout("500ms").unwrap(),
            Some(Duration::from_millis(500))
        );
        assert!(parse_timeout("ten").is_err());
        assert!(parse_timeout("5x").is_err());
        assert!(parse_timeout("").is_err());
    }
}
