# bash completion for zkeep, and for zkeep installed as sanoid and syncoid.
# Commands and options come from the installed program's own help (`zkeep help`,
# `zkeep help COMMAND`, `sanoid --help`), so they are always the program's; dataset
# names from `zfs list`. Standalone: bash-completion's helpers are not needed.

# The long options a help text lists, one per line: "--name=" for one that takes a
# value (shown as --name=VALUE anywhere in the text), else "--name".
_zkeep_options_of() {
    "$@" 2>/dev/null | grep -oE -- '--[a-z][a-z0-9-]*=?' | sort -u |
        awk '{ o[$0] = 1 } END { for (k in o) if (!((k "=") in o)) print k }' | sort
}

# Filesystems, volumes and snapshots whose names start with $1 (snapshots only once
# an '@' is typed: a pool can have many).
_zkeep_datasets() {
    local types=filesystem,volume
    [[ $1 == *@* ]] && types=snapshot
    local name
    zfs list -H -o name -t "$types" 2>/dev/null | while IFS= read -r name; do
        [[ $name == "$1"* ]] && printf '%q\n' "$name" # quoted: names may hold spaces
    done
}

_zkeep_complete() {
    local prog=${COMP_WORDS[0]##*/} cur=${COMP_WORDS[COMP_CWORD]} cmd= i
    COMPREPLY=()
    local -a helpcmd
    case $prog in
        sanoid | syncoid) helpcmd=("${COMP_WORDS[0]}" --help) ;;
        *)
            # the first word that is not an option is the command
            for ((i = 1; i < COMP_CWORD; i++)); do
                [[ ${COMP_WORDS[i]} == -* ]] || { cmd=${COMP_WORDS[i]}; break; }
            done
            if [[ -z $cmd ]]; then
                if [[ $cur == -* ]]; then
                    mapfile -t COMPREPLY < <(compgen -W "$(_zkeep_options_of "${COMP_WORDS[0]}" help)" -- "$cur")
                else
                    mapfile -t COMPREPLY < <(compgen -W "$("${COMP_WORDS[0]}" help 2>/dev/null |
                        sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p')" -- "$cur")
                fi
                return 0
            fi
            helpcmd=("${COMP_WORDS[0]}" help "$cmd")
            ;;
    esac
    if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(_zkeep_options_of "${helpcmd[@]}")" -- "$cur")
        # an option that takes a value: no space after its '='
        [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]] && compopt -o nospace 2>/dev/null
    else
        mapfile -t COMPREPLY < <(_zkeep_datasets "$cur")
    fi
    return 0
}
complete -F _zkeep_complete zkeep sanoid syncoid
