#!/usr/bin/env bats
# The removable-drive backup as a user sets it up (docs/drive.md): `zkeep units` writes
# zkeep-drive-NAME.service and its udev rule, the rule goes to /etc/udev/rules.d, and
# plugging the drive in is all it takes. The drive is a disk hot-plugged into the guest
# through QEMU's monitor (run.sh --hotplug-disk; tests/integration/hotplug.bash), so the
# kernel, udev and systemd see a real "add" event: nothing in these tests starts the unit.
# Only in the systemd guest with a hot-plug disk; elsewhere every test FAILS:
#   tests/guest/run.sh --systemd --hotplug-disk 128 tests/guest/run-integration.sh tests/integration/81-systemd-drive.bats
# tests/guest/run-suites.sh runs it in its systemd pass (ZKEEP_TEST_SYSTEMD=1).
# The tests build on each other: the backup, then what is on the drive, then a pool of
# the drive's name with another guid on the same disk. Each unplugs the disk at its end
# (teardown), through QEMU also when zkeep powered it off in the guest.

load lib
load replicate
load hotplug

CONF=/etc/zkeep-test-drive/zkeep.conf
SANOID_DIR=/etc/zkeep-test-drive/sanoid
STATE=/var/lib/zkeep-test-drive
UNITS=/etc/systemd/system
UNIT=zkeep-drive-hot1.service
RULE=90-zkeep-drive-hot1.rules

# Why this guest cannot run the tests, or nothing.
unfit() {
    [ "$(cat /proc/1/comm)" = systemd ] ||
        { echo "PID 1 is $(cat /proc/1/comm), not systemd: run in the systemd guest" \
            "(tests/guest/run.sh --systemd --hotplug-disk 128 ...)"; return; }
    hotplug_port >/dev/null 2>&1 ||
        echo "no hot-plug disk: boot the guest with tests/guest/run.sh --systemd --hotplug-disk 128"
}

setup_file() {
    [ -z "$(unfit)" ] || return 0 # each test says why it fails
    make_pool hsrc 128M
    zfs create hsrc/data
    mkdir /hsrc/data/dir
    echo hello >/hsrc/data/file
    seq 1 20000 >/hsrc/data/dir/numbers
    zfs snapshot hsrc/data@s1
    # The drive: a pool on the whole hot-plugged disk (a GPT partition holds it, as on a
    # USB disk), created before the rule exists, exported and pulled out.
    hotplug_add scsi-hd
    zpool create -o cachefile=none hdrv "$HOTDISK"
    DRIVE_GUID=$(zpool get -Hp -o value guid hdrv)
    export DRIVE_GUID
    zpool export hdrv
    hotplug_del
    mkdir -p "$SANOID_DIR" "$STATE"
    cat >"$CONF" <<EOF
[zkeep]
state_dir = $STATE

[drive hot1]
pool = hdrv
guid = $DRIVE_GUID
datasets = hsrc/data
EOF
    # The sanitizer settings for the unit, through the manager (80-systemd-units.bats).
    systemctl set-environment ASAN_OPTIONS="$ASAN_OPTIONS" UBSAN_OPTIONS="$UBSAN_OPTIONS"
    "$ZKEEP" units --output "$UNITS" --config "$CONF" --configdir "$SANOID_DIR" \
        --zkeep "$ZKEEP" >"$BATS_FILE_TMPDIR/written"
    install_rule
    systemctl daemon-reload
}

teardown_file() {
    [ -z "$(unfit)" ] || return 0
    zpool list -H hdrv >/dev/null 2>&1 && zpool export -f hdrv
    rm -f "/etc/udev/rules.d/$RULE"
    destroy_pools
}

setup() {
    need_root
    need_zfs
    need_zkeep
    local why
    why=$(unfit)
    [ -z "$why" ] || fail "$why"
}

# A failed test may leave the pool imported and the disk plugged in (in QEMU, also when
# the guest powered it off): the next one starts without either.
teardown() {
    [ -z "$(unfit)" ] || return 0
    zpool list -H hdrv >/dev/null 2>&1 && zpool export -f hdrv
    hotplug_request del >/dev/null 2>&1 || true
    udevadm settle --timeout=30
}

install_rule() {
    cp "$UNITS/$RULE" /etc/udev/rules.d/ && udevadm control --reload
}

guid_of() { # SNAPSHOT
    zfs get -Hp -o value guid "$1"
}

# The unit itself is no witness of its runs: once one ended, nothing holds the unit and
# systemd unloads it, InvocationID and Result with it. The journal keeps them.
# The results of the unit's start jobs this boot (systemd's "Finished"/"Failed to start"
# lines), one a line: done (the oneshot succeeded), failed, dependency, ...
start_results() {
    journalctl --sync
    journalctl -b -q -o export _PID=1 UNIT="$UNIT" JOB_TYPE=start | sed -n 's/^JOB_RESULT=//p'
}

# The number of journal lines about the unit this boot (its own and systemd's).
unit_lines() {
    journalctl --sync
    journalctl -b -q -u "$UNIT" -o cat --no-pager | wc -l
}

# Waits up to SECONDS for the unit's start job number N+1 to end; prints its result.
wait_unit_ran() { # N SECONDS
    local end=$((SECONDS + $2)) results
    while [ $SECONDS -lt $end ]; do
        results=$(start_results)
        [ -n "$results" ] && [ "$(wc -l <<<"$results")" -gt "$1" ] && { tail -n1 <<<"$results"; return 0; }
        sleep 2
    done
    unit_diagnostics
    fail "$UNIT did not run (and end) within $2 s of the plug-in"
}

# What udev and systemd made of the disk, for a failure's message.
unit_diagnostics() {
    local p
    for p in $(lsblk -lnpo NAME,FSTYPE | awk '$2 == "zfs_member" { print $1 }'); do
        echo "udev on $p:"
        udevadm info --query=property --name="$p" | grep -E '^(ID_FS_|SYSTEMD_|TAGS|DEVLINKS)'
    done
    systemctl status --no-pager -l "$UNIT"
    journalctl -b --no-pager -n 40
} >&2 2>&1

@test "the drive is plugged in: udev starts $UNIT, which backs up, exports and powers it off" {
    grep -qx "$UNITS/$UNIT" "$BATS_FILE_TMPDIR/written" || fail "zkeep units did not write $UNIT"
    grep -q "ENV{ID_FS_UUID}==\"$DRIVE_GUID\"" "/etc/udev/rules.d/$RULE" || fail "the rule does not name the guid"
    assert_no_grants hsrc
    local runs t0 result
    runs=$(start_results | wc -l)
    t0=$SECONDS
    hotplug_add scsi-hd
    result=$(wait_unit_ran "$runs" 300)
    echo "# $UNIT ran and ended $((SECONDS - t0)) s after the plug-in request" >&3
    run journalctl -b -u "$UNIT" -o cat --no-pager
    printf '%s\n' "$output" | sed 's/^/# journal: /' >&3
    assert_equal "$result" "done" "result of the start job of $UNIT (done: the oneshot succeeded)"
    assert_output_contains "[import] importing pool hdrv (guid $DRIVE_GUID)"
    assert_output_contains "[replicate] hsrc/data -> hdrv/hsrc/data"
    assert_output_contains "[export] exporting pool hdrv"
    # power_off = auto without udisksctl: the SCSI disk's sysfs delete, which the unit's
    # sandbox must allow (ReadWritePaths=/sys/devices)
    assert_output_contains "powered off: it can be unplugged"
    assert_output_contains "drive hot1: 1 dataset(s) synced"
    [[ $output != *"Failed with result"* ]] || fail "the unit failed"
    # Within the unit's sandbox a confined worker replicated, under its own run uid (the
    # hold on the source is its), as when root runs the backup by hand; before, the
    # unit's own process did, as root.
    local holders
    holders=$(zpool history -l hsrc | grep ' zfs hold ' | sed -n 's/.*\[user \([0-9]*\).*/\1/p')
    assert_equal "$(wc -l <<<"$holders")" 1 "holds on hsrc: $holders"
    [ "$holders" -ge 60700 ] && [ "$holders" -le 60799 ] ||
        fail "the hold on hsrc is uid $holders's, not a run uid's (60700-60799)"
    ! zpool list -H hdrv >/dev/null 2>&1 || fail "hdrv is still imported after the backup"
    [ -z "$(hotplug_disk)" ] || fail "the disk is still there: zkeep did not power it off"
    assert_no_grants hsrc
    assert_equal "$(zfs holds -H hsrc/data@s1 | cut -f2)" zkeep_drive_hot1 "hold on the source"
}

@test "on the drive: the source's snapshot with identical data, read-only, exported" {
    # Without the rule: plugging in to look must not start another backup.
    rm "/etc/udev/rules.d/$RULE"
    udevadm control --reload
    local seen
    seen=$(unit_lines)
    hotplug_add scsi-hd
    zpool import -o readonly=on -o cachefile=none -N -d /dev/disk/by-id "$DRIVE_GUID"
    assert_equal "$(zpool get -Hp -o value name hdrv)" hdrv "pool name"
    assert_equal "$(guid_of hdrv/hsrc/data@s1)" "$(guid_of hsrc/data@s1)" "guid of the snapshot"
    assert_prop hdrv/hsrc/data readonly on
    # root ran the receive into the drive, not the unit's worker
    assert_equal "$(zpool history -l hdrv | grep ' zfs receive ' | sed -n 's/.*\[user \([0-9]*\).*/\1/p' | sort -u)" \
        0 "the users of the receives into hdrv"
    mkdir -p "$BATS_TEST_TMPDIR/m"
    mount -t zfs -o ro hdrv/hsrc/data@s1 "$BATS_TEST_TMPDIR/m"
    assert_same_tree /hsrc/data/.zfs/snapshot/s1 "$BATS_TEST_TMPDIR/m"
    umount "$BATS_TEST_TMPDIR/m"
    assert_no_grants hdrv
    zpool export hdrv
    assert_equal "$(unit_lines)" "$seen" "journal lines of $UNIT (no rule, no run)"
    hotplug_del
}

@test "a pool with the drive's name but another guid is plugged in: the unit does not start" {
    # Without the rule: a new pool hdrv on the same disk, i.e. another guid.
    rm -f "/etc/udev/rules.d/$RULE"
    udevadm control --reload
    hotplug_add scsi-hd
    zpool create -f -o cachefile=none hdrv "$HOTDISK"
    local guid
    guid=$(zpool get -Hp -o value guid hdrv)
    [ "$guid" != "$DRIVE_GUID" ] || fail "the new pool has the drive's guid"
    zpool export hdrv
    hotplug_del
    install_rule
    local seen
    seen=$(unit_lines)
    # as a virtio disk this time: another bus, the same rule
    hotplug_add virtio-blk-pci
    # udev saw the pool (name and guid) on the partition and did not ask for the unit
    local part
    part=$(lsblk -lnpo NAME,FSTYPE "$HOTDISK" | awk '$2 == "zfs_member" { print $1; exit }')
    [ -n "$part" ] || fail "no zfs_member partition on $HOTDISK: $(lsblk -lnpo NAME,FSTYPE "$HOTDISK")"
    run udevadm info --query=property --name="$part"
    assert_output_contains "ID_FS_LABEL=hdrv"
    assert_output_contains "ID_FS_UUID=$guid"
    [[ $output != *zkeep-drive-hot1* ]] || fail "udev asked for the unit:" "$output"
    sleep 3
    assert_equal "$(unit_lines)" "$seen" "journal lines of $UNIT (it must not start)"
    ! zpool list -H hdrv >/dev/null 2>&1 || fail "hdrv was imported"
}
