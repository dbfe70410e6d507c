#!/usr/bin/env bats
# The snapshot side runs confined by default as root: sanoid --cron/--take-snapshots/
# --prune-snapshots, zkeep snapshot and zkeep prune take and destroy snapshots as a
# transient run uid holding only `snapshot` / `destroy,mount` on the configured
# datasets, and no grant outlives a run (success, failure, kill -9 of the worker or
# of the supervisor). `zpool history -l` names the uid that ran each command.
# Runs in the guest: tests/guest/run.sh tests/guest/run-integration.sh

load lib
load sanoid-lib

setup() {
    need_root
    need_zfs
    need_zkeep
    sanoid_setup
    make_pool cs1
    zfs create cs1/a
    zfs create cs1/a/child
    zfs create cs1/other
    export ZKEEP_STATE_DIR=$BATS_TEST_TMPDIR/state
    write_conf <<'CONF'
[cs1/a]
	use_template = t
	recursive = yes
[template_t]
	hourly = 2
	daily = 1
	monthly = 0
	yearly = 0
	autoprune = yes
CONF
    assert_no_grants cs1; assert_no_grant_journal
}

teardown() {
    pkill -KILL -U 60700 2>/dev/null || true
    [ -z "${SLOW_ZFS:-}" ] || rm -f /usr/local/sbin/zfs
    destroy_pools
}


# The uids that ran `zfs OP` on the pool, from its history.
history_uids() { # OP
    zpool history -l cs1 | grep " zfs $1 " | sed -n 's/.*\[user \([0-9]*\).*/\1/p' | sort -u
}

@test "sanoid --cron as root: taken and pruned by a run uid under delegation only, no grant left" {
    ZKEEP_NOW=$(at "2026-07-01 10:00:00") run zsanoid --cron --verbose
    assert_success
    assert_output_contains "taking snapshot cs1/a@autosnap_2026-07-01_10:00:00_hourly"
    assert_equal "$(count_type cs1/a/child hourly)" 1 "hourlies of the child"
    assert_no_grants cs1; assert_no_grant_journal
    for h in 11 12; do
        ZKEEP_NOW=$(at "2026-07-01 $h:00:00") run zsanoid --cron
        assert_success
    done
    # --cron prunes on the listing from before it took (as sanoid): 10, 11, 12 now.
    ZKEEP_NOW=$(at "2026-07-01 12:30:00") run zsanoid --prune-snapshots
    assert_success
    assert_equal "$(count_type cs1/a hourly)" 2 "hourlies kept (one pruned)"
    assert_equal "$(count_type cs1/a/child hourly)" 2 "child hourlies kept"
    assert_equal "$(snaps cs1/other)" "" "a dataset outside the config"
    assert_no_grants cs1; assert_no_grant_journal
    # Every snapshot and destroy was made by a run uid, none by root.
    assert_equal "$(history_uids snapshot)" 60700 "uids of zfs snapshot"
    assert_equal "$(history_uids destroy)" 60700 "uids of zfs destroy"
    [ -z "$(ls -A "$ZKEEP_STATE_DIR/work")" ] || fail "run directory left in $ZKEEP_STATE_DIR/work"
}

@test "zkeep snapshot and zkeep prune: confined, same names as sanoid, no grant left" {
    ZKEEP_NOW=$(at "2026-07-01 10:00:00") run "$ZKEEP" snapshot --config-dir "$SD/etc" \
        --cache-dir "$SD/cache" --run-dir "$SD/run"
    assert_success
    assert_output_contains "cs1/a@autosnap_2026-07-01_10:00:00_hourly"
    assert_no_grants cs1; assert_no_grant_journal
    # The worker reported what it took and the supervisor put it in its cache, so a
    # run within the cache's 20 minutes lists nothing and takes nothing again.
    for s in cs1/a@autosnap_2026-07-01_10:00:00_hourly cs1/a/child@autosnap_2026-07-01_10:00:00_daily; do
        grep -q "^$s	" "$SD/cache/snapshots.txt" || fail "$s is not in the cache" "$(cat "$SD/cache/snapshots.txt")"
    done
    ZKEEP_NOW=$(at "2026-07-01 10:05:00") run zsanoid --cron --verbose
    assert_success
    ! grep -Eq '^INFO: (dataset )?cache expired|^taking snapshot ' <<<"$output" ||
        fail "a run 5 minutes later listed or took again" "$output"
    for h in 11 12; do
        ZKEEP_NOW=$(at "2026-07-01 $h:00:00") run "$ZKEEP" snapshot --config-dir "$SD/etc"
        assert_success
    done
    ZKEEP_NOW=$(at "2026-07-01 12:30:00") run "$ZKEEP" prune --config-dir "$SD/etc" \
        --cache-dir "$SD/cache" --run-dir "$SD/run"
    assert_success
    assert_output_contains "cs1/a@autosnap_2026-07-01_10:00:00_hourly"
    assert_equal "$(count_type cs1/a hourly)" 2 "hourlies after prune"
    assert_no_grants cs1; assert_no_grant_journal
    assert_equal "$(history_uids snapshot)" 60700 "uids of zfs snapshot"
    assert_equal "$(history_uids destroy)" 60700 "uids of zfs destroy"
}

@test "confined and --no-confine runs print the same bytes; --no-confine warns and runs as root" {
    make_pool cs2
    zfs create cs2/a
    zfs create cs2/a/child
    ZKEEP_NOW=$(at "2026-07-01 10:00:00") run zsanoid --cron --verbose
    assert_success
    local confined=$output
    sed -i 's/cs1/cs2/' "$SD/etc/sanoid.conf"
    rm -f "$SD/cache/"*
    ZKEEP_NOW=$(at "2026-07-01 10:00:00") run zsanoid --cron --verbose --no-confine
    assert_success
    assert_output_contains "WITHOUT confinement"
    assert_equal "$(printf '%s\n' "$output" | grep -v 'WITHOUT confinement' | sed 's/cs2/cs1/g')" \
        "$confined" "output of the unconfined run"
    [ "$(zpool history -l cs2 | grep ' zfs snapshot ' | grep -c 'user 0 ')" -ge 1 ] ||
        fail "--no-confine did not snapshot as root: $(zpool history -l cs2 | tail -3)"
    for ds in $(zfs list -H -o name -r cs2); do
        [ -z "$(zfs allow "$ds")" ] || fail "grants on $ds"
    done
}

@test "a failing snapshot (snapshot_limit, enforced on delegated users): status 1, no grant left" {
    zfs set snapshot_limit=0 cs1/a
    ZKEEP_NOW=$(at "2026-07-01 10:00:00") run zsanoid --take-snapshots
    assert_failure 1
    assert_equal "$(snaps cs1/a)" "" "snapshots beyond the limit"
    assert_no_grants cs1; assert_no_grant_journal
    # Root is not held to the limit: proof the confined run was not root.
    ZKEEP_NOW=$(at "2026-07-01 10:00:00") run zsanoid --take-snapshots --no-confine
    assert_success
    assert_equal "$(count_type cs1/a hourly)" 1 "hourlies taken by root"
}

@test "pre/post snapshot scripts: runs unconfined with a loud warning, no grant" {
    printf '\tpre_snapshot_script = /bin/true\n' >>"$SD/etc/sanoid.conf"
    ZKEEP_NOW=$(at "2026-07-01 10:00:00") run zsanoid --take-snapshots
    assert_success
    assert_output_contains "NOT confined"
    assert_equal "$(count_type cs1/a hourly)" 1 "hourlies"
    assert_no_grants cs1; assert_no_grant_journal
}

# zkeep runs zfs from a fixed PATH that starts with /usr/local/sbin: a zfs there
# that turns `zfs snapshot` without /root (that is: in the worker's root) into a
# `zpool iostat 10` that never ends, and runs the real zfs for everything else.
slow_zfs() {
    [ ! -e /usr/local/sbin/zfs ] || skip "/usr/local/sbin/zfs exists"
    mkdir -p /usr/local/sbin
    printf '#!/bin/sh\nif [ "$1" = snapshot ] && [ ! -d /root ]; then exec %s iostat 10; fi\nexec %s "$@"\n' \
        "$(command -v zpool)" "$(command -v zfs)" >/usr/local/sbin/zfs.tmp
    chmod 755 /usr/local/sbin/zfs.tmp
    mv /usr/local/sbin/zfs.tmp /usr/local/sbin/zfs
    SLOW_ZFS=1
}

wait_worker() { # SUPERVISOR-PID: sets $worker once the worker blocks with its grants
    local i
    worker=
    for i in $(seq 150); do
        worker=$(pgrep -o -u 60700 || true)
        [ -n "$worker" ] && [ -n "$(zfs allow cs1/a)" ] && [ -n "$(pgrep -u 60700 -f 'iostat 10')" ] && break
        sleep 0.2
    done
    [ -n "$worker" ] || fail "no worker under supervisor $1"
    [ -n "$(zfs allow cs1/a)" ] || fail "grants never appeared"
}

@test "kill -9 of the worker: the supervisor revokes, status 2" {
    slow_zfs
    ZKEEP_NOW=$(at "2026-07-01 10:00:00") "$SANOID" --configdir="$SD/etc" \
        --cache-dir="$SD/cache" --run-dir="$SD/run" --take-snapshots 2>"$BATS_TEST_TMPDIR/err" &
    local sup=$! st=0
    wait_worker "$sup"
    kill -9 "$worker"
    wait "$sup" || st=$?
    rm -f /usr/local/sbin/zfs
    assert_equal "$st" 2 "exit status after the worker was killed"
    grep -q "killed by a signal" "$BATS_TEST_TMPDIR/err" || fail "$(cat "$BATS_TEST_TMPDIR/err")"
    assert_no_grants cs1; assert_no_grant_journal
    assert_equal "$(snaps cs1/a)" "" "snapshots"
}

@test "kill -9 of the supervisor: the worker dies, the next run revokes the leftovers" {
    slow_zfs
    ZKEEP_NOW=$(at "2026-07-01 10:00:00") "$SANOID" --configdir="$SD/etc" \
        --cache-dir="$SD/cache" --run-dir="$SD/run" --take-snapshots &
    local sup=$! i
    wait_worker "$sup"
    kill -9 "$sup"
    wait "$sup" || true
    rm -f /usr/local/sbin/zfs
    for i in $(seq 50); do
        [ -z "$(pgrep -u 60700)" ] && break
        sleep 0.2
    done
    [ -z "$(pgrep -u 60700)" ] || fail "worker still running: $(pgrep -a -u 60700)"
    [ -n "$(zfs allow cs1/a)" ] || fail "grants vanished without a revoke?"
    ZKEEP_NOW=$(at "2026-07-01 10:00:00") run zsanoid --take-snapshots
    assert_success
    assert_output_contains "revoked leftover grants"
    assert_equal "$(count_type cs1/a hourly)" 1 "hourlies taken by the next run"
    assert_no_grants cs1; assert_no_grant_journal
}
