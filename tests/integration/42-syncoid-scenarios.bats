#!/usr/bin/env bats
# syncoid 2.3.0 itself against zkeep's `syncoid` (tests/integration/syncoid-diff.bash),
# where their choices are subtle (issue #14): a target snapshot with a source snapshot's
# name and another guid, with and without --force-delete; --include-snaps and
# --exclude-snaps, alone, together and with --no-stream; --no-resume after an
# interrupted incremental and an interrupted full receive. After every run: the same
# exit status, the same snapshots on both sides (a target snapshot's guid checked
# against its source namesake's), the same resume tokens, and the lines that say what
# was reset or destroyed. One set of pools for the file; tiny data.

load lib
load replicate
load syncoid-diff

setup_file() {
    need_root
    need_zfs
    diff_pools
}

teardown_file() {
    destroy_pools
}

setup() {
    setup_replicate
    [ -x "$REF230_SYNCOID" ] || skip "syncoid 2.3.0 is not unpacked ($REF230_SYNCOID)"
}

@test "scenarios: a target snapshot named like a source one (another guid), with and without --force-delete" {
    BOTH='zfs create $S/c; echo 1 >/$S/c/1; zfs snapshot $S/c@a' on_both
    diff_sync --no-sync-snap c c
    BOTH='echo 2 >/$S/c/2; zfs snapshot $S/c@b; echo mine >/$T/c/mine; zfs snapshot $T/c@b' on_both
    # the receive fails on the name, nothing is rolled back (2.3.0 exits 2, compat.md 1)
    DIFFER="2 1" diff_sync c c
    # --force-delete removes the same-named snapshot and syncs
    diff_sync --force-delete c c
    said_alike "removing existing destination"
    # no snapshot in common, only a namesake: the target is replaced
    BOTH='zfs create $S/n; echo s >/$S/n/s; zfs snapshot $S/n@a; zfs create $T/n; zfs snapshot $T/n@a' on_both
    DIFFER="2 1" diff_sync --no-sync-snap n n
    said_alike "Cowardly refusing"
    diff_sync --no-sync-snap --force-delete n n
    said_alike "Removing "
}

@test "scenarios: --include-snaps and --exclude-snaps, alone, together and with --no-stream" {
    BOTH='zfs create $S/f; for s in daily1 hourly1 daily2 hourly2 daily3; do echo $s >/$S/f/$s; zfs snapshot $S/f@$s; done' on_both
    # the sync snapshot does not match: taken on the source, never sent
    diff_sync --include-snaps=daily f f
    diff_sync --include-snaps=daily f f
    said_alike "no snapshots on source newer than"
    BOTH='for s in hourly3 daily4 weekly1; do echo $s >/$S/f/$s; zfs snapshot $S/f@$s; done' on_both
    diff_sync --exclude-snaps=hourly --exclude-snaps='^weekly' f f
    # the newest common one (the sync snapshot) is excluded: the included one before it
    BOTH='echo 5 >/$S/f/5; zfs snapshot $S/f@daily5; zfs snapshot $S/f@hourly5' on_both
    diff_sync --include-snaps=daily f f
    # together, an exclude wins; --no-stream to a new target: the newest included in full
    diff_sync --include-snaps=daily --exclude-snaps=5 --no-stream f f2
    # only sync snapshots pass, and the target's (pruned on the source) match none
    DIFFER="2 1" diff_sync --exclude-snaps=hourly --exclude-snaps=daily f f
    said_alike "Cowardly refusing"
}

@test "scenarios: --no-resume after an interrupted incremental and an interrupted full receive" {
    BOTH='zfs create $S/r; echo 1 >/$S/r/1; zfs snapshot $S/r@s1' on_both
    diff_sync --no-sync-snap r r
    # an incremental cut short: the target keeps a partial state (a resume token)
    BOTH='head -c 400000 /dev/urandom >/$S/r/big; zfs snapshot $S/r@s2
          zfs send -i $S/r@s1 $S/r@s2 | head -c 120000 | zfs receive -s -F $T/r || true
          [ "$(zfs get -H -o value receive_resume_token $T/r)" != - ]' on_both
    diff_sync --debug --no-resume --no-sync-snap r r
    said_alike "resetting partially receive state" "reset partial receive state of"
    # a full receive cut short: the target exists with a token and no snapshot
    BOTH='zfs create $S/u; cp /$S/r/big /$S/u/big; zfs snapshot $S/u@s1
          zfs send $S/u@s1 | head -c 120000 | zfs receive -s $T/u || true
          [ "$(zfs get -H -o value receive_resume_token $T/u)" != - ]' on_both
    DIFFER="2 1" diff_sync --no-resume --no-sync-snap u u
    said_alike "Cowardly refusing"
    diff_sync --no-resume --force-delete u u
}
