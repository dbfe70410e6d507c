#!/bin/bash
# The systemd units `zkeep units` writes: each scores below 1.4 with
# `systemd-analyze security --offline=true` (the NixOS syncoid unit's 1.4), a drive's
# service (root, hosting the confined worker) below 2.6, an ssh job's connector (root's
# TCP connection for the run, which has no network) below 1.6, and
# `systemd-analyze verify` accepts them. TAP; the scores are printed.
#   tests/units/test-units.sh ZKEEP
set -uo pipefail
zkeep=${1:?usage: test-units.sh ZKEEP}
limit=1.4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! systemd-analyze security --help 2>/dev/null | grep -q -- --offline; then
    echo "1..0 # SKIP systemd-analyze has no --offline"
    exit 0
fi
mkdir -p "$tmp/sanoid"
echo '[tank/data]' >"$tmp/sanoid/sanoid.conf"
cat >"$tmp/zkeep.conf" <<'CONF'
[zkeep]
state_dir = /var/lib/zkeep

[job local]
source = tank/data
target = backup/data
recursive = yes
schedule = *-*-* 01:00:00
randomized_delay = 15m
receive_set = readonly=on canmount=noauto
receive_inherit = atime

[job offsite]
source = tank/data
target = backup@nas.example:pool/tank-data
raw = yes
schedule = daily
randomized_delay = 1h
ssh_port = 2222
ssh_key = /etc/zkeep/keys/offsite
ssh_known_hosts = /etc/zkeep/known_hosts
ip_allow = 192.0.2.10

[job vault]
source = tank/data
target = zk@192.0.2.20:vault/data
serve = yes

[drive usb1]
pool = usbbackup
guid = 1234567890123456789
datasets = tank/data
CONF
"$zkeep" units --output "$tmp/units" --config "$tmp/zkeep.conf" --configdir "$tmp/sanoid" \
    --zkeep "$(realpath "$zkeep")" >/dev/null || { echo "1..1"; echo "not ok 1 zkeep units failed"; exit 1; }

mapfile -t services < <(ls "$tmp/units"/*.service)
n=$(( ${#services[@]} * 1 + 5 ))
echo "1..$n"
i=0 rc=0
for f in "${services[@]}"; do
    i=$((i + 1))
    out=$(cd "$tmp/units" && systemd-analyze security --offline=true "./$(basename "$f")" 2>&1)
    score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$out")
    l=$limit
    # A drive's service is root (zpool import/export) and hosts the confined worker that
    # replicates the drive's data: CAP_SETUID/SETGID/SETPCAP/KILL/CHOWN/FOWNER/
    # DAC_OVERRIDE, the namespaces and pivot_root are that worker's (docs/security.md).
    [[ $(basename "$f") == zkeep-drive-* ]] && l=2.6
    # An ssh job's connector is root (it reads the grant journal to know the run's uid)
    # with the network the job's run no longer has (TCP to the host's addresses); it
    # runs nothing but `ssh -G` and connects once. The run itself scores 0.5.
    [[ $(basename "$f") == zkeep-connect-* ]] && l=1.6
    if [ -n "$score" ] && awk -v s="$score" -v l="$l" 'BEGIN { exit !(s < l) }'; then
        echo "ok $i $(basename "$f") scores $score (< $l)"
    else
        echo "not ok $i $(basename "$f") scores '${score:-?}' (must be < $l)"
        sed 's/^/# /' <<<"$out" | grep -v '✓' | head -30
        rc=1
    fi
done
# Timers: each replication job on its own OnCalendar with RandomizedDelaySec.
i=$((i + 1))
if grep -q '^OnCalendar=\*-\*-\* 01:00:00$' "$tmp/units/zkeep-job-local.timer" &&
   grep -q '^RandomizedDelaySec=900$' "$tmp/units/zkeep-job-local.timer" &&
   grep -q '^RandomizedDelaySec=3600$' "$tmp/units/zkeep-job-offsite.timer" &&
   grep -q '^OnCalendar=\*:0/15$' "$tmp/units/zkeep-snapshots.timer"; then
    echo "ok $i timers: own OnCalendar and RandomizedDelaySec per job"
else
    echo "not ok $i timers"; rc=1
fi
# Grants around every job run; delegated receives with -u.
i=$((i + 1))
svc=$tmp/units/zkeep-job-local.service
if grep -q '^ExecStartPre=+.* allow --apply --user zkeep-job-local --job local ' "$svc" &&
   grep -q '^ExecStopPost=+.* allow --revoke --job local ' "$svc" &&
   grep -q '^ExecStart=.* replicate "--recvoptions=u o readonly=on o canmount=noauto x atime" --recursive tank/data backup/data$' "$svc" &&
   grep -q '^PrivateNetwork=yes$' "$svc" &&
   grep -q '^PrivateNetwork=yes$' "$tmp/units/zkeep-job-offsite.service" &&
   grep -q '^RestrictAddressFamilies=AF_UNIX$' "$tmp/units/zkeep-job-offsite.service" &&
   grep -q '^ExecStart=.* replicate --recvoptions=u --sendoptions=w --sshport=2222 --sshkey=%d/ssh-key --sshoption=UserKnownHostsFile=%d/ssh-known-hosts --sshoption=StrictHostKeyChecking=yes tank/data backup@nas.example:pool/tank-data$' \
       "$tmp/units/zkeep-job-offsite.service" &&
   grep -q '^LoadCredential=ssh-key:/etc/zkeep/keys/offsite$' "$tmp/units/zkeep-job-offsite.service" &&
   grep -q '^LoadCredential=ssh-known-hosts:/etc/zkeep/known_hosts$' "$tmp/units/zkeep-job-offsite.service" &&
   ! grep -q 'LoadCredential' "$svc" &&
   grep -q '^ExecStart=.* replicate --recvoptions=u --serve tank/data zk@192.0.2.20:vault/data$' \
       "$tmp/units/zkeep-job-vault.service"; then
    echo "ok $i job services grant before and revoke after the run; the ssh job gets its key as a credential"
else
    echo "not ok $i job service lines"; sed 's/^/# /' "$svc" "$tmp/units/zkeep-job-offsite.service"; rc=1
fi
# A local target's receives are root's: the job's receive socket and service, named in
# its run's environment; a remote target has neither.
i=$((i + 1))
if grep -q '^Requires=zkeep-receive-local.socket$' "$svc" &&
   grep -q '^Environment=ZKEEP_ROOT_RECEIVES=/run/zkeep/receive/job-local.sock$' "$svc" &&
   grep -q '^ListenSequentialPacket=/run/zkeep/receive/job-local.sock$' \
       "$tmp/units/zkeep-receive-local.socket" &&
   grep -q '^ExecStart=.* allow --serve-receives --job local ' \
       "$tmp/units/zkeep-receive-local.service" &&
   ! grep -q 'ZKEEP_ROOT_RECEIVES' "$tmp/units/zkeep-job-offsite.service" &&
   [ ! -e "$tmp/units/zkeep-receive-offsite.socket" ]; then
    echo "ok $i a local target's receives go to root's receive socket; a remote target's do not"
else
    echo "not ok $i receive socket units"; rc=1
fi
# An ssh job's run has no network: root's connector connects for it, with the network the
# job's unit had (TCP to the host's addresses only) and no capability.
i=$((i + 1))
off=$tmp/units/zkeep-job-offsite.service
con=$tmp/units/zkeep-connect-offsite.service
if grep -q '^Requires=zkeep-connect-offsite.socket$' "$off" &&
   grep -q '^Environment=ZKEEP_SSH_CONNECTOR=/run/zkeep/connect/job-offsite.sock$' "$off" &&
   ! grep -q '^IPAddressAllow=' "$off" &&
   grep -q '^ListenSequentialPacket=/run/zkeep/connect/job-offsite.sock$' \
       "$tmp/units/zkeep-connect-offsite.socket" &&
   grep -q '^ExecStart=.* allow --serve-connection --job offsite ' "$con" &&
   grep -q '^CapabilityBoundingSet=$' "$con" &&
   grep -q '^RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6$' "$con" &&
   grep -q '^IPAddressDeny=any$' "$con" &&
   grep -q '^IPAddressAllow=192.0.2.10$' "$con" &&
   ! grep -q '^PrivateNetwork=' "$con" &&
   [ -e "$tmp/units/zkeep-connect-vault.socket" ] &&
   [ ! -e "$tmp/units/zkeep-connect-local.socket" ]; then
    echo "ok $i an ssh job's run has no network; root's connector has its host's addresses"
else
    echo "not ok $i connect socket units"; sed 's/^/# /' "$off" "$con"; rc=1
fi
i=$((i + 1))
out=$(systemd-analyze verify --man=no "$tmp"/units/*.service "$tmp"/units/*.timer "$tmp"/units/*.socket 2>&1 |
      grep -v -e 'zfs.target' -e 'Unit .* not found' || true)
if [ -z "$out" ]; then
    echo "ok $i systemd-analyze verify"
else
    echo "not ok $i systemd-analyze verify"; sed 's/^/# /' <<<"$out"; rc=1
fi
exit $rc
