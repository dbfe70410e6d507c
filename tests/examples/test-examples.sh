#!/bin/bash
# The shipped example configs and every ```ini block of README.md and docs/ are
# read by zkeep as they stand: sanoid configs by `zkeep config check --offline`,
# zkeep.conf ones (a [zkeep], [job ...] or [drive ...] section) by `zkeep units`,
# which parses jobs and drives and writes their units. TAP.
#   tests/examples/test-examples.sh ZKEEP SOURCE_ROOT
set -uo pipefail
zkeep=$(realpath "${1:?usage: test-examples.sh ZKEEP SOURCE_ROOT}")
root=$(realpath "${2:?usage: test-examples.sh ZKEEP SOURCE_ROOT}")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

i=0 rc=0
report() { # OK NAME [OUTPUT]
    i=$((i + 1))
    if [ "$1" = 0 ]; then
        echo "ok $i $2"
    else
        echo "not ok $i $2"
        sed 's/^/# /' <<<"${3:-}"
        rc=1
    fi
}

# A config as sanoid.conf (DIR/sanoid.conf) or zkeep.conf (FILE): 0 when zkeep reads it.
check_sanoid() { # DIR
    "$zkeep" config check --offline --config-dir "$1" 2>&1
}
check_zkeep() { # FILE
    rm -rf "$tmp/units"
    "$zkeep" units --output "$tmp/units" --config "$1" --configdir "$tmp" --zkeep /usr/bin/zkeep 2>&1
}

# The shipped examples.
out=$(check_sanoid "$root/examples")
report $? "examples/sanoid.conf: zkeep config check --offline" "$out"
out=$(check_zkeep "$root/examples/zkeep.conf")
st=$?
for u in zkeep-job-local.service zkeep-job-offsite.service zkeep-job-vault.service \
    zkeep-drive-usb1.service 90-zkeep-drive-usb1.rules; do
    [ $st != 0 ] || [ -e "$tmp/units/$u" ] || { st=1; out+=$'\n'"no $u written"; }
done
report $st "examples/zkeep.conf: zkeep units writes every job's and drive's units" "$out"

# Every ```ini block of the documentation.
n=0
for md in "$root/README.md" "$root"/docs/*.md; do
    rm -f "$tmp"/block.*
    awk -v out="$tmp/block" '
        /^```ini[[:space:]]*$/ { n++; f = sprintf("%s.%03d", out, n); inblk = 1; next }
        /^```/ { inblk = 0; next }
        inblk { print > f }' "$md"
    for b in "$tmp"/block.*; do
        [ -e "$b" ] || continue
        n=$((n + 1))
        name="${md#"$root"/} ini block ${b##*.}"
        if grep -qE '^\[(zkeep\]|job |drive )' "$b"; then
            cp "$b" "$tmp/zkeep.conf"
            out=$(check_zkeep "$tmp/zkeep.conf")
            report $? "$name: read as zkeep.conf (zkeep units)" "$out"
        else
            mkdir -p "$tmp/sanoid" && cp "$b" "$tmp/sanoid/sanoid.conf"
            out=$(check_sanoid "$tmp/sanoid")
            report $? "$name: read as sanoid.conf (zkeep config check --offline)" "$out"
        fi
    done
done
[ "$n" -gt 0 ] || report 1 "no \`\`\`ini block found in README.md or docs/"
echo "1..$i"
exit $rc
