#!/usr/bin/env bats
# The test guest itself: real ZFS is there and behaves, so later files can trust it.
# Runs inside the guest: tests/guest/run.sh tests/guest/run-integration.sh

load lib

setup() {
    need_root
    need_zfs
}

teardown() {
    destroy_pools
}

@test "zfs module is loaded and its version matches the kmod line of 'zfs version'" {
    [ -d /sys/module/zfs ]
    ver=$(cat /sys/module/zfs/version)
    [ -n "$ver" ]
    echo "# zfs module $ver, $(zfs version | head -n1)" >&3
    run zfs version
    assert_success
    assert_output_contains "zfs-kmod-$ver"
}

@test "guest basics: root, /dev/zfs 0666, loop devices, hostname, UTC, clean /tmp" {
    assert_equal "$(id -u)" 0 "uid"
    assert_equal "$(stat -c %a /dev/zfs)" 666 "mode of /dev/zfs"
    [ -c /dev/loop-control ] || fail "loop module not loaded"
    assert_equal "$(hostname)" zkeep-guest "hostname"
    [ -z "${TZ+set}" ] || fail "TZ is set to '$TZ'"
    assert_equal "$(date +%Z)" UTC "time zone"
    assert_equal "$(stat -f -c %T /tmp)" tmpfs "filesystem of /tmp"
    [ -n "${ZKEEP_GUEST_OUT:-}" ] && [ -d "$ZKEEP_GUEST_OUT" ] || fail "no ZKEEP_GUEST_OUT dir"
}

@test "loopback networking works on 127.0.0.1" {
    run ip -o link show lo
    assert_success
    assert_output_contains "UP"
    # One process listens and connects to itself: no port races, no leftover server.
    run /usr/bin/python3 -c '
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
c = socket.create_connection(s.getsockname(), timeout=5)
a, _ = s.accept(); c.sendall(b"ping"); print(a.recv(4).decode())'
    assert_success
    assert_equal "$output" ping "reply over 127.0.0.1"
}

@test "file-backed pool: dataset written, snapshotted, sent and received with identical content" {
    make_pool zkt-src
    make_pool zkt-dst
    zfs create zkt-src/data
    src=$(mountpoint_of zkt-src/data)
    head -c 4M /dev/urandom >"$src/blob"
    mkdir "$src/dir"
    seq 1 10000 >"$src/dir/numbers"
    sum=$(file_sha256 "$src/blob")
    zfs snapshot zkt-src/data@s1
    assert_dataset_exists zkt-src/data@s1

    # readonly, as replication targets are: reading it then changes nothing (atime).
    zfs send zkt-src/data@s1 | zfs receive -o readonly=on zkt-dst/data
    assert_dataset_exists zkt-dst/data@s1
    dst=$(mountpoint_of zkt-dst/data)
    assert_equal "$(file_sha256 "$dst/blob")" "$sum" "sha256 of the received blob"
    assert_same_file "$src/dir/numbers" "$dst/dir/numbers"

    # Incremental: changes after s1 arrive, the s1 contents stay in the snapshot.
    head -c 1M /dev/urandom >>"$src/blob"
    rm "$src/dir/numbers"
    zfs snapshot zkt-src/data@s2
    zfs send -i @s1 zkt-src/data@s2 | zfs receive zkt-dst/data
    assert_equal "$(snapshots_of zkt-dst/data | paste -sd' ')" "s1 s2" "snapshots on the target"
    assert_same_file "$src/blob" "$dst/blob"
    [ ! -e "$dst/dir/numbers" ] || fail "deleted file came back"
    assert_equal "$(file_sha256 "$dst/.zfs/snapshot/s1/blob")" "$sum" "sha256 of blob in s1"
    assert_prop zkt-dst/data@s2 guid "$(zfs get -H -p -o value guid zkt-src/data@s2)"
}

@test "a dataset name with a space works with the zfs CLI" {
    make_pool zkt-sp
    zfs create "zkt-sp/with space"
    run zfs list -H -o name -r zkt-sp
    assert_success
    [[ $output == *$'\n'"zkt-sp/with space" ]] || fail "not listed as one name:" "$output"
    mp=$(mountpoint_of "zkt-sp/with space")
    assert_equal "$mp" "/zkt-sp/with space" "mountpoint"
    echo hello >"$mp/file"
    zfs snapshot "zkt-sp/with space@snap 1"
    assert_dataset_exists "zkt-sp/with space@snap 1"
    assert_equal "$(snapshots_of "zkt-sp/with space")" "snap 1" "snapshot name"
    zfs rename "zkt-sp/with space" "zkt-sp/still spaced"
    assert_dataset_exists "zkt-sp/still spaced@snap 1"
    assert_equal "$(cat "/zkt-sp/still spaced/.zfs/snapshot/snap 1/file")" hello "file in snapshot"
    zfs destroy -r "zkt-sp/still spaced"
    assert_no_dataset "zkt-sp/still spaced"
}

@test "destroy_pools removes every pool the test made" {
    make_pool zkt-a
    make_pool zkt-b 128M -O compression=lz4
    assert_prop zkt-b compression lz4
    destroy_pools
    run zpool list -H -o name
    assert_success
    [[ $output != *zkt-a* && $output != *zkt-b* ]] || fail "pools left:" "$output"
}

@test "files written to ZKEEP_GUEST_OUT reach the host share" {
    f=$ZKEEP_GUEST_OUT/00-guest.check
    echo "written by the guest" >"$f"
    assert_equal "$(cat "$f")" "written by the guest" "content read back"
    rm "$f"
}

@test "the reference tools run in the guest: sanoid/syncoid 2.1 and 2.3.0" {
    for tool in "$REF21_SANOID" "$REF21_SYNCOID" "$REF230_SANOID" "$REF230_SYNCOID"; do
        [ -x "$tool" ] || fail "$tool is missing: run tests/guest/install-deps.sh"
    done
    run "$REF21_SYNCOID" --version
    assert_output_contains "version 2.1.0"
    run "$REF230_SYNCOID" --version
    assert_output_contains "version 2.3.0"
    grep -q "\"${REF230_SANOID%/sbin/sanoid}/share/sanoid/sanoid.defaults.conf\"" "$REF230_SANOID" ||
        fail "sanoid 2.3.0 does not read its own sanoid.defaults.conf"
    # Each sanoid takes snapshots by the rules on a real pool (a dataset each).
    make_pool refp
    local v tool
    for v in 21 230; do
        tool=REF${v}_SANOID
        zfs create "refp/v$v"
        mkdir -p "$BATS_TEST_TMPDIR/conf$v"
        printf '[refp/v%s]\n\tfrequently = 1\n\thourly = 1\n\tautosnap = yes\n\tautoprune = no\n' "$v" \
            >"$BATS_TEST_TMPDIR/conf$v/sanoid.conf"
        run "${!tool}" --configdir "$BATS_TEST_TMPDIR/conf$v" --cache-dir "$BATS_TEST_TMPDIR/cache$v" \
            --run-dir "$BATS_TEST_TMPDIR/run$v" --take-snapshots
        assert_success
        run zfs list -H -t snapshot -o name -r "refp/v$v"
        [[ $output == *"refp/v$v@autosnap_"*_hourly* && $output == *"refp/v$v@autosnap_"*_frequently* ]] ||
            fail "sanoid $tool took no hourly and frequently snapshot of refp/v$v:" "$output"
    done
}
