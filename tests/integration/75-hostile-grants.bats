#!/usr/bin/env bats
# A grant outlives nothing: the `zfs allow` grants of a run that a crash cut short are
# revoked on the very pool they were made on, also when that pool was exported (or
# another pool of the same name imported: a rotated drive) when zkeep started next.
# Until then the journal and its uid stay, and zkeep says the grant is pending.
# Runs in the guest: tests/guest/run.sh tests/guest/run-integration.sh

load lib

UIDS=60740-60749

setup_file() {
    need_root
    need_zfs
    need_zkeep
    make_pool gsrc 128M
    make_pool gdst 128M
    zfs create gsrc/data
    zfs create gdst/keep
    export POOLDIR GDST_GUID
    POOLDIR=$(_zkeep_pool_dir)
    GDST_GUID=$(zpool get -Hp -o value guid gdst)
}

teardown_file() {
    destroy_pools
}

setup() {
    STATE=$BATS_TEST_TMPDIR/state
    mkdir -p "$STATE"
    assert_no_grants gsrc gdst
}

# Each test starts from both pools imported and no grant (whatever the last one left).
teardown() {
    local ds g
    if [ -n "${RR_SUP:-}" ]; then # a replication a failed test left running
        kill "$RR_SUP" 2>/dev/null
        wait "$RR_SUP" 2>/dev/null
    fi
    pkill -KILL -U 60740 2>/dev/null || true
    restore_subids
    g=$(zpool get -Hp -o value guid gdst 2>/dev/null) || g=
    if [ -n "$g" ] && [ "$g" != "$GDST_GUID" ]; then
        zpool destroy -f gdst
    fi
    zpool list -H gdst >/dev/null 2>&1 || zpool import -d "$POOLDIR" gdst
    zfs destroy -r gdst/nb 2>/dev/null || true # its create-time set is the operator's
    for ds in $(zfs list -H -o name -r gsrc gdst); do
        zfs unallow -u 60740 "$ds"
        zfs unallow -u 61640 "$ds"
    done
}


# The guest's own /etc/subuid and /etc/subgid (or none), put back after each test.
save_subids() {
    local f
    for f in /etc/subuid /etc/subgid; do
        [ -e "$f.zkeep-test" ] || cp -p "$f" "$f.zkeep-test" 2>/dev/null || : >"$f.zkeep-test-none"
    done
}
restore_subids() {
    local f
    for f in /etc/subuid /etc/subgid; do
        if [ -e "$f.zkeep-test" ]; then
            mv "$f.zkeep-test" "$f"
        elif [ -e "$f.zkeep-test-none" ]; then
            rm -f "$f" "$f.zkeep-test-none"
        fi
    done
}

# Once process PID is in a user namespace of its own, map 60740-60749 onto its 0-9.
map_run_uids() { # PID
    local i
    for i in $(seq 50); do
        [ "$(readlink /proc/$1/ns/user)" != "$(readlink /proc/self/ns/user)" ] && break
        sleep 0.1
    done
    echo "0 60740 10" >/proc/$1/uid_map
}

zk() { # zkeep confine --run with this test's state dir and uid range
    "$ZKEEP" confine --run --state-dir "$STATE" --uid-range "$UIDS" "$@"
}

# Start a confined run holding grants on gsrc/data, gdst/keep and gdst (a new target),
# then kill -9 its supervisor: the grants and the journal stay.
crash_a_run() {
    "$ZKEEP" confine --run --state-dir "$STATE" --uid-range "$UIDS" \
        --grant gsrc/data=snapshot,destroy --grant gdst/keep=snapshot \
        --grant gdst/x=receive,new --program sleep -- sleep 60 &
    local sup=$! i
    for i in $(seq 100); do
        [ -n "$(zfs allow gdst)" ] && [ -n "$(pgrep -u 60740 sleep)" ] && break
        sleep 0.2
    done
    [ -n "$(zfs allow gdst)" ] || fail "grants never appeared"
    kill -9 "$sup"
    wait "$sup" || true
    for i in $(seq 50); do
        [ -z "$(pgrep -u 60740)" ] && break
        sleep 0.2
    done
    [ -n "$(zfs allow gdst/keep)" ] || fail "no grant left by the killed run"
    ls "$STATE"/grants/60740.journal
}

@test "kill -9, pool exported: the next start keeps the journal and says so; imported: revoked" {
    crash_a_run
    zpool export gdst
    # The next start: gsrc's grant is revoked, gdst's cannot be: journal and uid stay.
    run zk --grant gsrc/data=snapshot --program id -- id -u
    echo "$output"
    assert_success
    assert_output_contains "pending until its pool is imported again"
    assert_output_contains "pool 'gdst' is not imported"
    [ "${lines[${#lines[@]}-1]}" != 60740 ] || fail "uid 60740 reused while its grants are pending"
    [ -z "$(zfs allow gsrc/data)" ] || fail "grants on the imported pool were not revoked"
    [ -e "$STATE"/grants/60740.journal ] || fail "the journal was dropped while gdst was exported"
    # A pool of the same name, but not that pool (a rotated drive): still pending.
    truncate -s 128M "$BATS_TEST_TMPDIR/other.img"
    zpool create -m none gdst "$BATS_TEST_TMPDIR/other.img"
    run zk --grant gsrc/data=snapshot -- true
    echo "$output"
    assert_success
    assert_output_contains "another pool"
    [ -e "$STATE"/grants/60740.journal ] || fail "journal dropped on another pool named gdst"
    zpool destroy gdst
    # The granted pool is back: its delegation is still on disk until the next start.
    zpool import -d "$POOLDIR" gdst
    [ -n "$(zfs allow gdst/keep)" ] || fail "the exported pool lost its grant by itself?"
    run zk --grant gsrc/data=snapshot -- true
    echo "$output"
    assert_success
    assert_output_contains "revoked leftover grants of a crashed run: - gdst/keep uid 60740"
    assert_no_grants gsrc gdst
    [ ! -e "$STATE"/grants/60740.journal ] || fail "journal left behind"
}

@test "kill -9, dataset destroyed on its imported pool: its grants went with it, journal dropped" {
    crash_a_run
    zfs destroy gdst/keep
    zfs create gdst/keep
    # (gdst's create-time set, left by the crashed run for its new target gdst/x, gave root,
    # who made gdst/keep, its own copy: root's, not the run's)
    zfs unallow -u 0 gdst/keep
    # (It still shows what it inherits from gdst; none is its own.)
    zfs allow gdst/keep | grep "Permissions on gdst/keep " && fail "a recreated dataset has grants"
    run zk --grant gsrc/data=snapshot -- true
    echo "$output"
    assert_success
    [[ $output != *pending* ]] || fail "a destroyed dataset left the grant pending"
    assert_no_grants gsrc gdst
    [ ! -e "$STATE"/grants/60740.journal ] || fail "journal left behind"
}

@test "systemd shape: --revoke with the pool exported keeps the journal, --apply refuses; imported: revoked" {
    local u=61640 spec=(--state-dir "$STATE" --job unit1 --grant gdst/keep=snapshot,destroy)
    run "$ZKEEP" allow --apply --user $u "${spec[@]}"
    assert_success
    [ -n "$(zfs allow gdst/keep)" ] || fail "no grant after --apply"
    zpool export gdst
    # ExecStopPost=+ while the pool is away: not a failure, but said, and kept.
    run "$ZKEEP" allow --revoke "${spec[@]}"
    echo "$output"
    assert_success
    assert_output_contains "pending until its pool is imported again"
    [ -e "$STATE/grants/job-unit1.$u.journal" ] || fail "job journal dropped while gdst was exported"
    # zkeep-recover at boot, pool still away: the same.
    run "$ZKEEP" allow --recover --state-dir "$STATE"
    assert_success
    [ -e "$STATE/grants/job-unit1.$u.journal" ] || fail "--recover dropped the journal"
    # The next ExecStartPre: the uid still holds grants on the away pool, no more are lent.
    run "$ZKEEP" allow --apply --user $u --state-dir "$STATE" --job unit1 --grant gsrc/data=snapshot
    echo "$output"
    assert_failure
    assert_output_contains "wait for their pool to be imported again"
    [ -z "$(zfs allow gsrc/data)" ] || fail "--apply granted despite pending grants"
    zpool import -d "$POOLDIR" gdst
    [ -n "$(zfs allow gdst/keep)" ] || fail "the exported pool lost its grant by itself?"
    run "$ZKEEP" allow --revoke "${spec[@]}"
    echo "$output"
    assert_success
    assert_output_contains "revoked - gdst/keep uid $u"
    assert_no_grants gsrc gdst
    [ -z "$(ls "$STATE"/grants/)" ] || fail "journal left: $(ls "$STATE"/grants/)"
}

# The grants a receive needs for its quarantine (-o setuid=off...) also let a compromised
# worker set setuid=on: on the target it receives into and what is below it, and on each
# dataset it creates under a new target's parent (the create-time grants). Root lists the
# guarded properties before and after the worker, puts back what it weakened, and the
# run fails. The worker checks that its changes took effect.
@test "a worker that weakens the quarantine's properties: root puts them back, the run fails" {
    zfs create -p -o setuid=off -o exec=off -o devices=off gdst/bk/tgt
    zfs create -o volmode=none -V 8M gdst/bk/tgt/vol
    zfs create -o setuid=on gdst/bk/own # the operator's: not the worker's to guard
    # (each command may report that it could not remount: the worker cannot)
    local hostile='zfs set setuid=on devices=on gdst/bk/tgt; zfs inherit exec gdst/bk/tgt
        zfs set volmode=full gdst/bk/tgt/vol; zfs create -o setuid=on gdst/bk/planted
        echo "worker-saw: $(zfs get -H -o value setuid,exec,devices gdst/bk/tgt | tr "\n" " ")$(
            zfs get -H -o value volmode gdst/bk/tgt/vol)"'
    run zk --grant gdst/bk/tgt=receive,recursive,prop:setuid,prop:devices,prop:exec,prop:volmode \
        --grant gdst/bk/new=receive,new,prop:setuid \
        --program sh --program zfs --program tr -- sh -c "$hostile"
    echo "$output"
    assert_failure
    assert_output_contains "worker-saw: on on on full" # the grants did let it
    # tgt is mounted (nosuid, noexec, nodev): zfs get shows the mount's values, "temporary"
    assert_output_contains "put back as root: gdst/bk/tgt setuid: on (shadowed by a mount option) -> off"
    assert_output_contains "gdst/bk/planted setuid: on (local) -> off"
    [ "$(zfs get -H -o value,source setuid gdst/bk/tgt)" = "off	local" ] || fail "setuid stays on"
    [ "$(zfs get -H -o value,source exec gdst/bk/tgt)" = "off	local" ] || fail "exec stays inherited"
    [ "$(zfs get -H -o value,source devices gdst/bk/tgt)" = "off	local" ] || fail "devices stays on"
    [ "$(zfs get -H -o value volmode gdst/bk/tgt/vol)" = none ] || fail "volmode stays full"
    [ "$(zfs get -H -o value setuid gdst/bk/planted)" = off ] || fail "the planted dataset is setuid"
    [ "$(zfs get -H -o value setuid gdst/bk/own)" = on ] || fail "root changed what the worker did not"
    assert_no_grants gsrc gdst
    zfs destroy -r gdst/bk
}

# A target that does not exist yet cannot carry a grant: its parent gets only what ZFS
# checks there to create it (receive,create,mount, -l), and the rest is the parent's
# create-time set, which ZFS copies onto each dataset the worker creates. Before, the
# parent was granted everything with descendants: the worker could destroy, roll back,
# receive into or unprotect every sibling backup.
@test "a new target's grants reach no sibling backup; the received tree's grants go after the run" {
    zfs create -p -o setuid=off gdst/nb/sib
    zfs snapshot gdst/nb/sib@keep
    zfs snapshot gdst/nb@parent
    zfs create gsrc/tree
    zfs create gsrc/tree/kid
    zfs snapshot -r gsrc/tree@s1
    zfs allow -c userprop gdst/nb # the operator's own create-time permission: it stays
    local sib_guid
    sib_guid=$(zfs get -H -p -o value guid gdst/nb/sib@keep)
    # What a replication of gsrc/tree into the new gdst/nb/new is granted: receive, force,
    # abort, destroy, hold and the quarantine's properties, which it sets as zkeep does.
    local hostile='for c in "zfs destroy gdst/nb/sib@keep" "zfs rollback gdst/nb/sib@keep" \
            "zfs set setuid=on gdst/nb/sib" "zfs destroy -r gdst/nb/sib" \
            "zfs hold evil gdst/nb/sib@keep" "zfs snapshot gdst/nb/sib@evil"; do
            $c 2>/dev/null && echo "worker-did: $c"
        done
        zfs send gsrc/tree@s1 | zfs receive -u -F gdst/nb/sib 2>/dev/null && echo "worker-did: receive -F sib"
        zfs send -R gsrc/tree@s1 | zfs receive -u -o setuid=off -o devices=off \
            -o sharenfs=off -o sharesmb=off -x zoned -x exec gdst/nb/new &&
            echo "worker-received: $(zfs list -H -o name -r gdst/nb/new | tr "\n" " ")"'
    run zk --grant gsrc/tree=send,hold,recursive \
        --grant gdst/nb/new=receive,new,recursive,force,abort,destroy,hold,prop:setuid,prop:devices,prop:sharenfs,prop:sharesmb,prop:zoned,prop:exec \
        --program sh --program zfs --program tr -- sh -c "$hostile"
    echo "$output"
    assert_success
    assert_output_contains "worker-received: gdst/nb/new gdst/nb/new/kid "
    [[ $output != *worker-did* ]] || fail "the worker reached a sibling backup"
    [ "$(zfs get -H -p -o value guid gdst/nb/sib@keep)" = "$sib_guid" ] || fail "sib@keep changed"
    assert_no_dataset gdst/nb/sib@evil
    [ "$(zfs get -H -o value,source setuid gdst/nb/sib)" = "off	local" ] || fail "sib's setuid changed"
    [ -z "$(zfs holds -H gdst/nb/sib@keep)" ] || fail "a hold on sib@keep"
    # After the run: the create-time set is the operator's again, and nothing on the
    # received tree (its creator's copies are revoked with the run uid).
    [ "$(zfs allow gdst/nb | sed 1d)" = "Create time permissions:"$'\n\t'"userprop" ] ||
        fail "grants left on gdst/nb:" "$(zfs allow gdst/nb)"
    zfs allow gdst/nb/new/kid | grep -q "Local permissions" && fail "grants left on the received child"
    zfs unallow -c userprop gdst/nb
    assert_no_grants gsrc gdst
    zfs destroy -r gdst/nb
    zfs destroy -r gsrc/tree
}

# OpenZFS checks a delegated receive on the name the ioctl is given and receives into
# another name it never compares (tests/poc/recv-name-bypass.sh): a worker that holds
# receive anywhere receives with its own ioctl into any dataset of the host. So root
# runs the worker's receives (zfs/root_receive.h) and the worker holds no receive at
# all: not on a new target's parent during its first run (root grants the rest on the
# new target once its receive made it: the run's hold needs them), not on the target
# after. The forged ioctl (the PoC's shim, as the worker's uid while each run lasts)
# is refused both times, and every receive into the target is root's (zpool history).

# Start a slow replication of gsrc/rr into gdst/rr as RR_SUP; wait until root runs its
# receive and set RR_UID to the run uid (its grant journal's name).
rr_start() {
    "$ZKEEP" --debug replicate --no-sync-snap --bwlimit=256k "$@" gsrc/rr gdst/rr \
        >"$BATS_TEST_TMPDIR/run.out" 2>&1 &
    RR_SUP=$! # teardown stops it when the test fails early
    local i j
    for i in $(seq 150); do
        grep -q "root runs the confined worker's receive: " "$BATS_TEST_TMPDIR/run.out" &&
            break
        sleep 0.1
    done
    grep "root runs the confined worker's receive: zfs receive -[a-zA-Z]*u[a-zA-Z]* .* gdst/rr" \
        "$BATS_TEST_TMPDIR/run.out" ||
        fail "root runs no receive:" "$(cat "$BATS_TEST_TMPDIR/run.out")"
    j=$(cd "$STATE/grants" && ls [0-9]*.journal)
    RR_UID=${j%.journal}
    [ -n "$RR_UID" ] || fail "no run uid"
}

# Forge, as the run uid, a receive into gdst/o whose ioctl names gdst/rr, while the run
# is live.
rr_forge() {
    recv_forge gdst/rr gdst/o "$RR_UID"
    kill -0 "$RR_SUP" 2>/dev/null || fail "the run ended before the forged receive was tried"
}

@test "root runs every receive, into a new target and after: the worker holds no receive; its ioctl is refused" {
    export ZKEEP_STATE_DIR=$STATE
    recv_forge_setup gsrc gdst/o # another backup, and a stream that would apply to it
    # a new target: its first full receive, slow enough to act as the worker meanwhile
    zfs create gsrc/rr
    head -c 2M /dev/urandom >/gsrc/rr/f1
    zfs snapshot gsrc/rr@a
    rr_start # holds the snapshots it sent on both sides: granted on the new target
    local parent
    parent=$(zfs allow gdst)
    rr_forge
    wait "$RR_SUP" || { cat "$BATS_TEST_TMPDIR/run.out"; fail "the first replication failed"; }
    RR_SUP=
    echo "grants on gdst during the first run: $parent"
    [[ $parent != *user* ]] || fail "the worker holds grants on the new target's parent"
    assert_dataset_exists gdst/rr@a
    [ "$(zfs get -H -o value mounted gdst/rr)" = yes ] || fail "gdst/rr not mounted"
    [ -n "$(zfs holds -H gdst/rr@a)" ] || fail "the worker's hold on the new target is missing"
    assert_no_grants gsrc gdst
    # the target exists: an incremental
    head -c 2M /dev/urandom >/gsrc/rr/f2
    zfs snapshot gsrc/rr@b
    rr_start --no-hold
    local perms
    perms=$(zfs allow gdst/rr)
    rr_forge
    wait "$RR_SUP" || { cat "$BATS_TEST_TMPDIR/run.out"; fail "the replication failed"; }
    RR_SUP=
    echo "worker's grants on gdst/rr during the run: $perms"
    [[ $perms == *user* ]] || fail "no grant on gdst/rr during the run"
    [[ $perms != *receive* ]] || fail "the worker holds receive on its existing target"
    rm -rf "$RECV_SHIM_DIR"
    assert_no_dataset gdst/o@b
    assert_dataset_exists gdst/rr@b
    # both receives were root's
    zpool history -l gdst | grep " zfs receive .*gdst/rr" >"$BATS_TEST_TMPDIR/hist"
    cat "$BATS_TEST_TMPDIR/hist"
    [ "$(wc -l <"$BATS_TEST_TMPDIR/hist")" = 2 ] || fail "not two receives into gdst/rr"
    [ "$(grep -c "user 0 " "$BATS_TEST_TMPDIR/hist")" = 2 ] || fail "a receive was not root's"
    assert_no_grants gsrc gdst
    zfs holds -H gdst/rr@a gsrc/rr@a | while read -r snap tag _; do zfs release "$tag" "$snap"; done
    zfs destroy -r gdst/rr
    zfs destroy -r gdst/o
    zfs destroy -r gsrc/rr
    zfs destroy -r gsrc/o
}

# The same under systemd, where the run is the unit's and --apply / --revoke are its
# ExecStartPre=+ / ExecStopPost=+: --apply keeps the listing in root's state directory.
@test "systemd shape: a run that weakens a guarded property: --revoke puts it back and fails" {
    zfs create -p -o setuid=off gdst/bu/tgt
    local u=61640 spec=(--state-dir "$STATE" --job unit2 --grant gdst/bu/tgt=receive,prop:setuid)
    run "$ZKEEP" allow --apply --user $u "${spec[@]}"
    echo "$output"
    assert_success
    [ -e "$STATE/grants/job-unit2.guard" ] || fail "--apply kept no listing"
    setpriv --reuid $u --regid $u --clear-groups zfs set setuid=on gdst/bu/tgt || true # no remount
    # mounted nosuid, so zfs get shows the mount's "off", temporary: the property is on
    [ "$(zfs get -H -o value,source setuid gdst/bu/tgt)" = "off	temporary" ] ||
        fail "the grant did not let the run set it"
    run "$ZKEEP" allow --revoke "${spec[@]}"
    echo "$output"
    assert_failure
    assert_output_contains "put back as root: gdst/bu/tgt setuid: on (shadowed by a mount option) -> off"
    [ "$(zfs get -H -o value,source setuid gdst/bu/tgt)" = "off	local" ] || fail "setuid stays on"
    assert_no_grants gsrc gdst
    [ ! -e "$STATE/grants/job-unit2.guard" ] || fail "the listing stays"
    # An honest run: nothing to put back.
    run "$ZKEEP" allow --apply --user $u "${spec[@]}"
    assert_success
    run "$ZKEEP" allow --revoke "${spec[@]}"
    echo "$output"
    assert_success
    [[ $output != *"put back"* ]] || fail "an honest run was repaired"
    zfs destroy -r gdst/bu
}

# A user given subordinate ids (/etc/subuid, /etc/subgid) can map them into a user
# namespace of theirs, where the kernel takes their processes for those ids: they would
# hold a run uid's grants, own its files and pass the receive socket's peer check for as
# long as the run lasts. Such a uid is never lent grants.
@test "subordinate ids that hold run uids: those are skipped; all of them, or a unit's: nothing granted" {
    save_subids
    # The first uid of the range is mallory's to map, the second's gid too: the run takes
    # the third.
    echo "mallory:60740:1" >/etc/subuid
    echo "mallory:0xed45:1" >/etc/subgid # 60741, as older shadow reads hex
    run zk --grant gsrc/data=snapshot --program id -- id -u
    echo "$output"
    assert_success
    assert_equal "${lines[-1]}" 60742 "the run's uid"
    # Every uid of the range: no run at all, and it says whose range it is.
    echo "mallory:60700:100" >/etc/subuid
    : >/etc/subgid
    run zk --grant gsrc/data=snapshot --program id -- id -u
    echo "$output"
    assert_failure
    assert_output_contains "60740 is in the subordinate ids of 'mallory' (/etc/subuid line 1: 60700-60799)"
    ! grep -qx '[0-9][0-9]*' <<<"$output" || fail "the worker ran"
    # A systemd job unit's DynamicUser uid (61184-65519) in a range: --apply refuses it.
    echo "mallory:61184:4336" >/etc/subgid
    run "$ZKEEP" allow --apply --user 61640 --state-dir "$STATE" --job unit1 \
        --grant gsrc/data=snapshot,destroy
    echo "$output"
    assert_failure
    assert_output_contains "job unit1's run uid is not lent grants: 61640 is in the subordinate ids of 'mallory' (/etc/subgid line 1"
    [ -z "$(ls "$STATE/grants/" 2>/dev/null)" ] || fail "a journal was made: $(ls "$STATE/grants/")"
    assert_no_grants gsrc gdst
    restore_subids
    # A mapping outlives the range it was made from (a rootless container's pause
    # process): a user's namespace that maps the range's uids keeps them from the runs
    # (one made by root, as systemd's PrivateUsers=, does not).
    setpriv --reuid=65534 --regid=65534 --clear-groups unshare --user sleep 60 &
    local ns=$!
    map_run_uids $ns
    run zk --grant gsrc/data=snapshot --program id -- id -u
    echo "$output"
    kill $ns
    assert_failure
    assert_output_contains "60740 is mapped into the user namespace of process $ns"
    assert_no_grants gsrc gdst
    # the same mapping in a namespace root made: root's choice, the run goes on
    unshare --user sleep 60 &
    ns=$!
    map_run_uids $ns
    run zk --grant gsrc/data=snapshot --program id -- id -u
    kill $ns
    assert_success
    assert_equal "${lines[-1]}" 60740 "the run's uid beside root's own namespace"
    assert_no_grants gsrc gdst
    # Without the range the same --apply grants (the refusal was the range's).
    run "$ZKEEP" allow --apply --user 61640 --state-dir "$STATE" --job unit1 \
        --grant gsrc/data=snapshot,destroy
    assert_success
    [ -n "$(zfs allow gsrc/data)" ] || fail "no grant after --apply"
    run "$ZKEEP" allow --revoke --state-dir "$STATE" --job unit1 --grant gsrc/data=snapshot,destroy
    assert_success
    assert_no_grants gsrc gdst
}
