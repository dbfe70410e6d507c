#!/usr/bin/env bats
# zkeep replicate and the syncoid personality run confined by default (as root: a
# transient run uid holding only the job's grants, in the worker sandbox), mount what
# they received afterwards as the supervisor, and leave no grant behind.
# Runs in the guest: tests/guest/run.sh tests/guest/run-integration.sh

load lib
load replicate

setup() {
    setup_replicate
    make_pool rsrc
    make_pool rdst
    zfs create rsrc/data
    zfs create rsrc/data/child
    fill /rsrc/data 1
    fill /rsrc/data/child 1
    zfs snapshot -r rsrc/data@s1
    export ZKEEP_STATE_DIR=$BATS_TEST_TMPDIR/state
}

teardown() {
    destroy_pools
}


@test "confined replicate: full and incremental, recursive, as a run uid; mounted; no grant left" {
    run "$ZKEEP" --verbose replicate --recursive rsrc/data rdst/data
    assert_success
    assert_output_contains "replicated as confined worker uid 607"
    assert_same_tree /rsrc/data/.zfs/snapshot/s1 /rdst/data/.zfs/snapshot/s1
    assert_same_tree /rsrc/data/child/.zfs/snapshot/s1 /rdst/data/child/.zfs/snapshot/s1
    assert_equal "$(zfs get -H -o value mounted rdst/data/child)" yes "rdst/data/child mounted"
    assert_no_grants rsrc rdst
    echo more >/rsrc/data/child/more
    zfs snapshot -r rsrc/data@s2
    sleep 1
    run "$ZKEEP" --verbose replicate --recursive rsrc/data rdst/data
    assert_success
    assert_output_contains "replicated as confined worker uid 607"
    assert_dataset_exists rdst/data/child@s2
    assert_same_tree /rsrc/data/child/.zfs/snapshot/s2 /rdst/data/child/.zfs/snapshot/s2
    assert_no_grants rsrc rdst
    # Sync snapshots of the worker were created and pruned under delegation.
    assert_equal "$(sync_snaps_of rsrc/data | wc -l)" 1 "sync snapshots on the source"
    [ -z "$(ls "$ZKEEP_STATE_DIR"/grants/)" ] || fail "journal left: $(ls "$ZKEEP_STATE_DIR"/grants/)"
}

@test "confined syncoid: same result as unconfined, no grant left" {
    run "$SYNCOID" rsrc/data rdst/a
    assert_success
    assert_same_tree /rsrc/data/.zfs/snapshot/s1 /rdst/a/.zfs/snapshot/s1
    assert_no_grants rsrc rdst
    # from a root shell with umask 077 (as a unit's UMask=0077): the worker can still
    # search the root it is given
    run bash -c 'umask 077 && exec "$0" rsrc/data rdst/u' "$SYNCOID"
    assert_success
    assert_same_tree /rsrc/data/.zfs/snapshot/s1 /rdst/u/.zfs/snapshot/s1
    assert_no_grants rsrc rdst
    ZKEEP_NO_CONFINE=1 run "$SYNCOID" rsrc/data rdst/b
    assert_success
    assert_output_contains "WITHOUT confinement"
    assert_same_tree /rsrc/data/.zfs/snapshot/s1 /rdst/b/.zfs/snapshot/s1
    assert_no_grants rsrc rdst
}

@test "confined replicate: a source that does not exist is named as such; nothing granted or created" {
    run "$ZKEEP" replicate rsrc/nosuch rdst/x
    assert_failure 2
    assert_output_contains "rsrc/nosuch"
    assert_output_contains "does not exist"
    [[ $output != *"zfs allow"* ]] || fail "the error is about grants: $output"
    assert_no_dataset rdst/x
    assert_no_grants rsrc rdst
    # the same words as an unconfined run
    confined=$output
    ZKEEP_NO_CONFINE=1 run "$ZKEEP" replicate rsrc/nosuch rdst/x
    assert_failure 2
    assert_output_contains "$confined"
}

# A local dataset whose name has a ':' after a '/' is local (the endpoint parser's rule,
# as syncoid's): root runs the worker's receives into it like any local target's.
@test "confined replicate into a local target named with a ':' (rdst/b:c): the receives are root's; no grant left" {
    run "$ZKEEP" --verbose replicate --recursive rsrc/data rdst/b:c
    assert_success
    assert_output_contains "replicated as confined worker uid "
    uid=$(sed -n 's/.*replicated as confined worker uid \([0-9]*\).*/\1/p' <<<"$output" | head -n1)
    assert_same_tree /rsrc/data/.zfs/snapshot/s1 /rdst/b:c/.zfs/snapshot/s1
    assert_same_tree /rsrc/data/child/.zfs/snapshot/s1 /rdst/b:c/child/.zfs/snapshot/s1
    assert_equal "$(zfs get -H -o value mounted rdst/b:c/child)" yes "rdst/b:c/child mounted"
    uids=$(zpool history -l rdst | grep ' zfs receive .*rdst/b:c' | sed -n 's/.*\[user \([0-9]*\).*/\1/p' | sort -u)
    assert_equal "$uids" 0 "uids of zfs receive into rdst/b:c (root's, for worker $uid)"
    assert_no_grants rsrc rdst
    # and the incremental, into the target that now exists
    zfs snapshot -r rsrc/data@s2
    run "$SYNCOID" --recursive rsrc/data rdst/b:c
    assert_success
    assert_dataset_exists rdst/b:c/child@s2
    assert_no_grants rsrc rdst
}

# Destroying a mounted filesystem unmounts it, which Linux cannot delegate: the worker
# asks root, on a channel of its own, right before the destroy, and root unmounts only
# the job's target tree (a request for anything else is refused: unit test_jobneeds,
# and 72-hostile-worker-tty with forged requests on a running worker's channel).
# Before, a --force-delete run was not confined at all.
@test "confined --force-delete: root unmounts the target tree for the worker, which replaces it; mounted again; no grant left" {
    zfs create -p rdst/data/child
    echo mine >/rdst/data/child/mine
    zfs snapshot -r rdst/data@other
    zfs create rdst/sib # a sibling backup, mounted: left alone
    run "$ZKEEP" --verbose replicate --recursive rsrc/data rdst/data
    assert_failure 1 # nothing in common: refused without --force-delete
    run "$ZKEEP" --verbose replicate --recursive --force-delete rsrc/data rdst/data
    echo "$output"
    assert_success
    assert_output_contains "replicated as confined worker uid 607"
    assert_output_contains "unmounted rdst/data/child for the confined worker"
    assert_output_contains "unmounted rdst/data for the confined worker"
    assert_no_dataset rdst/data@other
    [ ! -e /rdst/data/child/mine ] || fail "the old target's content survived"
    assert_same_tree /rsrc/data/child/.zfs/snapshot/s1 /rdst/data/child/.zfs/snapshot/s1
    assert_equal "$(zfs get -H -o value mounted rdst/data/child)" yes "rdst/data/child mounted"
    assert_equal "$(zfs get -H -o value mounted rdst/sib)" yes "the sibling stays mounted"
    assert_no_grants rsrc rdst
    # The worker destroyed the old tree (granted on it as it was); root received the new
    # one and granted the worker on it (its holds there needed that).
    zpool history -l rdst | grep -E " zfs (destroy|receive) .*rdst/data" | tail -n 4
    zpool history -l rdst | grep " zfs destroy -r rdst/data " | tail -n 1 | grep -q "user 607" ||
        fail "the old tree was not destroyed by the run uid"
    zpool history -l rdst | grep " zfs receive .* rdst/data " | grep -v "user 0 " &&
        fail "a receive into rdst/data was not root's"
    [ -n "$(zfs list -H -t snapshot -o name -d 1 rdst/data | xargs zfs holds -H)" ] ||
        fail "no hold of the worker's on the new rdst/data"
    # Something in common now: nothing to destroy, nothing unmounted.
    zfs snapshot -r rsrc/data@s2
    run "$ZKEEP" --verbose replicate --recursive --force-delete rsrc/data rdst/data
    assert_success
    [[ $output != *unmounted* ]] || fail "unmounted with nothing to destroy"
    assert_equal "$(zfs get -H -o value mounted rdst/data)" yes "rdst/data mounted"
    assert_no_grants rsrc rdst
}

@test "confined syncoid -r --jobs 3: root runs the worker's receives at once; same trees, mounted, no grant left" {
    for d in c1 c2 c3 c4; do
        zfs create "rsrc/data/$d"
        head -c 2M /dev/urandom >"/rsrc/data/$d/f"
    done
    zfs snapshot -r rsrc/data@s2
    run "$SYNCOID" -r --no-sync-snap --jobs 3 rsrc/data rdst/j
    assert_success
    for d in c1 c2 c3 c4; do
        head -c 3M /dev/urandom >"/rsrc/data/$d/g"
    done
    zfs snapshot -r rsrc/data@s3
    # the targets exist now: root runs every receive the worker asks for
    max_receives_during "$BATS_TEST_TMPDIR/par" "$SYNCOID" -r --no-sync-snap --jobs 3 \
        --target-bwlimit=3M rsrc/data rdst/j
    read -r _ rc _ most <"$BATS_TEST_TMPDIR/par"
    assert_equal "$rc" 0 "exit status; output: $(cat "$BATS_TEST_TMPDIR/par.log")"
    [ "$most" -ge 2 ] && [ "$most" -le 3 ] ||
        fail "--jobs 3 had $most receives at once:" "$(cat "$BATS_TEST_TMPDIR/par.log")"
    for d in "" /child /c1 /c2 /c3 /c4; do
        assert_same_tree "/rsrc/data$d/.zfs/snapshot/s3" "/rdst/j$d/.zfs/snapshot/s3"
        assert_equal "$(zfs get -H -o value mounted "rdst/j$d")" yes "rdst/j$d mounted"
    done
    assert_no_grants rsrc rdst
    [ -z "$(ls "$ZKEEP_STATE_DIR"/grants/)" ] || fail "journal left: $(ls "$ZKEEP_STATE_DIR"/grants/)"
}
