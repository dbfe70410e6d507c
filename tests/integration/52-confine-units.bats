#!/usr/bin/env bats
# The command lines of the units `zkeep units` writes work on a real pool. The guest
# has no systemd, so the test plays systemd: ExecStartPre=+ as root, ExecStart as the
# unit's user (a numeric uid stands for the DynamicUser), ExecStopPost=+ as root.
# Runs in the guest: tests/guest/run.sh tests/guest/run-integration.sh

load lib

U=61600

setup() {
    need_root
    need_zfs
    need_zkeep
    make_pool usrc
    make_pool udst
    zfs create usrc/data
    echo hello >/usrc/data/file
    zfs snapshot usrc/data@s1
    STATE=$BATS_TEST_TMPDIR/state
    mkdir -p "$STATE" "$BATS_TEST_TMPDIR/units"
    cat >"$BATS_TEST_TMPDIR/zkeep.conf" <<EOF
[zkeep]
state_dir = $STATE

[job local]
source = usrc/data
target = udst/data
schedule = hourly
receive_set = readonly=on canmount=noauto
receive_inherit = atime

[drive usb1]
pool = udrv
guid = 1
datasets = usrc/data
search_dirs = $(_zkeep_pool_dir)
EOF
    # Readable by the unit's user, as /etc/sanoid is.
    SANOID_DIR=$(mktemp -d /tmp/zkeep-sanoid.XXXXXX) && chmod 755 "$SANOID_DIR"
    printf '[usrc/data]\n\tuse_template = prod\n[template_prod]\n\thourly = 2\n\tdaily = 1\n' \
        >"$SANOID_DIR/sanoid.conf"
    chmod 644 "$SANOID_DIR/sanoid.conf"
    "$ZKEEP" units --output "$BATS_TEST_TMPDIR/units" --config "$BATS_TEST_TMPDIR/zkeep.conf" \
        --configdir "$SANOID_DIR" --zkeep "$ZKEEP" >/dev/null
}

teardown() {
    [ -z "${RECV_PID:-}" ] || kill "$RECV_PID" 2>/dev/null || true
    [ -z "${RECV_SOCK:-}" ] || rm -f "$RECV_SOCK"
    destroy_pools
    rm -rf "${SANOID_DIR:-/nonexistent}" "${RECV_SHIM_DIR:-/nonexistent}"
}


# The value of KEY= in a unit (first one), with the '+' prefix dropped and the
# DynamicUser's name replaced by the numeric uid that stands for it.
unit_line() { # UNIT KEY
    sed -n "s/^$2=+\{0,1\}//p" "$BATS_TEST_TMPDIR/units/$1" | head -n1 |
        sed "s/--user zkeep-job-[A-Za-z0-9_.-]*/--user $U/"
}

# Python: connect to the socket sys.argv[1] and send one well-formed receive request into
# the job's target, with real descriptors (an answer socket, whose other end is `mine`,
# and a pipe's read end as the stream and its write end as stderr).
RECEIVE_REQUEST_PY='
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
r, w = os.pipe()
mine, roots = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
words = ["receive", "zfs", "receive", "-u", "-o", "setuid=off", "-o", "devices=off", "-o",
         "sharenfs=off", "-o", "sharesmb=off", "-x", "zoned", "-x", "exec", "udst/data"]
try:
    socket.send_fds(s, ["\n".join(words).encode()], [roots.fileno(), r, w])
except OSError as e:
    print("send:", e.strerror)
for fd in (r, w):
    os.close(fd)
roots.close()
'

# Plays zkeep-receive-JOB.socket: listens where it says (SocketMode=0666) and, on
# the first connection, runs the receive service's ExecStart as root with the listening
# socket (Accept=no: systemd-socket-activate without --accept). Its log:
# $BATS_TEST_TMPDIR/receive.log.
receive_socket_start() { # JOB
    RECV_SOCK=$(sed -n 's/^ListenSequentialPacket=//p' \
        "$BATS_TEST_TMPDIR/units/zkeep-receive-$1.socket")
    [ -n "$RECV_SOCK" ] || { fail "job $1 has no receive socket unit"; return 1; }
    local start i
    start=$(unit_line "zkeep-receive-$1.service" ExecStart)
    mkdir -p "$(dirname "$RECV_SOCK")"
    chmod 755 "$(dirname "$(dirname "$RECV_SOCK")")" "$(dirname "$RECV_SOCK")" # DirectoryMode=
    rm -f "$RECV_SOCK"
    # shellcheck disable=SC2086 # the unit's words
    systemd-socket-activate --seqpacket -l "$RECV_SOCK" -E ASAN_OPTIONS="$ASAN_OPTIONS" \
        -E UBSAN_OPTIONS="$UBSAN_OPTIONS" $start >"$BATS_TEST_TMPDIR/receive.log" 2>&1 &
    RECV_PID=$!
    for ((i = 0; i < 100; i++)); do
        [ -S "$RECV_SOCK" ] && break
        sleep 0.1
    done
    chmod 666 "$RECV_SOCK"
}

# The unit's ExecStart as its user U (in a fresh StateDirectory), with its environment.
run_as_unit() { # START
    local work env
    work=$(mktemp -d /tmp/zkeep-work.XXXXXX) && chown $U:$U "$work"
    env=$(sed -n 's/^Environment=ZKEEP_ROOT_RECEIVES=/ZKEEP_ROOT_RECEIVES=/p' \
        "$BATS_TEST_TMPDIR/units/zkeep-job-local.service")
    [ "$env" = "ZKEEP_ROOT_RECEIVES=$RECV_SOCK" ] ||
        fail "the job's unit does not name its receive socket: '$env'"
    eval "run setpriv --reuid=$U --regid=$U --clear-groups env ZKEEP_STATE_DIR=\"\$work\" $env $1"
    echo "$output"
}

@test "zkeep-job-local.service: grant, replicate as the unit's user, revoke" {
    local svc=zkeep-job-local.service pre start post
    pre=$(unit_line $svc ExecStartPre)
    start=$(unit_line $svc ExecStart)
    post=$(unit_line $svc ExecStopPost)
    echo "# $pre" >&3
    echo "# $start" >&3
    assert_no_grants usrc udst
    # ExecStartPre=+ (root)
    run $pre
    assert_success
    [ -n "$(zfs allow usrc/data)" ] || fail "no grant after ExecStartPre"
    # a new target: nothing on its parent (root's receive service makes it)
    [ -z "$(zfs allow udst)" ] || fail "grants on the new target's parent:" "$(zfs allow udst)"
    receive_socket_start local
    # ExecStart as the unit's user, in its StateDirectory
    # systemd's quoting: receive_set makes --recvoptions one double-quoted argument
    [[ $start == *' "--recvoptions=u o readonly=on o canmount=noauto x atime" '* ]] ||
        fail "ExecStart without the job's receive options: $start"
    run_as_unit "$start"
    assert_success
    assert_dataset_exists udst/data@s1
    # root's service ran the receive, for this run's uid, and ended with the run
    wait "$RECV_PID" || fail "the receive service failed:" "$(cat "$BATS_TEST_TMPDIR/receive.log")"
    RECV_PID=
    cat "$BATS_TEST_TMPDIR/receive.log"
    grep -q "serving the receives of job local's run (uid $U, " "$BATS_TEST_TMPDIR/receive.log" ||
        fail "the receive service did not serve uid $U"
    # (the full stream and the sync snapshot's increment)
    zpool history -l udst | grep " zfs receive .*udst/data " >"$BATS_TEST_TMPDIR/hist"
    [ "$(wc -l <"$BATS_TEST_TMPDIR/hist")" = 2 ] && ! grep -v "\[user 0 " "$BATS_TEST_TMPDIR/hist" ||
        fail "not two receives, both root's:" "$(cat "$BATS_TEST_TMPDIR/hist")"
    # what the job's receive_set says, granted by ExecStartPre=+ and set by the receive
    assert_equal "$(zfs get -H -o value,source readonly,canmount udst/data | tr '\n' ' ')" \
        "on	local noauto	local " "udst/data readonly, canmount"
    [ -n "$(zfs list -H -t snapshot -o name -r usrc/data | grep '@syncoid_')" ] \
        || fail "no sync snapshot made by the worker"
    # ExecStopPost=+ (root)
    run $post
    assert_success
    assert_no_grants usrc udst
    [ -z "$(ls "$STATE/grants")" ] || fail "journal left: $(ls "$STATE/grants")"
}

# OpenZFS checks a delegated receive on the name the ioctl is given and receives into
# another name it never compares (tests/poc/recv-name-bypass.sh), so a unit's run holds
# no receive: root's receive service (the job's socket) runs its receives. The PoC's
# shim, as the unit's uid, forges a receive into another backup: refused after
# ExecStartPre (nothing on the new target's parent) and after the run made the target
# (root granted it the rest there, no receive). Another local user's connection to the
# socket is refused and closed, and the run is served after it.
@test "hostile unit run: no receive grant, its own ioctl is refused; the receive socket serves its uid only" {
    recv_forge_setup usrc udst/victim
    local pre start post perms
    pre=$(unit_line zkeep-job-local.service ExecStartPre)
    start=$(unit_line zkeep-job-local.service ExecStart)
    post=$(unit_line zkeep-job-local.service ExecStopPost)
    run $pre
    assert_success
    recv_forge udst udst/victim $U
    receive_socket_start local
    # another user asks the socket for a receive into the job's target, well formed
    run setpriv --reuid=65534 --regid=65534 --clear-groups python3 -c "$RECEIVE_REQUEST_PY"'
mine.settimeout(60)
print("answer:", mine.recv(1000).decode() or "none, closed")
' "$RECV_SOCK"
    assert_success
    assert_equal "$output" "answer: none, closed" "the other user's receive"
    # ... and 40 times more: the log keeps the 2^k-th refusals only, and counts the rest
    run setpriv --reuid=65534 --regid=65534 --clear-groups python3 -c '
import socket, sys
for _ in range(40):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(sys.argv[1])
    s.settimeout(60)
    s.recv(10)
    s.close()
' "$RECV_SOCK"
    assert_success
    run_as_unit "$start"
    assert_success
    assert_dataset_exists udst/data@s1
    perms=$(zfs allow udst/data)
    echo "the run's grants on its target after the run: $perms"
    [ -n "$perms" ] || fail "root's receive service did not grant the new target"
    [[ $perms != *receive* ]] || fail "the run holds receive on its target"
    recv_forge udst/data udst/victim $U
    wait "$RECV_PID" || fail "the receive service failed:" "$(cat "$BATS_TEST_TMPDIR/receive.log")"
    RECV_PID=
    cat "$BATS_TEST_TMPDIR/receive.log"
    grep -q "refused the receives of uid 65534 (pid [0-9]*): job local's run is uid $U" \
        "$BATS_TEST_TMPDIR/receive.log" || fail "the other user's connection was not refused"
    # 41 refusals of one uid for one reason, logged: the 1st, 2nd, 4th, ... 32nd, and a count
    assert_equal "$(grep -c "refused the receives of uid 65534" "$BATS_TEST_TMPDIR/receive.log")" 6 \
        "refusal lines for 41 refused connections"
    grep -q "refused 41 connections before the run's, 35 of them not logged" \
        "$BATS_TEST_TMPDIR/receive.log" || fail "no count of the refusals not logged"
    assert_no_dataset udst/victim@b
    run $post
    assert_success
    assert_no_grants usrc udst
}

# The run's end ends root's receive service, whatever the run left behind: a receive it
# wedged (given its own stream's write end as stderr, root's zfs receive waits forever)
# is killed when it hangs up; a connection it passed on (held open after the run) ends
# within a second of ExecStopPost's --revoke. Before, root waited for ever.

# As U: connect to the socket, ask for one receive into the job's target whose stderr is
# the write end of its own stream pipe; then wait until FLAG exists (if given), hang up.
wedge_receive() { # [FLAG]
    setpriv --reuid=$U --regid=$U --clear-groups python3 -c "$RECEIVE_REQUEST_PY"'
import time
for _ in range(600):
    if len(sys.argv) < 3 or os.path.exists(sys.argv[2]):
        break
    time.sleep(0.1)
' "$RECV_SOCK" "$@"
}

# Wait at most 30 s for the receive service to end by itself: 0 when it did.
receive_service_ends() {
    local i
    for ((i = 0; i < 300; i++)); do
        kill -0 "$RECV_PID" 2>/dev/null || { wait "$RECV_PID"; return; }
        sleep 0.1
    done
    return 1
}

@test "hostile unit run: a receive it wedges is killed when it hangs up; its connection ends with --revoke" {
    local pre post flag
    pre=$(unit_line zkeep-job-local.service ExecStartPre)
    post=$(unit_line zkeep-job-local.service ExecStopPost)
    run $pre
    assert_success
    receive_socket_start local
    flag=$(mktemp -d /tmp/zkeep-flag.XXXXXX) && chmod 755 "$flag" # where U can look
    wedge_receive "$flag/go" &
    local held=$! i
    for ((i = 0; i < 300; i++)); do
        pgrep -f "zfs receive .*udst/data" >/dev/null && break
        sleep 0.1
    done
    pgrep -af "zfs receive .*udst/data" || fail "root runs no wedged receive:" \
        "$(cat "$BATS_TEST_TMPDIR/receive.log")"
    touch "$flag/go" # the run hangs up
    wait "$held" || true
    receive_service_ends || fail "root's receive service still waits after the run hung up:" \
        "$(cat "$BATS_TEST_TMPDIR/receive.log")" "$(pgrep -af 'zfs receive')"
    RECV_PID=
    ! pgrep -af "zfs receive .*udst/data" || fail "root's wedged zfs receive still runs"
    # a connection held open past the run: the service ends when --revoke removes the journal
    rm -f "$flag/go"
    receive_socket_start local
    wedge_receive "$flag/go" &
    held=$!
    for ((i = 0; i < 300; i++)); do
        pgrep -f "zfs receive .*udst/data" >/dev/null && break
        sleep 0.1
    done
    pgrep -af "zfs receive .*udst/data" || fail "root runs no wedged receive the second time"
    run $post
    assert_success
    receive_service_ends || fail "root's receive service still serves after --revoke:" \
        "$(cat "$BATS_TEST_TMPDIR/receive.log")"
    RECV_PID=
    touch "$flag/go"
    wait "$held" || true
    rm -rf "$flag"
    cat "$BATS_TEST_TMPDIR/receive.log"
    grep -q "the job's run is over (its grants are revoked): no more receives" \
        "$BATS_TEST_TMPDIR/receive.log" || fail "the service did not end for the revoke"
    ! pgrep -af "zfs receive .*udst/data" || fail "root's wedged zfs receive still runs"
    assert_no_dataset udst/data
    assert_no_grants usrc udst
}

@test "a run killed before ExecStopPost: the next ExecStartPre revokes first; --recover at boot" {
    local svc=zkeep-job-local.service pre post
    pre=$(unit_line $svc ExecStartPre)
    run $pre
    assert_success
    # No ExecStopPost (think: power loss). The next start revokes, then grants again.
    local U0=$U
    U=61601
    pre=$(unit_line $svc ExecStartPre)
    run $pre
    assert_success
    zfs allow usrc/data | grep -q "unknown: $U0" && fail "grants of the previous run's uid $U0 remain"
    zfs allow usrc/data | grep -q "unknown: $U" || fail "no grants for uid $U"
    # At boot, zkeep-recover.service revokes whatever is journalled.
    run $(unit_line zkeep-recover.service ExecStart)
    assert_success
    assert_no_grants usrc udst
}

@test "zkeep-snapshots.service: sanoid --cron as the unit's user on the granted datasets" {
    local svc=zkeep-snapshots.service pre start post
    pre=$(unit_line $svc ExecStartPre | sed "s/--user zkeep-snapshots/--user $U/")
    start=$(unit_line $svc ExecStart)
    post=$(unit_line $svc ExecStopPost)
    echo "# $start" >&3
    run $pre
    assert_success
    zfs allow usrc/data | grep -q "unknown: $U" || fail "no grants for uid $U"
    # CacheDirectory=, RuntimeDirectory= and StateDirectory=, as systemd would make them.
    local state env
    state=/var/lib/$(unit_line $svc StateDirectory)
    env=$(sed -n 's/^Environment=\(ZKEEP_STATE_DIR=.*\)/\1/p' "$BATS_TEST_TMPDIR/units/$svc")
    [ "$env" = "ZKEEP_STATE_DIR=$state" ] || fail "Environment=$env, StateDirectory=$state"
    mkdir -p /var/cache/zkeep-snapshots /run/zkeep-snapshots "$state"
    chown $U:$U /var/cache/zkeep-snapshots /run/zkeep-snapshots "$state"
    # sanoid --cron confines itself too (not root: no_new_privs, Landlock, seccomp).
    run setpriv --reuid=$U --regid=$U --clear-groups env "$env" $start
    echo "$output"
    assert_success
    [ -n "$(zfs list -H -t snapshot -o name usrc/data | grep '@autosnap_')" ] \
        || fail "sanoid --cron took no snapshot as uid $U"
    run $post
    assert_success
    assert_no_grants usrc udst
}

@test "zkeep-drive-usb1.service and its udev rule: the ExecStart backs the datasets up to the drive" {
    local rule=$BATS_TEST_TMPDIR/units/90-zkeep-drive-usb1.rules start
    # the drive is known by its pool's guid (zkeep.conf's guid =): units again with it
    make_pool udrv
    UDRV_GUID=$(zpool get -H -o value guid udrv)
    zpool export udrv
    sed -i "s/^guid = .*/guid = $UDRV_GUID/" "$BATS_TEST_TMPDIR/zkeep.conf"
    "$ZKEEP" units --output "$BATS_TEST_TMPDIR/units" --config "$BATS_TEST_TMPDIR/zkeep.conf" \
        --configdir "$SANOID_DIR" --zkeep "$ZKEEP" >/dev/null
    grep -q "ENV{ID_FS_TYPE}==\"zfs_member\", ENV{ID_FS_UUID}==\"$UDRV_GUID\"" "$rule" ||
        fail "$(cat "$rule")"
    grep -q 'ID_FS_LABEL' "$rule" && fail "the rule matches the pool's name: $(cat "$rule")"
    grep -q 'ENV{SYSTEMD_WANTS}+="zkeep-drive-usb1.service"' "$rule" || fail "$(cat "$rule")"
    start=$(unit_line zkeep-drive-usb1.service ExecStart)
    echo "# $start" >&3
    # The service runs as root (it imports and exports the pool). No udevd in the guest.
    ZPOOL_IMPORT_UDEV_TIMEOUT_MS=0 run $start
    echo "$output"
    assert_success
    zpool list -H udrv >/dev/null 2>&1 && fail "the drive's pool is still imported"
    zpool import -d "$(_zkeep_pool_dir)" udrv
    assert_dataset_exists udrv/usrc/data@s1
    assert_no_grants usrc udst
}
