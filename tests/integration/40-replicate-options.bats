#!/usr/bin/env bats
# syncoid options on real pools: --force-delete, --delete-target-snapshots,
# --preserve-properties, recursion with exclusions, syncoid:sync, odd names, rollback
# refusal, and the guide's exact command line.

load lib
load replicate

setup() {
    setup_replicate
}

teardown() {
    destroy_pools
    rm -f /tmp/pwned
}

@test "options: no common snapshot is refused; --force-delete replaces the target, never a pool root" {
    make_pool srcp
    make_pool dstp
    zfs create srcp/d
    echo src >/srcp/d/f
    zfs snapshot srcp/d@s1
    zfs create dstp/d
    echo mine >/dstp/d/mine
    zfs snapshot dstp/d@other
    run "$SYNCOID" srcp/d dstp/d
    assert_failure 1
    assert_output_contains "Target dstp/d exists but has no snapshots matching with srcp/d!"
    assert_output_contains "Cowardly refusing to destroy your existing target."
    assert_dataset_exists dstp/d@other
    run "$SYNCOID" --force-delete srcp/d dstp/d
    assert_success
    assert_no_dataset dstp/d@other
    assert_equal "$(plain_snaps_of dstp/d)" "s1" "target snapshots after --force-delete"
    [ ! -e /dstp/d/mine ] || fail "old target content survived"
    [ -e /dstp/d/f ] || fail "the new target is not mounted"
    # a pool root is never destroyed
    echo keep >/dstp/keep
    zfs snapshot dstp@mine
    run "$SYNCOID" --force-delete srcp/d dstp
    assert_failure 1
    assert_output_contains "Cowardly refusing"
    run "$ZKEEP" replicate --force-delete srcp/d dstp
    assert_failure 1
    assert_output_contains "pool"
    assert_dataset_exists dstp@mine
    [ -e /dstp/keep ] || fail "the pool root lost its data"
}

@test "options: --delete-target-snapshots destroys what the source pruned" {
    make_pool srcp
    make_pool dstp
    zfs create srcp/d
    for s in s1 s2 s3; do echo $s >/srcp/d/$s; zfs snapshot srcp/d@$s; done
    run "$SYNCOID" --no-sync-snap srcp/d dstp/d
    assert_success
    zfs destroy srcp/d@s1
    zfs destroy srcp/d@s2
    zfs snapshot srcp/d@s4
    run "$SYNCOID" --no-sync-snap srcp/d dstp/d
    assert_success
    assert_equal "$(plain_snaps_of dstp/d)" "s1 s2 s3 s4" "without the option nothing is destroyed"
    zfs snapshot srcp/d@s5
    run "$SYNCOID" --no-sync-snap --delete-target-snapshots srcp/d dstp/d
    assert_success
    assert_equal "$(plain_snaps_of dstp/d)" "s3 s4 s5" "after --delete-target-snapshots"
}

@test "options: --preserve-properties re-applies local properties, never encryption ones" {
    make_pool srcp
    make_pool dstp
    zfs create -o compression=zstd -o atime=off -o zkeep:note="a b" srcp/p
    zfs snapshot srcp/p@s1
    zfs create -o compression=gzip srcp/q
    zfs snapshot srcp/q@s1
    run "$SYNCOID" --preserve-properties srcp/p dstp/p
    assert_success
    assert_prop dstp/p compression zstd
    assert_prop dstp/p atime off
    assert_prop dstp/p zkeep:note "a b"
    run "$SYNCOID" srcp/q dstp/q
    assert_success
    [ "$(zfs get -H -o value compression dstp/q)" != gzip ] || fail "compression preserved without the option"
    # encrypted source, raw send: the encryption properties are not passed with -o
    printf 'passphrase-passphrase\n' >"$BATS_TEST_TMPDIR/key"
    zfs create -o encryption=on -o keyformat=passphrase -o compression=lz4 \
        -o keylocation="file://$BATS_TEST_TMPDIR/key" srcp/e
    zfs snapshot srcp/e@s1
    run "$SYNCOID" --preserve-properties --sendoptions=w srcp/e dstp/e
    assert_success
    assert_prop dstp/e compression lz4
    assert_prop dstp/e keystatus unavailable
}

@test "options: recursive with --exclude-datasets, --skip-parent and syncoid:sync" {
    make_pool srcp
    make_pool dstp
    for d in top top/a top/b top/b/c top/skipme top/off "top/with space"; do zfs create "srcp/$d"; done
    zfs set syncoid:sync=false srcp/top/off
    zfs set syncoid:sync="otherhost,$HOST" srcp/top/b
    run "$SYNCOID" -r --exclude-datasets=skipme srcp/top dstp/top
    assert_success
    got=$(zfs list -H -o name -r dstp/top | sort | tr '\n' ',')
    assert_equal "$got" "dstp/top,dstp/top/a,dstp/top/b,dstp/top/b/c,dstp/top/with space," "replicated datasets"
    # --skip-parent with -r: the parent is not replicated
    run "$SYNCOID" -r --skip-parent --exclude=skipme --exclude=off srcp/top dstp/kids
    assert_failure 1 # dstp/kids does not exist: its children cannot be received
    assert_output_contains "The --exclude option is deprecated, please use --exclude-datasets instead"
    zfs create dstp/kids
    # Getopt::Long's parse: options after the datasets, abbreviated, any case; --exclude
    # is ignored next to --exclude-datasets, and its warning shows even with --quiet
    run "$SYNCOID" srcp/top dstp/kids -recursive -skip-parent --exclude=a -Exclude-D 'skip|off' --quiet
    assert_success
    assert_output_contains "The --exclude option is deprecated"
    assert_dataset_exists dstp/kids/a
    assert_equal "$(zfs list -H -o name -t snapshot -d 1 dstp/kids | wc -l)" 0 "parent not replicated"
    assert_dataset_exists "dstp/kids/with space"
    assert_no_dataset dstp/kids/skipme
}

@test "options: names with spaces work and shell syntax is never executed" {
    make_pool srcp
    make_pool dstp
    zfs create "srcp/my data"
    echo x >"/srcp/my data/x"
    zfs snapshot "srcp/my data@first snap"
    run "$SYNCOID" --recvoptions='o zkeep:note=;$(touch${IFS}/tmp/pwned)`touch${IFS}/tmp/pwned`' \
        "srcp/my data" "dstp/my data"
    assert_success
    assert_dataset_exists "dstp/my data@first snap"
    assert_prop "dstp/my data" zkeep:note ';$(touch${IFS}/tmp/pwned)`touch${IFS}/tmp/pwned`'
    run "$SYNCOID" "srcp/my data" 'dstp/x;$(touch /tmp/pwned)'
    assert_failure 2
    run "$SYNCOID" --identifier='$(touch /tmp/pwned)' "srcp/my data" "dstp/my data"
    assert_failure 2
    run "$SYNCOID" --exclude-snaps='$(touch /tmp/pwned)' "srcp/my data" "dstp/my data"
    assert_success
    [ ! -e /tmp/pwned ] || fail "shell syntax in an argument was executed"
}

@test "options: a target with newer snapshots is rolled back by syncoid, refused by --no-rollback and zkeep replicate" {
    make_pool srcp
    make_pool dstp
    zfs create srcp/r
    zfs snapshot srcp/r@s1
    run "$SYNCOID" --no-sync-snap srcp/r dstp/r
    assert_success
    echo local >/dstp/r/local
    zfs snapshot dstp/r@local
    zfs snapshot srcp/r@s2
    run "$SYNCOID" --no-sync-snap --no-rollback srcp/r dstp/r
    assert_failure 1
    assert_output_contains "newer"
    run "$ZKEEP" replicate --no-sync-snap srcp/r dstp/r
    assert_failure 1
    assert_dataset_exists dstp/r@local
    run "$SYNCOID" --no-sync-snap srcp/r dstp/r
    assert_success
    assert_no_dataset dstp/r@local
    assert_equal "$(plain_snaps_of dstp/r)" "s1 s2" "after the rollback"
}

@test "options: the guide's exact command line (rpool/nixos/home -> backup/eds)" {
    make_pool rpool
    make_pool backup
    zfs create -p rpool/nixos/home
    echo a >/rpool/nixos/home/a
    zfs snapshot rpool/nixos/home@autosnap_2026-11-20_00:00:00_daily
    echo b >/rpool/nixos/home/b
    zfs snapshot rpool/nixos/home@autosnap_2026-11-21_00:00:00_daily
    cmd() {
        "$SYNCOID" --sendoptions="w" --compress=none --delete-target-snapshots --no-sync-snap --no-rollback rpool/nixos/home backup/eds
    }
    run cmd
    assert_success
    assert_equal "$(plain_snaps_of backup/eds)" \
        "autosnap_2026-11-20_00:00:00_daily autosnap_2026-11-21_00:00:00_daily" "first run"
    # sanoid prunes the oldest, takes a new one
    zfs destroy rpool/nixos/home@autosnap_2026-11-20_00:00:00_daily
    echo c >/rpool/nixos/home/c
    zfs snapshot rpool/nixos/home@autosnap_2026-11-22_00:00:00_daily
    run cmd
    assert_success
    assert_equal "$(plain_snaps_of backup/eds)" \
        "autosnap_2026-11-21_00:00:00_daily autosnap_2026-11-22_00:00:00_daily" "second run"
    assert_equal "$(sync_snaps_of rpool/nixos/home)" "" "no sync snapshots"
    assert_same_tree /rpool/nixos/home/.zfs/snapshot/autosnap_2026-11-22_00:00:00_daily \
        /backup/eds/.zfs/snapshot/autosnap_2026-11-22_00:00:00_daily
    run cmd
    assert_success
}

@test "options: clones are received as clones of their replicated origin (unless --no-clone-handling)" {
    make_pool srcp
    make_pool dstp
    zfs create srcp/top
    zfs create srcp/top/zbase
    fill /srcp/top/zbase 1
    zfs snapshot srcp/top/zbase@s1
    # the clone sorts before its origin: the plan must still send the origin first
    zfs clone srcp/top/zbase@s1 srcp/top/aclone
    echo changed >/srcp/top/aclone/changed
    zfs snapshot srcp/top/aclone@c1
    run "$SYNCOID" -r srcp/top dstp/top
    assert_success
    assert_prop dstp/top/aclone origin dstp/top/zbase@s1
    assert_same_tree /srcp/top/aclone/.zfs/snapshot/c1 /dstp/top/aclone/.zfs/snapshot/c1
    run "$SYNCOID" -r --no-clone-handling srcp/top dstp/plain
    assert_success
    assert_prop dstp/plain/aclone origin -
    assert_same_tree /srcp/top/aclone/.zfs/snapshot/c1 /dstp/plain/aclone/.zfs/snapshot/c1
}

@test "options: --include-snaps and --exclude-snaps choose the snapshots sent; a sync snapshot that does not match is taken, not sent" {
    make_pool srcp
    make_pool dstp
    zfs create srcp/d
    for s in daily1 hourly1 daily2 hourly2 daily3; do echo $s >/srcp/d/$s; zfs snapshot srcp/d@$s; done
    run "$SYNCOID" --no-sync-snap --include-snaps=daily srcp/d dstp/d
    assert_success
    assert_equal "$(plain_snaps_of dstp/d)" "daily1 daily2 daily3" "with --include-snaps=daily"
    for s in hourly3 daily4 weekly1; do echo $s >/srcp/d/$s; zfs snapshot srcp/d@$s; done
    run "$SYNCOID" --no-sync-snap --exclude-snaps=hourly --exclude-snaps='^weekly' srcp/d dstp/d
    assert_success
    assert_equal "$(plain_snaps_of dstp/d)" "daily1 daily2 daily3 daily4" "with two --exclude-snaps"
    assert_same_tree /srcp/d/.zfs/snapshot/daily4 /dstp/d/.zfs/snapshot/daily4
    # with a sync snapshot that does not match: syncoid 2.3.0 takes it and keeps it on
    # the source, and sends nothing when the newest matching one is there
    run "$SYNCOID" --include-snaps=daily srcp/d dstp/d
    assert_success
    assert_output_contains "no snapshots on source newer than daily4 on target. Nothing to do, not syncing."
    ss=$(sync_snaps_of srcp/d)
    is_sync_name "$ss" || fail "sync snapshot '$ss'"
    assert_equal "$(sync_snaps_of dstp/d)" "" "sync snapshots on the target"
    assert_equal "$(plain_snaps_of dstp/d)" "daily1 daily2 daily3 daily4" "plain snapshots"
}

@test "options: --preserve-recordsize receives with the source's recordsize, only when asked" {
    make_pool srcp
    make_pool dstp
    zfs create -o recordsize=16K srcp/r
    echo x >/srcp/r/x
    zfs snapshot srcp/r@s1
    run "$SYNCOID" --no-sync-snap srcp/r dstp/plain
    assert_success
    assert_prop dstp/plain recordsize 131072
    run "$SYNCOID" --no-sync-snap --preserve-recordsize srcp/r dstp/r
    assert_success
    echo "syncoid's output: $output"
    assert_prop dstp/r recordsize 16384
    assert_equal "$(zfs get -H -o source recordsize dstp/r)" local "source of the recordsize"
    # zkeep replicate too, incrementally
    echo y >/srcp/r/y
    zfs snapshot srcp/r@s2
    run "$ZKEEP" replicate --no-sync-snap --preserve-recordsize srcp/r dstp/r
    assert_success
    assert_prop dstp/r recordsize 16384
    assert_same_tree /srcp/r/.zfs/snapshot/s2 /dstp/r/.zfs/snapshot/s2
}

@test "options: --dumpsnaps lists both sides; --pv-options and --insecure-direct-connection are ignored with a warning" {
    make_pool srcp
    make_pool dstp
    zfs create srcp/d
    echo a >/srcp/d/a
    zfs snapshot srcp/d@s1
    run "$SYNCOID" --no-sync-snap srcp/d dstp/d
    assert_success
    zfs snapshot srcp/d@s2
    run "$SYNCOID" --no-sync-snap --dumpsnaps --pv-options="-p -t -e" \
        --insecure-direct-connection=127.0.0.1:9999 srcp/d dstp/d
    assert_success
    assert_output_contains "merged snapshot list of dstp/d"
    assert_output_contains "source @s2 guid=$(zfs get -Hp -o value guid srcp/d@s2)"
    assert_output_contains "target @s1 guid=$(zfs get -Hp -o value guid dstp/d@s1)"
    assert_output_contains "--pv-options is ignored"
    assert_output_contains "--insecure-direct-connection is ignored"
    assert_equal "$(plain_snaps_of dstp/d)" "s1 s2" "--dumpsnaps still syncs, as syncoid"
    run "$SYNCOID" --help
    assert_output_contains "--dumpsnaps"
    assert_output_contains "accepted and ignored"
}
