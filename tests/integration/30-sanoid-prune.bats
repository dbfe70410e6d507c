#!/usr/bin/env bats
# zkeep as `sanoid`: pruning - only sanoid's names, held snapshots kept and
# reported, prune_defer by pool capacity, two concurrent runs.

load lib
load sanoid-lib

setup() {
    need_root
    need_zfs
    need_zkeep
    sanoid_setup
}

teardown() {
    destroy_pools
}

@test "sanoid prune: foreign names stay, held snapshots stay and are reported, one batched destroy" {
    make_pool sp1
    zfs create sp1/a
    # five hourlies from 10:00 to 14:00, plus names that are not sanoid's
    zfs snapshot sp1/a@autosnap_2026-07-01_10:00:00_hourly
    zfs snapshot sp1/a@autosnap_2026-07-01_11:00:00_hourly
    zfs snapshot sp1/a@autosnap_2026-07-01_12:00:00_hourly
    zfs snapshot sp1/a@autosnap_2026-07-01_13:00:00_hourly
    zfs snapshot sp1/a@autosnap_2026-07-01_14:00:00_hourly
    zfs snapshot sp1/a@autosnap_2026-07-01_09:00:00_xhourly
    zfs snapshot sp1/a@manual_2026-07-01_09:00:00_hourly
    zfs hold keepme sp1/a@autosnap_2026-07-01_10:00:00_hourly
    zfs hold syncoid_backup_host sp1/a@autosnap_2026-07-01_11:00:00_hourly
    write_conf <<'CONF'
[sp1/a]
	hourly = 1
	daily = 0
	monthly = 0
	autosnap = no
CONF
    ZKEEP_NOW=$(at "2026-07-01 14:30:00") run zsanoid --prune-snapshots --verbose
    assert_success
    assert_output_contains "INFO: keeping sp1/a@autosnap_2026-07-01_10:00:00_hourly: held by 'keepme'"
    assert_output_contains "INFO: keeping sp1/a@autosnap_2026-07-01_11:00:00_hourly: a replication still needs it, held by 'syncoid_backup_host'"
    assert_equal "$(snaps sp1/a | tr '\n' ' ')" "autosnap_2026-07-01_09:00:00_xhourly autosnap_2026-07-01_10:00:00_hourly autosnap_2026-07-01_11:00:00_hourly autosnap_2026-07-01_14:00:00_hourly manual_2026-07-01_09:00:00_hourly "
    zfs release keepme sp1/a@autosnap_2026-07-01_10:00:00_hourly
    zfs release syncoid_backup_host sp1/a@autosnap_2026-07-01_11:00:00_hourly
    # the cache was updated in place: with a young cache the next run still knows
    ZKEEP_NOW=$(at "2026-07-01 14:31:00") run zsanoid --prune-snapshots --force-update
    assert_success
    assert_equal "$(snaps sp1/a | tr '\n' ' ')" "autosnap_2026-07-01_09:00:00_xhourly autosnap_2026-07-01_14:00:00_hourly manual_2026-07-01_09:00:00_hourly "
}

@test "sanoid prune, confined: a tree's expired snapshot goes in one zfs destroy -r; what keeps it, a dataset nobody configured, a clone, stop it there" {
    make_pool sp5
    # sp5/d: children only, all alike; sp5/o: k below it keeps everything;
    # sp5/n: one child has a policy, its sibling none
    for ds in d d/a d/b d/c d/c/x o o/k n n/m n/free; do zfs create "sp5/$ds"; done
    # every dataset but the parent sp5/d (process_children_only), which never gets any
    local h snaps
    for h in 10 11 12; do
        snaps=()
        for ds in d/a d/b d/c d/c/x o o/k n/m n/free; do
            snaps+=("sp5/$ds@autosnap_2026-07-01_$h:00:00_hourly")
        done
        zfs snapshot "${snaps[@]}"
    done
    # a clone of b's oldest hourly: no policy knows it, and its destroy must fail
    zfs clone "sp5/d/b@autosnap_2026-07-01_10:00:00_hourly" sp5/clone
    write_conf <<'CONF'
[sp5/d]
	recursive = yes
	process_children_only = yes
	hourly = 1
	daily = 0
	monthly = 0
	autosnap = no
[sp5/o]
	hourly = 1
	daily = 0
	monthly = 0
	autosnap = no
[sp5/o/k]
	hourly = 1
	autoprune = no
	autosnap = no
[sp5/n/m]
	hourly = 1
	daily = 0
	monthly = 0
	autosnap = no
CONF
    local h10=autosnap_2026-07-01_10:00:00_hourly h11=autosnap_2026-07-01_11:00:00_hourly
    local h12=autosnap_2026-07-01_12:00:00_hourly
    ZKEEP_NOW=$(at "2026-07-01 13:30:00") run zsanoid --prune-snapshots --debug
    # b's 10:00 has a clone: that is an error, and the run says so
    assert_failure
    assert_output_contains "could not remove snapshots of sp5/d/b"
    # 11:00 of the whole tree in one call; 10:00's call failed as a whole (the clone)
    # and went per dataset, which destroyed it everywhere but in b
    assert_output_contains "DEBUG: destroyed $h11 in 4 datasets with one zfs destroy -r sp5/d@$h11"
    assert_output_contains "DEBUG: zfs destroy -r sp5/d@$h10: "
    for ds in d/a d/c d/c/x; do
        assert_equal "$(snaps sp5/$ds | tr '\n' ' ')" "$h12 " "sp5/$ds"
    done
    assert_equal "$(snaps sp5/d/b | tr '\n' ' ')" "$h10 $h12 " "sp5/d/b"
    # the parent took and lost nothing (process_children_only)
    assert_equal "$(snaps sp5/d)" "" "sp5/d"
    # k keeps its hourlies, so nothing below sp5/o went in one call; o pruned its own
    assert_equal "$(snaps sp5/o/k | tr '\n' ' ')" "$h10 $h11 $h12 " "sp5/o/k"
    assert_equal "$(snaps sp5/o | tr '\n' ' ')" "$h12 " "sp5/o"
    # n/free has no policy: untouched, and m pruned alone
    assert_equal "$(snaps sp5/n/free | tr '\n' ' ')" "$h10 $h11 $h12 " "sp5/n/free"
    assert_equal "$(snaps sp5/n/m | tr '\n' ' ')" "$h12 " "sp5/n/m"
    # the pool's own record of the commands that changed it: the one -r call that
    # succeeded, and no -r anywhere else
    zpool history sp5 >"$BATS_TEST_TMPDIR/history"
    assert_equal "$(grep -c "zfs destroy -r sp5/d@$h11\$" "$BATS_TEST_TMPDIR/history")" 1 "-r calls"
    assert_equal "$(grep -c "zfs destroy -r" "$BATS_TEST_TMPDIR/history")" 1 "all -r calls"
    ! grep -q "zfs destroy -r sp5/d@$h10" "$BATS_TEST_TMPDIR/history" || fail "a failed -r call in the history"
}

@test "sanoid prune: prune_defer waits until the pool is fuller than the limit" {
    make_pool sp2 256M
    zfs create -o compression=off sp2/a
    zfs snapshot sp2/a@autosnap_2026-07-01_10:00:00_hourly
    zfs snapshot sp2/a@autosnap_2026-07-01_11:00:00_hourly
    write_conf <<'CONF'
[sp2/a]
	hourly = 1
	daily = 0
	monthly = 0
	autosnap = no
	prune_defer = 20
CONF
    cap=$(zpool list -H -p -o capacity sp2)
    [ "$cap" -le 20 ] || fail "new pool already at $cap %"
    ZKEEP_NOW=$(at "2026-07-01 14:00:00") run zsanoid --prune-snapshots --verbose
    assert_success
    assert_output_contains "INFO: deferring snapshot pruning (sp2/a)..."
    assert_equal "$(snaps sp2/a | wc -l)" 2
    # fill the pool past 20 %
    dd if=/dev/urandom of=/sp2/a/fill bs=1M count=64 status=none
    zpool sync sp2
    cap=$(zpool list -H -p -o capacity sp2)
    [ "$cap" -gt 20 ] || fail "pool only at $cap %"
    ZKEEP_NOW=$(at "2026-07-01 14:00:00") run zsanoid --prune-snapshots --verbose
    assert_success
    assert_output_contains "INFO: pruning sp2/a@autosnap_2026-07-01_10:00:00_hourly"
    assert_equal "$(snaps sp2/a)" "autosnap_2026-07-01_11:00:00_hourly"
}

@test "sanoid: two concurrent runs take each snapshot once and prune once" {
    make_pool sp3
    zfs create sp3/a
    zfs create sp3/b
    for h in 01 02 03 04; do zfs snapshot -r "sp3@autosnap_2026-07-01_$h:00:00_hourly"; done
    write_conf <<'CONF'
[sp3/a]
	hourly = 2
	daily = 0
	monthly = 0
	pruning_script = /bin/true
[sp3/b]
	hourly = 2
	daily = 0
	monthly = 0
CONF
    # two runs a second apart: without the lock both would take their own hourly
    ZKEEP_NOW=$(at "2026-07-01 10:00:00") zsanoid --cron >"$SD/one.out" 2>&1 &
    p1=$!
    ZKEEP_NOW=$(at "2026-07-01 10:00:01") zsanoid --cron >"$SD/two.out" 2>&1 &
    p2=$!
    wait $p1 || fail "first run failed: $(cat "$SD/one.out")"
    wait $p2 || fail "second run failed: $(cat "$SD/two.out")"
    for d in sp3/a sp3/b; do
        assert_equal "$(snaps $d | grep -c '_10:00:0[01]_hourly')" 1 "new hourlies of $d"
        assert_equal "$(snaps $d | grep -c '_0[12]:00:00_hourly')" 0 "old hourlies of $d"
    done
    ! grep -q "ERROR" "$SD"/*.out || fail "$(cat "$SD"/*.out)"
}

@test "sanoid prune: the newest common snapshot of a zkeep replication is kept, also behind a cached list" {
    make_pool sp5
    export TZ=UTC
    zfs create sp5/a
    zfs create sp5/c
    for d in a c; do
        zfs snapshot "sp5/$d@autosnap_2026-07-01_10:00:00_hourly"
        zfs snapshot "sp5/$d@autosnap_2026-07-01_11:00:00_hourly"
    done
    # a's replication happened before the run lists: its hold is in the list
    run "$ZKEEP" replicate --no-sync-snap sp5/a sp5/ra
    assert_success
    zfs snapshot sp5/a@autosnap_2026-07-01_12:00:00_hourly
    zfs snapshot sp5/a@autosnap_2026-07-01_13:00:00_hourly
    write_conf <<'CONF'
[sp5/a]
	hourly = 1
	daily = 0
	monthly = 0
	autosnap = no
[sp5/c]
	hourly = 0
	daily = 0
	monthly = 0
	autosnap = no
CONF
    # c's replication happens after the cache was written, so the run does not
    # know of its hold until the destroy fails
    ZKEEP_NOW=$(at "2026-07-01 14:25:00") run zsanoid --monitor-snapshots
    [ -s "$SD/cache/snapshots.txt" ] || fail "no cache written"
    run "$ZKEEP" replicate --no-sync-snap sp5/c sp5/rc
    assert_success
    tag=zkeep_$(hostname)
    assert_equal "$(zfs holds -H sp5/c@autosnap_2026-07-01_11:00:00_hourly | cut -f2)" "$tag"

    ZKEEP_NOW=$(at "2026-07-01 14:30:00") run zsanoid --prune-snapshots --verbose
    assert_success
    assert_output_contains "INFO: keeping sp5/a@autosnap_2026-07-01_11:00:00_hourly: a replication still needs it, held by '$tag'"
    assert_output_contains "INFO: keeping sp5/c@autosnap_2026-07-01_11:00:00_hourly: a replication still needs it, held by '$tag'"
    [[ $output != *"could not remove"* ]] || fail "$output"
    assert_equal "$(snaps sp5/a | tr '\n' ' ')" "autosnap_2026-07-01_11:00:00_hourly autosnap_2026-07-01_13:00:00_hourly "
    assert_equal "$(snaps sp5/c | tr '\n' ' ')" "autosnap_2026-07-01_11:00:00_hourly "
    # the next replication still goes incrementally from the kept snapshot
    zfs snapshot sp5/c@autosnap_2026-07-01_15:00:00_hourly
    run "$ZKEEP" replicate --no-sync-snap sp5/c sp5/rc
    assert_success
    assert_dataset_exists sp5/rc@autosnap_2026-07-01_15:00:00_hourly

    # the same without channel programs (one zfs destroy per dataset, all or nothing)
    zfs snapshot sp5/c@autosnap_2026-07-01_16:00:00_hourly
    ZKEEP_NO_CHANNEL_PROGRAMS=1 ZKEEP_NOW=$(at "2026-07-01 16:30:00") run zsanoid --prune-snapshots --verbose --force-update
    assert_success
    assert_output_contains "INFO: keeping sp5/c@autosnap_2026-07-01_15:00:00_hourly: a replication still needs it, held by '$tag'"
    assert_equal "$(snaps sp5/c)" "autosnap_2026-07-01_15:00:00_hourly"
}

@test "zkeep prune --verbose logs without sanoid's doubled level word" {
    make_pool sp6
    export TZ=UTC
    zfs create sp6/a
    zfs snapshot sp6/a@autosnap_2026-07-01_10:00:00_hourly
    zfs snapshot sp6/a@autosnap_2026-07-01_11:00:00_hourly
    write_conf <<'CONF'
[sp6/a]
	hourly = 1
	daily = 0
	monthly = 0
	autosnap = no
CONF
    ZKEEP_NOW=$(at "2026-07-01 14:30:00") run "$ZKEEP" prune --config-dir "$SD/etc" --cache-dir "$SD/cache" --run-dir "$SD/run" --verbose
    assert_success
    assert_output_contains "info: pruning sp6/a@autosnap_2026-07-01_10:00:00_hourly"
    [[ $output != *"INFO:"* ]] || fail "doubled level word: $output"
    assert_equal "$(snaps sp6/a)" "autosnap_2026-07-01_11:00:00_hourly"
}
