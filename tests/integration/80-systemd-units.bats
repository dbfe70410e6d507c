#!/usr/bin/env bats
# The units `zkeep units` writes, installed into /etc/systemd/system and run by systemd
# itself (252, the host's): DynamicUser, ExecStartPre=+/ExecStopPost=+ around the run,
# the journal, a failed run, the timers, systemd-analyze security.
# Only in the systemd guest (tests/guest/run.sh --systemd); outside it every test FAILS:
#   tests/guest/run.sh --systemd tests/guest/run-integration.sh tests/integration/80-systemd-units.bats
# tests/guest/run-suites.sh runs it in its own systemd pass (ZKEEP_TEST_SYSTEMD=1) and
# keeps it out of the normal queue.

load lib
# start_sshd/stop_sshd: a private sshd on 127.0.0.1 for the ssh job (its own
# setup_file/teardown_file are replaced by this file's below).
load transport

CONF=/etc/zkeep-test/zkeep.conf
SANOID_DIR=/etc/zkeep-test/sanoid
STATE=/var/lib/zkeep-test
UNITS=/etc/systemd/system
# systemd's DynamicUser= range (systemd 252: 61184..65519).
DYN_MIN=61184
DYN_MAX=65519

setup_file() {
    [ "$(cat /proc/1/comm)" = systemd ] || return 0 # each test says why it fails
    make_pool ysrc
    make_pool ydst
    zfs create ysrc/data
    echo hello >/ysrc/data/file
    zfs snapshot ysrc/data@s1
    mkdir -p "$SANOID_DIR" "$STATE"
    # job remote: over ssh to the private sshd, as root (its "id" key logs each
    # command), with the key and known_hosts from root-only files that reach the run
    # as credentials. Scored below, not run: drive usb1 (81-systemd-drive runs one).
    start_sshd
    # snapshots every hour at the minute half an hour from now (so the timer neither
    # fires during the tests nor moves to the next hour while one reads it); job local
    # at 03:17 each day plus at most 600 s; job broken names a source that does not exist.
    SNAP_MIN=$(printf %02d $(((10#$(date +%M) + 30) % 60)))
    export SNAP_MIN
    cat >"$CONF" <<EOF
[zkeep]
state_dir = $STATE
snapshot_schedule = *-*-* *:$SNAP_MIN:00

[job local]
source = ysrc/data
target = ydst/data
schedule = *-*-* 03:17:00
randomized_delay = 600
receive_set = readonly=on

[job broken]
source = ysrc/missing
target = ydst/missing
schedule = daily

[job remote]
source = ysrc/data
target = root@127.0.0.1:ydst/remote
schedule = daily
ssh_port = $SSHD_PORT
ssh_key = $SSHD_DIR/id
ssh_known_hosts = $SSHD_DIR/known_hosts

[drive usb1]
pool = ydrv
guid = 1
datasets = ysrc/data
EOF
    printf '[ysrc/data]\n\tuse_template = prod\n[template_prod]\n\thourly = 2\n\tdaily = 1\n' \
        >"$SANOID_DIR/sanoid.conf"
    chmod 755 "$SANOID_DIR" && chmod 644 "$SANOID_DIR/sanoid.conf"
    # The sanitizer build's settings (run-integration.sh) for every unit systemd starts,
    # through the manager's environment, not the units: a service starts with a clean
    # environment, and LeakSanitizer, which the unit's sandbox stops, would fail the run.
    systemctl set-environment ASAN_OPTIONS="$ASAN_OPTIONS" UBSAN_OPTIONS="$UBSAN_OPTIONS"
    "$ZKEEP" units --output "$UNITS" --config "$CONF" --configdir "$SANOID_DIR" \
        --zkeep "$ZKEEP" >"$BATS_FILE_TMPDIR/written"
    systemctl daemon-reload
}

teardown_file() {
    [ "$(cat /proc/1/comm)" = systemd ] || return 0
    stop_sshd
    destroy_pools
}

setup() {
    need_root
    need_zfs
    need_zkeep
    need_systemd
}

need_systemd() {
    [ "$(cat /proc/1/comm)" = systemd ] ||
        fail "PID 1 is $(cat /proc/1/comm), not systemd: run in the systemd guest" \
            "(tests/guest/run.sh --systemd tests/guest/run-integration.sh $BATS_TEST_FILENAME)"
}

# The uids that ran `zfs OP` on POOL since line SKIP of its history.
history_uids() { # POOL OP [SKIP]
    zpool history -l "$1" | tail -n +"$((${3:-0} + 1))" | grep " zfs $2 " |
        sed -n 's/.*\[user \([0-9]*\).*/\1/p' | sort -u
}

# Each uid is one of systemd's dynamic users, and none is left once its unit ended.
assert_dynamic_uids() { # UID...
    [ $# -gt 0 ] || { fail "no uid found in the pool's history"; return 1; }
    local uid
    for uid in "$@"; do
        [ "$uid" -ge $DYN_MIN ] && [ "$uid" -le $DYN_MAX ] ||
            { fail "uid $uid is not in systemd's DynamicUser range $DYN_MIN..$DYN_MAX"; return 1; }
        ! getent passwd "$uid" >/dev/null ||
            { fail "uid $uid still resolves: $(getent passwd "$uid")"; return 1; }
    done
}

# The unit's journal of this boot (its messages, without metadata).
unit_journal() { # UNIT
    journalctl --sync
    journalctl -b -u "$1" -o cat --no-pager
}

@test "PID 1 is systemd, journald and udevd run, no unit failed at boot" {
    echo "# $(systemctl --version | head -n1)" >&3
    run systemctl is-active systemd-journald.service systemd-udevd.service
    assert_success
    run systemctl --failed --no-legend --plain
    assert_success
    [ -z "$output" ] || fail "failed units: $output"
    # udevd applied zfs's rule (90-zfs.rules: /dev/zfs 0666) at its coldplug.
    run udevadm info --query=property --name=/dev/zfs
    assert_success
    assert_output_contains "DEVNAME=/dev/zfs"
    # The kernel has Landlock, so zkeep's worker must get it under the units too.
    grep -qw landlock /sys/kernel/security/lsm || fail "no Landlock: $(cat /sys/kernel/security/lsm)"
}

@test "zkeep units installed: systemd loads every unit without complaint" {
    local u units=(zkeep-snapshots.service zkeep-snapshots.timer zkeep-recover.service
        zkeep-job-local.service zkeep-job-local.timer zkeep-job-broken.service
        zkeep-job-remote.service zkeep-drive-usb1.service zkeep-receive-local.socket
        zkeep-receive-local.service zkeep-connect-remote.socket zkeep-connect-remote.service)
    for u in "${units[@]}"; do
        grep -qx "$UNITS/$u" "$BATS_FILE_TMPDIR/written" || fail "zkeep units did not write $u"
    done
    # One systemctl for all (each costs a second or two under TCG): a paragraph a unit.
    run systemctl show -p Id,LoadState "${units[@]}"
    assert_success
    local states
    states=$(printf '%s\n' "$output" | awk 'BEGIN { RS = "" } {
        id = ""; st = ""
        for (i = 1; i <= NF; i++) {
            if ($i ~ /^Id=/) id = substr($i, 4)
            if ($i ~ /^LoadState=/) st = substr($i, 11)
        }
        print id, st }')
    for u in "${units[@]}"; do
        grep -qx "$u loaded" <<<"$states" || fail "$u is not loaded:" "$states"
    done
    # What systemd said about them when it loaded them at daemon-reload (an unknown
    # setting, a bad value: "FILE:LINE: ..., ignoring" from PID 1).
    journalctl --sync
    run journalctl -q -b _PID=1 -o cat --no-pager --grep "$UNITS/zkeep-"
    [ -z "$output" ] || fail "systemd complained about the units:" "$output"
}

@test "zkeep-snapshots.service under systemd: sanoid --cron as a DynamicUser, grants only during the run" {
    assert_no_grants ysrc ydst
    local skip
    skip=$(zpool history -l ysrc | wc -l)
    run systemctl start zkeep-snapshots.service
    unit_journal zkeep-snapshots.service
    assert_success
    # The unit's SystemCallFilter= leaves zkeep's own Landlock layer in place.
    run unit_journal zkeep-snapshots.service
    [[ $output != *Landlock* ]] || fail "the worker ran without Landlock:" "$output"
    [ -n "$(zfs list -H -t snapshot -o name ysrc/data | grep '@autosnap_')" ] ||
        fail "no autosnap snapshot of ysrc/data"
    # shellcheck disable=SC2046 # one uid a word
    assert_dynamic_uids $(history_uids ysrc snapshot "$skip")
    assert_no_grants ysrc ydst
    [ -z "$(ls "$STATE/grants")" ] || fail "grant journal left: $(ls "$STATE/grants")"
    run systemctl show -P Result zkeep-snapshots.service
    assert_equal "$output" success "Result"
}

@test "zkeep-job-local.service under systemd: replicates as a DynamicUser, root receives, journal shows zkeep" {
    assert_no_grants ysrc ydst
    local skip_src skip_dst
    skip_src=$(zpool history -l ysrc | wc -l)
    skip_dst=$(zpool history -l ydst | wc -l)
    run systemctl start zkeep-job-local.service
    unit_journal zkeep-job-local.service
    assert_success
    run unit_journal zkeep-job-local.service
    [[ $output != *Landlock* ]] || fail "the worker ran without Landlock:" "$output"
    assert_dataset_exists ydst/data@s1
    # receive_set: systemd passed the quoted --recvoptions as one argument, and the
    # DynamicUser was granted what it sets
    assert_equal "$(zfs get -H -o value,source readonly ydst/data)" "on	local" "ydst/data readonly"
    # The source side ran as the dynamic user; every receive was root's, run by the
    # job's receive service for that user (its socket started it), which ended with
    # the run. The target was new: root granted the user the rest there after it.
    local uid
    uid=$(history_uids ysrc snapshot "$skip_src")
    assert_dynamic_uids $uid
    assert_equal "$(history_uids ydst receive "$skip_dst")" 0 "the uids of the receives"
    run unit_journal zkeep-receive-local.service
    assert_output_contains "serving the receives of job local's run (uid $uid, "
    [[ $output != *refused* ]] || fail "the receive service refused something:" "$output"
    assert_equal "$(systemctl show -P ActiveState zkeep-receive-local.service)" inactive \
        "the receive service after the run"
    assert_equal "$(systemctl show -P ActiveState zkeep-receive-local.socket)" active \
        "the receive socket after the run"
    assert_no_grants ysrc ydst
    [ -z "$(ls "$STATE/grants")" ] || fail "grant journal left: $(ls "$STATE/grants")"
    # The journal holds what ExecStartPre=+ and ExecStart said, under zkeep's name.
    run journalctl -b -u zkeep-job-local.service -o short --no-pager SYSLOG_IDENTIFIER=zkeep
    [ -n "$(printf '%s\n' "$output" | grep ' zkeep\[[0-9]*\]: ')" ] ||
        fail "no line of zkeep in the unit's journal:" "$output"
}

@test "zkeep-job-remote.service under systemd: over ssh with its key as a credential (LoadCredential=)" {
    assert_no_grants ysrc ydst
    # Only root can read the key where zkeep.conf names it (a 0700 directory): the
    # run's DynamicUser reaches it through the credential alone.
    assert_equal "$(stat -c %a "$SSHD_DIR")" 700 "mode of the key's directory"
    local skip_src
    skip_src=$(zpool history -l ysrc | wc -l)
    cp "$SSHD_DIR/sshd.log" "$SSHD_DIR/sshd.log.before"
    # The run has no network (PrivateNetwork=yes): its one TCP connection is root's
    # connector's, served to the run's uid alone. Another user who connects first starts
    # the connector and is refused, while a run (uid 60999 here) holds the job's grants:
    # closed, no socket passed.
    assert_equal "$(systemctl show -P PrivateNetwork zkeep-job-remote.service)" yes \
        "PrivateNetwork of the ssh job's unit"
    "$ZKEEP" allow --apply --user 60999 --job remote --config "$CONF" --state-dir "$STATE"
    systemctl start zkeep-connect-remote.socket
    run setpriv --reuid=65534 --regid=65534 --clear-groups python3 -c '
import array, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.settimeout(30)
s.connect(sys.argv[1])
msg, anc, flags, addr = s.recvmsg(4096, socket.CMSG_SPACE(16))
print("answer=%r fds=%d" % (msg, len(anc)))' /run/zkeep/connect/job-remote.sock
    assert_success
    assert_equal "$output" "answer=b'' fds=0" "what the connector gave uid 65534"
    "$ZKEEP" allow --revoke --job remote --config "$CONF" --state-dir "$STATE"
    run systemctl start zkeep-job-remote.service
    unit_journal zkeep-job-remote.service
    assert_success
    run unit_journal zkeep-connect-remote.service
    assert_output_contains "refused the ssh connection of uid 65534"
    assert_output_contains "job remote's run is uid 60999"
    assert_output_contains "connected to 127.0.0.1 port $SSHD_PORT for job remote's ssh"
    local served
    served=$(grep -o "serving the ssh connection of job remote's run (uid [0-9]*" <<<"$output" |
        grep -o '[0-9]*$')
    # shellcheck disable=SC2086
    assert_dynamic_uids $served
    assert_equal "$(systemctl show -P ActiveState zkeep-connect-remote.service)" inactive \
        "the connector after the run"
    run unit_journal zkeep-job-remote.service
    [[ $output != *Landlock* ]] || fail "the worker ran without Landlock:" "$output"
    assert_dataset_exists ydst/remote@s1
    # (jobs receive with -u: mounted here to read it)
    zfs mount ydst/remote
    assert_equal "$(cat /ydst/remote/file)" hello "the file received over ssh"
    # The source side ran as a dynamic user (its sync snapshot); the receive was the
    # remote's, as root, through the key's logged commands.
    # shellcheck disable=SC2046
    assert_dynamic_uids $(history_uids ysrc snapshot "$skip_src")
    grep -q "'zfs' 'receive'" "$LOGGED_CMDS" || fail "no receive through the key:" "$(cat "$LOGGED_CMDS")"
    # sshd let in exactly the key of ssh_key (the only one the run had).
    local fp
    fp=$(ssh-keygen -lf "$SSHD_DIR/id.pub" | awk '{print $2}')
    run diff "$SSHD_DIR/sshd.log.before" "$SSHD_DIR/sshd.log"
    assert_output_contains "Accepted publickey for root from 127.0.0.1"
    assert_output_contains "$fp"
    # systemd removed the run's credentials with the run.
    [ ! -e /run/credentials/zkeep-job-remote.service ] ||
        fail "credentials left: $(ls -la /run/credentials/zkeep-job-remote.service)"
    assert_no_grants ysrc ydst
    [ -z "$(ls "$STATE/grants")" ] || fail "grant journal left: $(ls "$STATE/grants")"
}

@test "a job whose source does not exist: the unit fails, says why, leaves no grant" {
    run systemctl start zkeep-job-broken.service
    assert_failure
    run systemctl is-failed zkeep-job-broken.service
    assert_equal "$output" failed "state of zkeep-job-broken.service"
    run unit_journal zkeep-job-broken.service
    printf '%s\n' "$output" | grep -m2 'ysrc/missing' | sed 's/^/# journal: /' >&3
    assert_output_contains "ysrc/missing"
    assert_no_grants ysrc ydst
    [ -z "$(ls "$STATE/grants")" ] || fail "grant journal left: $(ls "$STATE/grants")"
    systemctl reset-failed zkeep-job-broken.service
}

@test "zkeep-job-local.service killed with SIGKILL mid-run: failed, and ExecStopPost=+ revoked" {
    systemctl start --no-block zkeep-job-local.service
    # Wait for ExecStart (the grants are made by then), at most 60 s.
    local pid=0 i
    for ((i = 0; i < 120; i++)); do
        pid=$(systemctl show -P MainPID zkeep-job-local.service)
        [ "$pid" != 0 ] && break
        sleep 0.5
    done
    [ "$pid" != 0 ] || fail "zkeep-job-local.service never reached its ExecStart"
    [ -n "$(zfs allow ysrc/data)" ] || fail "no grant on ysrc/data while the job runs"
    run systemctl kill -s KILL zkeep-job-local.service
    assert_success
    # ExecStopPost=+ runs after the kill; the unit ends failed.
    for ((i = 0; i < 120; i++)); do
        [[ $(systemctl show -P ActiveState zkeep-job-local.service) =~ ^(failed|inactive)$ ]] && break
        sleep 0.5
    done
    run systemctl show -P Result zkeep-job-local.service
    assert_equal "$output" signal "Result of the killed run"
    run systemctl is-failed zkeep-job-local.service
    assert_equal "$output" failed "state of the killed run"
    assert_no_grants ysrc ydst
    [ -z "$(ls "$STATE/grants")" ] || fail "grant journal left: $(ls "$STATE/grants")"
    systemctl reset-failed zkeep-job-local.service
}

@test "zkeep-recover.service starts and stays active (RemainAfterExit)" {
    run systemctl start zkeep-recover.service
    unit_journal zkeep-recover.service
    assert_success
    run systemctl is-active zkeep-recover.service
    assert_equal "$output" active "state of zkeep-recover.service (RemainAfterExit)"
}

# NEXT of a timer in list-timers, as seconds since the epoch.
timer_next() { # TIMER
    local next
    next=$(systemctl list-timers --all --no-legend --plain "$1" | awk '{print $2, $3, $4}')
    date -d "$next" +%s
}

@test "timers are scheduled as configured (systemctl list-timers)" {
    systemctl start zkeep-snapshots.timer zkeep-job-local.timer
    systemctl list-timers --all --no-pager zkeep-\* >&3
    local now next expect
    now=$(date +%s)
    # OnCalendar= is local time, as date's. snapshots: the next minute $SNAP_MIN of an
    # hour (AccuracySec=1s, no random delay)
    expect=$(date -d "$(date -d "@$now" '+%F %H'):$SNAP_MIN:00" +%s)
    [ "$expect" -gt "$now" ] || expect=$((expect + 3600))
    next=$(timer_next zkeep-snapshots.timer)
    assert_equal "$next" "$expect" "next run of zkeep-snapshots.timer"
    # job local: the next 03:17, plus RandomizedDelaySec=600 at most
    expect=$(date -d "$(date -d "@$now" +%F) 03:17:00" +%s)
    [ "$expect" -gt "$now" ] || expect=$((expect + 86400))
    next=$(timer_next zkeep-job-local.timer)
    [ "$next" -ge "$expect" ] && [ "$next" -le $((expect + 600)) ] ||
        fail "next run of zkeep-job-local.timer: $(date -d "@$next"), want" \
            "$(date -d "@$expect") + 0..600 s"
    systemctl stop zkeep-snapshots.timer zkeep-job-local.timer
}

# The drive's service is root and hosts the confined worker that replicates the drive's
# data: the capabilities and namespaces that takes are its; an ssh job's connector is
# root with the network its run no longer has (tests/units/test-units.sh).
@test "systemd-analyze security: every zkeep unit as installed scores below 1.4, a drive's below 2.6, a connector's below 1.6" {
    local u score bad= limit
    for u in zkeep-job-local.service zkeep-snapshots.service zkeep-recover.service \
        zkeep-job-remote.service zkeep-drive-usb1.service zkeep-receive-local.service \
        zkeep-connect-remote.service; do
        score=$(systemd-analyze security --no-pager "$u" |
            sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
        echo "# systemd-analyze security $u: ${score:-none}" >&3
        [ -n "$score" ] || { bad+=" $u(no score)"; continue; }
        limit=1.4
        [[ $u == zkeep-drive-* ]] && limit=2.6
        [[ $u == zkeep-connect-* ]] && limit=1.6
        awk -v s="$score" -v l="$limit" 'BEGIN { exit !(s < l) }' || bad+=" $u($score >= $limit)"
    done
    [ -z "$bad" ] || fail "scores too high:$bad"
}
