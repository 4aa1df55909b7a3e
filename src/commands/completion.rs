//! `kubectl-ds completion SHELL`: completion scripts generated from the command definition.

use clap_complete::Shell;

/// The script for `shell`, for the binary `kubectl-ds`.
pub fn script(shell: Shell, cmd: &mut clap::Command) -> String {
    let mut buf = Vec::new();
    clap_complete::generate(shell, cmd, "kubectl-ds", &mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}
