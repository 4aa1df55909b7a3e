//! `kubectl-ds completion SHELL`: completion scripts for the `kubectl-ds` binary.
//!
//! bash asks `kubectl-ds __complete` for its candidates, the same source `kubectl ds <TAB>` uses
//! through `kubectl_complete-ds`, so it completes namespaces, names and revision numbers from the
//! cluster and file names after `-f`. zsh, fish and PowerShell get clap's static scripts
//! (commands, flags and fixed values).

use clap_complete::Shell;

const BASH: &str = r#"# bash completion for kubectl-ds: source this file, or put it in bash-completion's directory.
# The candidates come from `kubectl-ds __complete WORDS...`; its last line is a cobra directive
# (1 error, 2 no space, 4 no file names, 8 the candidates are file extensions, 16 directories).
_kubectl_ds() {
    local line=${COMP_LINE:0:COMP_POINT}
    local -a words
    read -ra words <<<"$line"
    if [[ -z $line || $line == *[[:space:]] ]]; then
        words+=("")
    fi
    local cur=${words[${#words[@]}-1]}
    local -a lines
    mapfile -t lines < <("${words[0]}" __complete "${words[@]:1}" 2>/dev/null)
    local directive=0
    local last=${lines[${#lines[@]}-1]}
    if [[ $last =~ ^:[0-9]+$ ]]; then
        directive=${last#:}
        unset 'lines[${#lines[@]}-1]'
    fi
    COMPREPLY=()
    if (( directive & 1 )); then
        return
    fi
    if (( directive & 8 )); then
        local ext
        for ext in "${lines[@]}"; do
            mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -f -X "!*.$ext" -- "$cur")
        done
        mapfile -t -O "${#COMPREPLY[@]}" COMPREPLY < <(compgen -d -- "$cur")
        compopt -o filenames 2>/dev/null
        return
    fi
    if (( directive & 16 )); then
        mapfile -t COMPREPLY < <(compgen -d -- "$cur")
        compopt -o filenames 2>/dev/null
        return
    fi
    local c
    for c in "${lines[@]}"; do
        if [[ -n $c && $c == "$cur"* ]]; then
            COMPREPLY+=("$c")
        fi
    done
    if (( ${#COMPREPLY[@]} == 0 && (directive & 4) == 0 )); then
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        compopt -o filenames 2>/dev/null
    fi
    if (( directive & 2 )); then
        compopt -o nospace 2>/dev/null
    fi
    return 0
}
complete -F _kubectl_ds kubectl-ds
"#;

/// The script for `shell`, for the binary `kubectl-ds`.
pub fn script(shell: Shell, cmd: &clap::Command) -> String {
    if shell == Shell::Bash {
        return BASH.to_string();
    }
    let mut visible = visible_command(cmd);
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut visible, "kubectl-ds", &mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

/// The command as the `kubectl-ds` binary, without hidden subcommands (the generators list
/// them, and `__complete` is for kubectl only).
fn visible_command(cmd: &clap::Command) -> clap::Command {
    let mut out = clap::Command::new("kubectl-ds")
        .bin_name("kubectl-ds")
        .version(env!("CARGO_PKG_VERSION"))
        .args(cmd.get_arguments().filter(|a| !a.is_hide_set()).cloned())
        .subcommands(cmd.get_subcommands().filter(|s| !s.is_hide_set()).cloned());
    if let Some(about) = cmd.get_about() {
        out = out.about(about.clone());
    }
    out
}
