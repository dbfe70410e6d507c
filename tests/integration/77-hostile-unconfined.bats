#!/usr/bin/env bats
# No exceptions left: --force-delete runs confined. Root only unmounts the target tree
# (by dataset name); the worker destroys and receives under a transient grant, as a
# run uid (zpool history -l), and leaves no grant behind.
# Runs in the guest:
#   tests/guest/run.sh tests/guest/run-integration.sh tests/integration/77-hostile-unconfined.bats

load lib
load replicate

setup() {
    setup_replicate
    make_pool srcp
    make_pool dstp
    zfs create srcp/d
    echo src >/srcp/d/f
    zfs snapshot srcp/d@s1
    export ZKEEP_STATE_DIR=$BATS_TEST_TMPDIR/state
}

teardown() {
    destroy_pools
}

# The uid of each `zfs CMD` line of `zpool history -l POOL` about DATASET.
history_uids() { # POOL CMD DATASET
    zpool history -l "$1" | awk -v c="zfs $2" -v d="$3" \
        'index($0, c) && index($0, d) { if (match($0, /\[user [0-9]+/)) print substr($0, RSTART + 6, RLENGTH - 6) }'
}

assert_run_uid() { # UID...
    local u
    [ $# -gt 0 ] || { fail "no uid recorded"; return 1; }
    for u in "$@"; do
        [ "$u" -ge 60700 ] && [ "$u" -le 60799 ] || { fail "ran as uid $u, not a run uid"; return 1; }
    done
}

@test "force-delete: the worker destroys the target under a transient grant; root only unmounts" {
    zfs create dstp/d
    echo mine >/dstp/d/mine
    zfs create dstp/d/child
    zfs snapshot -r dstp/d@other
    zfs create dstp/sibling
    zfs snapshot dstp/sibling@keep
    run timeout 240 "$ZKEEP" --verbose replicate --force-delete srcp/d dstp/d
    assert_success
    assert_output_contains "replicated as confined worker uid"
    [[ $output != *unconfined* ]] || fail "ran unconfined: $output"
    assert_no_dataset dstp/d@other
    assert_no_dataset dstp/d/child
    assert_dataset_exists dstp/d@s1
    [ ! -e /dstp/d/mine ] || fail "old target content survived"
    [ -e /dstp/d/f ] || fail "the new target is not mounted"
    # the destroy was the worker's (zpool history -l names the uid)
    assert_run_uid $(history_uids dstp destroy dstp/d)
    assert_dataset_exists dstp/sibling@keep
    assert_no_grants_in srcp dstp
}
