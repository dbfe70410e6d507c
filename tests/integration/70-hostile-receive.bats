#!/usr/bin/env bats
# A hostile peer gets nothing from what it makes zkeep receive (issue #12):
#  - a `zkeep serve` receive key's client cannot skip or weaken the quarantine of
#    received datasets (not mounted, mountpoint under the server's tree, setuid and
#    devices off) by words that merely contain "mountpoint", nor by -o setuid=on;
#  - properties a stream carries (setuid=on, devices=on, a zvol's volmode=full) are
#    overridden by zkeep's own confined receives (replicate and syncoid), and its exec=on
#    does not undo the exec=off the operator set on the target's tree;
#  - a symbolic link planted in a received parent's content, where a child's inherited
#    mountpoint lies, does not make root mount the child outside the target's tree;
#  - nor does a mountpoint the stream carries (-p): root's receive for the worker excludes
#    it (-x mountpoint);
#  - nor one --preserve-properties copies (the worker holds the grant then): root mounts
#    only inside the directory the target inherits from its parent;
#  - nor a mountpoint moved on a mounted target without a remount (a receive into it, a
#    worker's own ioctl): root mounts below where datasets really are mounted
#    (/proc/self/mountinfo), not where their mountpoint property says.
# One pair of pools and one sshd for the whole file (setup_file).
# Runs in the guest:
#   tests/guest/run.sh tests/guest/run-integration.sh tests/integration/70-hostile-receive.bats

load lib
load transport
load replicate

setup_file() {
    [ "$(id -u)" = 0 ] || skip "needs root"
    export SERVE_ALLOW="--allow-receive hdst/inbox --allow-send hsrc/out"
    start_sshd
    export VICTIM=$BATS_FILE_TMPDIR/victim
    mkdir -p "$VICTIM"
    echo untouched >"$VICTIM/file"
    make_pool hsrc
    make_pool hdst
    # the operator's rule for the backup tree: nothing in it runs
    zfs set exec=off hdst
    # what a serve client pushes: mounted elsewhere, setuid and devices on (sent with -p)
    zfs create -o mountpoint=/hsrc-out-mnt -o setuid=on -o devices=on -o exec=on hsrc/out
    echo data >/hsrc-out-mnt/file
    zfs snapshot hsrc/out@s1
    zfs create -o mountpoint=/hdst-inbox hdst/inbox
    # a stream whose properties would make its mounted copy a way to root
    zfs create -o setuid=on -o devices=on -o exec=on hsrc/s
    zfs create -s -V 8M -o volmode=full hsrc/s/vol
    zfs snapshot -r hsrc/s@s1
    # a parent whose content has a symlink exactly where its child will be mounted
    zfs create hsrc/p
    ln -s "$VICTIM" /hsrc/p/c
    zfs create -o canmount=noauto hsrc/p/c
    zfs snapshot -r hsrc/p@s1
    # a stream (sent with -p) that names where its copy is to be mounted: outside the target
    export ELSEWHERE=$BATS_FILE_TMPDIR/elsewhere
    zfs create -o mountpoint="$ELSEWHERE" hsrc/m
    echo data >"$ELSEWHERE/data"
    zfs snapshot hsrc/m@s1
    zfs unmount hsrc/m
    echo untouched >"$ELSEWHERE/file"
}

teardown_file() {
    destroy_pools
    stop_sshd
    rm -rf /hsrc-out-mnt /hdst-inbox
}

setup() {
    need_root
    need_zfs
    need_zkeep
    need_tt
    transport_env
    setup_replicate
    export ZKEEP_STATE_DIR=$BATS_TEST_TMPDIR/state
}

# What received DATASET must look like after a serve receive: quarantined.
assert_quarantined() { # DATASET
    assert_equal "$(zfs get -H -o value,source mountpoint "$1")" \
        "/hdst-inbox/${1#hdst/inbox/}	inherited from hdst/inbox" "$1 mountpoint"
    assert_equal "$(zfs get -H -o value mounted "$1")" no "$1 mounted"
    assert_equal "$(zfs get -H -o value setuid "$1")" off "$1 setuid"
    assert_equal "$(zfs get -H -o value devices "$1")" off "$1 devices"
    assert_equal "$(zfs get -H -o value,source exec "$1")" "off	inherited from hdst" "$1 exec"
    # nothing mounted over the source's mountpoint
    assert_equal "$(findmnt -n -o SOURCE /hsrc-out-mnt)" hsrc/out "mounted at /hsrc-out-mnt"
}

@test "hostile serve client: -ocom.x:mountpoint=1 or -x a:mountpoint do not skip the quarantine" {
    run "$TT" send-recv "${SERVE_OPTS[@]}" -p --recv-arg=-ocom.x:mountpoint=1 hsrc/out@s1 \
        root@127.0.0.1:hdst/inbox/t1
    assert_success
    assert_quarantined hdst/inbox/t1
    run "$TT" send-recv "${SERVE_OPTS[@]}" -p --recv-arg=-x --recv-arg=a:mountpoint hsrc/out@s1 \
        root@127.0.0.1:hdst/inbox/t2
    assert_success
    assert_quarantined hdst/inbox/t2
}

@test "hostile serve client: -o setuid=on, -x setuid, -o volmode=full are refused, nothing received" {
    local args
    for args in "-o setuid=on" "-x setuid" "-o volmode=full" "-o devices=on"; do
        # shellcheck disable=SC2086
        run "$TT" send-recv "${SERVE_OPTS[@]}" -p --recv-arg=${args% *} --recv-arg=${args#* } \
            hsrc/out@s1 root@127.0.0.1:hdst/inbox/t3
        assert_failure
        assert_output_contains "receive ${args%=*} is not allowed over zkeep serve"
        assert_no_dataset hdst/inbox/t3
    done
    # what the server forces anyway may be repeated
    run "$TT" send-recv "${SERVE_OPTS[@]}" -p --recv-arg=-o --recv-arg=setuid=off hsrc/out@s1 \
        root@127.0.0.1:hdst/inbox/t4
    assert_success
    assert_quarantined hdst/inbox/t4
}

@test "stream-carried setuid=on, devices=on, exec=on, a zvol's volmode=full: safe on the target (confined replicate, syncoid)" {
    run "$ZKEEP" --verbose replicate --recursive --sendoptions=p hsrc/s hdst/s
    assert_success
    assert_output_contains "replicated as confined worker"
    assert_equal "$(zfs get -H -o value setuid,devices hdst/s | tr '\n' ' ')" "off off " \
        "hdst/s setuid, devices"
    assert_equal "$(zfs get -H -o value volmode hdst/s/vol)" none "hdst/s/vol volmode"
    assert_equal "$(zfs get -H -o value,source exec hdst/s)" "off	inherited from hdst" "hdst/s exec"
    [ ! -e /dev/zvol/hdst/s/vol ] || fail "the received zvol was exposed as /dev/zvol/hdst/s/vol"
    # the source keeps its own values
    assert_equal "$(zfs get -H -o value setuid,devices hsrc/s | tr '\n' ' ')" "on on " \
        "hsrc/s setuid, devices"
    assert_equal "$(zfs get -H -o value volmode hsrc/s/vol)" full "hsrc/s/vol volmode"
    # syncoid --preserve-properties copies the source's local properties, but not these
    run "$SYNCOID" --preserve-properties hsrc/s hdst/s2
    assert_success
    assert_equal "$(zfs get -H -o value setuid,devices hdst/s2 | tr '\n' ' ')" "off off " \
        "hdst/s2 setuid, devices"
    assert_equal "$(zfs get -H -o value,source exec hdst/s2)" "off	inherited from hdst" "hdst/s2 exec"
}

@test "a symlink in a received parent where its child mounts: root mounts nothing outside the target" {
    run "$ZKEEP" --verbose replicate --recursive hsrc/p hdst/p
    assert_failure
    assert_output_contains "not mounted, the way to its mountpoint is not root's alone"
    assert_output_contains "hdst/p/c: mountpoint /hdst/p/c: /hdst/p/c is a symbolic link"
    assert_equal "$(zfs get -H -o value mounted hdst/p)" yes "hdst/p mounted"
    assert_equal "$(zfs get -H -o value mounted hdst/p/c)" no "hdst/p/c mounted"
    # nor at the next boot or `zfs mount -a`, which would follow the link
    assert_equal "$(zfs get -H -o value canmount hdst/p/c)" noauto "hdst/p/c canmount"
    assert_dataset_exists hdst/p/c@s1
    [ -z "$(findmnt -n "$VICTIM")" ] || fail "mounted over $VICTIM: $(findmnt -n "$VICTIM")"
    assert_equal "$(ls -A "$VICTIM")" file "$VICTIM content"
    assert_equal "$(cat "$VICTIM/file")" untouched "$VICTIM/file"
}

@test "a mountpoint the stream carries (-p): not received, the copy is mounted inside the target" {
    run "$ZKEEP" --debug replicate --sendoptions=p hsrc/m hdst/m
    assert_success
    [[ $output == *"root runs the confined worker's receive: zfs receive "*" -x mountpoint "*" hdst/m"* ]] ||
        fail "root's receive does not exclude the stream's mountpoint:" "$output"
    # this host's mountpoint (the pool's default, inherited), not the stream's
    assert_equal "$(zfs get -H -o value,source mountpoint hdst/m)" "/hdst/m	default" \
        "hdst/m mountpoint"
    assert_equal "$(zfs get -H -o value mounted hdst/m)" yes "hdst/m mounted"
    assert_equal "$(cat /hdst/m/data)" data "received content"
    [ -z "$(findmnt -n "$ELSEWHERE")" ] || fail "mounted over $ELSEWHERE: $(findmnt -n "$ELSEWHERE")"
    assert_equal "$(ls -A "$ELSEWHERE")" file "$ELSEWHERE content"
    assert_equal "$(cat "$ELSEWHERE/file")" untouched "$ELSEWHERE/file"
}

@test "--preserve-properties of a source mounted elsewhere: the copy keeps the mountpoint, root does not mount it there" {
    # the worker holds the mountpoint permission here, so the copy gets the
    # source's mountpoint: a hostile worker or source could name /etc/cron.d
    run "$ZKEEP" --verbose replicate --preserve-properties hsrc/m hdst/m2
    assert_success
    [ -z "$(findmnt -n "$ELSEWHERE")" ] || fail "mounted over $ELSEWHERE: $(findmnt -n "$ELSEWHERE")"
    assert_output_contains "not mounted (mount it yourself if you trust where): hdst/m2: mountpoint $ELSEWHERE lies outside /hdst/m2"
    assert_equal "$(zfs get -H -o value,source mountpoint hdst/m2)" "$ELSEWHERE	local" \
        "hdst/m2 mountpoint"
    assert_equal "$(zfs get -H -o value mounted hdst/m2)" no "hdst/m2 mounted"
    # nor by the next boot's or anyone's `zfs mount -a`, which check nothing
    assert_output_contains "canmount=noauto now, so that no boot or \`zfs mount -a\` mounts it there"
    assert_equal "$(zfs get -H -o value canmount hdst/m2)" noauto "hdst/m2 canmount"
    assert_dataset_exists hdst/m2@s1
    assert_equal "$(ls -A "$ELSEWHERE")" file "$ELSEWHERE content"
}

@test "a target whose mountpoint moved without a remount: its new children are mounted only below where it really is" {
    # What a receive with --preserve-properties into the mounted target, or a worker's
    # own ioctl, does: the mountpoint property names another place and the mount
    # stays. Simulated here by moving the property, then the mount back by hand.
    zfs create hsrc/r
    zfs snapshot hsrc/r@s1
    run "$ZKEEP" replicate hsrc/r hdst/r
    assert_success
    local away=$BATS_TEST_TMPDIR/away
    mkdir "$away"
    zfs set mountpoint="$away" hdst/r
    zfs unmount hdst/r
    mkdir -p /hdst/r
    mount -t zfs -o zfsutil hdst/r /hdst/r
    zfs create hsrc/r/c
    zfs snapshot -r hsrc/r@s2
    run "$ZKEEP" --verbose replicate --recursive hsrc/r hdst/r
    assert_success
    local under
    under=$(findmnt -rn -o TARGET | grep -F "$away" || true)
    [ -z "$under" ] || fail "mounted below $away, where only the property points: $under"
    assert_output_contains "not mounted (mount it yourself if you trust where): hdst/r/c: mountpoint $away/c lies outside"
    assert_equal "$(zfs get -H -o value mounted hdst/r/c)" no "hdst/r/c mounted"
    assert_equal "$(zfs get -H -o value canmount hdst/r/c)" noauto "hdst/r/c canmount"
    assert_dataset_exists hdst/r/c@s2
    assert_equal "$(findmnt -n -o SOURCE /hdst/r)" hdst/r "hdst/r still mounted where it was"
}
