#!/usr/bin/env bash
# The layering of src/, checked from the includes (TAP; run by `meson test`).
#
#   base -> zfs -> snapshots -> replication -> confine -> drive -> cli -> cmd
#
# A file may include headers of its own folder and of folders to the left of
# it, never of one to the right; src/main.c sits on top. Every quoted include
# names its folder ("zfs/zfs.h"); only the generated "config.h" is bare.
# A second check: no folder's files include each other in a cycle.
set -u
src=${1:?usage: layering.sh SRC_DIR}
layers=(base zfs snapshots replication confine drive cli cmd)
rank() { local i; for i in "${!layers[@]}"; do [ "${layers[$i]}" = "$1" ] && { echo "$i"; return; }; done; echo -1; }

n=0 bad=0
check() { # OK? DESCRIPTION
    n=$((n + 1))
    if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; bad=1; fi
}

for dir in "${layers[@]}"; do
    mine=$(rank "$dir")
    problems=()
    for f in "$src/$dir"/*.[ch]; do
        [ -e "$f" ] || continue
        while IFS= read -r inc; do
            case $inc in
            config.h) continue ;;
            */*) ;;
            *) problems+=("${f#"$src"/}: \"$inc\" does not name its folder"); continue ;;
            esac
            other=$(rank "${inc%%/*}")
            if [ "$other" -lt 0 ]; then
                problems+=("${f#"$src"/}: \"$inc\" is in no known folder")
            elif [ "$other" -gt "$mine" ]; then
                problems+=("${f#"$src"/}: includes \"$inc\", a higher layer")
            fi
        done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
    done
    for p in "${problems[@]}"; do echo "# $p"; done
    check "${#problems[@]}" "src/$dir/ includes only its own and lower layers"
done

# Cycles between files, through their headers: a .c's includes stand for its
# header's. tsort reports a cycle on stderr.
edges=$(for f in "$src"/*/*.[ch] "$src"/main.c; do
    me=${f#"$src"/}; me=${me%.[ch]}
    sed -n 's/^#include "\([^"]*\)\.h".*/\1/p' "$f" | while read -r to; do
        [ "$to" = "$me" ] || [ "$to" = config ] || echo "$me $to"
    done
done)
cycles=$(printf '%s\n' "$edges" | tsort 2>&1 >/dev/null)
[ -z "$cycles" ] || printf '# %s\n' "$cycles"
check "$([ -z "$cycles" ] && echo 0 || echo 1)" "no include cycle between modules"

stray=$(find "$src" -maxdepth 1 -name '*.[ch]' ! -name main.c -printf '%f\n')
[ -z "$stray" ] || printf '# src/%s is in no folder\n' $stray
check "$([ -z "$stray" ] && echo 0 || echo 1)" "every source but main.c is in a domain folder"

echo "1..$n"
exit "$bad"
