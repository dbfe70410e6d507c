#!/bin/bash
# Write zkeep.8, sanoid.8 and syncoid.8 into OUTDIR from the --help texts of the
# built zkeep: one source for both, so the pages cannot drift from the program.
# zkeep.8 has the overview and a section per command (`zkeep help COMMAND`).
#   data/man/gen-man.sh ZKEEP OUTDIR
set -euo pipefail
zkeep=$(realpath "${1:?usage: gen-man.sh ZKEEP OUTDIR}")
out=${2:?usage: gen-man.sh ZKEEP OUTDIR}
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The personalities are chosen by the name zkeep is started under.
ln -s "$zkeep" "$tmp/sanoid"
ln -s "$zkeep" "$tmp/syncoid"
version=$("$zkeep" version | awk '{print $NF}')
# No sanitizer report or locale may leak into a page.
export ASAN_OPTIONS=detect_leaks=0 LC_ALL=C

# Help text as troff: preformatted; backslashes, leading dots/quotes and every '-'
# escaped (an option must copy as ASCII '-', not a typographic hyphen).
as_troff() {
    echo ".nf"
    sed -e 's/\\/\\e/g' -e 's/-/\\-/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"
    echo ".fi"
}

header() { # NAME SUMMARY
    echo ".TH ${1^^} 8 \"\" \"zkeep $version\" \"System Administration\""
    echo ".SH NAME"
    echo "$1 \\- $2"
}

see_also() { # PAGE...
    echo ".SH SEE ALSO"
    local p first=1
    for p in "$@"; do
        [ $first = 1 ] || printf ',\n'
        printf '.BR %s (%s)' "${p%.*}" "${p##*.}"
        first=0
    done
    echo
}

{
    header zkeep "keep ZFS data safe: snapshots, replication, backups, verification, restore"
    echo ".SH SYNOPSIS"
    "$zkeep" help | sed -n '1,/^$/p' | sed '/^$/d' | as_troff
    echo ".SH DESCRIPTION"
    "$zkeep" help | sed '1,/^$/d' | as_troff
    echo ".SH COMMANDS"
    "$zkeep" help | sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p' | while read -r cmd; do
        echo ".SS zkeep $cmd"
        "$zkeep" help "$cmd" | as_troff
    done
    echo ".SH FILES"
    echo ".TP"
    echo ".I /etc/sanoid/sanoid.conf"
    echo "snapshot policy (sanoid's format)"
    echo ".TP"
    echo ".I /etc/zkeep/zkeep.conf"
    echo "scheduled replication jobs and removable drives"
    echo ".SH EXIT STATUS"
    echo "0 success, 1 some item failed, 2 usage or fatal error."
    see_also sanoid.8 syncoid.8 zfs.8 zfs-allow.8 systemd.exec.5
} >"$out/zkeep.8"

{
    header sanoid "zkeep as sanoid: take, prune and monitor ZFS snapshots by policy"
    echo ".SH DESCRIPTION"
    "$tmp/sanoid" --help | as_troff
    see_also zkeep.8 syncoid.8 zfs.8
} >"$out/sanoid.8"

{
    header syncoid "zkeep as syncoid: replicate ZFS datasets locally or over ssh"
    echo ".SH DESCRIPTION"
    "$tmp/syncoid" --help | as_troff
    see_also zkeep.8 sanoid.8 zfs-send.8 zfs-receive.8
} >"$out/syncoid.8"
