# bash completion for kubectl-ds: source this file, or put it in bash-completion's directory.
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
