#!/usr/bin/env bats
# zkeep as `sanoid`: a config sanoid cannot use either (a syntax error, an unknown key)
# is fatal (exit 2) with a message that names the file, the line, the section and the
# key; nothing is snapshotted. A value sanoid 2.3.0 would misread refuses its section
# only: the others are snapshotted. A section whose dataset does not exist (a pool not
# imported) stops nothing either, as with sanoid 2.3.0. The last tests compare with it.

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

# sanoid 2.3.0 itself, with its own directories under $SD/ref.
ref_sanoid() {
    "$REF230_SANOID" --configdir="$SD/ref/etc" --cache-dir="$SD/ref/cache" --run-dir="$SD/ref/run" "$@"
}

bad_conf() { # EXPECTED-MESSAGE (config on stdin)
    write_conf
    run zsanoid --cron
    assert_failure 2
    assert_output_contains "$1"
    assert_equal "$(zfs list -H -t snapshot -o name -r sc1 | wc -l)" 0 "snapshots taken"
}

@test "sanoid: configs sanoid cannot use either are fatal: unknown key, syntax, defaults" {
    make_pool sc1
    zfs create sc1/a
    f=$SD/etc/sanoid.conf
    bad_conf "$f:3: [sc1/a] houlry: unknown setting" <<'CONF'
[sc1/a]
	hourly = 4
	houlry = 4
CONF
    bad_conf "$f:2: expected '[section]', 'key = value' or a comment" <<'CONF'
[sc1/a]
this is not ini
CONF
    bad_conf "$f:1: bad section header" <<'CONF'
[sc1/a] # the pool
	hourly = 4
CONF
    bad_conf "$f:2: 'hourly = <<EOT' has no end" <<'CONF'
[sc1/a]
	hourly = <<EOT
	4
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

@test "sanoid: a value sanoid would misread refuses its section; the others are snapshotted" {
    make_pool sc1
    for d in ok num bool tmpl rec age hour; do zfs create "sc1/$d"; done
    f=$SD/etc/sanoid.conf
    write_conf <<'CONF'
[sc1/num]
	hourly = lots
[sc1/bool]
	hourly = 1
	autosnap = no ; paused
[sc1/tmpl]
	use_template = t
[template_t]
	hourly = 1
	autoprune = perhaps
[sc1/rec]
	recursive = deep
[sc1/age]
	hourly = 1
	hourly_warn = 90 minutes
[sc1/hour]
	daily = 1
	daily_hour = 25
[sc1/ok]
	hourly = 1
	daily = 1
	use_template = nosuch
CONF
    run --separate-stderr zsanoid --cron
    assert_equal "$status" 0 "exit status as sanoid's"
    for want in \
        "WARN: $f:2: [sc1/num] hourly: 'lots' is not a whole number from 0 to 1000000 (sanoid 2.3.0 would read it as 0): nothing is done for it" \
        "WARN: $f:5: [sc1/bool] autosnap: 'no ; paused' is not one of yes/no" \
        "would read it as yes: any other text is true in Perl): nothing is done for it" \
        "WARN: $f:10: [template_t] autoprune: 'perhaps' is not one of" \
        "; [sc1/tmpl] uses it: nothing is done for it" \
        "WARN: $f:12: [sc1/rec] recursive: 'deep' is not one of no, yes, zfs (sanoid 2.3.0 would read it as no)" \
        "WARN: $f:15: [sc1/age] hourly_warn: '90 minutes' is not an age" \
        "WARN: $f:18: [sc1/hour] daily_hour: '25' is not a whole number from 0 to 23 (sanoid 2.3.0 would read it as 25" \
        "$f:22: [sc1/ok] use_template: no section [template_nosuch]: template 'nosuch' is ignored"; do
        [[ $stderr == *"$want"* ]] || fail "not said: $want" "$stderr"
    done
    for d in num bool tmpl rec age hour; do
        assert_equal "$(zfs list -H -t snapshot -o name -r "sc1/$d" | wc -l)" 0 "snapshots of sc1/$d"
    done
    [ "$(count_type sc1/ok hourly)" = 1 ] || fail "no hourly of sc1/ok"
    [ "$(count_type sc1/ok daily)" = 1 ] || fail "no daily of sc1/ok"

    # the native commands: exit 1, refused datasets CRITICAL
    run --separate-stderr "$ZKEEP" status --config-dir "$SD/etc" --cache-dir "$SD/cache" --run-dir "$SD/run" --json
    assert_equal "$status" 1 "zkeep status's exit status"
    assert_equal "$(jq -r '.datasets[] | select(.refused) | .dataset' <<<"$output" | sort | paste -sd' ')" \
        "sc1/age sc1/bool sc1/hour sc1/num sc1/rec sc1/tmpl" "datasets status --json calls refused"
    run "$ZKEEP" config check --config-dir "$SD/etc"
    assert_equal "$status" 1 "zkeep config check's exit status"
    assert_output_contains "REFUSED"
    run "$ZKEEP" config check --offline --config-dir "$SD/etc"
    assert_equal "$status" 1 "zkeep config check --offline's exit status"
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
    run --separate-stderr ref_sanoid --cron
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
    run --separate-stderr ref_sanoid --monitor-snapshots
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

# Config::IniFiles' reading, which sanoid 2.3.0 and zkeep share: a duplicate key keeps
# its first value (with sanoid's warning), a repeated section continues, a number may
# be followed by a comment, an unknown template is ignored, a heredoc gives its first
# line. And where sanoid misreads (autosnap = no ; paused is true for it), zkeep refuses.
reading_conf() { # POOL
    cat <<CONF
[$1/a]
	hourly = 2
	hourly = 5
	daily = 1 # one a day
	use_template = nosuch
[$1/b]
	hourly = 1
	daily = 0
	autosnap = no ; paused
[$1/a]
	monthly = <<EOT
0
6
EOT
	yearly = 0
CONF
}

@test "Config::IniFiles' reading as sanoid 2.3.0 has it: duplicates, repeated sections, heredocs; a misread refused" {
    [ -x "$REF230_SANOID" ] || fail "sanoid 2.3.0 is not unpacked ($REF230_SANOID): run tests/guest/install-deps.sh"
    make_pool sc1
    make_pool sc2
    for p in sc1 sc2; do zfs create $p/a; zfs create $p/b; done
    reading_conf sc1 | write_conf
    mkdir -p "$SD/ref/etc" "$SD/ref/cache" "$SD/ref/run"
    reading_conf sc2 >"$SD/ref/etc/sanoid.conf"

    run --separate-stderr ref_sanoid --cron
    echo "# sanoid 2.3.0: status $status; stderr: $(head -c 600 <<<"$stderr")" >&3
    ref_status=$status ref_err=$stderr
    [[ $ref_err == *"duplicate key 'hourly' in section 'sc2/a', using the value from the first occurence and ignoring the others."* ]] ||
        fail "sanoid 2.3.0 did not warn about the duplicate" "$ref_err"

    run --separate-stderr zsanoid --cron
    assert_equal "$status" "$ref_status" "exit status as sanoid (sanoid 2.3.0: $ref_status)"
    for want in "duplicate key 'hourly' in section 'sc1/a', using the value from the first occurence and ignoring the others." \
        "duplicate key 'monthly' in section 'sc1/a'" \
        "[sc1/b] autosnap: 'no ; paused' is not one of" "nothing is done for it"; do
        [[ $stderr == *"$want"* ]] || fail "not said: $want" "$stderr"
    done
    # sc1/a as sanoid's sc2/a: hourly and daily, no monthly (the heredoc's first line)
    assert_equal "$(snaps sc1/a | sed 's/_[0-9-]*_[0-9:]*_/_T_/')" \
        "$(snaps sc2/a | sed 's/_[0-9-]*_[0-9:]*_/_T_/')" "snapshot types of sc1/a (vs sanoid 2.3.0's sc2/a)"
    [ "$(count_type sc1/a hourly)" = 1 ] || fail "no hourly of sc1/a"
    [ "$(count_type sc1/a monthly)" = 0 ] || fail "a monthly of sc1/a"
    # the deliberate difference: sanoid reads 'no ; paused' as true and snapshots sc2/b
    [ "$(count_type sc2/b hourly)" = 1 ] || fail "sanoid 2.3.0 no longer misreads 'no ; paused'?"
    assert_equal "$(zfs list -H -t snapshot -o name -r sc1/b | wc -l)" 0 "snapshots of the refused sc1/b"
}
