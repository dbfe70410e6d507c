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

# make_drive POOL [SIZE]: a new pool on a fresh image, exported and still plugged in.
make_drive() {
    truncate -s "${2:-128M}" "$DRIVE_IMG"
    plug_in || return 1
    zpool create -o cachefile=none "$1" "$LOOPDEV" || { fail "zpool create $1 on $LOOPDEV failed"; return 1; }
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
