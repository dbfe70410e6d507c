#!/usr/bin/env bats
# A hostile removable drive (issue #12, attacker 4: someone who plugs in a stick).
#
# A drive is matched by its pool guid, never by its name: a pool that merely carries the
# configured name is refused loudly and never imported, and a drive without a configured
# guid is refused outright. The right drive is imported inert: `zpool import -N` under
# the altroot /run/zkeep/drive/NAME, so no dataset of it is mounted where its own
# mountpoint property says.

load lib
load replicate
load drive

EVIL=/root/zkeep-evil-drive

setup() {
    setup_drive
    make_pool srcp 128M
    zfs create srcp/plain
    echo secret >/srcp/plain/f
    zfs snapshot -r srcp@s1
}

teardown() {
    teardown_drive
    rm -rf "$EVIL" "$EVIL-root"
}

# What is on the (exported) drive usbp: imported read-only, so that looking writes nothing.
drive_history() {
    zpool import -o cachefile=none -o readonly=on -N usbp || { fail "cannot import usbp to look"; return 1; }
    zpool history usbp
    zfs list -H -o name -r usbp
    zpool export usbp
}

@test "hostile drive: a pool with the drive's name but another guid is refused, never imported, nothing written" {
    make_drive usbp # the forged stick: the right name, its own guid
    # no guid configured: refused before anything is imported
    cat >"$CONF" <<EOF
[drive usb1]
pool = usbp
datasets = srcp/plain
EOF
    run "$ZKEEP" drive backup --config "$CONF" usb1
    assert_failure 2
    assert_output_contains "needs guid = "
    assert_output_contains "zpool import"
    ! pool_imported usbp || fail "usbp was imported without a configured guid"

    # the guid of another drive: the stick with the same name is refused, loudly
    echo "guid = 1234567890123456789" >>"$CONF"
    run "$ZKEEP" drive backup --config "$CONF" usb1
    assert_failure 2
    assert_output_contains "guid $DRIVE_GUID"
    assert_output_contains "REFUSED"
    ! pool_imported usbp || fail "the forged usbp was imported"
    run "$ZKEEP" drive status --config "$CONF" usb1
    ! pool_imported usbp || fail "drive status imported the forged usbp"

    run drive_history
    assert_success
    [[ $output != *srcp* ]] || fail "data was written to the forged drive: $output"
    [[ $output != *"zpool import"* ]] || fail "the forged drive was imported: $output"
}

@test "hostile drive: the right drive is imported with -N under /run/zkeep/drive/NAME; nothing is mounted where its properties say" {
    truncate -s 128M "$DRIVE_IMG"
    plug_in
    zpool create -o cachefile=none -O mountpoint="$EVIL-root" usbp "$LOOPDEV"
    zfs create -o mountpoint="$EVIL" -o canmount=on usbp/evil
    DRIVE_GUID=$(zpool get -Hp -o value guid usbp)
    zpool export usbp
    rm -rf "$EVIL" "$EVIL-root"
    cat >"$CONF" <<EOF
[drive usb1]
pool = usbp
guid = $DRIVE_GUID
datasets = srcp/plain
EOF
    run "$ZKEEP" drive backup --config "$CONF" usb1
    assert_success
    ! pool_imported usbp || fail "usbp is still imported after the backup"
    [ ! -e "$EVIL" ] || fail "a drive dataset was mounted at its own mountpoint $EVIL"
    [ ! -e "$EVIL-root" ] || fail "the drive's root dataset was mounted at $EVIL-root"
    run stat -c '%u %a %F' /run/zkeep/drive/usb1
    assert_equal "$output" "0 700 directory" "the altroot"

    run drive_history
    assert_success
    assert_output_contains "usbp/srcp/plain"
    local imp
    imp=$(grep -E '^[0-9-]+\.[0-9:]+ zpool import ' <<<"$output" | tail -n1)
    [ -n "$imp" ] || fail "no import in the drive's history: $output"
    [[ " $imp " == *" -N "* ]] || fail "imported without -N: $imp"
    [[ $imp == *"altroot=/run/zkeep/drive/usb1"* ]] || fail "imported without the altroot: $imp"
    [[ $imp == *" $DRIVE_GUID"* ]] || fail "not imported by guid: $imp"
}
