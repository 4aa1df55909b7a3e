# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_kubectl_ds_global_optspecs
    string join \n kubeconfig= context= cluster= user= n/namespace= A/all-namespaces request-timeout= o/output= no-color as= as-group= h/help V/version
end

function __fish_kubectl_ds_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_kubectl_ds_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_kubectl_ds_using_subcommand
    set -l cmd (__fish_kubectl_ds_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -l context -d 'Kubeconfig context to use. `coverage` also accepts a comma-separated list' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -l cluster -d 'Kubeconfig cluster to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -l user -d 'Kubeconfig user to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -s n -l namespace -d 'Namespace (default: the context\'s namespace)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -l request-timeout -d 'How long to wait for the API server before giving up (e.g. 10s, 1m; 0 = no limit)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -s o -l output -d 'Output format' -r -f -a "table\t''
wide\t''
json\t''
yaml\t''"
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -l as-group -d 'Group to impersonate; repeat for several' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -s A -l all-namespaces -d 'All namespaces'
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -l no-color -d 'Never colour the output (NO_COLOR is honoured too; colour is used only on a terminal)'
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -s h -l help -d 'Print help'
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -s V -l version -d 'Print version'
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -f -a "coverage" -d 'Which nodes that should run a DaemonSet don\'t, and which pods sit where they shouldn\'t'
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -f -a "completion" -d 'Print a shell completion script'
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -f -a "__complete" -d 'Print completion candidates (used by kubectl_complete-ds)'
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand coverage" -s l -l selector -d 'Only DaemonSets matching this label selector' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand coverage" -l nodes -d 'Only nodes matching this label selector' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand coverage" -l fail-under -d 'Exit 1 when any DaemonSet\'s coverage is below this percentage' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand coverage" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand coverage" -l context -d 'Kubeconfig context to use. `coverage` also accepts a comma-separated list' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand coverage" -l cluster -d 'Kubeconfig cluster to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand coverage" -l user -d 'Kubeconfig user to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand coverage" -s n -l namespace -d 'Namespace (default: the context\'s namespace)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand coverage" -l request-timeout -d 'How long to wait for the API server before giving up (e.g. 10s, 1m; 0 = no limit)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand coverage" -s o -l output -d 'Output format' -r -f -a "table\t''
wide\t''
json\t''
yaml\t''"
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand coverage" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand coverage" -l as-group -d 'Group to impersonate; repeat for several' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand coverage" -s w -l watch -d 'Re-render on every change until interrupted'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand coverage" -l all-contexts -d 'Every context in the kubeconfig, each as its own cluster'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand coverage" -s A -l all-namespaces -d 'All namespaces'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand coverage" -l no-color -d 'Never colour the output (NO_COLOR is honoured too; colour is used only on a terminal)'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand coverage" -s h -l help -d 'Print help'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand completion" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand completion" -l context -d 'Kubeconfig context to use. `coverage` also accepts a comma-separated list' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand completion" -l cluster -d 'Kubeconfig cluster to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand completion" -l user -d 'Kubeconfig user to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand completion" -s n -l namespace -d 'Namespace (default: the context\'s namespace)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand completion" -l request-timeout -d 'How long to wait for the API server before giving up (e.g. 10s, 1m; 0 = no limit)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand completion" -s o -l output -d 'Output format' -r -f -a "table\t''
wide\t''
json\t''
yaml\t''"
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand completion" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand completion" -l as-group -d 'Group to impersonate; repeat for several' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand completion" -s A -l all-namespaces -d 'All namespaces'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand completion" -l no-color -d 'Never colour the output (NO_COLOR is honoured too; colour is used only on a terminal)'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand completion" -s h -l help -d 'Print help'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand __complete" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand __complete" -l context -d 'Kubeconfig context to use. `coverage` also accepts a comma-separated list' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand __complete" -l cluster -d 'Kubeconfig cluster to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand __complete" -l user -d 'Kubeconfig user to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand __complete" -s n -l namespace -d 'Namespace (default: the context\'s namespace)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand __complete" -l request-timeout -d 'How long to wait for the API server before giving up (e.g. 10s, 1m; 0 = no limit)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand __complete" -s o -l output -d 'Output format' -r -f -a "table\t''
wide\t''
json\t''
yaml\t''"
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand __complete" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand __complete" -l as-group -d 'Group to impersonate; repeat for several' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand __complete" -s A -l all-namespaces -d 'All namespaces'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand __complete" -l no-color -d 'Never colour the output (NO_COLOR is honoured too; colour is used only on a terminal)'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand __complete" -s h -l help -d 'Print help'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand help; and not __fish_seen_subcommand_from coverage completion __complete help" -f -a "coverage" -d 'Which nodes that should run a DaemonSet don\'t, and which pods sit where they shouldn\'t'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand help; and not __fish_seen_subcommand_from coverage completion __complete help" -f -a "completion" -d 'Print a shell completion script'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand help; and not __fish_seen_subcommand_from coverage completion __complete help" -f -a "__complete" -d 'Print completion candidates (used by kubectl_complete-ds)'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand help; and not __fish_seen_subcommand_from coverage completion __complete help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
