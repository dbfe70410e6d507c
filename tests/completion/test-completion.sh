#!/bin/bash
# bash completion (data/completion/zkeep.bash) against the built zkeep: commands,
# options of zkeep's commands and of the sanoid/syncoid personalities (from their
# help texts), dataset names (from `zfs list`, here a stand-in that prints a fixed
# list: the completion's use of it is what is tested, not ZFS). And the man pages
# (data/man/gen-man.sh) render without a groff warning and hold every option. TAP.
#   tests/completion/test-completion.sh ZKEEP SOURCE_ROOT
set -uo pipefail
zkeep=$(realpath "${1:?usage: test-completion.sh ZKEEP SOURCE_ROOT}")
root=$(realpath "${2:?usage: test-completion.sh ZKEEP SOURCE_ROOT}")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ln -s "$zkeep" "$tmp/zkeep"
ln -s "$zkeep" "$tmp/sanoid"
ln -s "$zkeep" "$tmp/syncoid"
export PATH=$tmp:$PATH ASAN_OPTIONS=detect_leaks=0
# shellcheck source=../../data/completion/zkeep.bash
source "$root/data/completion/zkeep.bash"
zfs() { # list -H -o name -t TYPES
    local t=$6
    [[ $t == *filesystem* ]] && printf '%s\n' tank tank/home "tank/a b" backup
    [[ $t == *snapshot* ]] && printf '%s\n' tank/home@s1 tank/home@s2 tank@x
    return 0
}

i=0 rc=0
expect() { # WANT WORD... : completing the last word gives exactly WANT (space-separated)
    local want=$1
    shift
    COMP_WORDS=("$@")
    COMP_CWORD=$(($# - 1))
    _zkeep_complete
    local got="${COMPREPLY[*]}"
    i=$((i + 1))
    if [ "$got" = "$want" ]; then
        echo "ok $i complete '$*' -> $want"
    else
        echo "not ok $i complete '$*': got '$got', want '$want'"
        rc=1
    fi
}
expect "serve snapshot status" zkeep s
expect "replicate restore" zkeep re
expect "--dry-run" zkeep replicate --dry
expect "--no-stream" syncoid --no-st
expect "--monitor-snapshots" sanoid --monitor-s
expect "--configdir=" sanoid --confi
expect "tank tank/home tank/a\\ b" zkeep replicate --dry-run tank
expect "tank/home@s1 tank/home@s2" syncoid tank/home@
expect "backup" syncoid tank/home b

# Man pages: generated from the same help texts, rendered without warnings.
"$root/data/man/gen-man.sh" "$zkeep" "$tmp/man" >/dev/null 2>&1
for page in zkeep sanoid syncoid; do
    i=$((i + 1))
    f=$tmp/man/$page.8
    warn=$( [ -s "$f" ] && LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$f" 2>&1) || warn="no page"
    if [ -z "$warn" ]; then
        echo "ok $i $page.8 renders without warnings"
    else
        echo "not ok $i $page.8: $warn"
        rc=1
    fi
done
# Every option of every command's help is in zkeep.8, as the reader types it.
i=$((i + 1))
text=$(LC_ALL=C.UTF-8 MANWIDTH=200 man -l "$tmp/man/zkeep.8" 2>/dev/null)
missing=
for cmd in $(zkeep help | sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p'); do
    for o in $(zkeep help "$cmd" | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
        grep -qF -- "$o" <<<"$text" || missing+=" $cmd:$o"
    done
done
if [ -z "$missing" ] && grep -q "zkeep replicate" <<<"$text"; then
    echo "ok $i zkeep.8 has every command and option"
else
    echo "not ok $i zkeep.8 lacks:$missing"
    rc=1
fi
echo "1..$i"
exit $rc
