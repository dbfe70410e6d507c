#!/usr/bin/env bats
# Differential check against the real syncoid 2.3.0 (Perl, $REF230_SYNCOID, the version
# zkeep claims to replace): the same history on two pairs of pools, Perl syncoid
# replicating sa -> ta and zkeep (run as `syncoid`) replicating sb -> tb with the same
# command line. After every run the exit status must be the same, and so must every
# dataset, snapshot and bookmark on both sides of the pair, and what each printed on
# stdout and on stderr: pools named by their role, the time in sync-snapshot names and
# the sizes of syncoid's "(~ 42 KB)" blanked (each run names its sync snapshot with its
# own clock; zkeep estimates a send its own way), DEBUG lines left out (syncoid's
# describe its shell pipelines, zkeep runs none; docs/replicate.md).
#
# One case runs Debian 12's syncoid 2.1 ($REF21_SYNCOID), where its user would notice a
# difference: a replication 2.1 began (its older sync-snapshot names) goes on, and a
# source that does not exist is an error, no longer a warning.
#
# One set of pools for the file (setup_file): each test has its own datasets.

bats_require_minimum_version 1.5.0

load lib
load replicate

setup_file() {
    [ "$(id -u)" = 0 ] || skip "needs root"
    [ -x "$REF230_SYNCOID" ] || skip "syncoid 2.3.0 is not unpacked ($REF230_SYNCOID)"
    make_pool sa
    make_pool ta
    make_pool sb
    make_pool tb
}

teardown_file() {
    # syncoid 2.3.0 leaves mounts of datasets it no longer has (seen under ta/top)
    findmnt -rn -o TARGET | grep -E '^/(sa|ta|sb|tb)(/|$)' | sort -r | xargs -r -n1 umount -l || true
    destroy_pools
}

setup() {
    setup_replicate
    # sync-snapshot names of this host, with or without an identifier, in 2.1's, 2.3.0's
    # and zkeep's forms (`..._YYYY-MM-DD:hh:mm:ss[-GMT+hh:mm]`, `..._YYYY-MM-DD_hh:...`)
    sync_time_re="(syncoid_([A-Za-z0-9:._-]+_)?$HOST)_[0-9]{4}-[0-9]{2}-[0-9]{2}[_:][0-9]{2}:[0-9]{2}:[0-9]{2}(-GMT-?[0-9]{2}:[0-9]{2})?"
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
            sed -E "s,^$p([/@#]|\t),$role\1,; s,$sync_time_re,\1_TIME," |
            awk '{ k = $1; sub(/[@#].*/, "", k); print k "\t" $0 }' | LC_ALL=C sort -s -t "$(printf '\t')" -k1,1 | cut -f2-
    done
}

# norm SRC-POOL TGT-POOL: stdin as it compares: the pools named S and T, sync-snapshot
# times and syncoid's size estimates blanked, DEBUG lines left out.
norm() {
    # a DEBUG line goes with the lines that continue it (syncoid's commands end in "\n")
    awk '/^DEBUG: / { d = 1; next } /^(INFO|WARNING|CRITICAL ERROR|CRIT): / { d = 0 } !d' |
        sed -E "s#(^|[^A-Za-z0-9_.-])$1([/@#]|\$|[ :'\"])#\1S\2#g; s#(^|[^A-Za-z0-9_.-])$2([/@#]|\$|[ :'\"])#\1T\2#g" |
        sed -E "s#$sync_time_re#\1_TIME#g; s#~ ([0-9]+(\.[0-9])? [KMG]B|UNKNOWN)#~ SIZE#g"
}

# assert_same_text WHAT REF OURS: the two texts, normalised, are the same (else a diff).
assert_same_text() {
    local d
    d=$(diff -u --label "syncoid $REF_VERSION" --label zkeep <(norm sa ta <<<"$2") <(norm sb tb <<<"$3")) ||
        fail "$1 differs (normalised; - syncoid $REF_VERSION, + zkeep):" "$d"
}

# sync_both [OPTIONS...] SRC-REL TGT-REL: Perl syncoid on sa/SRC -> ta/TGT, zkeep's on
# sb/SRC -> tb/TGT; the same exit status, the same resulting state, the same stdout and
# stderr, or the test fails. REF (default 2.3.0's) is the reference syncoid.
# Where zkeep differs on purpose (docs/replicate.md "Differences from syncoid"),
# DIFFER="REF OURS" names both statuses: "2 1" for a dataset that failed (syncoid says
# 2; compat.md gives 1); "255 1" for --no-sync-snap on a source without snapshots
# (syncoid dies). OUTPUT=differs skips the output comparison where syncoid prints its
# shell pipeline and the message of the zfs receive that failed in it (a refusal zkeep
# makes before sending anything, in its own words).
sync_both() {
    local n=$# src=${*: -2:1} tgt=${*: -1} opts=("${@:1:$#-2}")
    local ref=${REF:-$REF230_SYNCOID}
    REF_VERSION=2.3.0
    [ "$ref" = "$REF230_SYNCOID" ] || REF_VERSION=2.1
    [ "$n" -ge 2 ] || { fail "usage: sync_both [OPTIONS...] SRC TGT"; return 1; }
    run --separate-stderr "$ref" "${opts[@]}" "sa/$src" "ta/$tgt"
    ref_status=$status ref_out=$output ref_err=$stderr
    run --separate-stderr "$SYNCOID" "${opts[@]}" "sb/$src" "tb/$tgt"
    our_status=$status our_out=$output our_err=$stderr
    echo "# syncoid ${opts[*]} $src $tgt: $REF_VERSION exit $ref_status, zkeep exit $our_status" >&3
    local want=$ref_status said="--- $REF_VERSION stdout:
$ref_out
--- $REF_VERSION stderr:
$ref_err
--- zkeep stdout:
$our_out
--- zkeep stderr:
$our_err"
    if [ -n "${DIFFER:-}" ]; then
        [ "$ref_status" -eq "${DIFFER% *}" ] || fail "syncoid $REF_VERSION exited $ref_status, not ${DIFFER% *} as this case expects" "$said"
        want=${DIFFER#* }
    fi
    [ "$our_status" -eq "$want" ] ||
        fail "exit status: zkeep $our_status (want $want), syncoid $REF_VERSION $ref_status" "$said"
    assert_equal "$(state sb tb)" "$(state sa ta)" "datasets, snapshots and bookmarks after syncoid ${opts[*]} $src $tgt (zkeep vs $REF_VERSION)"
    if [ "${OUTPUT:-}" != differs ]; then
        assert_same_text "stdout of syncoid ${opts[*]} $src $tgt" "$ref_out" "$our_out"
        assert_same_text "stderr of syncoid ${opts[*]} $src $tgt" "$ref_err" "$our_err"
    fi
    # A sync snapshot is named to the second: never let two runs share one.
    [[ " ${opts[*]} " == *" --no-sync-snap "* ]] || sleep 1
}

# same_data SRC-REL TGT-REL: zkeep's target holds exactly its source's files (how syncoid
# 2.3.0 leaves its target's mounts is its own affair: state() compares its datasets).
same_data() {
    assert_same_tree "/sb/$1" "/tb/$2"
}

@test "syncoid diff: full, then incremental with intermediates, with and without sync snapshots; --quiet and --debug" {
    BOTH='zfs create $S/d; head -c 300000 /dev/urandom >/$S/d/a; zfs snapshot $S/d@s1' on_both
    sync_both --no-sync-snap d d
    same_data d d
    BOTH='echo b >/$S/d/b; zfs snapshot $S/d@s2; echo c >/$S/d/c; zfs snapshot $S/d@s3' on_both
    sync_both --no-sync-snap d d
    # nothing newer: syncoid says so
    sync_both --no-sync-snap d d
    # now with sync snapshots: the first one is created, the second replaces it on both sides
    sync_both d d
    BOTH='echo e >/$S/d/e; zfs snapshot $S/d@s4' on_both
    sync_both d d
    same_data d d
    # --keep-sync-snap keeps the previous sync snapshot
    sync_both --keep-sync-snap d d
    # --identifier names the sync snapshot and only prunes its own kind; --quiet prints
    # nothing at all on success; --debug the same INFO lines, and DEBUG lines on stdout
    sync_both --quiet --identifier=night d d
    [ -z "$our_out$our_err" ] || fail "zkeep printed with --quiet:" "$our_out" "$our_err"
    sync_both --debug --identifier=night d d
    grep -q '^DEBUG: ' <<<"$our_out" || fail "no DEBUG line on zkeep's stdout with --debug:" "$our_out"
    ! grep -q '^DEBUG: ' <<<"$our_err" || fail "DEBUG lines on zkeep's stderr:" "$our_err"
}

@test "syncoid diff: --no-stream sends only the newest snapshot, in full too" {
    BOTH='zfs create $S/ns; zfs snapshot $S/ns@s1' on_both
    sync_both --no-sync-snap ns ns
    BOTH='for s in s2 s3 s4; do echo $s >/$S/ns/$s; zfs snapshot $S/ns@$s; done' on_both
    sync_both --no-sync-snap --no-stream ns ns
    same_data ns ns
    sync_both --no-sync-snap --no-stream ns ns2
}

@test "syncoid diff: recursive, --skip-parent, --exclude, a new child later" {
    BOTH='zfs create $S/top; for c in a b skipme; do zfs create $S/top/$c; echo $c >/$S/top/$c/f; done
          zfs create $S/top/a/deep; zfs snapshot -r $S/top@s1' on_both
    sync_both -r --no-sync-snap --exclude=skipme top top
    BOTH='zfs create $S/top/new; zfs snapshot -r $S/top@s2' on_both
    sync_both -r --no-sync-snap --exclude=skipme top top
    DIFFER="2 1" OUTPUT=differs sync_both -r --skip-parent top other
    same_data top/a top/a
}

@test "syncoid diff: a target changed after the common snapshot is rolled back; --no-rollback fails the same way" {
    BOTH='zfs create $S/rb; echo 1 >/$S/rb/1; zfs snapshot $S/rb@s1' on_both
    sync_both --no-sync-snap rb rb
    BOTH='zfs snapshot $S/rb@s2; echo local >/$T/rb/local; zfs snapshot $T/rb@tlocal' on_both
    DIFFER="2 1" OUTPUT=differs sync_both --no-sync-snap --no-rollback rb rb
    sync_both --no-sync-snap rb rb
    BOTH='zfs snapshot $S/rb@s3; echo local >/$T/rb/again' on_both
    sync_both --no-sync-snap rb rb
    same_data rb rb
}

@test "syncoid diff: no snapshot in common, --force-delete, and errors" {
    BOTH='zfs create $S/fd; echo x >/$S/fd/x; zfs snapshot $S/fd@s1; zfs create $T/fd; zfs snapshot $T/fd@other' on_both
    DIFFER="2 1" sync_both --no-sync-snap fd fd
    grep -q "Cowardly refusing to destroy your existing target" <<<"$our_err" ||
        fail "zkeep did not refuse in syncoid's words:" "$our_err"
    sync_both --no-sync-snap --force-delete fd fd
    same_data fd fd
    # a source that does not exist, and --no-sync-snap on a source without snapshots
    sync_both --no-sync-snap missing fd2
    BOTH='zfs create $S/empty' on_both
    DIFFER="255 1" sync_both --no-sync-snap empty empty
}

@test "syncoid diff: --create-bookmark, then the source loses the common snapshot" {
    BOTH='zfs create $S/bm; echo 1 >/$S/bm/1; zfs snapshot $S/bm@s1' on_both
    sync_both --no-sync-snap --create-bookmark bm bm
    BOTH='echo 2 >/$S/bm/2; zfs snapshot $S/bm@s2' on_both
    sync_both --no-sync-snap --create-bookmark bm bm
    BOTH='zfs destroy $S/bm@s2; echo 3 >/$S/bm/3; zfs snapshot $S/bm@s3; zfs snapshot $S/bm@s4' on_both
    sync_both --no-sync-snap bm bm
    same_data bm bm
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

@test "syncoid diff 2.1: a Debian 12 user's replication goes on; a missing source is now an error" {
    [ -x "$REF21_SYNCOID" ] || skip "Debian's syncoid 2.1 is not installed"
    # 2.1 began it: its sync snapshots (`..._YYYY-MM-DD:hh:mm:ss`) on both sides
    BOTH='zfs create $S/old; echo 1 >/$S/old/1; zfs snapshot $S/old@s1
          '"$REF21_SYNCOID"' --quiet $S/old $T/old' on_both
    sleep 1
    # 2.3.0 and zkeep go on from it, and prune 2.1's sync snapshot on both sides
    sync_both old old
    for p in sa ta sb tb; do
        [ "$(sync_snaps_of "$p/old" | wc -l)" -eq 1 ] || fail "$p/old: not one sync snapshot:" "$(sync_snaps_of "$p/old")"
    done
    # 2.1 skipped a source that does not exist (exit 0); 2.3.0 and zkeep fail (exit 2)
    REF=$REF21_SYNCOID DIFFER="0 2" OUTPUT=differs sync_both --no-sync-snap missing old2
}
