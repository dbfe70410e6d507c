#!/usr/bin/env bats
# The ZFS backend (src/zfs/zfs.h) on real pools, driven through tests/tools/test-backend.c.
# Runs inside the guest: tests/guest/run.sh tests/guest/run-integration.sh

load lib

setup() {
    need_root
    need_zfs
    TB=$ZKEEP_ROOT/${ZKEEP_BUILD:-build}/tests/test-backend
    case ${ZKEEP_BUILD:-build} in /*) TB=$ZKEEP_BUILD/tests/test-backend ;; esac
    [ -x "$TB" ] || skip "test-backend not built ($TB)"
    make_pool tank
}

teardown() {
    rm -f /tmp/pwned
    destroy_pools
}

@test "backend: zfs version is parsed and matches the loaded module" {
    run "$TB" version
    assert_success
    kmod=$(cat /sys/module/zfs/version)
    assert_output_contains "kmod ${kmod%%-*}"
}

@test "backend: one zfs list call returns the whole tree, snapshots and bookmarks ordered by createtxg" {
    zfs create tank/a
    zfs create "tank/a/my data"
    zfs create -V 8M tank/vol
    zfs snapshot tank/a@first
    zfs snapshot "tank/a/my data@with space"
    zfs bookmark tank/a@first tank/a#first
    zfs snapshot tank/a@second
    zfs set compression=zle tank/a
    export TEST_BACKEND_COUNT=1
    run "$TB" list -r -s -b -o compression,used tank
    assert_success
    # One process for the whole tree, never one per dataset.
    assert_output_contains "spawned 1"
    names=$(printf '%s\n' "$output" | grep -v '^spawned' | cut -f1)
    expected=$(printf '%s\n' tank tank/a tank/a@first 'tank/a#first' tank/a@second \
        "tank/a/my data" "tank/a/my data@with space" tank/vol)
    assert_equal "$names" "$expected" "listed names"
    line=$(printf '%s\n' "$output" | grep -P '^tank/a\t')
    assert_equal "$(cut -f2 <<<"$line")" filesystem "type of tank/a"
    assert_equal "$(cut -f4 <<<"$line")" zle "compression of tank/a"
    # The guid of the bookmark is the guid of its snapshot.
    g1=$(printf '%s\n' "$output" | grep -P '^tank/a@first\t' | cut -f4)
    g2=$(printf '%s\n' "$output" | grep -P '^tank/a#first\t' | cut -f4)
    assert_equal "$g2" "$g1" "bookmark guid"
    assert_equal "$g1" "$(zfs get -Hp -o value guid tank/a@first)" "guid vs zfs get"
}

@test "backend: a missing root is reported as ENOENT and the others are still listed" {
    zfs create tank/here
    run "$TB" list tank/here tank/missing
    assert_failure 1
    assert_output_contains "tank/here"
    assert_output_contains "error: ENOENT"
    assert_output_contains "tank/missing"
}

@test "backend: several snapshots are taken atomically in one call" {
    zfs create tank/a
    zfs create tank/b
    run "$TB" snapshot tank/a@s1 tank/b@s1
    assert_success
    assert_equal "$(zfs get -Hp -o value createtxg tank/a@s1)" \
        "$(zfs get -Hp -o value createtxg tank/b@s1)" "createtxg of both snapshots"
    # One bad name: nothing is taken.
    run "$TB" snapshot tank/a@s2 tank/nonexistent@s2
    assert_failure 1
    assert_output_contains "error: ENOENT"
    assert_no_dataset tank/a@s2
    run "$TB" snapshot -r tank@rec
    assert_success
    assert_dataset_exists tank/b@rec
}

@test "backend: batched destroy removes exactly the named snapshots in one call" {
    zfs create tank/a
    for s in s1 s2 s3 s4 s5; do zfs snapshot tank/a@$s; done
    export TEST_BACKEND_COUNT=1
    run "$TB" destroy-snaps tank/a s1 s3 s5
    assert_success
    assert_output_contains "spawned 1"
    assert_equal "$(snapshots_of tank/a | tr '\n' ' ')" "s2 s4 " "remaining snapshots"
    run "$TB" destroy-snaps tank/a nosuch
    assert_failure 1
}

@test "backend: holds block destroy until released" {
    zfs create tank/a
    zfs snapshot tank/a@keep
    t0=$(date +%s)
    run "$TB" hold zkeep_test tank/a@keep
    assert_success
    t1=$(date +%s)
    run "$TB" holds tank/a@keep
    assert_success
    assert_equal "$(cut -f1,2 <<<"$output")" "$(printf 'tank/a@keep\tzkeep_test')" "holds"
    ts=$(cut -f3 <<<"$output")
    if [ "$(zfs_tools_version)" = 2.1 ]; then
        # 2.1's `zfs holds` has no -p: zkeep reads its local date, to the minute.
        [ $((ts % 60)) -eq 0 ] && [ "$ts" -ge $((t0 - t0 % 60)) ] && [ "$ts" -le "$t1" ] ||
            fail "hold time $ts is not the minute of $t0..$t1"
    else
        [ "$ts" -ge "$t0" ] && [ "$ts" -le "$t1" ] || fail "hold time $ts is not within $t0..$t1"
    fi
    run "$TB" destroy tank/a@keep
    assert_failure 1
    assert_output_contains "error: EBUSY"
    assert_dataset_exists tank/a@keep
    run "$TB" release zkeep_test tank/a@keep
    assert_success
    run "$TB" destroy tank/a@keep
    assert_success
    assert_no_dataset tank/a@keep
}

@test "backend: full and incremental (-I) send/receive reproduce the data exactly" {
    make_pool backup
    zfs create tank/src
    dd if=/dev/urandom of=/tank/src/f1 bs=64k count=32 status=none
    zfs snapshot tank/src@a
    dd if=/dev/urandom of=/tank/src/f2 bs=64k count=16 status=none
    zfs snapshot tank/src@b
    echo more >>/tank/src/f1
    zfs snapshot tank/src@c
    run "$TB" send-recv tank/src@a backup/dst
    assert_success
    run "$TB" send-recv -I tank/src@a -s -F tank/src@c backup/dst
    assert_success
    assert_equal "$(snapshots_of backup/dst | tr '\n' ' ')" "a b c " "received snapshots"
    assert_same_file /tank/src/f1 /backup/dst/f1
    assert_same_file /tank/src/f2 /backup/dst/f2
    assert_equal "$(zfs get -Hp -o value guid backup/dst@b)" "$(zfs get -Hp -o value guid tank/src@b)" "guid of b"
    run "$TB" estimate -i tank/src@b tank/src@c
    assert_success
    [ "$output" -gt 0 ] || fail "estimate is not a positive number: $output"
}

@test "backend: incremental send from a bookmark after the snapshot is gone" {
    make_pool backup
    zfs create tank/src
    echo one >/tank/src/f
    zfs snapshot tank/src@a
    "$TB" send-recv tank/src@a backup/dst
    run "$TB" bookmark tank/src@a 'tank/src#a'
    assert_success
    zfs destroy tank/src@a
    echo two >/tank/src/f
    zfs snapshot tank/src@b
    run "$TB" send-recv -i 'tank/src#a' -F tank/src@b backup/dst
    assert_success
    assert_equal "$(cat /backup/dst/f)" two "content after bookmark-based send"
}

@test "backend: raw send of an encrypted dataset stays encrypted and needs no key on the target" {
    make_pool backup
    echo "correct horse battery" >"$BATS_TEST_TMPDIR/key"
    zfs create -o encryption=on -o keyformat=passphrase -o keylocation="file://$BATS_TEST_TMPDIR/key" tank/secret
    dd if=/dev/urandom of=/tank/secret/data bs=64k count=16 status=none
    zfs snapshot tank/secret@a
    run "$TB" send-recv -w tank/secret@a backup/secret
    assert_success
    assert_prop backup/secret encryption aes-256-gcm
    assert_prop backup/secret keystatus unavailable
    # A non-raw send of it into the backup would need the key: the raw one did not.
    zfs load-key -L "file://$BATS_TEST_TMPDIR/key" backup/secret
    zfs mount backup/secret
    assert_same_file /tank/secret/data /backup/secret/data
}

@test "backend: an interrupted resumable receive leaves a token; send -t resumes it; -A discards" {
    make_pool backup
    zfs create -o compression=off tank/big
    dd if=/dev/urandom of=/tank/big/blob bs=1M count=24 status=none
    zfs snapshot tank/big@a
    # Cut the stream halfway: the receiver keeps what arrived.
    zfs send tank/big@a | head -c 10000000 | zfs receive -s backup/big || true
    run "$TB" resume-token backup/big
    assert_success
    [ "$output" != none ] || fail "no resume token after an interrupted receive"
    token=$output
    run "$TB" send-recv -t "$token" -s tank/big@a backup/big
    assert_success
    run "$TB" resume-token backup/big
    assert_equal "$output" none "token after resume"
    assert_same_file /tank/big/blob /backup/big/blob

    # A second partial receive, then abort: the partial state is gone.
    zfs snapshot tank/big@b
    dd if=/dev/urandom of=/tank/big/blob2 bs=1M count=16 status=none
    zfs snapshot tank/big@c
    # -F: reading the file above touched atime on the target.
    zfs send -i tank/big@a tank/big@c | head -c 8000000 | zfs receive -s -F backup/big || true
    run "$TB" resume-token backup/big
    [ "$output" != none ] || fail "no token after the second interruption"
    run "$TB" recv-abort backup/big
    assert_success
    run "$TB" resume-token backup/big
    assert_equal "$output" none "token after receive -A"
    assert_same_file /tank/big/blob /backup/big/blob
}

@test "backend: properties and their sources" {
    zfs create tank/p
    run "$TB" set tank/p compression=lz4 'user:note=a value with spaces'
    assert_success
    run "$TB" get tank/p user:note
    assert_equal "$output" "a value with spaces" "user property"
    run "$TB" props -l tank/p
    assert_success
    assert_output_contains "$(printf 'tank/p\tcompression\tlz4\t1')"
    run "$TB" get tank/nope compression
    assert_failure 1
    assert_output_contains "error: ENOENT"
}

@test "backend: names with spaces work and shell syntax in names is never executed" {
    make_pool backup
    zfs create "tank/my data"
    echo x >"/tank/my data/f"
    run "$TB" snapshot "tank/my data@snap one"
    assert_success
    run "$TB" send-recv "tank/my data@snap one" "backup/copy of data"
    assert_success
    assert_same_file "/tank/my data/f" "/backup/copy of data/f"
    # ZFS refuses these characters in names; the refusal must come from zfs, as an
    # argument, with nothing run by a shell.
    for evil in 'tank/a;$(touch /tmp/pwned)' 'tank/`touch /tmp/pwned`' 'tank/a$(touch /tmp/pwned)@s'; do
        run "$TB" snapshot "$evil@x"
        assert_failure 1
        run "$TB" list "$evil"
        assert_failure 1
    done
    # Any bytes are allowed in a user property value: they round-trip unchanged.
    run "$TB" set "tank/my data" 'user:evil=;$(touch /tmp/pwned) `touch /tmp/pwned`'
    assert_success
    run "$TB" get "tank/my data" user:evil
    assert_equal "$output" ';$(touch /tmp/pwned) `touch /tmp/pwned`' "user property value"
    [ ! -e /tmp/pwned ] || fail "/tmp/pwned was created: something ran a shell"
}

@test "backend: dry-run records the commands and changes nothing" {
    zfs create tank/d
    run "$TB" dry-run snapshot "tank/d@x y"
    assert_success
    assert_equal "$output" "would run: zfs snapshot 'tank/d@x y'" "planned command"
    assert_no_dataset "tank/d@x y"
}

@test "backend: pool list reports health and capacity" {
    run "$TB" pools tank
    assert_success
    [[ $output =~ ^tank$'\t'ONLINE$'\t'[0-9]+$ ]] || fail "unexpected: $output"
    run "$TB" pool-prop tank delegation
    assert_equal "$output" on "delegation"
    run "$TB" pools nosuchpool
    assert_failure 1
    assert_output_contains "error: ENOENT"
}
