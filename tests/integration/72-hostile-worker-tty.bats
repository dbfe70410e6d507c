#!/usr/bin/env bats
# A compromised worker (a bug in zfs, ssh or zkeep's worker code) gets no terminal:
# it cannot type commands into the admin's shell (TIOCSTI/TIOCLINUX), its output
# reaches the admin's terminal only through the supervisor's relay with control
# sequences escaped, and the kernel interfaces no worker needs (userfaultfd,
# personality changes) are refused. A worker has no network: without ssh nothing at
# all, with ssh only the connection its supervisor made to the job's host and port.
#
# The hostile worker is tests/tools/test-tty-escape.c, run with `zkeep confine --run`
# under script(1), i.e. on a real pseudo-terminal that is the controlling terminal
# of the session zkeep was started from.
# Runs inside the guest: tests/guest/run.sh tests/guest/run-integration.sh

load lib
load transport # start_sshd/stop_sshd; this file's setup_file and teardown_file are its own

UIDS=60720-60729

# ZKEEP_TTY_TOOL overrides the tool's path (to run this file against another build).
setup_file() {
    case ${ZKEEP_BUILD:-build} in
        /*) TOOL=${ZKEEP_BUILD}/tests/test-tty-escape ;;
        *) TOOL=$ZKEEP_ROOT/${ZKEEP_BUILD:-build}/tests/test-tty-escape ;;
    esac
    export TOOL=${ZKEEP_TTY_TOOL:-$TOOL}
    # The worker needs a job: one grant on a dataset of a scratch pool.
    if [ -c /dev/zfs ] && [ "$(id -u)" = 0 ]; then
        make_pool ttyp 64M
    fi
}

teardown_file() {
    destroy_pools
}

setup() {
    need_root
    need_zfs
    need_zkeep
    [ -x "$TOOL" ] || skip "$TOOL is not built"
    STATE=$BATS_TEST_TMPDIR/state
    mkdir -p "$STATE"
}

teardown() {
    pkill -KILL -U 60720 2>/dev/null || true
    if [ -n "${REPL_PID:-}" ]; then kill "$REPL_PID" 2>/dev/null; wait "$REPL_PID" 2>/dev/null; fi
    [ -z "${SSHD_PID:-}" ] || stop_sshd
    zfs destroy -r ttyp/ssrc 2>/dev/null || true
    zfs destroy -r ttyp/sdst 2>/dev/null || true
}

zk() { # zkeep confine --run with this test's state dir and uid range
    "$ZKEEP" confine --run --state-dir "$STATE" --uid-range "$UIDS" --grant ttyp=snapshot "$@"
}

@test "worker: no TIOCSTI/TIOCLINUX into the admin's terminal, no controlling terminal (under script)" {
    command -v script >/dev/null || skip "script(1) is not installed"
    # After the worker, a shell reads what the terminal holds as input: injected
    # keystrokes would show up there (and in the terminal's echo).
    run script -qec "'$ZKEEP' confine --run --state-dir '$STATE' --uid-range $UIDS \
        --grant ttyp=snapshot --program '$TOOL' -- '$TOOL'; read -t 1 line; echo \"shell read: [\$line]\"" /dev/null
    [[ $output == *"tiocsti fd0:"* ]] || fail "the hostile worker did not run:" "$output"
    [[ $output != *INJECTED* ]] || fail "the worker typed into the terminal:" "$output"
    [[ $output != *ALLOWED* ]] || fail "the worker reached a refused ioctl:" "$output"
    local fd
    for fd in fd0 fd1 fd2 wide; do
        [[ $output == *"tiocsti $fd: EPERM"* ]] || fail "TIOCSTI on $fd not refused by seccomp:" "$output"
    done
    [[ $output == *"ctty none"* ]] || fail "the worker has a controlling terminal:" "$output"
}

@test "worker: userfaultfd and personality changes refused, the personality query allowed" {
    run zk --program "$TOOL" -- "$TOOL"
    assert_success
    assert_output_contains "userfaultfd: EPERM"
    assert_output_contains "personality query: ok"
    assert_output_contains "personality addr_no_randomize: EPERM"
}

@test "worker: stdin is /dev/null, escape sequences on its stdout/stderr arrive escaped, exit status kept" {
    run zk --program sh --program readlink -- sh -c '
        readlink /proc/self/fd/0
        printf "A\033]0;pwned\007B\033[2JC\n" >&2
        printf "D\033P+q\033\\\\E\n"
        exit 7'
    [ "$status" -eq 7 ] || fail "exit status $status, expected the worker's 7:" "$output"
    assert_output_contains "/dev/null"
    [[ $output != *$'\a'* ]] || fail "a raw BEL reached the caller:" "$output"
    [[ $output != *$'\033'* ]] || fail "a raw ESC reached the caller:" "$output"
    assert_output_contains 'A\x1b]0;pwned\x07B\x1b[2JC'
    assert_output_contains 'D\x1bP+q\x1b\E'
}

@test "worker: a job without ssh has no network (a namespace of its own, nothing reachable)" {
    # In the host's namespace a closed port refuses and UDP goes out; here neither.
    run zk --program bash -- bash -c '
        exec 3<>/dev/tcp/127.0.0.1/9 && echo TCP-CONNECTED
        echo x >/dev/udp/127.0.0.1/9 && echo UDP-SENT
        exit 0'
    assert_success
    [[ $output != *TCP-CONNECTED* && $output != *UDP-SENT* ]] || fail "the worker reached the network:" "$output"
    [[ $output != *"Connection refused"* ]] || fail "the worker reached the host's loopback:" "$output"
    assert_output_contains "Network is unreachable"
}

@test "worker: an ssh job's worker has no network (ssh runs over the socket its supervisor connected)" {
    start_sshd
    zfs create ttyp/ssrc
    head -c 3M /dev/urandom >/ttyp/ssrc/f
    zfs snapshot ttyp/ssrc@s1
    # Slow on purpose (12 s of stream) so the worker is caught while it replicates.
    ZKEEP_STATE_DIR=$STATE "$ZKEEP" --verbose replicate --no-sync-snap --bwlimit=256K --sshport="$SSHD_PORT" \
        --sshkey="$SSHD_DIR/id" -o "UserKnownHostsFile=$SSHD_DIR/known_hosts" \
        -o StrictHostKeyChecking=yes ttyp/ssrc root@127.0.0.1:ttyp/sdst \
        >"$BATS_TEST_TMPDIR/run.log" 2>&1 &
    REPL_PID=$!
    # The worker: zkeep as a run uid (default range 60700-60799), there for the whole
    # run; its ssh is its child. Its name is in /proc/PID/comm.
    local pid= uid= i
    for i in $(seq 300); do
        read -r pid uid < <(ps -e -o pid=,uid=,comm= |
            awk '$3 == "zkeep" && $2 >= 60700 && $2 <= 60799 { print $1, $2; exit }') || true
        [ -n "$pid" ] && break
        kill -0 "$REPL_PID" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "$pid" ] || fail "no worker seen:" "$(cat "$BATS_TEST_TMPDIR/run.log")"
    local netns
    netns=$(readlink "/proc/$pid/ns/net")
    [ -n "$netns" ] && [ "$netns" != "$(readlink /proc/self/ns/net)" ] ||
        fail "the worker runs in this host's network namespace ($netns)"
    # From inside the worker's network namespace, as its run uid: TCP to the ssh
    # port itself and to another port, UDP, and netlink (which sees no address and
    # no link but its own loopback, down). In the host's namespace all of these reach.
    run nsenter --target "$pid" --net setpriv --reuid="$uid" --regid="$uid" --clear-groups \
        /usr/bin/python3 -c '
import errno, socket, sys
def err(e): return errno.errorcode.get(e.errno, str(e))
for port in (int(sys.argv[1]), 9):
    s = socket.socket()
    s.settimeout(5)
    try:
        s.connect(("127.0.0.1", port)); print("tcp", port, "CONNECTED")
    except OSError as e:
        print("tcp", port, err(e))
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    u.sendto(b"x", ("127.0.0.1", 9)); print("udp SENT")
except OSError as e:
    print("udp", err(e))' "$SSHD_PORT"
    assert_success
    assert_equal "$output" "$(printf 'tcp %s ENETUNREACH\ntcp 9 ENETUNREACH\nudp ENETUNREACH' "$SSHD_PORT")" \
        "TCP and UDP from the worker's namespace"
    run nsenter --target "$pid" --net setpriv --reuid="$uid" --regid="$uid" --clear-groups ip -o addr show
    assert_success
    [ -z "$output" ] || fail "netlink shows the worker addresses:" "$output"
    run nsenter --target "$pid" --net setpriv --reuid="$uid" --regid="$uid" --clear-groups ip -o link show
    assert_success
    [[ $(printf '%s\n' "$output" | wc -l) == 1 && $output == *": lo: "* && $output != *"UP"* ]] ||
        fail "netlink shows the worker more than its own loopback, down:" "$output"
    # ...while the replication over ssh works.
    local rc=0
    wait "$REPL_PID" || rc=$?
    REPL_PID=
    [ "$rc" = 0 ] || fail "the ssh replication failed (exit $rc):" "$(cat "$BATS_TEST_TMPDIR/run.log")"
    grep -q "connected to 127.0.0.1 port $SSHD_PORT for the worker's ssh" "$BATS_TEST_TMPDIR/run.log" ||
        fail "the supervisor did not connect for the worker:" "$(cat "$BATS_TEST_TMPDIR/run.log")"
    cmp /ttyp/ssrc/f "$(zfs get -H -o value mountpoint ttyp/sdst)/f" || fail "the data differs"
    assert_dataset_exists ttyp/sdst@s1
    assert_no_grants ttyp
}
