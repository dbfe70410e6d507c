#!/usr/bin/env bats
# zkeep as `sanoid`: every kind of bad config is fatal (exit 2) with a message that
# names the file, the line, the section and the key; nothing is snapshotted.

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

bad_conf() { # EXPECTED-MESSAGE (config on stdin)
    write_conf
    run zsanoid --cron
    assert_failure 2
    assert_output_contains "$1"
    assert_equal "$(zfs list -H -t snapshot -o name -r sc1 | wc -l)" 0 "snapshots taken"
}

@test "sanoid: bad configs: unknown key, bad values, unknown template, missing dataset, syntax" {
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
    bad_conf "$f:3: [sc1/nope]: dataset 'sc1/nope' does not exist" <<'CONF'
[sc1/a]

[sc1/nope]
	hourly = 1
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
