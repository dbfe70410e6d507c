#!/usr/bin/env bats
# zkeep as `sanoid`: every kind of bad config is fatal (exit 2) with a message that
# names the file, the line, the section and the key; nothing is snapshotted.
# A section whose dataset does not exist (a pool not imported) is not a bad config:
# it stops nothing, as with sanoid 2.3.0 (the last test, against it).

load lib
load sanoid-lib
bats_require_minimum_version 1.5.0

setup() {
    need_root
    need_zfs
    need_zkeep
    sanoid_setup
}

teardown() {
    destroy_pools
}

bad_conf() { # EXPECTED-MESSAGE (config on stdin)
    write_conf
    run zsanoid --cron
    assert_failure 2
    assert_output_contains "$1"
    assert_equal "$(zfs list -H -t snapshot -o name -r sc1 | wc -l)" 0 "snapshots taken"
}

@test "sanoid: bad configs: unknown key, bad values, unknown template, syntax" {
    make_pool sc1
    zfs create sc1/a
    f=$SD/etc/sanoid.conf
    bad_conf "$f:3: [sc1/a] houlry: unknown setting" <<'CONF'
[sc1/a]
	hourly = 4
	houlry = 4
CONF
    bad_conf "$f:2: [sc1/a] daily: 'lots' is not a whole number" <<'CONF'
[sc1/a]
	daily = lots
CONF
    bad_conf "$f:4: [template_t] autoprune: 'perhaps' is not a boolean" <<'CONF'
[sc1/a]
	use_template = t
[template_t]
	autoprune = perhaps
CONF
    bad_conf "$f:2: [sc1/a] recursive: 'deep' is not one of no, yes, zfs" <<'CONF'
[sc1/a]
	recursive = deep
CONF
    bad_conf "$f:3: [sc1/a] hourly_warn: '90 minutes' is not an age" <<'CONF'
[sc1/a]
	hourly = 1
	hourly_warn = 90 minutes
CONF
    bad_conf "$f:2: [sc1/a] use_template: no section [template_prod]" <<'CONF'
[sc1/a]
	use_template = prod
CONF
    bad_conf "$f:2: expected 'key = value'" <<'CONF'
[sc1/a]
this is not ini
CONF
    # a defaults file in the config dir replaces the built-in one, and is checked too
    printf '[template_default]\nhourly = 48\n' >"$SD/etc/sanoid.defaults.conf"
    bad_conf "sanoid.defaults.conf: version 1 of the defaults file; version 2 or later is needed" <<'CONF'
[sc1/a]
CONF
    # and a missing sanoid.conf says what to do
    rm -f "$SD/etc/sanoid.conf" "$SD/etc/sanoid.defaults.conf"
    run zsanoid --cron
    assert_failure 2
    assert_output_contains "cannot read $f: No such file or directory"
}

@test "sanoid: the config that works: example config of the sanoid package parses" {
    make_pool sc1
    zfs create sc1/a
    # Debian's shipped example, retargeted at our pool
    zcat -f /usr/share/doc/sanoid/examples/sanoid.conf* \
        | sed -e 's/^\[zpoolname\/parent2\]/[sc1\/a]/' >"$SD/etc/sanoid.conf"
    grep -q '^\[sc1/a\]' "$SD/etc/sanoid.conf" || skip "example config layout changed"
    run "$ZKEEP" config check --config-dir "$SD/etc"
    assert_success
    assert_output_contains "[sc1/a]"
    assert_output_contains "hourly=36" # template_production
}

# sanoid.conf for POOL with one dataset that exists and two that do not (a pool that
# is not imported, a child that was never made).
missing_conf() { # POOL
    cat <<CONF
[$1/a]
	hourly = 2
	daily = 1
	monthly = 0
	yearly = 0

[sc9/usb]
	hourly = 2
	daily = 1

[$1/a/gone]
	hourly = 1
CONF
}

@test "a section whose dataset does not exist stops nothing: the others are snapshotted and pruned, as by sanoid 2.3.0" {
    [ -x "$REF230_SANOID" ] || fail "sanoid 2.3.0 is not unpacked ($REF230_SANOID): run tests/guest/install-deps.sh"
    make_pool sc1
    make_pool sc2
    zfs create sc1/a
    zfs create sc2/a
    missing_conf sc1 | write_conf
    mkdir -p "$SD/ref/etc" "$SD/ref/cache" "$SD/ref/run"
    missing_conf sc2 >"$SD/ref/etc/sanoid.conf"

    # sanoid 2.3.0: exit 0, the existing dataset snapshotted, a complaint on stderr
    run --separate-stderr "$REF230_SANOID" --configdir="$SD/ref/etc" --cache-dir="$SD/ref/cache" \
        --run-dir="$SD/ref/run" --cron
    echo "# sanoid 2.3.0: status $status; stderr: $(head -c 300 <<<"$stderr")" >&3
    ref_status=$status
    assert_equal "$ref_status" 0 "sanoid 2.3.0's exit status"
    [ "$(count_type sc2/a hourly)" = 1 ] || fail "sanoid 2.3.0 took no hourly of sc2/a"

    # zkeep as sanoid: the same status, the same snapshots, the missing ones named
    run --separate-stderr zsanoid --cron
    assert_equal "$status" "$ref_status" "exit status as sanoid (sanoid 2.3.0: $ref_status)"
    [[ $stderr == *"[sc9/usb]: dataset 'sc9/usb' does not exist"* ]] || fail "sc9/usb not named:" "$stderr"
    [[ $stderr == *"[sc1/a/gone]: dataset 'sc1/a/gone' does not exist"* ]] || fail "sc1/a/gone not named:" "$stderr"
    assert_equal "$(snaps sc1/a | sed 's/_[0-9-]*_[0-9:]*_/_T_/')" \
        "$(snaps sc2/a | sed 's/_[0-9-]*_[0-9:]*_/_T_/')" "snapshot types of sc1/a (vs sanoid 2.3.0's sc2/a)"

    # --monitor-snapshots: CRITICAL for the missing ones, in sanoid's words and status
    run --separate-stderr "$REF230_SANOID" --configdir="$SD/ref/etc" --cache-dir="$SD/ref/cache" \
        --run-dir="$SD/ref/run" --monitor-snapshots
    ref_status=$status ref_out=$output ref_err=$stderr
    run --separate-stderr zsanoid --monitor-snapshots
    assert_equal "$stderr" "$ref_err" "--monitor-snapshots stderr"
    assert_equal "$status" "$ref_status" "--monitor-snapshots status (sanoid 2.3.0: $ref_status)"
    assert_equal "$output" "$(sed 's#sc2/a#sc1/a#g' <<<"$ref_out")" "--monitor-snapshots line"
    assert_output_contains "CRIT: sc9/usb has no hourly snapshots at all!"

    # the native commands say it with exit status 1, and still do the others
    zfs destroy -r sc1/a@%
    run --separate-stderr "$ZKEEP" snapshot --config-dir "$SD/etc" --cache-dir "$SD/cache" --run-dir "$SD/run"
    assert_equal "$status" 1 "zkeep snapshot's exit status"
    [[ $stderr == *"dataset 'sc9/usb' does not exist"* ]] || fail "zkeep snapshot: sc9/usb not named:" "$stderr"
    [ "$(count_type sc1/a hourly)" = 1 ] || fail "zkeep snapshot took no hourly of sc1/a"
    run "$ZKEEP" status --config-dir "$SD/etc" --cache-dir "$SD/cache" --run-dir "$SD/run" --json
    assert_equal "$status" 1 "zkeep status's exit status"
    assert_equal "$(jq -r '.datasets[] | select(.missing) | .dataset' <<<"$output" | sort | paste -sd' ')" \
        "sc1/a/gone sc9/usb" "datasets status --json calls missing"
    run "$ZKEEP" config check --config-dir "$SD/etc"
    assert_equal "$status" 1 "zkeep config check's exit status"
    assert_output_contains "MISSING"
}
