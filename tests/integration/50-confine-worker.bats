#!/usr/bin/env bats
# The confined worker on real pools: it works under delegation only, it cannot reach
# what its job does not name, and no `zfs allow` grant outlives a run (success,
# failure, kill -9 of the worker or of the supervisor).
#
# The worker is driven with `zkeep confine --run JOB -- PROGRAM ...` (a test and
# debugging entry point: PROGRAM runs as the job's worker, exactly as the commands'
# workers do). Runs inside the guest: tests/guest/run.sh tests/guest/run-integration.sh

load lib

UIDS=60700-60709

setup() {
    need_root
    need_zfs
    need_zkeep
    make_pool csrc
    make_pool cdst
    zfs create csrc/data
    zfs create csrc/other
    echo hello >/csrc/data/file
    STATE=$BATS_TEST_TMPDIR/state
    mkdir -p "$STATE"
    assert_no_grants csrc cdst
}

teardown() {
    # Leave nothing running as a run uid.
    pkill -KILL -U 60700 2>/dev/null || true
    destroy_pools
}

# zfs allow on every dataset of both pools is empty.

zk() { # zkeep confine --run with this test's state dir and uid range
    "$ZKEEP" confine --run --state-dir "$STATE" --uid-range "$UIDS" "$@"
}

@test "worker snapshots, holds, releases, bookmarks and destroys its own snapshots under delegation only" {
    run zk --grant csrc/data=snapshot,hold,bookmark,destroy --program id -- sh -c '
        id -u
        zfs snapshot csrc/data@w1 &&
        zfs hold keep csrc/data@w1 &&
        zfs holds -H csrc/data@w1 &&
        zfs release keep csrc/data@w1 &&
        zfs bookmark csrc/data@w1 csrc/data#w1 &&
        zfs destroy csrc/data@w1'
    assert_success
    # It ran as a run uid, not as root: everything above was delegation.
    [[ ${lines[0]} =~ ^607[0-9][0-9]$ ]] || fail "worker uid: ${lines[0]}"
    assert_output_contains "keep"
    assert_dataset_exists csrc/data#w1
    assert_no_dataset csrc/data@w1
    assert_no_grants csrc cdst
}

@test "worker sends and receives, full then incremental, into a new and then an existing target" {
    run zk --grant csrc/data=snapshot,send --grant cdst/data=receive,new -- sh -c '
        zfs snapshot csrc/data@s1 && zfs send csrc/data@s1 | zfs receive -u cdst/data'
    assert_success
    assert_dataset_exists cdst/data@s1
    assert_no_grants csrc cdst
    run zk --grant csrc/data=snapshot,send --grant cdst/data=receive -- sh -c '
        zfs snapshot csrc/data@s2 && zfs send -i @s1 csrc/data@s2 | zfs receive -u cdst/data'
    assert_success
    assert_dataset_exists cdst/data@s2
    assert_equal "$(zfs get -H -o value guid cdst/data@s2)" "$(zfs get -H -o value guid csrc/data@s2)" "guid"
    assert_no_grants csrc cdst
}

@test "worker cannot touch a dataset outside its job (permission denied)" {
    run zk --grant csrc/data=snapshot -- zfs snapshot csrc/other@x
    assert_failure
    assert_output_contains "permission denied"
    assert_no_dataset csrc/other@x
    # Nor an operation its job does not have, on its own dataset.
    zfs snapshot csrc/data@keep
    run zk --grant csrc/data=snapshot -- zfs destroy csrc/data@keep
    assert_failure
    assert_output_contains "permission denied"
    assert_dataset_exists csrc/data@keep
    run zk --grant csrc/data=snapshot -- zfs set compression=off csrc/data
    assert_failure
    assert_output_contains "permission denied"
    assert_no_grants csrc cdst
}

@test "worker sees no /root or /home, cannot write outside its state dir, cannot make a user namespace" {
    # Unconfined, all of this works (so each failure below is the sandbox's doing).
    mkdir -p /root/zkeep-secret && echo s >/root/zkeep-secret/f
    unshare -U true
    run zk --grant csrc/data=snapshot --program cat --program unshare -- sh -c '
        cat /root/zkeep-secret/f; echo "root:$?"
        cd /home; echo "home:$?"
        echo x >/etc/passwd; echo "etc:$?"
        echo x >/usr/sbin/zkeep-x; echo "usr:$?"
        echo x >"$HOME/ok" && echo "state:$?"
        echo x >/tmp/ok && echo "tmp:$?"
        unshare -U true; echo "userns:$?"'
    echo "$output"
    assert_output_contains "root:1"
    assert_output_contains "/root/zkeep-secret/f: No such file or directory"
    assert_output_contains "home:2"
    assert_output_contains "etc:2"
    assert_output_contains "usr:2"
    assert_output_contains "state:0"
    assert_output_contains "tmp:0"
    assert_output_contains "unshare failed: Operation not permitted"
    assert_output_contains "userns:1"
    # The worker's private /tmp is not the host's.
    [ ! -e /tmp/ok ] || fail "the worker wrote the host's /tmp"
    # Its state dir was the run's own directory (the journal is not in it), gone after.
    [ -z "$(ls -A "$STATE/work")" ] || fail "run directory left: $(ls -A "$STATE/work")"
    [ -d "$STATE/grants" ] || fail "no grant journal dir"
    assert_no_grants csrc cdst
}

@test "not root: no_new_privs, Landlock and seccomp on grants an admin made (EACCES)" {
    local u=61500 ustate
    ustate=$(mktemp -d /tmp/zkeep-ustate.XXXXXX) && chown $u:$u "$ustate"
    zfs allow -u $u snapshot csrc/data
    # Unconfined, uid $u can read /etc/hostname.
    setpriv --reuid=$u --regid=$u --clear-groups cat /etc/hostname
    run setpriv --reuid=$u --regid=$u --clear-groups "$ZKEEP" confine --run \
        --state-dir "$ustate" --grant csrc/data=snapshot --program cat -- sh -c '
        zfs snapshot csrc/data@u1; echo "snap:$?"
        cat /etc/hostname; echo "read:$?"'
    echo "$output"
    assert_output_contains "not root"
    assert_output_contains "snap:0"
    assert_output_contains "Permission denied"
    assert_output_contains "read:1"
    assert_dataset_exists csrc/data@u1
    [[ $output != *"missing grant"* ]] || fail "a grant reported missing that exists"
    # A job needing more than the admin granted: told exactly what is missing.
    run setpriv --reuid=$u --regid=$u --clear-groups "$ZKEEP" confine --run \
        --state-dir "$ustate" --grant csrc/data=snapshot,hold -- zfs hold t csrc/data@u1
    assert_failure
    assert_output_contains "missing grant (an admin must run it): zfs allow -l -u $u hold,release csrc/data"
    assert_output_contains "permission denied"
    zfs unallow -u $u csrc/data
    rm -rf "$ustate"
    assert_no_grants csrc cdst
}

@test "no grant remains after a failing worker" {
    run zk --grant csrc/data=snapshot --grant cdst/data=receive,new -- sh -c 'zfs snapshot csrc/data@f; exit 3'
    assert_failure 3
    assert_dataset_exists csrc/data@f
    assert_no_grants csrc cdst
}

@test "kill -9 of the worker: the supervisor revokes" {
    # Started directly (not through the zk function): $! must be zkeep itself.
    "$ZKEEP" confine --run --state-dir "$STATE" --uid-range "$UIDS" \
        --grant csrc/data=snapshot,destroy --program sleep -- sleep 60 &
    local sup=$!
    local i worker=
    for i in $(seq 100); do
        # The worker: the supervisor's child running as the run uid (not a zfs allow).
        worker=$(pgrep -P "$sup" -u 60700 || true)
        [ -n "$worker" ] && [ -n "$(zfs allow csrc/data)" ] && break
        sleep 0.2
    done
    [ -n "$worker" ] || fail "no worker under supervisor $sup"
    [ "$(stat -c %u /proc/$worker)" = 60700 ] || fail "pid $worker is not the worker"
    [ -n "$(zfs allow csrc/data)" ] || fail "grants never appeared"
    kill -9 "$worker"
    wait "$sup" || true
    assert_no_grants csrc cdst
}

@test "kill -9 of the supervisor: the worker dies, the next start revokes the leftovers" {
    "$ZKEEP" confine --run --state-dir "$STATE" --uid-range "$UIDS" \
        --grant csrc/data=snapshot,destroy --grant cdst/x=receive,new --program sleep -- sleep 60 &
    local sup=$! i
    for i in $(seq 100); do
        [ -n "$(zfs allow csrc/data)" ] && [ -n "$(pgrep -u 60700 sleep)" ] && break
        sleep 0.2
    done
    [ -n "$(zfs allow csrc/data)" ] || fail "grants never appeared"
    kill -9 "$sup"
    wait "$sup" || true
    # The worker (pid 1 of its namespace) dies with its supervisor.
    for i in $(seq 50); do
        [ -z "$(pgrep -u 60700)" ] && break
        sleep 0.2
    done
    [ -z "$(pgrep -u 60700)" ] || fail "worker still running: $(pgrep -a -u 60700)"
    # The grants are still there (nobody revoked them) and journalled.
    [ -n "$(zfs allow csrc/data)" ] || fail "grants vanished without a revoke?"
    [ -n "$(zfs allow cdst)" ] || fail "grants on the new target's parent vanished?"
    ls "$STATE"/grants/60700.journal
    # The next start revokes them (and does not reuse uid 60700 meanwhile).
    run zk --grant csrc/other=snapshot --program id -- id -u
    assert_success
    assert_output_contains "revoked leftover grants"
    assert_no_grants csrc cdst
    [ ! -e "$STATE"/grants/60700.journal ] || fail "journal left behind"
}

@test "delegation=off: a plain error, nothing granted" {
    zpool set delegation=off csrc
    run zk --grant csrc/data=snapshot -- zfs snapshot csrc/data@d
    assert_failure 2
    assert_output_contains "delegation=off"
    assert_output_contains "zpool set delegation=on csrc"
    assert_no_dataset csrc/data@d
    zpool set delegation=on csrc
    assert_no_grants csrc cdst
}

@test "zkeep allow --print shows the minimal grants for this ZFS version" {
    run "$ZKEEP" allow --print --state-dir "$STATE" --grant csrc/data=send-raw,snapshot,hold,bookmark,destroy \
        --grant cdst/data=receive,new
    assert_success
    echo "$output"
    assert_output_contains "zfs allow -d -u UID destroy,mount,send csrc/data"
    assert_output_contains "zfs allow -l -u UID bookmark,hold,release,snapshot csrc/data"
    # a new target: on its parent only what creating it takes, the rest at create time
    assert_output_contains "zfs allow -l -u UID create,mount,receive cdst"
    assert_output_contains "zfs allow -c create,mount,receive cdst"
    run "$ZKEEP" confine --print --state-dir "$STATE" --grant csrc/data=snapshot
    assert_success
    assert_output_contains "bind ro   /usr/sbin/zfs"
    assert_output_contains "landlock: ABI"
}
