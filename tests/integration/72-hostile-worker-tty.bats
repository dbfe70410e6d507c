#!/usr/bin/env bats
# A compromised worker (a bug in zfs, ssh or zkeep's worker code) gets no terminal:
# it cannot type commands into the admin's shell (TIOCSTI/TIOCLINUX), its output
# reaches the admin's terminal only through the supervisor's relay with control
# sequences escaped, and the kernel interfaces no worker needs (userfaultfd,
# personality changes) are refused. A worker has no network: without ssh nothing at
# all, with ssh only the connection its supervisor made to the job's host and port
# (with both ends remote, one to each host). On --force-delete's channel to root it
# gets nothing unmounted but its own target tree, and no zfs receive root would not run
# for its job: a forged request gets root's refusal.
#
# The terminal tests' hostile worker is tests/tools/test-tty-escape.c, run with
# `zkeep confine --run` under script(1), i.e. on a real pseudo-terminal that is the
# controlling terminal of the session zkeep was started from. The network and channel
# tests catch the worker of a real `zkeep replicate` (slowed down with --bwlimit) and,
# mostly while it is held with SIGSTOP, act as it from outside: from its network
# namespace as its uid (nsenter, setpriv), and on its end of the channel to root
# (pidfd_getfd(2), which root in the test may use).
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
    # The worker needs a job: one grant on a dataset of a scratch pool. The ssh jobs
    # replicate over the private sshd, which the pool's host serves under two names.
    if [ -c /dev/zfs ] && [ "$(id -u)" = 0 ]; then
        make_pool ttyp 64M
        start_sshd
    fi
}

teardown_file() {
    [ -z "${SSHD_PID:-}" ] || stop_sshd
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
    # Every dataset a test made, with the holds zkeep replicate takes without --no-hold
    # (zfs destroy refuses a held snapshot).
    local snap refs tag ds
    zfs list -H -o name,userrefs -t snapshot -r ttyp 2>/dev/null | while read -r snap refs; do
        [ "$refs" = 0 ] || zfs holds -H "$snap" | cut -f2 |
            while IFS= read -r tag; do zfs release "$tag" "$snap"; done
    done
    for ds in $(zfs list -H -o name -d 1 ttyp 2>/dev/null | tail -n +2); do
        zfs destroy -r "$ds" || true
    done
}

# Python that takes the worker's end of its channel to root (pidfd_getfd(2) on the
# running worker, pid in argv[1]) as `chan`, and reads one answer from a socket with
# answer(); a test's own code follows it.
WORKER_CHANNEL_PY='import ctypes, os, socket, sys
pid = int(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def sys_call(*args):
    r = libc.syscall(*[ctypes.c_long(a) for a in args])
    if r < 0:
        sys.exit("syscall %d: %s" % (args[0], os.strerror(ctypes.get_errno())))
    return r
pidfd = sys_call(434, pid, 0)  # pidfd_open
chan = []
for fd in sorted(os.listdir("/proc/%d/fd" % pid), key=int):
    if not os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith("socket:"):
        continue
    s = socket.socket(fileno=sys_call(438, pidfd, int(fd), 0))  # pidfd_getfd
    # root made its channel (SO_PEERCRED of a socketpair: its maker); a pair the
    # worker made itself meanwhile (for a receive it asks for) is not the channel
    cred = s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12) \
        if s.type == socket.SOCK_SEQPACKET else None
    if cred is not None and int.from_bytes(cred[4:8], "little") == 0:
        chan.append(s)
    else:
        s.close()
print("SEQPACKET sockets of the worker:", len(chan))
if len(chan) != 1:
    sys.exit(1)
chan = chan[0]
def answer(sock, wait):
    sock.settimeout(wait)
    try:
        a = sock.recv(4096)
        return a.decode("ascii", "backslashreplace") if a else "(channel closed)"
    except socket.timeout:
        return "(no answer)"
'

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

# The confined worker of the `zkeep replicate` running in the background ($REPL_PID,
# its output in $BATS_TEST_TMPDIR/run.log): zkeep as a run uid (default range
# 60700-60799), there for the whole run; its ssh and zfs are its children. Its name is
# in /proc/PID/comm. Sets WORKER_PID and WORKER_UID.
catch_worker() {
    local _
    WORKER_PID='' WORKER_UID=''
    for _ in $(seq 300); do
        read -r WORKER_PID WORKER_UID < <(ps -e -o pid=,uid=,comm= |
            awk '$3 == "zkeep" && $2 >= 60700 && $2 <= 60799 { print $1, $2; exit }') || true
        [ -n "$WORKER_PID" ] && return 0
        kill -0 "$REPL_PID" 2>/dev/null || break
        sleep 0.1
    done
    fail "no worker seen:" "$(cat "$BATS_TEST_TMPDIR/run.log")"
}

# SIGSTOP holds the caught worker where it is while the test probes it, so the probe
# cannot race the end of the run however slow the machine; its namespaces, its
# descriptors and root's side of them stay as they are. The worker is pid 1 of its pid
# namespace: a SIGSTOP from this (an ancestor) namespace stops it all the same.
# thaw_worker lets it go on; teardown's kill of the run ends a stopped worker too.
freeze_worker() {
    kill -STOP "$WORKER_PID" || fail "cannot stop the worker $WORKER_PID"
}
thaw_worker() {
    kill -CONT "$WORKER_PID" || fail "cannot resume the worker $WORKER_PID"
}

# The replication in the background must end well (exit 0).
wait_replication() {
    local rc=0
    wait "$REPL_PID" || rc=$?
    REPL_PID=
    [ "$rc" = 0 ] || fail "the replication failed (exit $rc):" "$(cat "$BATS_TEST_TMPDIR/run.log")"
}

# The worker PID (run uid UID) has no network: a network namespace of its own, and from
# inside it, as its run uid: TCP to the ssh port itself and to another port, UDP, and
# netlink (which sees no address and no link but its own loopback, down). In the host's
# namespace all of these reach.
assert_worker_offline() { # PID UID
    local pid=$1 uid=$2 netns
    netns=$(readlink "/proc/$pid/ns/net")
    [ -n "$netns" ] && [ "$netns" != "$(readlink /proc/self/ns/net)" ] ||
        { fail "the worker runs in this host's network namespace ($netns)"; return 1; }
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
    assert_success || return 1
    assert_equal "$output" "$(printf 'tcp %s ENETUNREACH\ntcp 9 ENETUNREACH\nudp ENETUNREACH' "$SSHD_PORT")" \
        "TCP and UDP from the worker's namespace" || return 1
    run nsenter --target "$pid" --net setpriv --reuid="$uid" --regid="$uid" --clear-groups ip -o addr show
    assert_success || return 1
    [ -z "$output" ] || { fail "netlink shows the worker addresses:" "$output"; return 1; }
    run nsenter --target "$pid" --net setpriv --reuid="$uid" --regid="$uid" --clear-groups ip -o link show
    assert_success || return 1
    [[ $(printf '%s\n' "$output" | wc -l) == 1 && $output == *": lo: "* && $output != *"UP"* ]] ||
        fail "netlink shows the worker more than its own loopback, down:" "$output"
}

# ttyp/ssrc with one file of SIZE random bytes, and its snapshot s1.
make_source() { # SIZE
    zfs create ttyp/ssrc
    head -c "$1" /dev/urandom >/ttyp/ssrc/f
    zfs snapshot ttyp/ssrc@s1
}

# The replication's result: ttyp/sdst mounted with s1 and the same file; no grant left.
assert_replicated() {
    cmp /ttyp/ssrc/f "$(mountpoint_of ttyp/sdst)/f" || { fail "the data differs"; return 1; }
    assert_dataset_exists ttyp/sdst@s1 || return 1
    assert_no_grants ttyp
}

# A replication over ssh, in the background ($REPL_PID, output in run.log), with the
# private sshd's key and known_hosts, and no more than it needs (no sync snapshot, no
# hold). --bwlimit makes it slow on purpose, so the worker is caught while it replicates.
replicate_ssh_bg() { # BWLIMIT SOURCE TARGET
    ZKEEP_STATE_DIR=$STATE "$ZKEEP" --verbose replicate --no-sync-snap --no-hold --bwlimit="$1" \
        --sshport="$SSHD_PORT" --sshkey="$SSHD_DIR/id" -o "UserKnownHostsFile=$SSHD_DIR/known_hosts" \
        -o StrictHostKeyChecking=yes "$2" "$3" >"$BATS_TEST_TMPDIR/run.log" 2>&1 &
    REPL_PID=$!
}

@test "worker: an ssh job's worker has no network (ssh runs over the socket its supervisor connected)" {
    make_source 3M
    replicate_ssh_bg 256K ttyp/ssrc root@127.0.0.1:ttyp/sdst # 12 s of stream
    catch_worker
    assert_worker_offline "$WORKER_PID" "$WORKER_UID"
    # ...while the replication over ssh works.
    wait_replication
    grep -q "connected to 127.0.0.1 port $SSHD_PORT for the worker's ssh" "$BATS_TEST_TMPDIR/run.log" ||
        fail "the supervisor did not connect for the worker:" "$(cat "$BATS_TEST_TMPDIR/run.log")"
    assert_replicated
}

# Two host names for the one sshd (transport.bash's known_hosts has both): two
# connections, both made by root. The worker gets no grant and no zfs of this host.
@test "worker: a job with both ends remote: the worker has no network (root made both ssh connections)" {
    make_source 256K
    replicate_ssh_bg 256K root@127.0.0.1:ttyp/ssrc root@localhost:ttyp/sdst # 1 s of stream
    catch_worker
    freeze_worker
    assert_worker_offline "$WORKER_PID" "$WORKER_UID"
    # its root has ssh (so the look is no vacuous one) and no zfs
    [ -e "/proc/$WORKER_PID/root/usr/bin/ssh" ] || fail "no ssh in the worker's root"
    [ ! -e "/proc/$WORKER_PID/root/usr/sbin/zfs" ] && [ ! -e "/proc/$WORKER_PID/root/sbin/zfs" ] ||
        fail "the both-remote worker has this host's zfs"
    thaw_worker
    wait_replication
    local log=$BATS_TEST_TMPDIR/run.log
    [ "$(grep -c "for the worker's ssh: the worker gets no network" "$log")" = 2 ] ||
        fail "root did not make two connections for the worker:" "$(cat "$log")"
    grep -q "connected to 127.0.0.1 port $SSHD_PORT for the worker's ssh" "$log" &&
        grep -q "connected to localhost port $SSHD_PORT for the worker's ssh" "$log" ||
        fail "the supervisor did not connect to both hosts for the worker:" "$(cat "$log")"
    ! grep -q "keeps this host's network" "$log" || fail "the worker kept the network:" "$(cat "$log")"
    assert_replicated
}

# --force-delete as root: right before it destroys its target the worker asks root, on
# an AF_UNIX SOCK_SEQPACKET channel of its own, "unmount DATASET"; root answers only for
# the job's target and below it (repl_unmount_request(), serve_unmount()). Here root
# plays the compromised worker: it takes the worker's end of the channel
# (pidfd_getfd(2) on the running worker) and sends what the worker's code never would.
# Each refused request must get root's exact refusal and leave every mount alone, while
# the real replication goes on and ends well.
@test "worker: forged requests on root's --force-delete channel from a real worker are refused" {
    make_source 256K
    # nothing in common with the source: the worker destroys it (asking root first)
    zfs create ttyp/sdst
    echo old >/ttyp/sdst/old
    zfs snapshot ttyp/sdst@other
    # mounted siblings outside the target, one whose name starts with the target's
    zfs create ttyp/sibling
    zfs create ttyp/sdst2
    local log=$BATS_TEST_TMPDIR/run.log
    ZKEEP_STATE_DIR=$STATE "$ZKEEP" --verbose replicate --no-sync-snap --no-hold --force-delete \
        --bwlimit=64K ttyp/ssrc ttyp/sdst >"$log" 2>&1 & # 4 s of stream
    REPL_PID=$!
    catch_worker
    # The worker's own request comes first: once the old target is gone root has
    # answered it (and the worker read the answer), and the worker asks nothing more.
    local _
    for _ in $(seq 300); do
        zfs list ttyp/sdst@other >/dev/null 2>&1 || break
        kill -0 "$REPL_PID" 2>/dev/null || break
        sleep 0.1
    done
    freeze_worker
    grep -q "unmounted ttyp/sdst for the confined worker" "$log" ||
        fail "root did not unmount the old target for the worker:" "$(cat "$log")"
    run /usr/bin/python3 -c "$WORKER_CHANNEL_PY"'
def ask(what, msg, wait=10):
    chan.send(msg)
    print(what + ":", answer(chan, wait))
ask("sibling", b"unmount ttyp/sibling")
ask("sibling, the target name a prefix", b"unmount ttyp/sdst2")
ask("pool root", b"unmount ttyp")
ask("dot-dot", b"unmount ttyp/sdst/../sibling")
ask("trailing space", b"unmount ttyp/sdst ")
ask("two spaces", b"unmount  ttyp/sibling")
ask("a path", b"unmount /ttyp/sibling")
ask("a snapshot", b"unmount ttyp/sdst@other")
ask("another word", b"destroy ttyp/sibling")
ask("escapes", b"unmount ttyp/sibling\x1b]0;pwned\x07")
ask("a line break", b"unmount ttyp/sibling\nzkeep: error: forged by the worker")
ask("8192 bytes", b"unmount ttyp/sdst/" + b"a" * (8192 - 18))
ask("8193 bytes", b"unmount ttyp/sdst/" + b"a" * (8193 - 18))
ask("NUL", b"unmount ttyp/sdst\0/../sibling")
# an empty message is malformed too, not the end of the channel: root still answers
ask("empty", b"")
ask("sibling again", b"unmount ttyp/sibling")
' "$WORKER_PID"
    # What is mounted, at once, while the worker runs: after the run root mounts again
    # what it unmounted for the worker, which would hide a wrong unmount.
    local mounted running=yes
    mounted=$(zfs get -H -o name,value mounted ttyp ttyp/sibling ttyp/sdst2 ttyp/ssrc | LC_ALL=C sort)
    kill -0 "$REPL_PID" 2>/dev/null || running=no
    thaw_worker
    assert_equal "$mounted" "$(printf '%s\tyes\n' ttyp ttyp/sdst2 ttyp/sibling ttyp/ssrc)" \
        "what is mounted after the forged requests" || { echo "root's answers: $output" >&2; return 1; }
    [ "$running" = yes ] || fail "root's zkeep ended during the forged requests:" "$output"
    assert_success
    local refused="error refused: root unmounts only ttyp/sdst and what is below it"
    assert_equal "$output" "SEQPACKET sockets of the worker: 1
sibling: $refused
sibling, the target name a prefix: $refused
pool root: $refused
dot-dot: $refused
trailing space: $refused
two spaces: $refused
a path: $refused
a snapshot: $refused
another word: $refused
escapes: $refused
a line break: $refused
8192 bytes: $refused
8193 bytes: error malformed request
NUL: error malformed request
empty: error malformed request
sibling again: $refused" "root's answers"
    wait_replication
    # root's log: each refusal (the worker's words escaped), no other unmount
    [ "$(grep -c "warning: refused the confined worker's request '.*': root unmounts only ttyp/sdst and what is below it" "$log")" = 13 ] ||
        fail "not 13 refusals in root's log:" "$(cat "$log")"
    # ...and each malformed one, with why
    assert_equal "$(grep -o "warning: refused a malformed request of the confined worker: .*" "$log")" \
        "warning: refused a malformed request of the confined worker: a message of 8193 bytes (at most 8192)
warning: refused a malformed request of the confined worker: a NUL byte in the message
warning: refused a malformed request of the confined worker: an empty message" "malformed requests in root's log"
    # a line break in a request does not start a line of its own in root's log
    grep -qF "request 'unmount ttyp/sibling\x0azkeep: error: forged by the worker': root" "$log" &&
        ! grep -q "^zkeep: error: forged" "$log" ||
        fail "the worker's line break reached root's log:" "$(cat "$log")"
    grep -qF "refused the confined worker's request 'unmount ttyp/sibling': root unmounts only ttyp/sdst" "$log" &&
        grep -qF "refused the confined worker's request 'unmount ttyp': root unmounts only" "$log" &&
        grep -qF "refused the confined worker's request 'unmount ttyp/sibling\x1b]0;pwned\x07': root" "$log" ||
        fail "root's log does not show the refusals:" "$(cat "$log")"
    ! grep -q $'\033' "$log" || fail "a raw ESC reached root's log:" "$(cat "$log")"
    assert_equal "$(grep -o "unmounted [^ ]* for the confined worker" "$log")" \
        "unmounted ttyp/sdst for the confined worker" "what root unmounted"
    # ...and the replication itself: the old target replaced, the data identical
    assert_no_dataset ttyp/sdst@other
    assert_replicated
    assert_equal "$(zfs get -H -o name,value mounted ttyp ttyp/sibling ttyp/sdst2 ttyp/sdst | LC_ALL=C sort)" \
        "$(printf '%s\tyes\n' ttyp ttyp/sdst ttyp/sdst2 ttyp/sibling)" "what is mounted after the run"
}

# Into a target that exists root runs the worker's zfs receive (zfs/root_receive.h): the
# request comes on the same channel with three descriptors, the answer socket, the
# stream and the stderr file. Root plays the compromised worker again with the running
# worker's end of the channel: a receive into a sibling, with a property the job does
# not set, with the quarantine weakened, without -u, and one without descriptors are
# refused (on the answer socket, and in root's log); a request that passes root's check
# is run by root (an empty stream: zfs receive fails, "exit 1"). The real replication
# goes on and ends well, and nothing of the forged requests lands.
@test "worker: forged receive requests on root's channel are refused; root runs what the job may" {
    make_source 64K
    ZKEEP_STATE_DIR=$STATE "$ZKEEP" replicate --no-sync-snap --no-hold ttyp/ssrc ttyp/sdst
    head -c 256K /dev/urandom >/ttyp/ssrc/g
    zfs snapshot ttyp/ssrc@s2
    zfs create ttyp/sibling
    local log=$BATS_TEST_TMPDIR/run.log
    ZKEEP_STATE_DIR=$STATE "$ZKEEP" --verbose replicate --no-sync-snap --no-hold --bwlimit=64K \
        ttyp/ssrc ttyp/sdst >"$log" 2>&1 & # 4 s of stream, into the existing target
    REPL_PID=$!
    catch_worker
    freeze_worker
    run /usr/bin/python3 -c "$WORKER_CHANNEL_PY"'
Q = ["-o", "setuid=off", "-o", "devices=off", "-o", "sharenfs=off", "-o", "sharesmb=off",
     "-x", "zoned", "-x", "exec"]
def ask(what, words):
    mine, roots = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    r, w = os.pipe()
    err = os.open("/dev/null", os.O_WRONLY)
    msg = "\n".join(["receive", "zfs", "receive"] + words).encode()
    socket.send_fds(chan, [msg], [roots.fileno(), r, err])
    for fd in (r, w, err):
        os.close(fd)
    roots.close()
    print(what + ":", answer(mine, 60))
ask("sibling", ["-u"] + Q + ["ttyp/sibling"])
ask("quota", ["-u", "-o", "quota=1K"] + Q + ["ttyp/sdst"])
ask("setuid=on", ["-u", "-o", "setuid=on"] + Q[2:] + ["ttyp/sdst"])
ask("without -u", ["-s"] + Q + ["ttyp/sdst"])
chan.send(b"receive\nzfs\nreceive\n-u\nttyp/sdst")  # no descriptors: nobody to answer
ask("its own target, an empty stream", ["-u"] + Q + ["ttyp/sdst"])
' "$WORKER_PID"
    local running=yes
    kill -0 "$REPL_PID" 2>/dev/null || running=no
    thaw_worker
    [ "$running" = yes ] || fail "root's zkeep ended during the forged requests:" "$output"
    assert_success
    assert_equal "$output" "SEQPACKET sockets of the worker: 1
sibling: refused not the job's target or below it: 'ttyp/sibling'
quota: refused the job sets no such property: 'quota'
setuid=on: refused it would weaken the quarantine of what is received: 'setuid=on'
without -u: refused a receive without -u (root mounts what it received itself)
its own target, an empty stream: exit 1" "root's answers"
    wait_replication
    [ "$(grep -c "warning: refused the confined worker's zfs receive: " "$log")" = 5 ] ||
        fail "not 5 refusals in root's log:" "$(cat "$log")"
    grep -qF "zfs receive: 0 descriptors with the request (3 wanted)" "$log" ||
        fail "the request without descriptors is not in root's log:" "$(cat "$log")"
    assert_dataset_exists ttyp/sdst@s2
    cmp /ttyp/ssrc/g "$(mountpoint_of ttyp/sdst)/g" || fail "the data differs"
    assert_equal "$(zfs get -H -o value quota ttyp/sdst)" none "ttyp/sdst quota"
    assert_equal "$(zfs list -H -t snapshot -o name -r ttyp/sibling)" "" "snapshots of ttyp/sibling"
    assert_no_grants ttyp
}
