#!/usr/bin/env bats
# A compromised worker (a bug in zfs, ssh or zkeep's worker code) gets no terminal:
# it cannot type commands into the admin's shell (TIOCSTI/TIOCLINUX), its output
# reaches the admin's terminal only through the supervisor's relay with control
# sequences escaped, and the kernel interfaces no worker needs (userfaultfd,
# personality changes) are refused. A worker whose job has no ssh has no network.
#
# The hostile worker is tests/tools/test-tty-escape.c, run with `zkeep confine --run`
# under script(1), i.e. on a real pseudo-terminal that is the controlling terminal
# of the session zkeep was started from.
# Runs inside the guest: tests/guest/run.sh tests/guest/run-integration.sh

load lib

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
