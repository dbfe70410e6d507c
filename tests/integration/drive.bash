# Helpers for the 60-drive-*.bats tests (load after lib and replicate).
#
# The "drive" is a pool on a loop device over a file: plugging it in is
# `losetup`, unplugging is export + `losetup -d`, as a USB disk would come and go.

setup_drive() {
    setup_replicate
    command -v losetup >/dev/null || fail "losetup not found"
    DRIVE_IMG=$BATS_TEST_TMPDIR/usbdrive.img
    CONF=$BATS_TEST_TMPDIR/zkeep.conf
    export DRIVE_IMG CONF
    # Guest only: the test guest runs no udevd, and a `zpool import` that scans the
    # default device directories waits up to ZPOOL_IMPORT_UDEV_TIMEOUT_MS (30 s by
    # default) for udev to initialise each device it finds - which never happens
    # here, so every import or scan cost 30 s. On a real system udev has done it
    # long before. zkeep passes this variable on to the zpool it runs
    # (src/drive_runner.h), so the default search is still what is tested.
    export ZPOOL_IMPORT_UDEV_TIMEOUT_MS=0
}

# plug_in: attach the image to a free loop device; LOOPDEV is set.
plug_in() {
    LOOPDEV=$(losetup -f --show "$DRIVE_IMG") || { fail "losetup -f $DRIVE_IMG failed"; return 1; }
    echo "$LOOPDEV" >>"$BATS_TEST_TMPDIR/loops"
    export LOOPDEV
}

# unplug: the pool must be exported already; detach every loop device of the image.
unplug() {
    local dev
    for dev in $(losetup -j "$DRIVE_IMG" -O NAME -n); do
        losetup -d "$dev" || { fail "cannot detach $dev"; return 1; }
    done
    [ -z "$(losetup -j "$DRIVE_IMG" -O NAME -n)" ] || { fail "$DRIVE_IMG still attached"; return 1; }
}

# make_drive POOL [SIZE]: a new pool on a fresh image, exported and still plugged in;
# DRIVE_GUID is its pool guid (what a [drive NAME] section must name).
make_drive() {
    truncate -s "${2:-128M}" "$DRIVE_IMG"
    plug_in || return 1
    zpool create -o cachefile=none "$1" "$LOOPDEV" || { fail "zpool create $1 on $LOOPDEV failed"; return 1; }
    DRIVE_GUID=$(zpool get -Hp -o value guid "$1")
    export DRIVE_GUID
    zpool export "$1"
}

teardown_drive() {
    destroy_pools
    local p
    for p in usbp usbq; do
        zpool list -H "$p" >/dev/null 2>&1 && zpool export -f "$p"
    done
    if [ -f "$BATS_TEST_TMPDIR/loops" ]; then
        for dev in $(losetup -j "$DRIVE_IMG" -O NAME -n 2>/dev/null); do losetup -d "$dev"; done
    fi
    return 0
}

# An encrypted source dataset with a key file (the drive never sees the key).
make_encrypted() { # DATASET
    [ -f "$BATS_TEST_TMPDIR/key" ] || head -c 32 /dev/urandom >"$BATS_TEST_TMPDIR/key"
    zfs create -o encryption=on -o keyformat=raw -o "keylocation=file://$BATS_TEST_TMPDIR/key" "$1"
}

pool_imported() { # POOL
    zpool list -H -o name "$1" >/dev/null 2>&1
}

guid_of() { # SNAPSHOT
    zfs get -Hp -o value guid "$1"
}

# With usbp imported: usbp/srcp/plain@s1 is srcp/plain@s1 (same guid, same files),
# and no interrupted receive is left on it; exports usbp.
assert_drive_has_plain_s1() {
    assert_equal "$(zfs get -H -o value receive_resume_token usbp/srcp/plain)" - "resume token"
    assert_equal "$(guid_of usbp/srcp/plain@s1)" "$(guid_of srcp/plain@s1)" "guid"
    mkdir -p "$BATS_TEST_TMPDIR/m"
    mount -t zfs -o ro usbp/srcp/plain@s1 "$BATS_TEST_TMPDIR/m"
    assert_same_tree /srcp/plain/.zfs/snapshot/s1 "$BATS_TEST_TMPDIR/m"
    umount "$BATS_TEST_TMPDIR/m"
    zpool export usbp
}

# ---- a drive that vanishes: a device-mapper disk over the loop device -------------
#
# make_dm_drive POOL [SIZE]: like make_drive, with the pool on /dev/mapper/$DM_NAME, a
# linear target over the loop device. dm_unplug switches the table to the `error`
# target - every I/O fails, as when the USB cable is pulled - and dm_replug puts the
# linear table back: the same disk is there again. (No udev in the guest: dmsetup
# makes the device node itself, DM_DISABLE_UDEV and --noudevsync.)
DM_NAME=zkeep-usbdrive
export DM_DISABLE_UDEV=1

make_dm_drive() {
    command -v dmsetup >/dev/null || { fail "dmsetup not found (tests/guest/install-deps.sh installs it)"; return 1; }
    modprobe dm-mod 2>/dev/null
    truncate -s "${2:-128M}" "$DRIVE_IMG"
    plug_in || return 1
    DM_SECTORS=$(blockdev --getsz "$LOOPDEV")
    export DM_SECTORS
    dmsetup create --noudevsync "$DM_NAME" --table "0 $DM_SECTORS linear $LOOPDEV 0" \
        || { fail "dmsetup create $DM_NAME failed"; return 1; }
    zpool create -o cachefile=none "$1" "/dev/mapper/$DM_NAME" || { fail "zpool create $1 on $DM_NAME failed"; return 1; }
    DRIVE_GUID=$(zpool get -Hp -o value guid "$1")
    export DRIVE_GUID
    zpool export "$1"
}

dm_table() { # linear|error
    local t="0 $DM_SECTORS linear $LOOPDEV 0"
    [ "$1" = error ] && t="0 $DM_SECTORS error"
    dmsetup suspend --noudevsync "$DM_NAME" && dmsetup load "$DM_NAME" --table "$t" &&
        dmsetup resume --noudevsync "$DM_NAME"
}
dm_unplug() { dm_table error || fail "cannot switch $DM_NAME to the error target"; }
dm_replug() { dm_table linear || fail "cannot switch $DM_NAME back to linear"; }

teardown_dm_drive() {
    if dmsetup info "$DM_NAME" >/dev/null 2>&1; then
        # never leave the pool suspended on a dead device: that would hang what follows
        dmsetup table "$DM_NAME" | grep -q error && dm_table linear
        zpool list -H usbp >/dev/null 2>&1 && { zpool clear usbp; zpool export -f usbp; }
        dmsetup remove --noudevsync "$DM_NAME"
    fi
    teardown_drive
}
