//! The command line resolved once into typed settings: what `cli` parsed as text becomes
//! durations, a namespace scope, an output and validated selectors here, before any command
//! runs, so no layer below parses a flag again (the low/high split of ripgrep's arguments and
//! uv's settings). `cluster` and `render` get their parts of it, never the command line.

use std::io::IsTerminal;
use std::time::Duration;

use crate::cli::{AllNamespaces, Command, ExplainCommand, GlobalArgs, RolloutCommand};
use crate::cluster::Target;
use crate::cluster::connect::ConnectOptions;
use crate::error::{Error, Result};
use crate::logic::apimachinery::labels;
use crate::render::{Output, Styles};

/// Everything the global flags decide.
#[derive(Clone, Debug)]
pub struct Settings {
    pub connect: ConnectOptions,
    pub namespace: NamespaceScope,
    pub output: Output,
}

/// `-n`, `-A`, or neither: which namespaces a command reads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum NamespaceScope {
    /// Neither flag: the kubeconfig context's namespace, for the commands that default to one.
    #[default]
    Context,
    /// `-n NS`.
    Named(String),
    /// `-A`.
    All,
}

impl NamespaceScope {
    /// The namespace to read, `None` for every namespace: `-A`, else `-n`, else the context's
    /// namespace (kubectl's `ToRawKubeConfigLoader().Namespace()`).
    pub fn resolve(&self, target: &Target) -> Option<String> {
        match self {
            NamespaceScope::All => None,
            _ => Some(self.one(target)),
        }
    }

    /// One namespace whatever `-A` says (the commands about one object): `-n`, else the
    /// context's namespace.
    pub fn one(&self, target: &Target) -> String {
        match self {
            NamespaceScope::Named(ns) => ns.clone(),
            _ => target.namespace.clone(),
        }
    }

    /// `-n` when given; `None` (every namespace) otherwise, for the commands whose answer is
    /// about all the DaemonSets a node gets.
    pub fn named_or_all(&self) -> Option<String> {
        match self {
            NamespaceScope::Named(ns) => Some(ns.clone()),
            _ => None,
        }
    }

    /// `-n`, as given.
    pub fn flag(&self) -> Option<&str> {
        match self {
            NamespaceScope::Named(ns) => Some(ns),
            _ => None,
        }
    }

    fn from_flags(namespace: Option<&str>, all: bool) -> Self {
        match (all, namespace) {
            (true, _) => NamespaceScope::All,
            (false, Some(ns)) => NamespaceScope::Named(ns.to_string()),
            (false, None) => NamespaceScope::Context,
        }
    }
}

impl Settings {
    /// Resolves the global flags of `command`; colour and width follow standard output.
    pub fn resolve(global: &GlobalArgs, command: &Command) -> Result<Settings> {
        let styles = Styles::resolve(
            global.no_color,
            std::env::var("NO_COLOR").ok().as_deref(),
            std::io::stdout().is_terminal(),
        );
        Ok(Settings {
            connect: connect_options(global)?,
            namespace: NamespaceScope::from_flags(
                global.namespace.as_deref(),
                all_namespaces(command).all_namespaces,
            ),
            output: Output {
                format: global.output,
                styles,
                width: screen().map(|(w, _)| w),
                tty: std::io::stdout().is_terminal(),
            },
        })
    }
}

/// `--kubeconfig`, `--context`, `--cluster`, `--user`, `--request-timeout`, `--as`,
/// `--as-group`.
pub fn connect_options(global: &GlobalArgs) -> Result<ConnectOptions> {
    if !global.as_group.is_empty() && global.as_user.is_none() {
        return Err(Error::input(
            "--as-group needs --as: a group can only be impersonated together with a user",
        ));
    }
    Ok(ConnectOptions {
        kubeconfig: global.kubeconfig.clone(),
        context: global.context.clone(),
        cluster: global.cluster.clone(),
        user: global.user.clone(),
        request_timeout: parse_timeout(&global.request_timeout)?,
        as_user: global.as_user.clone(),
        as_group: global.as_group.clone(),
    })
}

/// `-A` of the commands that take it.
fn all_namespaces(command: &Command) -> AllNamespaces {
    match command {
        Command::Coverage(a) => a.all,
        Command::Explain(ExplainCommand::Node(a)) => a.all,
        Command::Explain(ExplainCommand::Ds(a)) => a.all,
        Command::Rollout(RolloutCommand::Status(a)) => a.all,
        Command::Overhead(a) => a.all,
        _ => AllNamespaces::default(),
    }
}

/// The terminal's width and height, when standard output is one; piped output is not fitted
/// to anything, as kubectl's is not.
pub fn screen() -> Option<(u16, u16)> {
    let stdout = std::io::stdout();
    if !stdout.is_terminal() {
        return None;
    }
    terminal_size::terminal_size_of(&stdout).map(|(w, h)| (w.0, h.0))
}

/// A label selector flag, checked with kubectl's rules (`labels.Parse`) before it is sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selector(String);

impl Selector {
    /// `flag`'s value, when given and valid.
    pub fn parse(flag: &str, value: Option<&str>) -> Result<Option<Selector>> {
        let Some(v) = value else {
            return Ok(None);
        };
        labels::parse_selector(v)
            .map_err(|e| Error::input(format!("invalid {flag} selector {v:?}: {e}")))?;
        Ok(Some(Selector(v.to_string())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The text of an optional selector, as the API takes it.
pub fn selector_text(selector: &Option<Selector>) -> Option<String> {
    selector.as_ref().map(|s| s.0.clone())
}

/// A duration flag and the text it was given as (messages quote what the user typed).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Timeout {
    /// `None` for 0, no limit.
    pub limit: Option<Duration>,
    pub text: String,
}

impl Timeout {
    /// A duration flag other than `--request-timeout` (`rollout status --timeout`).
    pub fn parse(flag: &str, s: &str) -> Result<Timeout> {
        let limit = parse_timeout(s).map_err(|_| {
            Error::input(format!(
                "invalid {flag} {s:?}: use a duration such as 30s, 5m or 0 for no limit"
            ))
        })?;
        Ok(Timeout {
            limit,
            text: s.to_string(),
        })
    }
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
