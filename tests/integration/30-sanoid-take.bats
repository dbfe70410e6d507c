#!/usr/bin/env bats
# zkeep as `sanoid`: what it takes, when, under which names, with recursion.
# Runs inside the guest (tests/guest/run.sh tests/guest/run-integration.sh).
# Time is faked with ZKEEP_NOW; snapshot times then come from their names.

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

@test "sanoid: due types share one timestamp in local time; nothing twice" {
    make_pool st1
    zfs create st1/a
    write_conf <<'CONF'
[st1/a]
	hourly = 2
	daily = 1
	monthly = 1
	yearly = 1
CONF
    export TZ=Europe/Vienna
    # 2026-07-01 12:34:56 UTC is 14:34:56 in Vienna
    ZKEEP_NOW=1782909296 run zsanoid --cron --verbose
    assert_success
    assert_output_contains "taking snapshot st1/a@autosnap_2026-07-01_14:34:56_hourly"
    assert_equal "$(snaps st1/a | tr '\n' ' ')" \
        "autosnap_2026-07-01_14:34:56_daily autosnap_2026-07-01_14:34:56_hourly autosnap_2026-07-01_14:34:56_monthly autosnap_2026-07-01_14:34:56_yearly "
    # 20 minutes later nothing is due; at 15:00 the hourly is
    ZKEEP_NOW=$((1782909296 + 1200)) run zsanoid --cron
    assert_success
    assert_equal "$(snaps st1/a | wc -l)" 4
    ZKEEP_NOW=$(TZ=Europe/Vienna at "2026-07-01 15:00:00") run zsanoid --cron
    assert_success
    assert_equal "$(snaps st1/a | tr '\n' ' ')" \
        "autosnap_2026-07-01_14:34:56_daily autosnap_2026-07-01_14:34:56_hourly autosnap_2026-07-01_14:34:56_monthly autosnap_2026-07-01_14:34:56_yearly autosnap_2026-07-01_15:00:00_hourly "
}

@test "sanoid: no action means --cron --verbose; --readonly alone does nothing, with --cron changes nothing" {
    make_pool st2
    zfs create st2/a
    write_conf <<'CONF'
[st2/a]
	hourly = 1
	daily = 0
	monthly = 0
CONF
    # sanoid's `keys %args < 4`: any option besides the three directories, --readonly
    # too, means no default action, so nothing is taken or printed
    ZKEEP_NOW=1782909296 run "$SANOID" -configdir "$SD/etc" -cache-d "$SD/cache" -run "$SD/run" -readonly -Verb
    assert_success
    assert_equal "$output" ""
    assert_equal "$(snaps st2/a | wc -l)" 0
    # options after an operand, any case, abbreviated: Getopt::Long's permute and ignore_case
    ZKEEP_NOW=1782909296 run "$SANOID" -configdir "$SD/etc" ignored -cache-d "$SD/cache" -run "$SD/run" -readonly -CRON -v
    assert_success
    assert_output_contains "INFO: taking snapshots..."
    assert_output_contains "taking snapshot st2/a@autosnap_2026-07-01_12:34:56_hourly"
    assert_equal "$(snaps st2/a | wc -l)" 0
    ZKEEP_NOW=1782909296 run "$SANOID" -configdir "$SD/etc" -cache-d "$SD/cache" -run "$SD/run"
    assert_success
    assert_output_contains "taking snapshot st2/a@autosnap_2026-07-01_12:34:56_hourly"
    assert_equal "$(snaps st2/a)" "autosnap_2026-07-01_12:34:56_hourly"
    # ambiguous abbreviation is refused like Getopt::Long does
    run "$SANOID" --c
    assert_failure 2
    assert_output_contains "Option c is ambiguous (cache-dir, cache-ttl, configdir, cron)"
}

@test "sanoid: recursive = zfs is one atomic snapshot -r; recursive = yes honours child sections" {
    make_pool st3
    zfs create -p st3/z/c1/g
    zfs create st3/z/c2
    zfs create -p st3/y/k1
    zfs create st3/y/k2
    zfs create st3/y/skip
    write_conf <<'CONF'
[template_base]
	hourly = 1
	daily = 1
	monthly = 0
[st3/z]
	use_template = base
	recursive = zfs
[st3/y]
	use_template = base
	recursive = yes
	process_children_only = yes
[st3/y/k2]
	hourly = 0
	daily = 3
[st3/y/skip]
	autosnap = no
CONF
    ZKEEP_NOW=1782909296 run zsanoid --take-snapshots --verbose
    assert_success
    assert_output_contains "taking snapshot st3/z@autosnap_2026-07-01_12:34:56_daily (zfs recursive)"
    both="autosnap_2026-07-01_12:34:56_daily autosnap_2026-07-01_12:34:56_hourly "
    for d in st3/z st3/z/c1 st3/z/c1/g st3/z/c2 st3/y/k1; do
        assert_equal "$(snaps $d | tr '\n' ' ')" "$both" "snapshots of $d"
    done
    # -r: each name in one transaction group on the parent and all children
    assert_equal "$(zfs list -H -o name,createtxg -t snapshot -r st3/z | sed 's/.*@//' | sort -u | wc -l)" 2
    # process_children_only: the parent itself has none; the child's own section wins
    assert_equal "$(snaps st3/y | wc -l)" 0
    assert_equal "$(snaps st3/y/k2)" "autosnap_2026-07-01_12:34:56_daily"
    assert_equal "$(snaps st3/y/skip | wc -l)" 0
}

@test "zkeep snapshot/prune/status/config check: the native front end over the same engine" {
    make_pool st4
    zfs create st4/a
    write_conf <<'CONF'
[st4/a]
	hourly = 2
	daily = 0
	monthly = 0
CONF
    opts=(--config-dir "$SD/etc" --run-dir "$SD/run")
    run "$ZKEEP" config check "${opts[@]}"
    assert_success
    assert_output_contains "[st4/a]"
    assert_output_contains "hourly=2"
    # --dry-run is for the commands that change something, not offered where it means nothing
    for cmd in status metrics "config check"; do
        # shellcheck disable=SC2086
        run "$ZKEEP" $cmd --dry-run "${opts[@]}"
        assert_failure 2
        assert_output_contains "unknown option or missing value '--dry-run'"
        run "$ZKEEP" $cmd --help
        [[ $output != *"--dry-run"* ]] || fail "zkeep $cmd --help offers --dry-run" "$output"
    done
    for h in 10 11 12 13; do
        ZKEEP_NOW=$(at "2026-07-01 $h:00:00") run "$ZKEEP" snapshot "${opts[@]}"
        assert_success
        assert_equal "$output" "st4/a@autosnap_2026-07-01_$h:00:00_hourly"
    done
    ZKEEP_NOW=$(at "2026-07-01 13:10:00") run "$ZKEEP" status "${opts[@]}" --json --prometheus "$SD/m.prom"
    assert_success
    [ "$(echo "$output" | jq -r '.datasets[0].types.hourly.count')" = 4 ] || fail "$output"
    [ "$(echo "$output" | jq -r '.datasets[0].would_prune | length')" = 2 ] || fail "$output"
    grep -qx 'zkeep_snapshots{dataset="st4/a",type="hourly"} 4' "$SD/m.prom" || fail "$(cat "$SD/m.prom")"
    ZKEEP_NOW=$(at "2026-07-01 13:10:00") run "$ZKEEP" prune "${opts[@]}" --dry-run
    assert_success
    assert_output_contains "pruning st4/a@autosnap_2026-07-01_10:00:00_hourly"
    assert_equal "$(snaps st4/a | wc -l)" 4
    ZKEEP_NOW=$(at "2026-07-01 13:10:00") run "$ZKEEP" prune "${opts[@]}"
    assert_success
    assert_equal "$output" "st4/a@autosnap_2026-07-01_10:00:00_hourly
st4/a@autosnap_2026-07-01_11:00:00_hourly"
    assert_equal "$(snaps st4/a | tr '\n' ' ')" "autosnap_2026-07-01_12:00:00_hourly autosnap_2026-07-01_13:00:00_hourly "
}

@test "sanoid: the cache is never stale: only datasets whose snapshots_changed moved are listed again" {
    make_pool sc5
    zfs create sc5/a
    zfs create sc5/a/c
    zfs create sc5/b
    write_conf <<'CONF'
[sc5/a]
	use_template = t
	recursive = yes
[sc5/b]
	use_template = t
[template_t]
	hourly = 2
	daily = 0
	monthly = 0
CONF
    if ! zfs get -H -o value snapshots_changed sc5 >/dev/null 2>&1; then
        # ZFS 2.1 (the version tier): the whole listing, said at debug level
        ZKEEP_NOW=$(at "2026-07-01 10:00:00") run zsanoid --cron --debug
        assert_success
        assert_output_contains "DEBUG: no snapshots_changed ("
        skip "this ZFS has no snapshots_changed: checked that it says so and lists everything"
    fi
    # one dataset per `zfs list -d 1` (200 by default): sc5/a's listing also has sc5/a/c's
    # row, without its snapshots; those must come from sc5/a/c's own listing
    export ZKEEP_RELIST_CHUNK=1
    relisted() { grep -o 'DEBUG: snapshots of [0-9]* of [0-9]* datasets listed' <<<"$output"; }
    refreshed() { grep -o 'DEBUG: [0-9]* dataset(s) this run changed listed again for the cache' <<<"$output"; }
    # what the cache holds of each snapshot is what a full listing says (the run lists its
    # changed datasets again by names, guids and txgs only, and reads the rest of new ones)
    cache_is_zfs() {
        diff <(grep @ "$SD/cache/snapshots.txt" | cut -f1-6 | sort) \
            <(zfs list -Hp -o name,type,guid,createtxg,creation,userrefs -t snapshot -r sc5 |
                sort) || fail "the cache's snapshot rows are not zfs list's" "$1"
    }
    ZKEEP_NOW=$(at "2026-07-01 10:00:00") run zsanoid --cron --debug
    assert_success
    # every dataset got a snapshot: the run itself lists the three again for the cache
    assert_equal "$(refreshed)" "DEBUG: 3 dataset(s) this run changed listed again for the cache"
    cache_is_zfs "after the first run"
    # so the next run, at once, reads the dataset rows only; the cache file is not rewritten
    local before; before=$(stat -c %Y.%s "$SD/cache/snapshots.txt")
    ZKEEP_NOW=$(at "2026-07-01 10:06:00") run zsanoid --cron --debug
    assert_success
    assert_equal "$(relisted)" "DEBUG: snapshots of 0 of 3 datasets listed" "on a quiet pool after a taking run"
    [[ $output != *"taking snapshot "* ]] || fail "took again on a quiet pool" "$output"
    assert_equal "$(stat -c %Y.%s "$SD/cache/snapshots.txt")" "$before" "the cache file after a quiet run"
    # behind zkeep's back: the hourly of sc5/a/c destroyed, one of sc5/b made by hand
    zfs destroy sc5/a/c@autosnap_2026-07-01_10:00:00_hourly
    zfs snapshot sc5/b@autosnap_2026-07-01_09:30:00_hourly
    sleep 1 # else a change in the second the next listing starts makes it list sc5/b again too
    ZKEEP_NOW=$(at "2026-07-01 10:07:00") run zsanoid --cron --debug
    assert_success
    assert_equal "$(relisted)" "DEBUG: snapshots of 2 of 3 datasets listed" "after changes behind its back"
    # the next run saw both: sc5/a/c's hourly is due again, sc5/b has two hourlies
    assert_output_contains "taking snapshot sc5/a/c@autosnap_2026-07-01_10:07:00_hourly"
    [[ $output != *"taking snapshot sc5/b@"* && $output != *"taking snapshot sc5/a@"* ]] ||
        fail "took for a dataset that had its hourly" "$output"
    assert_equal "$(refreshed)" "DEBUG: 1 dataset(s) this run changed listed again for the cache"
    # a change right after the run listed a dataset for the cache (within its second) is seen
    zfs destroy sc5/a/c@autosnap_2026-07-01_10:07:00_hourly
    ZKEEP_NOW=$(at "2026-07-01 10:08:00") run zsanoid --cron --debug
    assert_success
    assert_equal "$(relisted)" "DEBUG: snapshots of 1 of 3 datasets listed" "after a destroy right after a run"
    assert_output_contains "taking snapshot sc5/a/c@autosnap_2026-07-01_10:08:00_hourly"
    # unconfined, the run lists for the cache the same way
    ZKEEP_NOW=$(at "2026-07-01 11:00:00") run zsanoid --cron --debug --no-confine
    assert_success
    assert_equal "$(refreshed)" "DEBUG: 3 dataset(s) this run changed listed again for the cache"
    # the rows of the snapshots that were there before come from the run's own listing
    assert_output_contains "listed again for the cache (3 snapshot(s) read in full)"
    cache_is_zfs "after an unconfined taking run"
    ZKEEP_NOW=$(at "2026-07-01 11:01:00") run zsanoid --cron --debug
    assert_success
    assert_equal "$(relisted)" "DEBUG: snapshots of 0 of 3 datasets listed" "after an unconfined taking run"
    # a hold the cache saw, released behind zkeep's back (which moves no snapshots_changed):
    # the snapshot goes when its time comes, it is not kept for ever for a stale userrefs
    local s10=sc5/b@autosnap_2026-07-01_10:00:00_hourly
    zfs hold keep "$s10"
    zfs snapshot sc5/b@manual # moves snapshots_changed: the next run lists sc5/b, hold and all
    sleep 1
    ZKEEP_NOW=$(at "2026-07-01 11:02:00") run zsanoid --cron --debug
    assert_success
    cache_is_zfs "after a hold"
    zfs release keep "$s10"
    # a run that takes carries the listed hold over into the cache (it reads only what it
    # took); the next one that would prune it asks zfs holds first
    ZKEEP_NOW=$(at "2026-07-01 12:00:00") run zsanoid --take-snapshots --debug
    assert_success
    ZKEEP_NOW=$(at "2026-07-01 12:01:00") run zsanoid --prune-snapshots --debug
    assert_success
    assert_output_contains "DEBUG: $s10 is no longer held (its listing was older)"
    ! zfs list "$s10" >/dev/null 2>&1 || fail "$s10 was kept for a hold released long ago" "$output"
    cache_is_zfs "after a stale hold"
}
