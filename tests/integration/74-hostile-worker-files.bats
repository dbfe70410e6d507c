#!/usr/bin/env bats
# A compromised worker (issue #12, attacker 5) against its files: whatever it leaves
# in its directory (a symlink to a victim outside, say), the next run's setup and
# this run's cleanup touch nothing outside it, because each run gets a new
# directory that root makes and removes through dirfds; concurrent runs get
# different directories; an ssh job's worker sees only the key the job names.
#
# The worker is driven with `zkeep confine --run` (as in 50-confine-worker) and by
# real ssh replications to the private sshd of transport.bash. One pool setup for
# the file. Runs in the guest: tests/guest/run.sh tests/guest/run-integration.sh

load lib
load transport
load replicate

UIDS=60700-60709

setup_file() {
    [ "$(id -u)" = 0 ] || skip "needs root"
    start_sshd
    make_pool hwsrc
    make_pool hwdst
    zfs create hwsrc/data
    echo hello >/hwsrc/data/file
    zfs snapshot hwsrc/data@s1
    # A second key whose forced command lists, while the job runs, what the
    # worker's .ssh holds (sshd runs it as root on this same guest).
    ssh-keygen -q -t ed25519 -N '' -f "$SSHD_DIR/snoop" -C zkeep-test-snoop
    cat >"$SSHD_DIR/snoopcmd" <<EOS
#!/bin/sh
ls -A "$BATS_FILE_TMPDIR"/state/work/*/.ssh >>"$SSHD_DIR/snooped" 2>&1
exec /bin/sh -c "\$SSH_ORIGINAL_COMMAND"
EOS
    chmod 755 "$SSHD_DIR/snoopcmd"
    echo "command=\"$SSHD_DIR/snoopcmd\",restrict $(cat "$SSHD_DIR/snoop.pub")" \
        >>"$SSHD_DIR/authorized_keys"
}

teardown_file() {
    stop_sshd
    destroy_pools
}

setup() {
    need_root
    need_zfs
    need_zkeep
    STATE=$BATS_FILE_TMPDIR/state
    export ZKEEP_STATE_DIR=$STATE
    mkdir -p "$STATE"
    # Something of root's the worker must never reach: a directory and a file.
    VICTIM=$BATS_TEST_TMPDIR/victim
    mkdir -p "$VICTIM/d"
    echo precious >"$VICTIM/known_hosts"
    echo precious >"$VICTIM/d/f"
    chmod 700 "$VICTIM"
    BEFORE=$(cd "$VICTIM" && find . -printf '%p %s %u %m\n' | sort)
}

teardown() {
    pkill -KILL -U 60700 2>/dev/null || true
    pkill -KILL -U 60701 2>/dev/null || true
    [ -z "${DECOY:-}" ] || rm -f "$DECOY" "$DECOY.pub"
}

zk() { # zkeep confine --run with this file's state dir and uid range
    "$ZKEEP" confine --run --state-dir "$STATE" --uid-range "$UIDS" "$@"
}

assert_victim_untouched() {
    local after
    after=$(cd "$VICTIM" && find . -printf '%p %s %u %m\n' | sort)
    assert_equal "$after" "$BEFORE" "the victim outside the worker's directory"
    assert_equal "$(cat "$VICTIM/known_hosts")" precious "victim known_hosts"
}


ssh_push() { # TARGET-DATASET [SSH KEY]: a confined push over ssh as the job "replicate"
    run "$ZKEEP" --verbose replicate --no-sync-snap --sshport="$SSHD_PORT" \
        --sshkey="${2:-$SSHD_DIR/id}" -o "UserKnownHostsFile=$SSHD_DIR/known_hosts" \
        -o StrictHostKeyChecking=yes hwsrc/data "root@127.0.0.1:$1"
}

@test "files: symlinks a worker leaves in its directory lead root nowhere; each run's directory is new and removed" {
    # The worker of the job "replicate" turns entries of its home into symlinks to
    # the victim (what the ssh job's setup writes into and cleans up), and a real
    # directory holding one.
    run zk --job replicate --grant hwsrc/data=snapshot --program ln --program mkdir -- sh -c '
        echo "home=$HOME"
        ln -s '"$VICTIM"' "$HOME/.ssh" && ln -s '"$VICTIM"'/d "$HOME/d" &&
        mkdir "$HOME/sub" && ln -s '"$VICTIM"'/known_hosts "$HOME/sub/known_hosts" &&
        echo planted'
    assert_success
    assert_output_contains planted
    local home1
    home1=$(printf '%s\n' "$output" | sed -n 's/^home=//p')
    assert_victim_untouched
    # The next run of that job over ssh: copies the key and known_hosts for its
    # worker, then removes them. Nothing of the victim changes.
    ssh_push hwdst/f1
    assert_victim_untouched
    assert_success
    assert_output_contains "replicated as confined worker uid"
    assert_dataset_exists hwdst/f1@s1
    # The first run's directory was its own, and is gone with everything in it.
    [[ $home1 == "$STATE"/work/replicate-* ]] || fail "worker home: '$home1'"
    [ ! -e "$home1" ] && [ ! -L "$home1" ] || fail "the run's directory is left: $(ls -la "$home1")"
    assert_equal "$(ls -A "$STATE/work")" "" "run directories left in $STATE/work"
    assert_no_grants hwsrc hwdst
}

@test "files: two concurrent runs get different directories" {
    local a_out=$BATS_TEST_TMPDIR/a.out ready="" i home_a home_b
    # A waits (polling, no fixed sleep) until the test tells it to end.
    zk --grant hwsrc/data=snapshot --program sleep --program ls -- sh -c '
        echo "home=$HOME"; : >"$HOME/ready"
        i=0; while [ ! -e "$HOME/go" ] && [ $i -lt 3000 ]; do sleep 0.05; i=$((i+1)); done' \
        >"$a_out" 2>&1 &
    local a_pid=$!
    for i in $(seq 2400); do
        ready=$(ls "$STATE"/work/*/ready 2>/dev/null | head -1)
        [ -n "$ready" ] && break
        sleep 0.05
    done
    [ -n "$ready" ] || { kill $a_pid; fail "the first worker did not start: $(cat "$a_out")"; }
    run zk --grant hwsrc/data=snapshot --program ls -- sh -c 'echo "home=$HOME"; ls -A "$HOME"'
    : >"$(dirname "$ready")/go"
    wait $a_pid || fail "first worker failed: $(cat "$a_out")"
    assert_success
    home_a=$(sed -n 's/^home=//p' "$a_out")
    home_b=$(printf '%s\n' "$output" | sed -n 's/^home=//p')
    [ -n "$home_a" ] && [ -n "$home_b" ] || fail "homes: '$home_a' '$home_b'"
    [ "$home_a" != "$home_b" ] || fail "both runs got $home_a"
    [ "${#lines[@]}" = 1 ] || fail "the second worker saw the first's files: $output"
    assert_equal "$(ls -A "$STATE/work")" "" "run directories left in $STATE/work"
    assert_no_grants hwsrc hwdst
}

@test "files: an ssh job's worker gets the key it names, not root's other keys" {
    # A key of root's own that the job does not name.
    if [ ! -e /root/.ssh/id_ed25519 ]; then
        mkdir -p /root/.ssh && chmod 700 /root/.ssh
        DECOY=/root/.ssh/id_ed25519
        ssh-keygen -q -t ed25519 -N '' -f "$DECOY" -C zkeep-test-decoy
    fi
    : >"$SSHD_DIR/snooped"
    ssh_push hwdst/f2 "$SSHD_DIR/snoop"
    assert_success
    assert_dataset_exists hwdst/f2@s1
    local seen
    seen=$(sort -u "$SSHD_DIR/snooped")
    [ -n "$seen" ] || fail "nothing seen in the worker's .ssh"
    printf '%s\n' "$seen" | grep -qx zkeep-sshkey || fail "the named key is missing: $seen"
    if printf '%s\n' "$seen" | grep -q '^id_'; then
        fail "the worker got keys the job does not name:" "$seen"
    fi
    assert_equal "$(ls -A "$STATE/work")" "" "run directories left in $STATE/work"
    assert_no_grants hwsrc hwdst
}
