//! Kubeconfig resolution as kubectl does it: `--kubeconfig`, else `$KUBECONFIG` (merged), else
//! `~/.kube/config`, else the in-cluster service account; `--context`, `--cluster`, `--user`
//! override the current context's parts; `--as`/`--as-group` impersonate.

use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};
use kube::{Client, Config};

use crate::error::{Error, Result};

/// What selects and reaches a cluster, as kubectl's global flags say it; resolved once from
/// the command line (`settings`), so this layer never sees the command line itself.
#[derive(Clone, Debug, Default)]
pub struct ConnectOptions {
    pub kubeconfig: Option<String>,
    /// `--context`; `coverage` also takes a comma-separated list ([`ConnectOptions::contexts`]).
    pub context: Option<String>,
    pub cluster: Option<String>,
    pub user: Option<String>,
    /// `--request-timeout`, when not zero.
    pub request_timeout: Option<Duration>,
    pub as_user: Option<String>,
    pub as_group: Vec<String>,
}

impl ConnectOptions {
    /// The contexts of `--context a,b`, when it names more than one.
    pub fn contexts(&self) -> Option<Vec<String>> {
        self.context
            .as_deref()
            .filter(|c| c.contains(','))
            .map(|c| {
                c.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
    }
}

/// Where a command gets its clusters: from the kubeconfig, as kubectl resolves it, or one
/// client handed in (the tests' mock API server).
#[derive(Clone)]
pub enum Clusters {
    Kubeconfig(ConnectOptions),
    Given(Target),
}

impl Clusters {
    /// The cluster of the selected context.
    pub async fn connect(&self) -> Result<Target> {
        match self {
            Clusters::Kubeconfig(options) => connect(options, None).await,
            Clusters::Given(target) => Ok(target.clone()),
        }
    }

    /// The cluster of `context`, for reports over several contexts.
    pub async fn connect_to(&self, context: &str) -> Result<Target> {
        match self {
            Clusters::Kubeconfig(options) => connect(options, Some(context)).await,
            Clusters::Given(target) => Ok(Target {
                context: Some(context.to_string()),
                ..target.clone()
            }),
        }
    }

    /// The contexts `--context a,b` names, or every context of the kubeconfig with `all`.
    pub async fn contexts(&self, all: bool) -> Result<Option<Vec<String>>> {
        match self {
            Clusters::Kubeconfig(options) if all => Ok(Some(context_names(options).await?)),
            Clusters::Kubeconfig(options) => Ok(options.contexts()),
            Clusters::Given(_) => Ok(None),
        }
    }
}

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

impl Target {
    /// A cluster reached through `client` (a mock API server in tests), with `namespace` as its
    /// context's namespace.
    pub fn new(client: Client, namespace: &str, server: &str) -> Self {
        Target {
            client,
            context: None,
            namespace: namespace.to_string(),
            server: server.to_string(),
            timeout: None,
        }
    }
}

async fn load_kubeconfig(options: &ConnectOptions) -> Result<Option<Kubeconfig>> {
    if let Some(path) = &options.kubeconfig {
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
pub async fn context_names(options: &ConnectOptions) -> Result<Vec<String>> {
    let Some(k) = load_kubeconfig(options).await? else {
        return Err(Error::input(
            "--all-contexts needs a kubeconfig, and none was found",
        ));
    };
    Ok(k.contexts.into_iter().map(|c| c.name).collect())
}

/// Connects to one cluster. `context` overrides `--context` (used for multi-context reports).
pub async fn connect(options: &ConnectOptions, context: Option<&str>) -> Result<Target> {
    let timeout = options.request_timeout;
    let context = context
        .map(str::to_string)
        .or_else(|| options.context.clone());
    let (mut config, context) = match load_kubeconfig(options).await? {
        Some(kubeconfig) => {
            let current = kubeconfig.current_context.clone();
            let selected = KubeConfigOptions {
                context: context.clone(),
                cluster: options.cluster.clone(),
                user: options.user.clone(),
            };
            let config = Config::from_custom_kubeconfig(kubeconfig, &selected)
                .await
                .map_err(|e| kubeconfig_error(e, options.kubeconfig.as_deref()))?;
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
    if let Some(user) = &options.as_user {
        config.auth_info.impersonate = Some(user.clone());
    }
    if !options.as_group.is_empty() {
        config.auth_info.impersonate_groups = Some(options.as_group.clone());
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
