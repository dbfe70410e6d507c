#!/usr/bin/env bats
# A local unprivileged user racing root's `zkeep restore file`: the user owns the
# directory root restores into and swaps what root creates there for a symlink to a
# victim directory (standing in for /etc). Restore never follows a symlink it did not
# create: the victim stays untouched and every file lands inside the destination's
# parent, whether the restore wins the race or stops with a clear error.
# Runs inside the guest: tests/guest/run.sh tests/guest/run-integration.sh

load lib

RACER=60750 # the unprivileged user (a bare uid, via setpriv)

setup_file() {
    if [ -c /dev/zfs ] && [ "$(id -u)" = 0 ]; then
        make_pool rsp 128M
        zfs create rsp/d
        mkdir -p /rsp/d/tree/sub
        local i
        for i in $(seq 1 150); do echo "file $i" >/rsp/d/tree/f$i; echo "sub $i" >/rsp/d/tree/sub/g$i; done
        ln -s f1 /rsp/d/tree/link
        zfs snapshot rsp/d@s1
    fi
}

teardown_file() {
    destroy_pools
}

setup() {
    need_root
    need_zfs
    need_zkeep
    command -v perl >/dev/null || skip "perl is not installed"
    W=/var/tmp/zkeep-73.$$.$BATS_TEST_NUMBER
    rm -rf "$W"
    mkdir -p "$W/parent" "$W/victim"
    chown $RACER:$RACER "$W/parent"
    chmod 755 "$W" "$W/parent"
    echo keep >"$W/victim/.marker"
}

teardown() {
    [ -n "${racer_pid:-}" ] && kill "$racer_pid" 2>/dev/null; wait 2>/dev/null || true
    rm -rf "${W:?}"
}

# The victim directory holds only its marker, as root left it.
assert_victim_untouched() {
    local extra
    extra=$(find "$W/victim" -mindepth 1 ! -name .marker)
    [ -z "$extra" ] || fail "restore wrote into the victim directory:" "$extra"
    [ "$(stat -c %U "$W/victim")" = root ] || fail "the victim directory changed owner"
}

@test "restore: a symlink planted on the destination's path is refused, nothing written through it" {
    setpriv --reuid=$RACER --regid=$RACER --clear-groups ln -s "$W/victim" "$W/parent/link"
    run "$ZKEEP" restore file rsp/d@s1 tree "$W/parent/link/tree"
    [ "$status" -ne 0 ] || fail "restore through a symlink succeeded:" "$output"
    assert_output_contains "symlink"
    assert_victim_untouched
}

@test "restore: a user racing directories into symlinks under the destination gets nothing outside it" {
    # The racer renames whatever root created at parent/tree away and puts a symlink
    # to the victim in its place, as fast as it can, until root is done.
    setpriv --reuid=$RACER --regid=$RACER --clear-groups perl -e '
        my ($p, $v) = @ARGV; my $n = 0; my $end = time + 120;
        while (time < $end && ! -e "$p/.stop") {
            rename("$p/tree", "$p/old" . $n++);
            symlink($v, "$p/tree");
            for my $d (glob("$p/old*/sub")) { rename($d, "$d.x") and symlink($v, $d); }
        }' "$W/parent" "$W/victim" &
    racer_pid=$!
    local i
    for i in 1 2 3; do
        run "$ZKEEP" restore file --force rsp/d@s1 tree "$W/parent/tree"
        if [ "$status" -ne 0 ]; then
            [[ $output == *symlink* || $output == *"no longer a directory"* || $output == *exists* \
                || $output == *"No such file"* ]] || fail "unclear error:" "$output"
        fi
        assert_victim_untouched
    done
    touch "$W/parent/.stop" 2>/dev/null || true
    kill "$racer_pid" 2>/dev/null || true # it may have seen .stop and ended
    wait "$racer_pid" 2>/dev/null || true
    racer_pid=
    assert_victim_untouched
    # Whatever root restored is inside the racer's directory, nowhere else.
    local outside
    outside=$(find "$W" -mindepth 1 -path "$W/parent" -prune -o -path "$W/victim" -prune -o -print)
    [ -z "$outside" ] || fail "files outside the destination's parent:" "$outside"
}
