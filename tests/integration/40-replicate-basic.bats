#!/usr/bin/env bats
# syncoid drop-in and zkeep replicate on real pools: full, incremental, bookmarks,
# raw encrypted, --dry-run. Runs in the guest: tests/guest/run.sh tests/guest/run-integration.sh

load lib
load replicate

setup() {
    setup_replicate
    make_pool srcp
    make_pool dstp
}

teardown() {
    destroy_pools
    rm -f /tmp/pwned
}

@test "replicate: full then incremental with a sync snapshot, old sync snapshots pruned on both sides" {
    zfs create srcp/data
    fill /srcp/data 2
    zfs snapshot srcp/data@s1
    echo two >/srcp/data/two
    zfs snapshot srcp/data@s2

    run "$SYNCOID" srcp/data dstp/data
    assert_success
    assert_equal "$(plain_snaps_of dstp/data)" "s1 s2" "plain snapshots on the target"
    ss=$(sync_snaps_of srcp/data)
    st=$(sync_snaps_of dstp/data)
    assert_equal "$(wc -l <<<"$ss")" 1 "sync snapshots on the source"
    is_sync_name "$ss" || fail "bad sync snapshot name '$ss'"
    assert_equal "$st" "$ss" "the target's sync snapshot"
    assert_equal "$(zfs get -Hp -o value guid "dstp/data@$ss")" \
        "$(zfs get -Hp -o value guid "srcp/data@$ss")" "guid of the sync snapshot"
    assert_same_tree "/srcp/data/.zfs/snapshot/$ss" "/dstp/data/.zfs/snapshot/$ss"

    # second run: incremental with the intermediate s3; the first sync snap goes
    echo three >/srcp/data/three
    zfs snapshot srcp/data@s3
    rm /srcp/data/two
    sleep 1 # a new second: a new sync snapshot name
    run "$SYNCOID" srcp/data dstp/data
    assert_success
    assert_equal "$(plain_snaps_of dstp/data)" "s1 s2 s3" "plain snapshots after the increment"
    ss2=$(sync_snaps_of srcp/data)
    assert_equal "$(wc -l <<<"$ss2")" 1 "sync snapshots on the source after run 2"
    [ "$ss2" != "$ss" ] || fail "the sync snapshot was not replaced"
    assert_equal "$(sync_snaps_of dstp/data)" "$ss2" "sync snapshots on the target after run 2"
    assert_same_tree "/srcp/data/.zfs/snapshot/$ss2" "/dstp/data/.zfs/snapshot/$ss2"
    [ ! -e /dstp/data/two ] || fail "deleted file still on the target"

    # nothing new but the sync snapshot: still succeeds
    run "$SYNCOID" srcp/data dstp/data
    assert_success
}

@test "replicate: --no-sync-snap sends existing snapshots; -I by default, -i with --no-stream" {
    zfs create srcp/a
    zfs snapshot srcp/a@s1
    run "$SYNCOID" --no-sync-snap srcp/a dstp/a
    assert_success
    assert_equal "$(snapshots_of dstp/a | tr '\n' ' ')" "s1 " "after the first run"
    for s in s2 s3 s4; do echo $s >/srcp/a/$s; zfs snapshot srcp/a@$s; done
    zfs create srcp/b
    zfs snapshot srcp/b@s1
    run "$SYNCOID" --no-sync-snap srcp/b dstp/b
    assert_success
    for s in s2 s3 s4; do zfs snapshot srcp/b@$s; done

    run "$SYNCOID" --no-sync-snap srcp/a dstp/a
    assert_success
    assert_equal "$(plain_snaps_of dstp/a)" "s1 s2 s3 s4" "with intermediates"
    run "$SYNCOID" --no-sync-snap --no-stream srcp/b dstp/b
    assert_success
    assert_equal "$(plain_snaps_of dstp/b)" "s1 s4" "--no-stream"
    assert_equal "$(sync_snaps_of srcp/a)" "" "no sync snapshot taken"
    # up to date: nothing to do, exit 0
    run "$SYNCOID" --no-sync-snap srcp/a dstp/a
    assert_success
    # no snapshots at all and --no-sync-snap: this dataset fails
    zfs create srcp/empty
    run "$SYNCOID" --no-sync-snap srcp/empty dstp/empty
    assert_failure 1
    assert_no_dataset dstp/empty
}

@test "replicate: bookmark fallback when the source lost the common snapshot" {
    zfs create srcp/d
    echo 1 >/srcp/d/f1
    zfs snapshot srcp/d@s1
    echo 2 >/srcp/d/f2
    zfs snapshot srcp/d@s2
    run "$SYNCOID" --no-sync-snap --create-bookmark srcp/d dstp/d
    assert_success
    assert_dataset_exists 'srcp/d#s2'
    assert_equal "$(zfs get -Hp -o value guid 'srcp/d#s2')" "$(zfs get -Hp -o value guid dstp/d@s2)" \
        "bookmark guid"
    zfs destroy srcp/d@s1
    zfs destroy srcp/d@s2
    echo 3 >/srcp/d/f3
    zfs snapshot srcp/d@s3
    echo 4 >/srcp/d/f4
    zfs snapshot srcp/d@s4
    run "$SYNCOID" --no-sync-snap srcp/d dstp/d
    assert_success
    assert_output_contains "srcp/d#s2"
    assert_equal "$(plain_snaps_of dstp/d)" "s1 s2 s3 s4" "snapshots after the bookmark send"
    assert_same_tree /srcp/d/.zfs/snapshot/s4 /dstp/d/.zfs/snapshot/s4
}

@test "replicate: raw encrypted send; the target stays encrypted and its key is never needed" {
    printf 'correct horse battery staple\n' >"$BATS_TEST_TMPDIR/key"
    zfs create -o encryption=on -o keyformat=passphrase \
        -o keylocation="file://$BATS_TEST_TMPDIR/key" srcp/enc
    fill /srcp/enc 1
    zfs snapshot srcp/enc@s1
    run "$SYNCOID" --sendoptions=w srcp/enc dstp/enc
    assert_success
    assert_prop dstp/enc encryption aes-256-gcm
    assert_prop dstp/enc keystatus unavailable
    assert_prop dstp/enc encryptionroot dstp/enc
    echo more >/srcp/enc/more
    zfs snapshot srcp/enc@s2
    run "$SYNCOID" --sendoptions=w srcp/enc dstp/enc
    assert_success
    assert_prop dstp/enc keystatus unavailable
    assert_equal "$(plain_snaps_of dstp/enc)" "s1 s2" "snapshots on the encrypted target"
    # prove the data identical: load the key on the target (only now) and compare
    zfs load-key -L "file://$BATS_TEST_TMPDIR/key" dstp/enc
    zfs mount dstp/enc
    assert_same_tree /srcp/enc/.zfs/snapshot/s2 /dstp/enc/.zfs/snapshot/s2
}

@test "replicate: --dry-run prints sends, sizes, holds and destroys and changes nothing" {
    zfs create srcp/data
    fill /srcp/data 1
    zfs snapshot srcp/data@s1
    run "$SYNCOID" srcp/data dstp/data
    assert_success
    echo x >/srcp/data/x
    zfs snapshot srcp/data@s2
    before=$(pool_state srcp dstp)
    run "$SYNCOID" --dry-run --use-hold srcp/data dstp/data
    assert_success
    assert_output_contains "send -I srcp/data@syncoid_${HOST}_"
    assert_output_contains "then hold syncoid_$HOST"
    assert_output_contains "destroy old sync snapshots"
    assert_output_contains "(~ "
    run "$ZKEEP" replicate --dry-run --json srcp/data dstp/new
    assert_success
    assert_output_contains '"event":"plan"'
    assert_output_contains "in full"
    assert_equal "$(pool_state srcp dstp)" "$before" "pool state after the dry runs"
}

@test "replicate: --use-hold keeps exactly the newest common snapshot held on both sides" {
    zfs create srcp/h
    zfs snapshot srcp/h@s1
    run "$SYNCOID" --use-hold srcp/h dstp/h
    assert_success
    s1=$(sync_snaps_of srcp/h)
    assert_equal "$(zfs holds -H "srcp/h@$s1" | cut -f2)" "syncoid_$HOST" "hold on the source"
    assert_equal "$(zfs holds -H "dstp/h@$s1" | cut -f2)" "syncoid_$HOST" "hold on the target"
    sleep 1
    run "$SYNCOID" --use-hold srcp/h dstp/h
    assert_success
    s2=$(sync_snaps_of srcp/h)
    [ "$s2" != "$s1" ] || fail "no new sync snapshot"
    assert_no_dataset "srcp/h@$s1"
    assert_no_dataset "dstp/h@$s1"
    assert_equal "$(all_holds srcp/h | wc -l)" 1 "holds on the source"
    assert_equal "$(all_holds dstp/h | wc -l)" 1 "holds on the target"
    assert_equal "$(zfs holds -H "dstp/h@$s2" | cut -f2)" "syncoid_$HOST" "hold moved on the target"
    # zkeep replicate holds by default, with its own tag, and only the newest common snapshot
    zfs snapshot srcp/h@p1
    run "$ZKEEP" replicate --no-sync-snap srcp/h dstp/h
    assert_success
    assert_equal "$(zfs holds -H srcp/h@p1 | cut -f2)" "zkeep_$HOST" "zkeep replicate's hold"
    zfs snapshot srcp/h@p2
    run "$ZKEEP" replicate --no-sync-snap srcp/h dstp/h
    assert_success
    assert_equal "$(zfs holds -H srcp/h@p1 | wc -l)" 0 "old zkeep hold released"
    assert_equal "$(zfs holds -H dstp/h@p2 | cut -f2)" "zkeep_$HOST" "new zkeep hold on the target"
    # a pruner cannot destroy the protected snapshot
    run zfs destroy srcp/h@p2
    assert_failure
}
