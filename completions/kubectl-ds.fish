# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_kubectl_ds_global_optspecs
    string join \n kubeconfig= context= cluster= user= n/namespace= request-timeout= o/output= no-color as= as-group= h/help V/version
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
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -l context -d 'Kubeconfig context to use' -r
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
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -l no-color -d 'Never colour the output (NO_COLOR is honoured too; colour is used only on a terminal)'
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -s h -l help -d 'Print help'
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -s V -l version -d 'Print version'
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -f -a "coverage" -d 'Which nodes that should run a DaemonSet don\'t, and which pods sit where they shouldn\'t'
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -f -a "explain" -d 'Why a node has no daemon pod, or a broken one: one verdict per DaemonSet and node'
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -f -a "rollout" -d 'Rollout status and history of DaemonSets'
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -f -a "rollback" -d 'Restore a DaemonSet\'s pod template from an earlier revision'
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -f -a "preview" -d 'Where a DaemonSet manifest would land, or what a new node would get, before either exists'
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -f -a "overhead" -d 'What the DaemonSets take of each kind of node, and what is left for workloads'
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -f -a "completion" -d 'Print a shell completion script'
complete -c kubectl-ds -n "__fish_kubectl_ds_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand coverage" -s l -l selector -d 'Only DaemonSets matching this label selector' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand coverage" -l nodes -d 'Only nodes matching this label selector' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand coverage" -l fail-under -d 'Exit 1 when any DaemonSet\'s coverage is below this percentage' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand coverage" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand coverage" -l context -d 'Kubeconfig context to use' -r
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
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand coverage" -s A -l all-namespaces -d 'All namespaces'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand coverage" -s w -l watch -d 'Re-render on every change until interrupted'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand coverage" -l all-contexts -d 'Every context in the kubeconfig, each as its own cluster'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand coverage" -l no-color -d 'Never colour the output (NO_COLOR is honoured too; colour is used only on a terminal)'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand coverage" -s h -l help -d 'Print help'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand explain; and not __fish_seen_subcommand_from node ds help" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand explain; and not __fish_seen_subcommand_from node ds help" -l context -d 'Kubeconfig context to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand explain; and not __fish_seen_subcommand_from node ds help" -l cluster -d 'Kubeconfig cluster to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand explain; and not __fish_seen_subcommand_from node ds help" -l user -d 'Kubeconfig user to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand explain; and not __fish_seen_subcommand_from node ds help" -s n -l namespace -d 'Namespace (default: the context\'s namespace)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand explain; and not __fish_seen_subcommand_from node ds help" -l request-timeout -d 'How long to wait for the API server before giving up (e.g. 10s, 1m; 0 = no limit)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand explain; and not __fish_seen_subcommand_from node ds help" -s o -l output -d 'Output format' -r -f -a "table\t''
wide\t''
json\t''
yaml\t''"
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand explain; and not __fish_seen_subcommand_from node ds help" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand explain; and not __fish_seen_subcommand_from node ds help" -l as-group -d 'Group to impersonate; repeat for several' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand explain; and not __fish_seen_subcommand_from node ds help" -l no-color -d 'Never colour the output (NO_COLOR is honoured too; colour is used only on a terminal)'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand explain; and not __fish_seen_subcommand_from node ds help" -s h -l help -d 'Print help'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand explain; and not __fish_seen_subcommand_from node ds help" -f -a "node" -d 'Every DaemonSet in scope (or the ones named) on one node, worst first'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand explain; and not __fish_seen_subcommand_from node ds help" -f -a "ds" -d 'One DaemonSet on every node, grouped by reason'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand explain; and not __fish_seen_subcommand_from node ds help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand explain; and __fish_seen_subcommand_from node" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand explain; and __fish_seen_subcommand_from node" -l context -d 'Kubeconfig context to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand explain; and __fish_seen_subcommand_from node" -l cluster -d 'Kubeconfig cluster to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand explain; and __fish_seen_subcommand_from node" -l user -d 'Kubeconfig user to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand explain; and __fish_seen_subcommand_from node" -s n -l namespace -d 'Namespace (default: the context\'s namespace)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand explain; and __fish_seen_subcommand_from node" -l request-timeout -d 'How long to wait for the API server before giving up (e.g. 10s, 1m; 0 = no limit)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand explain; and __fish_seen_subcommand_from node" -s o -l output -d 'Output format' -r -f -a "table\t''
wide\t''
json\t''
yaml\t''"
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand explain; and __fish_seen_subcommand_from node" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand explain; and __fish_seen_subcommand_from node" -l as-group -d 'Group to impersonate; repeat for several' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand explain; and __fish_seen_subcommand_from node" -s A -l all-namespaces -d 'All namespaces'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand explain; and __fish_seen_subcommand_from node" -l no-color -d 'Never colour the output (NO_COLOR is honoured too; colour is used only on a terminal)'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand explain; and __fish_seen_subcommand_from node" -s h -l help -d 'Print help'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand explain; and __fish_seen_subcommand_from ds" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand explain; and __fish_seen_subcommand_from ds" -l context -d 'Kubeconfig context to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand explain; and __fish_seen_subcommand_from ds" -l cluster -d 'Kubeconfig cluster to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand explain; and __fish_seen_subcommand_from ds" -l user -d 'Kubeconfig user to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand explain; and __fish_seen_subcommand_from ds" -s n -l namespace -d 'Namespace (default: the context\'s namespace)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand explain; and __fish_seen_subcommand_from ds" -l request-timeout -d 'How long to wait for the API server before giving up (e.g. 10s, 1m; 0 = no limit)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand explain; and __fish_seen_subcommand_from ds" -s o -l output -d 'Output format' -r -f -a "table\t''
wide\t''
json\t''
yaml\t''"
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand explain; and __fish_seen_subcommand_from ds" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand explain; and __fish_seen_subcommand_from ds" -l as-group -d 'Group to impersonate; repeat for several' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand explain; and __fish_seen_subcommand_from ds" -s A -l all-namespaces -d 'All namespaces'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand explain; and __fish_seen_subcommand_from ds" -l no-color -d 'Never colour the output (NO_COLOR is honoured too; colour is used only on a terminal)'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand explain; and __fish_seen_subcommand_from ds" -s h -l help -d 'Print help'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand explain; and __fish_seen_subcommand_from help" -f -a "node" -d 'Every DaemonSet in scope (or the ones named) on one node, worst first'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand explain; and __fish_seen_subcommand_from help" -f -a "ds" -d 'One DaemonSet on every node, grouped by reason'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand explain; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and not __fish_seen_subcommand_from status history undo help" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and not __fish_seen_subcommand_from status history undo help" -l context -d 'Kubeconfig context to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and not __fish_seen_subcommand_from status history undo help" -l cluster -d 'Kubeconfig cluster to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and not __fish_seen_subcommand_from status history undo help" -l user -d 'Kubeconfig user to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and not __fish_seen_subcommand_from status history undo help" -s n -l namespace -d 'Namespace (default: the context\'s namespace)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and not __fish_seen_subcommand_from status history undo help" -l request-timeout -d 'How long to wait for the API server before giving up (e.g. 10s, 1m; 0 = no limit)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and not __fish_seen_subcommand_from status history undo help" -s o -l output -d 'Output format' -r -f -a "table\t''
wide\t''
json\t''
yaml\t''"
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and not __fish_seen_subcommand_from status history undo help" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and not __fish_seen_subcommand_from status history undo help" -l as-group -d 'Group to impersonate; repeat for several' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and not __fish_seen_subcommand_from status history undo help" -l no-color -d 'Never colour the output (NO_COLOR is honoured too; colour is used only on a terminal)'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and not __fish_seen_subcommand_from status history undo help" -s h -l help -d 'Print help'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and not __fish_seen_subcommand_from status history undo help" -f -a "status" -d 'Whether the rollouts are done, and which nodes hold them up'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and not __fish_seen_subcommand_from status history undo help" -f -a "history" -d 'The revisions of a DaemonSet, or one revision\'s template, or a diff of two'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and not __fish_seen_subcommand_from status history undo help" -f -a "undo" -d 'Same as `kubectl ds rollback`'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and not __fish_seen_subcommand_from status history undo help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from status" -s l -l selector -d 'Only DaemonSets matching this label selector' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from status" -l timeout -d 'Follow the rollouts (implies --watch), giving up after this long (e.g. 30s, 5m; 0 = never) with exit 1' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from status" -l revision -d 'Only done when this revision is the current one' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from status" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from status" -l context -d 'Kubeconfig context to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from status" -l cluster -d 'Kubeconfig cluster to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from status" -l user -d 'Kubeconfig user to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from status" -s n -l namespace -d 'Namespace (default: the context\'s namespace)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from status" -l request-timeout -d 'How long to wait for the API server before giving up (e.g. 10s, 1m; 0 = no limit)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from status" -s o -l output -d 'Output format' -r -f -a "table\t''
wide\t''
json\t''
yaml\t''"
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from status" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from status" -l as-group -d 'Group to impersonate; repeat for several' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from status" -s A -l all-namespaces -d 'All namespaces'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from status" -s w -l watch -d 'Follow the rollouts until they are done, stuck or the timeout expires'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from status" -l no-color -d 'Never colour the output (NO_COLOR is honoured too; colour is used only on a terminal)'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from history" -l revision -d 'Show this revision\'s pod template' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from history" -l diff -d 'Diff two revisions\' templates (`--diff A B`); with one number or with --revision N, that revision against the current one' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from history" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from history" -l context -d 'Kubeconfig context to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from history" -l cluster -d 'Kubeconfig cluster to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from history" -l user -d 'Kubeconfig user to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from history" -s n -l namespace -d 'Namespace (default: the context\'s namespace)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from history" -l request-timeout -d 'How long to wait for the API server before giving up (e.g. 10s, 1m; 0 = no limit)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from history" -s o -l output -d 'Output format' -r -f -a "table\t''
wide\t''
json\t''
yaml\t''"
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from history" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from history" -l as-group -d 'Group to impersonate; repeat for several' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from history" -l no-color -d 'Never colour the output (NO_COLOR is honoured too; colour is used only on a terminal)'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from history" -s h -l help -d 'Print help'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from undo" -l to-revision -d 'The revision to restore (default: the previous one, as kubectl does)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from undo" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from undo" -l context -d 'Kubeconfig context to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from undo" -l cluster -d 'Kubeconfig cluster to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from undo" -l user -d 'Kubeconfig user to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from undo" -s n -l namespace -d 'Namespace (default: the context\'s namespace)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from undo" -l request-timeout -d 'How long to wait for the API server before giving up (e.g. 10s, 1m; 0 = no limit)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from undo" -s o -l output -d 'Output format' -r -f -a "table\t''
wide\t''
json\t''
yaml\t''"
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from undo" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from undo" -l as-group -d 'Group to impersonate; repeat for several' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from undo" -l dry-run -d 'Print the template diff and change nothing'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from undo" -s y -l yes -d 'Do not ask for confirmation (it is only asked on a terminal)'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from undo" -l no-color -d 'Never colour the output (NO_COLOR is honoured too; colour is used only on a terminal)'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from undo" -s h -l help -d 'Print help'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from help" -f -a "status" -d 'Whether the rollouts are done, and which nodes hold them up'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from help" -f -a "history" -d 'The revisions of a DaemonSet, or one revision\'s template, or a diff of two'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from help" -f -a "undo" -d 'Same as `kubectl ds rollback`'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollout; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollback" -l to-revision -d 'The revision to restore (default: the previous one, as kubectl does)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollback" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollback" -l context -d 'Kubeconfig context to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollback" -l cluster -d 'Kubeconfig cluster to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollback" -l user -d 'Kubeconfig user to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollback" -s n -l namespace -d 'Namespace (default: the context\'s namespace)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollback" -l request-timeout -d 'How long to wait for the API server before giving up (e.g. 10s, 1m; 0 = no limit)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollback" -s o -l output -d 'Output format' -r -f -a "table\t''
wide\t''
json\t''
yaml\t''"
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollback" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollback" -l as-group -d 'Group to impersonate; repeat for several' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollback" -l dry-run -d 'Print the template diff and change nothing'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollback" -s y -l yes -d 'Do not ask for confirmation (it is only asked on a terminal)'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollback" -l no-color -d 'Never colour the output (NO_COLOR is honoured too; colour is used only on a terminal)'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand rollback" -s h -l help -d 'Print help'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand preview" -s f -l filename -d 'DaemonSet manifest file (YAML or JSON, several documents allowed), or - for standard input' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand preview" -l node -d 'A Node manifest (YAML or JSON), or -: what the DaemonSets in scope would do on that node once it joins' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand preview" -l node-like -d 'Like --node, for a new node made like this existing one' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand preview" -l labels -d 'With --node or --node-like: labels to set (k=v) or remove (k-) on the new node' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand preview" -l taints -d 'With --node or --node-like: taints to add (k=v:Effect, k:Effect) or remove (k-, k:Effect-) on the new node' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand preview" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand preview" -l context -d 'Kubeconfig context to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand preview" -l cluster -d 'Kubeconfig cluster to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand preview" -l user -d 'Kubeconfig user to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand preview" -s n -l namespace -d 'Namespace (default: the context\'s namespace)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand preview" -l request-timeout -d 'How long to wait for the API server before giving up (e.g. 10s, 1m; 0 = no limit)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand preview" -s o -l output -d 'Output format' -r -f -a "table\t''
wide\t''
json\t''
yaml\t''"
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand preview" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand preview" -l as-group -d 'Group to impersonate; repeat for several' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand preview" -l server-dry-run -d 'Also send the manifest to the API server with dryRun=All, so admission, validation and defaulting errors show now; nothing is persisted'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand preview" -l fail-if-unplaceable -d 'Exit 1 when a targeted node could not take the pod'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand preview" -l no-color -d 'Never colour the output (NO_COLOR is honoured too; colour is used only on a terminal)'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand preview" -s h -l help -d 'Print help'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand overhead" -l group-by -d 'Group nodes by the values of these labels instead of by node pool' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand overhead" -s l -l selector -d 'Only nodes matching this label selector' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand overhead" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand overhead" -l context -d 'Kubeconfig context to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand overhead" -l cluster -d 'Kubeconfig cluster to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand overhead" -l user -d 'Kubeconfig user to use' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand overhead" -s n -l namespace -d 'Namespace (default: the context\'s namespace)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand overhead" -l request-timeout -d 'How long to wait for the API server before giving up (e.g. 10s, 1m; 0 = no limit)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand overhead" -s o -l output -d 'Output format' -r -f -a "table\t''
wide\t''
json\t''
yaml\t''"
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand overhead" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand overhead" -l as-group -d 'Group to impersonate; repeat for several' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand overhead" -s A -l all-namespaces -d 'All namespaces'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand overhead" -l no-color -d 'Never colour the output (NO_COLOR is honoured too; colour is used only on a terminal)'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand overhead" -s h -l help -d 'Print help'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand completion" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand completion" -l context -d 'Kubeconfig context to use' -r
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
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand completion" -l no-color -d 'Never colour the output (NO_COLOR is honoured too; colour is used only on a terminal)'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand completion" -s h -l help -d 'Print help'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand help; and not __fish_seen_subcommand_from coverage explain rollout rollback preview overhead completion help" -f -a "coverage" -d 'Which nodes that should run a DaemonSet don\'t, and which pods sit where they shouldn\'t'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand help; and not __fish_seen_subcommand_from coverage explain rollout rollback preview overhead completion help" -f -a "explain" -d 'Why a node has no daemon pod, or a broken one: one verdict per DaemonSet and node'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand help; and not __fish_seen_subcommand_from coverage explain rollout rollback preview overhead completion help" -f -a "rollout" -d 'Rollout status and history of DaemonSets'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand help; and not __fish_seen_subcommand_from coverage explain rollout rollback preview overhead completion help" -f -a "rollback" -d 'Restore a DaemonSet\'s pod template from an earlier revision'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand help; and not __fish_seen_subcommand_from coverage explain rollout rollback preview overhead completion help" -f -a "preview" -d 'Where a DaemonSet manifest would land, or what a new node would get, before either exists'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand help; and not __fish_seen_subcommand_from coverage explain rollout rollback preview overhead completion help" -f -a "overhead" -d 'What the DaemonSets take of each kind of node, and what is left for workloads'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand help; and not __fish_seen_subcommand_from coverage explain rollout rollback preview overhead completion help" -f -a "completion" -d 'Print a shell completion script'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand help; and not __fish_seen_subcommand_from coverage explain rollout rollback preview overhead completion help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand help; and __fish_seen_subcommand_from explain" -f -a "node" -d 'Every DaemonSet in scope (or the ones named) on one node, worst first'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand help; and __fish_seen_subcommand_from explain" -f -a "ds" -d 'One DaemonSet on every node, grouped by reason'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand help; and __fish_seen_subcommand_from rollout" -f -a "status" -d 'Whether the rollouts are done, and which nodes hold them up'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand help; and __fish_seen_subcommand_from rollout" -f -a "history" -d 'The revisions of a DaemonSet, or one revision\'s template, or a diff of two'
complete -c kubectl-ds -n "__fish_kubectl_ds_using_subcommand help; and __fish_seen_subcommand_from rollout" -f -a "undo" -d 'Same as `kubectl ds rollback`'
