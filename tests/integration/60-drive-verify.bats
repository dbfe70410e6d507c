#!/usr/bin/env bats
# zkeep verify, restore and diff on real pools: a backup drive on a loop device whose
# image is corrupted behind ZFS's back; files, directories and a whole encrypted dataset
# restored and compared by sha256.

load lib
load replicate
load drive

setup() {
    setup_drive
    make_pool srcp 256M
    make_encrypted srcp/enc
    zfs create srcp/plain
    MARK="ZKEEPMARK-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    { printf '%s' "$MARK"; head -c 1048576 /dev/urandom; } >/srcp/plain/data.bin
    mkdir -p /srcp/plain/dir/sub
    echo hello >/srcp/plain/dir/a
    head -c 200000 /dev/urandom >/srcp/plain/dir/sub/b
    ln -s a /srcp/plain/dir/link
    chmod 640 /srcp/plain/dir/a
    touch -d '2020-01-02 03:04:05' /srcp/plain/dir/a
    cp -a /srcp/plain/dir /srcp/enc/
    zfs snapshot -r srcp@s1
    make_drive usbp
    cat >"$CONF" <<EOF
[drive usb1]
pool = usbp
guid = $DRIVE_GUID
datasets = srcp/enc srcp/plain
EOF
    export MARK
}

teardown() {
    teardown_drive
}

@test "verify: a good backup matches; a corrupted drive is caught by file compare and by scrub" {
    run "$ZKEEP" drive backup --config "$CONF" usb1
    assert_success
    zpool import -o cachefile=none -N usbp
    run "$ZKEEP" verify srcp/plain usbp/srcp/plain
    assert_success
    assert_output_contains "usbp/srcp/plain@s1: 3 file(s)"
    assert_output_contains "identical"
    run "$ZKEEP" verify srcp/enc usbp/srcp/enc
    assert_success
    assert_output_contains "encrypted and its key is not loaded"
    assert_output_contains "scrub found no errors"
    zpool export usbp

    # unplug, overwrite the first block of data.bin inside the image, plug in again
    unplug
    off=$(grep -obUaF "$MARK" "$DRIVE_IMG" | head -n1 | cut -d: -f1)
    [ -n "$off" ] || fail "marker not found in the drive image"
    [ "$off" -gt 4194304 ] || fail "marker at $off: inside the labels?"
    dd if=/dev/urandom of="$DRIVE_IMG" bs=65536 count=1 seek="$off" oflag=seek_bytes conv=notrunc status=none
    plug_in
    zpool import -o cachefile=none -N usbp

    run "$ZKEEP" verify srcp/plain usbp/srcp/plain
    assert_failure 1
    assert_output_contains "DIFFERS usbp/srcp/plain@s1:/data.bin: cannot read on the target"
    assert_output_contains "checksum error"
    run "$ZKEEP" verify --json srcp/enc usbp/srcp/enc
    assert_failure 1
    [[ $output == *'"result":"differs"'* ]] || fail "json: $output"
    [[ $output == *'"where":"pool usbp"'* ]] || fail "json: $output"
    [[ $output == *'checksum errors'* || $output == *'data errors'* ]] || fail "json: $output"
    zpool export usbp
}

@test "verify: snapshots with the same name but another guid, and a missing target" {
    zfs create srcp/v
    echo 1 >/srcp/v/f
    zfs snapshot srcp/v@a
    zfs snapshot srcp/v@b
    run "$ZKEEP" replicate --no-sync-snap --no-hold srcp/v srcp/vcopy
    assert_success
    run "$ZKEEP" verify srcp/v srcp/vcopy
    assert_success
    zfs destroy srcp/v@b
    zfs snapshot srcp/v@b
    run "$ZKEEP" verify srcp/v srcp/vcopy
    assert_failure 1
    assert_output_contains "DIFFERS srcp/vcopy@b: guid"
    run "$ZKEEP" verify srcp/v srcp/nothere
    assert_failure 2
    assert_output_contains "srcp/nothere"
}

@test "restore: a file and a directory from the drive round-trip bit-exactly; no overwrite without --force" {
    run "$ZKEEP" drive backup --config "$CONF" usb1
    assert_success
    zpool import -o cachefile=none -N usbp
    out=$BATS_TEST_TMPDIR/out
    mkdir -p "$out"

    run "$ZKEEP" restore list srcp/plain usbp/srcp/plain
    assert_success
    [[ $output =~ s1\ +[0-9-]+T[0-9:+-]+\ +yes\ +yes ]] || fail "list: $output"
    run "$ZKEEP" restore list --config "$CONF" srcp/enc
    assert_success
    assert_output_contains "(backup: usbp/srcp/enc)"

    run "$ZKEEP" restore file usbp/srcp/plain@s1 data.bin "$out/data.bin"
    assert_success
    assert_same_file /srcp/plain/.zfs/snapshot/s1/data.bin "$out/data.bin"

    run "$ZKEEP" restore file usbp/srcp/plain@s1 /dir "$out/dir"
    assert_success
    assert_same_tree /srcp/plain/.zfs/snapshot/s1/dir "$out/dir"
    assert_equal "$(readlink "$out/dir/link")" a "symlink"
    assert_equal "$(stat -c '%a %Y' "$out/dir/a")" "$(stat -c '%a %Y' /srcp/plain/dir/a)" "mode and mtime"

    echo changed >"$out/dir/a"
    run "$ZKEEP" restore file usbp/srcp/plain@s1 dir/a "$out/dir/a"
    assert_failure 2
    assert_output_contains "exists (use --force"
    assert_equal "$(cat "$out/dir/a")" changed "file overwritten without --force"
    run "$ZKEEP" restore file --force usbp/srcp/plain@s1 dir/a "$out/dir/a"
    assert_success
    assert_same_file /srcp/plain/dir/a "$out/dir/a"

    # from the source's own snapshot, by absolute path under the mountpoint
    run "$ZKEEP" restore file srcp/plain@s1 /srcp/plain/dir/sub/b "$out/b"
    assert_success
    assert_same_file /srcp/plain/dir/sub/b "$out/b"

    run "$ZKEEP" restore file usbp/srcp/plain@s1 nothere "$out/x"
    assert_failure 2
    assert_output_contains "nothere is not in usbp/srcp/plain@s1"
    zpool export usbp
}

@test "restore: a whole encrypted dataset from the drive; the key is needed only to mount" {
    echo later >/srcp/enc/later
    zfs snapshot srcp/enc@s2
    run "$ZKEEP" drive backup --config "$CONF" usb1
    assert_success
    zpool import -o cachefile=none -N usbp

    run "$ZKEEP" restore dataset usbp/srcp/enc srcp/plain
    assert_failure 2
    assert_output_contains "srcp/plain exists"

    run "$ZKEEP" restore dataset usbp/srcp/enc srcp/back
    assert_success
    assert_equal "$(plain_snaps_of srcp/back)" "s1 s2" "restored snapshots"
    assert_equal "$(guid_of srcp/back@s2)" "$(guid_of srcp/enc@s2)" "guid"
    assert_prop srcp/back keystatus unavailable
    zfs load-key -L "file://$BATS_TEST_TMPDIR/key" srcp/back
    zfs mount srcp/back
    assert_same_tree /srcp/enc/.zfs/snapshot/s2 /srcp/back
    assert_same_file /srcp/enc/.zfs/snapshot/s1/dir/sub/b /srcp/back/.zfs/snapshot/s1/dir/sub/b
    zpool export usbp
}

@test "diff: readable and JSON changes between two snapshots" {
    echo new >/srcp/plain/new
    rm /srcp/plain/dir/sub/b
    echo more >>/srcp/plain/dir/a
    mv /srcp/plain/data.bin "/srcp/plain/da ta.bin"
    zfs snapshot srcp/plain@s2
    run "$ZKEEP" diff srcp/plain@s1 @s2
    assert_success
    assert_output_contains "created   file"
    assert_output_contains "/srcp/plain/new"
    assert_output_contains "removed   file"
    assert_output_contains "/srcp/plain/dir/sub/b"
    assert_output_contains "modified  file"
    assert_output_contains "renamed   file"
    assert_output_contains "/srcp/plain/data.bin -> /srcp/plain/da ta.bin"
    run "$ZKEEP" diff --json srcp/plain@s1 srcp/plain@s2
    assert_success
    [[ $output == *'{"change":"created","type":"file","path":"/srcp/plain/new"'* ]] || fail "json: $output"
    [[ $output == *'"new_path":"/srcp/plain/da ta.bin"'* ]] || fail "json: $output"
    run "$ZKEEP" diff srcp/plain@s1 srcp/plain@nosuch
    assert_failure 2
}
