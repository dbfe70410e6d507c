#!/usr/bin/env bats
# Differential check against Debian's real syncoid 2.1 (/usr/sbin/syncoid, Perl): the
# same history on two pairs of pools, Perl syncoid replicating sa -> ta and zkeep (run
# as `syncoid`) replicating sb -> tb with the same command line. After every run the
# exit status must be the same, and so must every dataset, snapshot and bookmark on
# both sides of the pair, with the pool renamed and the time in sync-snapshot names
# blanked (each run names its sync snapshot with its own clock, and 2.1 writes the
# older `YYYY-MM-DD:hh:mm:ss` form where 2.3 writes `..._hh:mm:ss-GMT+hh:mm`).
#
# Only options that 2.1 already had are compared here; what 2.3 added or changed
# (--delete-target-snapshots, --include-snaps, --use-hold, the new name format) is
# tested against compat.md in 40-replicate-*.bats.

load lib
load replicate

setup() {
    setup_replicate
    [ -x /usr/sbin/syncoid ] || skip "Debian's syncoid is not installed"
    make_pool sa
    make_pool ta
    make_pool sb
    make_pool tb
}

teardown() {
    destroy_pools
}

# on_both 'SHELL': runs SHELL twice, with $S=sa $T=ta and then $S=sb $T=tb.
on_both() {
    local pair
    for pair in "sa ta" "sb tb"; do
        # shellcheck disable=SC2086
        set -- $pair
        S=$1 T=$2 bash -euc "$BOTH" || fail "setup step failed on $1/$2: $BOTH"
    done
}

# state SRC-POOL TGT-POOL: every dataset, and the snapshots and bookmarks of each in
# creation order, each pool named by its role (S or T), sync-snapshot times blanked.
# Grouped by dataset: zkeep takes the sync snapshots of a recursive run in one atomic
# `zfs snapshot` (one txg), where syncoid takes them one by one.
state() {
    local p role
    for p in "$1:S" "$2:T"; do
        role=${p#*:}
        p=${p%:*}
        zfs list -H -t all -s createtxg -s name -o name,type -r "$p" |
            sed -E "s,^$p([/@#]|\t),$role\1,; s,(syncoid_([A-Za-z0-9:._-]+_)?$HOST)_[0-9][^\t]*,\1_TIME," |
            awk '{ k = $1; sub(/[@#].*/, "", k); print k "\t" $0 }' | LC_ALL=C sort -s -t "$(printf '\t')" -k1,1 | cut -f2-
    done
}

# sync_both [OPTIONS...] SRC-REL TGT-REL: Perl syncoid on sa/SRC -> ta/TGT, zkeep's on
# sb/SRC -> tb/TGT; the same exit status and the same resulting state, or the test fails.
# Where 2.3 (compat.md) differs from 2.1, DIFFER="REF OURS" names both statuses:
# "2 1" for a dataset that failed (2.1 said 2; compat.md gives 1, docs/replicate.md
# "Differences from syncoid"); "0 2" for a source that does not exist (2.1 skipped it
# with a warning; 2.3 skips only datasets that vanish during a recursive run); "255 1"
# for --no-sync-snap on a source without snapshots (2.1 dies with "CRIT: ...").
# $ref_out / $our_out keep both outputs for further checks.
sync_both() {
    local n=$# src=${*: -2:1} tgt=${*: -1} opts=("${@:1:$#-2}")
    [ "$n" -ge 2 ] || { fail "usage: sync_both [OPTIONS...] SRC TGT"; return 1; }
    run /usr/sbin/syncoid "${opts[@]}" "sa/$src" "ta/$tgt"
    ref_status=$status ref_out=$output
    run "$SYNCOID" "${opts[@]}" "sb/$src" "tb/$tgt"
    our_status=$status our_out=$output
    echo "# syncoid ${opts[*]} $src $tgt: 2.1 exit $ref_status, zkeep exit $our_status" >&3
    local want=$ref_status
    if [ -n "${DIFFER:-}" ]; then
        [ "$ref_status" -eq "${DIFFER% *}" ] || fail "syncoid 2.1 exited $ref_status, not ${DIFFER% *} as this case expects" "$ref_out"
        want=${DIFFER#* }
    fi
    [ "$our_status" -eq "$want" ] ||
        fail "exit status: zkeep $our_status (want $want), syncoid 2.1 $ref_status" "--- 2.1 said:" "$ref_out" "--- zkeep said:" "$our_out"
    assert_equal "$(state sb tb)" "$(state sa ta)" "datasets, snapshots and bookmarks after syncoid ${opts[*]} $src $tgt (zkeep vs 2.1)"
    # A sync snapshot is named to the second: never let two runs share one.
    sleep 1
}

# same_data SRC-REL TGT-REL: each pair's target holds exactly its own source's files.
same_data() {
    assert_same_tree "/sa/$1" "/ta/$2"
    assert_same_tree "/sb/$1" "/tb/$2"
}

@test "syncoid diff: full, then incremental with intermediates, with and without sync snapshots" {
    BOTH='zfs create $S/d; head -c 300000 /dev/urandom >/$S/d/a; zfs snapshot $S/d@s1' on_both
    sync_both --no-sync-snap d d
    same_data d d
    BOTH='echo b >/$S/d/b; zfs snapshot $S/d@s2; echo c >/$S/d/c; zfs snapshot $S/d@s3' on_both
    sync_both --no-sync-snap d d
    # now with sync snapshots: the first one is created, the second replaces it on both sides
    sync_both d d
    BOTH='echo e >/$S/d/e; zfs snapshot $S/d@s4' on_both
    sync_both d d
    same_data d d
    # --keep-sync-snap keeps the previous sync snapshot
    sync_both --keep-sync-snap d d
    # --identifier names the sync snapshot and only prunes its own kind
    sync_both --identifier=night d d
    sync_both --identifier=night d d
}

@test "syncoid diff: --no-stream sends only the newest snapshot" {
    BOTH='zfs create $S/d; zfs snapshot $S/d@s1' on_both
    sync_both --no-sync-snap d d
    BOTH='for s in s2 s3 s4; do echo $s >/$S/d/$s; zfs snapshot $S/d@$s; done' on_both
    sync_both --no-sync-snap --no-stream d d
    same_data d d
}

@test "syncoid diff: recursive, --skip-parent, --exclude, a new child later" {
    BOTH='zfs create $S/top; for c in a b skipme; do zfs create $S/top/$c; echo $c >/$S/top/$c/f; done
          zfs create $S/top/a/deep; zfs snapshot -r $S/top@s1' on_both
    sync_both -r --no-sync-snap --exclude=skipme top top
    BOTH='zfs create $S/top/new; zfs snapshot -r $S/top@s2' on_both
    sync_both -r --no-sync-snap --exclude=skipme top top
    DIFFER="2 1" sync_both -r --skip-parent top other
    same_data top/a top/a
}

@test "syncoid diff: a target changed after the common snapshot is rolled back; --no-rollback fails the same way" {
    BOTH='zfs create $S/d; echo 1 >/$S/d/1; zfs snapshot $S/d@s1' on_both
    sync_both --no-sync-snap d d
    BOTH='zfs snapshot $S/d@s2; echo local >/$T/d/local; zfs snapshot $T/d@tlocal' on_both
    DIFFER="2 1" sync_both --no-sync-snap --no-rollback d d
    sync_both --no-sync-snap d d
    BOTH='zfs snapshot $S/d@s3; echo local >/$T/d/again' on_both
    sync_both --no-sync-snap d d
    same_data d d
}

@test "syncoid diff: no snapshot in common, --force-delete, and errors" {
    BOTH='zfs create $S/d; echo x >/$S/d/x; zfs snapshot $S/d@s1; zfs create $T/d; zfs snapshot $T/d@other' on_both
    DIFFER="2 1" sync_both --no-sync-snap d d
    sync_both --no-sync-snap --force-delete d d
    same_data d d
    # a source that does not exist, and --no-sync-snap on a source without snapshots
    DIFFER="0 2" sync_both --no-sync-snap missing d2
    BOTH='zfs create $S/empty' on_both
    DIFFER="255 1" sync_both --no-sync-snap empty empty
}

@test "syncoid diff: --create-bookmark, then the source loses the common snapshot" {
    BOTH='zfs create $S/d; echo 1 >/$S/d/1; zfs snapshot $S/d@s1' on_both
    sync_both --no-sync-snap --create-bookmark d d
    BOTH='echo 2 >/$S/d/2; zfs snapshot $S/d@s2' on_both
    sync_both --no-sync-snap --create-bookmark d d
    BOTH='zfs destroy $S/d@s2; echo 3 >/$S/d/3; zfs snapshot $S/d@s3; zfs snapshot $S/d@s4' on_both
    sync_both --no-sync-snap d d
    same_data d d
}

@test "syncoid diff: clones are received as clones in a recursive sync; --no-clone-handling sends them in full" {
    BOTH='zfs create $S/p; zfs create $S/p/o; head -c 200000 /dev/urandom >/$S/p/o/big; zfs snapshot $S/p/o@base
          zfs clone $S/p/o@base $S/p/c; echo mine >/$S/p/c/mine; zfs snapshot -r $S/p@all' on_both
    sync_both -r --no-sync-snap p p
    sync_both -r --no-sync-snap --no-clone-handling p p2
    BOTH='zfs get -H -o value origin $T/p/c $T/p2/c >/tmp/origin-$T' on_both
    assert_equal "$(sed 's/^tb/T/' /tmp/origin-tb)" "$(sed 's/^ta/T/' /tmp/origin-ta)" "origin of the received clones"
    same_data p/c p/c
}

@test "syncoid diff: --sendoptions and --recvoptions (raw encrypted, received unmounted)" {
    head -c 32 /dev/urandom >"$BATS_TEST_TMPDIR/key"
    export KEY=$BATS_TEST_TMPDIR/key
    BOTH='zfs create -o encryption=on -o keyformat=raw -o keylocation=file://$KEY $S/e; echo s >/$S/e/s; zfs snapshot $S/e@s1' on_both
    sync_both --no-sync-snap --sendoptions=w --recvoptions=u e e
    BOTH='echo t >/$S/e/t; zfs snapshot $S/e@s2' on_both
    sync_both --no-sync-snap --sendoptions=w --recvoptions=u e e
    for p in ta tb; do
        assert_prop "$p/e" encryption aes-256-gcm
        assert_prop "$p/e" keystatus unavailable
        assert_prop "$p/e" mounted no
    done
}
