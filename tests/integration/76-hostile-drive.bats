#!/usr/bin/env bats
# A hostile removable drive (issue #12, attacker 4: someone who plugs in a stick).
#
# A drive is matched by its pool guid, never by its name: a pool that merely carries the
# configured name is refused loudly and never imported, and a drive without a configured
# guid is refused outright. The right drive is imported inert: `zpool import -N` under
# the altroot /run/zkeep/drive/NAME, so no dataset of it is mounted where its own
# mountpoint property says. And a compromised drive worker (attacker 5) holds no
# receive: root runs the receives onto the drive.

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
    if [ -n "${DRIVE_SUP:-}" ]; then # a backup a failed test left running
        kill "$DRIVE_SUP" 2>/dev/null
        wait "$DRIVE_SUP" 2>/dev/null
    fi
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

# The exported drive usbp's delegation property, and "some" when `zfs allow` prints
# anything for one of its datasets ("none" otherwise), imported read-only to look.
drive_delegation() {
    zpool import -o cachefile=none -o readonly=on -N usbp || { echo "cannot import usbp"; return 1; }
    local ds perms= prop
    prop=$(zpool get -H -o value delegation usbp)
    for ds in $(zfs list -H -o name -r usbp); do
        perms+=$(zfs allow "$ds")
        # an interrupted receive's hidden clone, where there is one
        perms+=$(zfs allow "$ds/%recv" 2>/dev/null)
    done
    zpool export usbp
    echo "$prop $([ -n "$perms" ] && echo some || echo none)"
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
    # and delegations for whoever is on the host when it is plugged in: receive for
    # everyone (the OpenZFS receive-name hole makes that any dataset of the host), for a
    # run uid, in a permission set, at create time
    zfs allow everyone receive,create,mount usbp
    zfs allow -u 60700 receive,mount usbp/evil
    zfs allow -s @evil receive,create usbp
    zfs allow -g nogroup @evil usbp/evil
    zfs allow -c destroy usbp
    # and on the hidden clone of an interrupted receive (usbp/part/%recv), which no
    # listing shows and whose delegations ZFS honours all the same
    zfs create srcp/p
    head -c 2M /dev/urandom >/srcp/p/a
    zfs snapshot srcp/p@a
    zfs send srcp/p@a | zfs receive -u usbp/part
    head -c 8M /dev/urandom >/srcp/p/b
    zfs snapshot srcp/p@b
    # (cut short: the receive fails by design and keeps its partial state)
    zfs send -i @a srcp/p@b | head -c 3000000 | zfs receive -s -u usbp/part 2>/dev/null || true
    zfs allow everyone receive,create,mount usbp/part/%recv
    [ -n "$(zfs allow usbp/part/%recv)" ] || fail "no delegation on usbp/part/%recv"
    [[ $(zfs list -H -o name -r usbp) != *%recv* ]] || fail "zfs list shows the hidden clone"
    DRIVE_GUID=$(zpool get -Hp -o value guid usbp)
    zpool export usbp
    rm -rf "$EVIL" "$EVIL-root"
    cat >"$CONF" <<EOF
[drive usb1]
pool = usbp
guid = $DRIVE_GUID
datasets = srcp/plain
EOF
    # Looking imports it with delegation=off too (a read-only import would leave the
    # drive's own delegation=on in force): written to the drive, read back read-only.
    run "$ZKEEP" drive status --config "$CONF" usb1
    assert_success
    assert_output_contains "drive usb1: present"
    assert_equal "$(drive_delegation)" "off some" "delegation and entries after drive status"
    local imp
    imp=$(drive_history | grep -E '^[0-9-]+\.[0-9:]+ zpool import ' | tail -n1)
    [[ $imp == *"delegation=off"* && $imp != *readonly* ]] || fail "drive status imported: $imp"
    zpool import -o cachefile=none -N usbp
    zpool set delegation=on usbp
    zpool export usbp
    run "$ZKEEP" drive backup --dry-run --config "$CONF" usb1
    assert_success
    assert_output_contains "with delegation=off"
    assert_equal "$(drive_delegation)" "off some" "delegation and entries after a dry run"
    imp=$(drive_history | grep -E '^[0-9-]+\.[0-9:]+ zpool import ' | tail -n1)
    [[ $imp == *"delegation=off"* && $imp != *readonly* ]] || fail "the dry run imported: $imp"

    run "$ZKEEP" drive backup --config "$CONF" usb1
    assert_success
    # six set above, and two the create-time set gave root on usbp/part and its %recv
    assert_output_contains "removed 8 delegation(s) (zfs allow) the drive carried"
    ! pool_imported usbp || fail "usbp is still imported after the backup"
    [ ! -e "$EVIL" ] || fail "a drive dataset was mounted at its own mountpoint $EVIL"
    [ ! -e "$EVIL-root" ] || fail "the drive's root dataset was mounted at $EVIL-root"
    run stat -c '%u %a %F' /run/zkeep/drive/usb1
    assert_equal "$output" "0 700 directory" "the altroot"

    run drive_history
    assert_success
    assert_output_contains "usbp/srcp/plain"
    imp=$(grep -E '^[0-9-]+\.[0-9:]+ zpool import ' <<<"$output" | tail -n1)
    [ -n "$imp" ] || fail "no import in the drive's history: $output"
    [[ " $imp " == *" -N "* ]] || fail "imported without -N: $imp"
    [[ $imp == *"altroot=/run/zkeep/drive/usb1"* ]] || fail "imported without the altroot: $imp"
    [[ $imp == *" $DRIVE_GUID"* ]] || fail "not imported by guid: $imp"
    # imported with delegation off: the drive's own grants worked for nobody meanwhile
    [[ $imp == *"delegation=off"* ]] || fail "imported with its delegations live: $imp"
    # at rest with delegation off: imported anywhere, even read-only, nothing is delegated
    assert_equal "$(drive_delegation)" "off none" "delegation and entries after the backup"

    # A drive someone imported before the backup (delegation on, an entry for everyone)
    # is stripped as well, and exported.
    zpool import -o cachefile=none -N usbp
    zpool set delegation=on usbp
    zfs allow everyone receive,create,mount usbp
    run "$ZKEEP" drive backup --config "$CONF" usb1
    assert_success
    assert_output_contains "pool usbp is imported already"
    assert_output_contains "removed 1 delegation(s) (zfs allow) the drive carried"
    ! pool_imported usbp || fail "usbp is still imported after the backup"
    assert_equal "$(drive_delegation)" "off none" "delegation and entries after the second backup"
}

# OpenZFS lets whoever holds `receive` anywhere receive into any dataset through its own
# ioctl (tests/poc/recv-name-bypass.sh). Root runs the drive worker's receives, so the
# worker holds no receive, not even on a new target's parent: its forged ioctl during a
# backup (the PoC's shim, as its uid while its grants live) is refused, and every
# receive onto the drive is root's. Before, the worker held receive on usbp/srcp.
@test "hostile worker: during a drive backup its own receive ioctl is refused; every receive onto the drive is root's" {
    export ZKEEP_STATE_DIR=$BATS_TEST_TMPDIR/state
    recv_forge_setup srcp srcp/victim # a dataset of this host, a stream that would apply
    # a backup slow enough to act as its worker meanwhile
    head -c 2M /dev/urandom >/srcp/plain/big
    zfs snapshot srcp/plain@s2
    make_drive usbp
    cat >"$CONF" <<EOF2
[drive usb1]
pool = usbp
guid = $DRIVE_GUID
datasets = srcp/plain
bwlimit = 256k
EOF2
    "$ZKEEP" --debug drive backup --config "$CONF" usb1 >"$BATS_TEST_TMPDIR/run.out" 2>&1 &
    DRIVE_SUP=$! # teardown stops it when the test fails early
    local i j uid
    for i in $(seq 300); do # root's receive runs (or, before this was fixed, a grant appears)
        grep -q "root runs the confined worker's receive: .* usbp/srcp/plain" \
            "$BATS_TEST_TMPDIR/run.out" && break
        zfs allow usbp/srcp 2>/dev/null | grep -q $'^\tuser ' && break
        sleep 0.1
    done
    j=$(cd "$ZKEEP_STATE_DIR/grants" && ls [0-9]*.journal)
    uid=${j%.journal}
    recv_forge usbp/srcp srcp/victim "$uid"
    [ -e "$ZKEEP_STATE_DIR/grants/$j" ] || fail "the worker's grants ended before the forged receive"
    wait "$DRIVE_SUP" || { cat "$BATS_TEST_TMPDIR/run.out"; fail "the backup failed"; }
    DRIVE_SUP=
    rm -rf "$RECV_SHIM_DIR"
    assert_no_dataset srcp/victim@b
    grep -q "root runs the confined worker's receive: .* usbp/srcp/plain" \
        "$BATS_TEST_TMPDIR/run.out" ||
        fail "root ran no receive onto the drive:" "$(cat "$BATS_TEST_TMPDIR/run.out")"
    zpool import -o cachefile=none -N usbp
    zpool history -l usbp | grep " zfs receive " >"$BATS_TEST_TMPDIR/hist" || true
    cat "$BATS_TEST_TMPDIR/hist"
    [ -s "$BATS_TEST_TMPDIR/hist" ] || fail "no receive onto the drive"
    grep -v "user 0 " "$BATS_TEST_TMPDIR/hist" && fail "a receive onto the drive was not root's"
    assert_dataset_exists usbp/srcp/plain@s2
    zpool export usbp
}
