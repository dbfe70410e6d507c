#!/usr/bin/env bats
# syncoid and zkeep replicate over ssh to a private sshd on 127.0.0.1 (keys made by the
# test, see transport.bash): push, pull, nasty names, compression, and a transfer
# interrupted by killing ssh, resumed by the next run.

load lib
load transport
load replicate

setup() {
    setup_replicate
    transport_env
    make_pool srcp 512M
    make_pool dstp 512M
    : >"$LOGGED_CMDS"
    rm -f /tmp/pwned
    SSHO=(--sshport="$SSHD_PORT" --sshkey="$SSHD_DIR/id"
        -o "UserKnownHostsFile=$SSHD_DIR/known_hosts" -o StrictHostKeyChecking=yes)
}

teardown() {
    destroy_pools
    rm -f /tmp/pwned /usr/local/bin/lz4 /usr/local/bin/zstd
}

# A command that the remote shell finds first on its PATH and that fails as a
# missing one does: the remote "has no" TOOL.
hide_remote_tool() { # TOOL
    printf '#!/bin/sh\necho "%s: not found" >&2\nexit 127\n' "$1" >"/usr/local/bin/$1"
    chmod 755 "/usr/local/bin/$1"
}

@test "ssh: push and pull with syncoid's ssh options; incremental; data identical" {
    zfs create srcp/d
    fill /srcp/d 2
    zfs snapshot srcp/d@s1
    run "$SYNCOID" "${SSHO[@]}" srcp/d root@127.0.0.1:dstp/d
    assert_success
    assert_equal "$(plain_snaps_of dstp/d)" "s1" "pushed"
    grep -q "receive" "$LOGGED_CMDS" || fail "no remote zfs receive was run: $(cat "$LOGGED_CMDS")"
    echo more >/srcp/d/more
    zfs snapshot srcp/d@s2
    sleep 1
    run "$SYNCOID" "${SSHO[@]}" --compress=zstd-fast srcp/d root@127.0.0.1:dstp/d
    assert_success
    ss=$(sync_snaps_of srcp/d)
    assert_equal "$(sync_snaps_of dstp/d)" "$ss" "one sync snapshot, the same on both sides"
    assert_same_tree "/srcp/d/.zfs/snapshot/$ss" "/dstp/d/.zfs/snapshot/$ss"
    grep -q "zstd" "$LOGGED_CMDS" || fail "the remote side did not decompress with zstd"
    # pull: the remote side is the source
    run "$ZKEEP" replicate "${SSHO[@]}" --no-sync-snap root@127.0.0.1:srcp/d dstp/pulled
    assert_success
    assert_equal "$(plain_snaps_of dstp/pulled)" "s1 s2" "pulled"
    assert_same_tree /srcp/d/.zfs/snapshot/s2 /dstp/pulled/.zfs/snapshot/s2
}

@test "ssh: names with spaces go through the remote shell quoted once; nothing is executed" {
    zfs create "srcp/my data"
    echo x >"/srcp/my data/x"
    zfs snapshot "srcp/my data@a snap"
    run "$SYNCOID" "${SSHO[@]}" --recvoptions='o zkeep:note=$(touch${IFS}/tmp/pwned);`touch${IFS}/tmp/pwned`' \
        "srcp/my data" "root@127.0.0.1:dstp/my data"
    assert_success
    assert_dataset_exists "dstp/my data@a snap"
    assert_prop "dstp/my data" zkeep:note '$(touch${IFS}/tmp/pwned);`touch${IFS}/tmp/pwned`'
    [ ! -e /tmp/pwned ] || fail "shell syntax was executed"
}

@test "ssh: kill -9 of ssh mid-transfer; the next run resumes and the data is identical" {
    zfs create srcp/big
    fill /srcp/big 4
    zfs snapshot srcp/big@s1
    # 4 MiB at 128 KiB/s: half a minute to interrupt it in, even on a loaded TCG host
    ZKEEP_PROGRESS_INTERVAL=1 "$SYNCOID" --debug "${SSHO[@]}" --no-sync-snap --compress=none \
        --source-bwlimit=128K --mbuffer-size=64K srcp/big root@127.0.0.1:dstp/big \
        >"$BATS_TEST_TMPDIR/bg.out" 2>&1 &
    bg=$!
    for ((i = 0; i < 300; i++)); do
        pgrep -f '^zfs send srcp/' >/dev/null && pgrep -f '^zfs receive' >/dev/null && break
        sleep 0.2
    done
    # an observable state, not a sleep: 1 MiB of the 4 went into ssh
    wait_sent "$BATS_TEST_TMPDIR/bg.out"
    # the ssh session that carries the stream to the remote zfs receive
    pid=$(pgrep -f "^ssh .*receive" | head -n1)
    [ -n "$pid" ] || fail "no ssh process to kill (run's status: $(wait "$bg"; echo $?)); processes:" \
        "$(ps -eo pid,args | grep -E 'ssh|zfs' | grep -v grep)" "output:" "$(cat "$BATS_TEST_TMPDIR/bg.out")"
    kill -9 "$pid"
    wait "$bg" || true
    for ((i = 0; i < 100; i++)); do
        pgrep -f '^zfs (send|receive)' >/dev/null || break
        sleep 0.2
    done
    token=$(zfs get -H -o value receive_resume_token dstp/big)
    [ -n "$token" ] && [ "$token" != - ] || fail "no resume token after killing ssh"
    run "$SYNCOID" "${SSHO[@]}" --no-sync-snap srcp/big root@127.0.0.1:dstp/big
    assert_success
    assert_equal "$(zfs get -H -o value receive_resume_token dstp/big)" - "token after the resume"
    assert_same_tree /srcp/big/.zfs/snapshot/s1 /dstp/big/.zfs/snapshot/s1
}

@test "ssh: remote to remote (source and target over ssh to 127.0.0.1); full, then incremental compressed" {
    zfs create "srcp/rr"
    fill /srcp/rr 1
    zfs snapshot srcp/rr@s1
    # a bound on the time: a hang must fail this test, not stop the suite
    run timeout 300 "$SYNCOID" "${SSHO[@]}" root@127.0.0.1:srcp/rr root@127.0.0.1:dstp/rr
    echo "remote commands so far:"
    cat "$LOGGED_CMDS"
    assert_success
    ss=$(sync_snaps_of srcp/rr)
    assert_equal "$(sync_snaps_of dstp/rr)" "$ss" "sync snapshot on the target"
    assert_same_tree "/srcp/rr/.zfs/snapshot/$ss" "/dstp/rr/.zfs/snapshot/$ss"
    echo more >/srcp/rr/more
    sleep 1
    : >"$LOGGED_CMDS"
    # confined: a worker with no grant and no zfs of this host, only ssh; two host
    # names, so two connections, both made by the supervisor: the worker has no
    # network of its own, and an ssh that connected by itself would fail
    run timeout 300 "$ZKEEP" --verbose replicate --json "${SSHO[@]}" --compress=zstd-fast \
        root@127.0.0.1:srcp/rr root@localhost:dstp/rr
    assert_success
    assert_output_contains '"event":"sent"'
    assert_output_contains "replicated as confined worker uid "
    assert_output_contains "connected to 127.0.0.1 port $SSHD_PORT for the worker's ssh: the worker gets no network"
    assert_output_contains "connected to localhost port $SSHD_PORT for the worker's ssh: the worker gets no network"
    [[ $output != *"keeps this host's network"* ]] || fail "the worker kept the network:" "$output"
    grep -q "'zfs' 'send'" "$LOGGED_CMDS" && grep -q "'zfs' 'receive'" "$LOGGED_CMDS" \
        || fail "send and receive did not both run through ssh:" "$(cat "$LOGGED_CMDS")"
    ss=$(sync_snaps_of srcp/rr)
    assert_equal "$(sync_snaps_of dstp/rr)" "$ss" "newest sync snapshot on the target"
    assert_same_tree "/srcp/rr/.zfs/snapshot/$ss" "/dstp/rr/.zfs/snapshot/$ss"
    assert_equal "$(plain_snaps_of dstp/rr)" "s1" "plain snapshots"
}

@test "ssh: to a key whose forced command is zkeep serve; nothing outside its dataset is allowed; -r --jobs at once" {
    SERVEO=(--serve --sshport="$SSHD_PORT" --sshkey="$SSHD_DIR/serve"
        -o "UserKnownHostsFile=$SSHD_DIR/known_hosts" -o StrictHostKeyChecking=yes)
    zfs create dstp/inbox
    zfs create srcp/d
    fill /srcp/d 1
    zfs snapshot srcp/d@s1
    run "$SYNCOID" "${SERVEO[@]}" srcp/d root@127.0.0.1:dstp/inbox/d
    assert_success
    echo more >/srcp/d/more
    sleep 1
    run "$SYNCOID" "${SERVEO[@]}" --compress=zstd-fast srcp/d root@127.0.0.1:dstp/inbox/d
    assert_success
    ss=$(sync_snaps_of srcp/d)
    assert_equal "$(sync_snaps_of dstp/inbox/d)" "$ss" "sync snapshot on the served target"
    # the server quarantines what it receives: not mounted until its admin says
    assert_equal "$(zfs get -H -o value mounted dstp/inbox/d)" no "served target mounted"
    zfs mount dstp/inbox/d
    assert_same_tree "/srcp/d/.zfs/snapshot/$ss" "/dstp/inbox/d/.zfs/snapshot/$ss"
    # outside the allowed dataset: refused, nothing created
    run "$SYNCOID" "${SERVEO[@]}" srcp/d root@127.0.0.1:dstp/elsewhere
    assert_failure
    assert_no_dataset dstp/elsewhere
    run "$SYNCOID" "${SERVEO[@]}" --force-delete srcp/d root@127.0.0.1:dstp
    assert_failure
    assert_dataset_exists dstp/inbox/d
    # -r --jobs through the key: each command is a session of its own, so several
    # datasets are received at once, each child after its parent
    zfs create srcp/sv
    for d in a b c; do
        zfs create "srcp/sv/$d"
        head -c 3M /dev/urandom >"/srcp/sv/$d/f"
    done
    zfs snapshot -r srcp/sv@s1
    max_receives_during "$BATS_TEST_TMPDIR/sv" "$SYNCOID" "${SERVEO[@]}" -r --no-sync-snap \
        --jobs 3 --target-bwlimit=3M srcp/sv root@127.0.0.1:dstp/inbox/sv
    read -r _ rc _ most <"$BATS_TEST_TMPDIR/sv"
    assert_equal "$rc" 0 "syncoid -r --jobs 3 --serve: $(cat "$BATS_TEST_TMPDIR/sv.log")"
    [ "$most" -ge 2 ] && [ "$most" -le 3 ] ||
        fail "--serve --jobs 3 had $most receives at once:" "$(cat "$BATS_TEST_TMPDIR/sv.log")"
    for d in "" /a /b /c; do
        assert_equal "$(plain_snaps_of "dstp/inbox/sv$d")" "s1" "dstp/inbox/sv$d"
    done
}

@test "ssh: no zfs send -nvP size estimate when nobody watches (--quiet); one per send when its line is shown" {
    zfs create srcp/e
    echo a >/srcp/e/a
    zfs snapshot srcp/e@s1
    run "$SYNCOID" "${SSHO[@]}" --quiet --no-sync-snap root@127.0.0.1:srcp/e dstp/e
    assert_success
    assert_equal "$(plain_snaps_of dstp/e)" "s1" "pulled"
    grep -q "^'zfs' 'send' " "$LOGGED_CMDS" || fail "no remote send logged:" "$(cat "$LOGGED_CMDS")"
    ! grep -q "^'zfs' 'send' '-nvP" "$LOGGED_CMDS" || fail "an estimate nobody sees:" "$(cat "$LOGGED_CMDS")"
    : >"$LOGGED_CMDS"
    zfs snapshot srcp/e@s2
    run "$ZKEEP" replicate "${SSHO[@]}" --no-sync-snap root@127.0.0.1:srcp/e dstp/e
    assert_success
    assert_output_contains " to send"
    grep -q "^'zfs' 'send' '-nvP" "$LOGGED_CMDS" || fail "no estimate for the shown size:" "$(cat "$LOGGED_CMDS")"
}

@test "ssh: a remote without lz4 gets syncoid's default compressed with zstd; with neither, syncoid's warning" {
    zfs create srcp/c
    echo a >/srcp/c/a
    zfs snapshot srcp/c@s1
    hide_remote_tool lz4
    run "$SYNCOID" "${SSHO[@]}" --no-sync-snap srcp/c root@127.0.0.1:dstp/c
    assert_success
    assert_equal "$(plain_snaps_of dstp/c)" "s1" "pushed"
    grep -q "'zstd' '-q' '-d'" "$LOGGED_CMDS" ||
        fail "the remote did not decompress with zstd:" "$(cat "$LOGGED_CMDS")"
    : >"$LOGGED_CMDS"
    hide_remote_tool zstd
    zfs snapshot srcp/c@s2
    run "$SYNCOID" "${SSHO[@]}" --no-sync-snap srcp/c root@127.0.0.1:dstp/c
    assert_success
    assert_output_contains "lz4 and zstd not available on target ssh:127.0.0.1 - sync will continue without compression."
    assert_equal "$(plain_snaps_of dstp/c)" "s1 s2" "pushed uncompressed"
    ! grep -v -e "'--version'" "$LOGGED_CMDS" | grep -q -e "'lz4'" -e "'zstd'" ||
        fail "a codec the remote lacks was run:" "$(cat "$LOGGED_CMDS")"
    # a codec the user chose is never swapped for another
    zfs snapshot srcp/c@s3
    rm /usr/local/bin/zstd
    : >"$LOGGED_CMDS"
    run "$SYNCOID" "${SSHO[@]}" --no-sync-snap --compress=lz4 srcp/c root@127.0.0.1:dstp/c
    assert_success
    assert_output_contains "lz4 not available on target ssh:127.0.0.1 - sync will continue without compression."
    ! grep -v -e "'--version'" "$LOGGED_CMDS" | grep -q -e "'lz4'" -e "'zstd'" ||
        fail "the chosen codec was swapped:" "$(cat "$LOGGED_CMDS")"
}

@test "ssh: syncoid -r --jobs 3 receives datasets at once (never a child before its parent), prints what --jobs 1 prints, same pools" {
    zfs create srcp/t
    for d in a b b/x c d; do
        zfs create "srcp/t/$d"
        head -c 3M /dev/urandom >"/srcp/t/$d/f"
    done
    zfs snapshot -r srcp/t@s1
    for d in a b/x d; do echo more >"/srcp/t/$d/more"; done
    zfs snapshot -r srcp/t@s2
    # a target c that shares nothing with its source: that dataset fails, the others go on
    for t in par seq; do
        zfs send srcp/t@s1 | zfs receive "dstp/$t"
        zfs create "dstp/$t/c"
        zfs snapshot "dstp/$t/c@other"
    done
    max_receives_during "$BATS_TEST_TMPDIR/par" "$SYNCOID" "${SSHO[@]}" -r --no-sync-snap \
        --jobs 3 --target-bwlimit=3M srcp/t root@127.0.0.1:dstp/par
    max_receives_during "$BATS_TEST_TMPDIR/seq" "$SYNCOID" "${SSHO[@]}" -r --no-sync-snap \
        --jobs 1 --target-bwlimit=3M srcp/t root@127.0.0.1:dstp/seq
    read -r _ par_rc _ most <"$BATS_TEST_TMPDIR/par"
    read -r _ seq_rc _ seq_most <"$BATS_TEST_TMPDIR/seq"
    assert_equal "$par_rc" "$seq_rc" "the same exit status"
    [ "$par_rc" -ne 0 ] || fail "c failed, yet the run exited 0"
    [ "$most" -ge 2 ] && [ "$most" -le 3 ] ||
        fail "--jobs 3 had $most receives at once:" "$(cat "$BATS_TEST_TMPDIR/par.log")"
    assert_equal "$seq_most" "1" "--jobs 1: one receive at a time"
    # the same lines in the same order (dstp/par named dstp/seq)
    sed 's#dstp/par#dstp/seq#g' "$BATS_TEST_TMPDIR/par.log" >"$BATS_TEST_TMPDIR/par.named"
    diff -u "$BATS_TEST_TMPDIR/seq.log" "$BATS_TEST_TMPDIR/par.named" ||
        fail "--jobs 3 printed otherwise than --jobs 1"
    grep -q "dstp/seq/c" "$BATS_TEST_TMPDIR/seq.log" || fail "no word of the failed c"
    for d in "" /a /b /b/x /d; do
        assert_equal "$(plain_snaps_of "dstp/par$d")" "s1 s2" "dstp/par$d"
        assert_equal "$(plain_snaps_of "dstp/seq$d")" "s1 s2" "dstp/seq$d"
    done
    assert_equal "$(plain_snaps_of dstp/par/c)" "other" "the failed target untouched"
    assert_same_tree /srcp/t/b/x/.zfs/snapshot/s2 /dstp/par/b/x/.zfs/snapshot/s2
    # both sides on one connection: two sessions per dataset, 8 at most
    run "$ZKEEP" replicate "${SSHO[@]}" -r --dry-run --jobs=8 root@127.0.0.1:srcp/t \
        root@127.0.0.1:dstp/par
    assert_equal "$status" 1 "the dry run's exit status (c cannot be replicated)"
    assert_output_contains "--jobs=8: 4 at most, as both sides share one ssh connection"
    run "$SYNCOID" "${SSHO[@]}" -r --jobs 9 srcp/t root@127.0.0.1:dstp/par
    assert_failure
    assert_output_contains "--jobs=9: not a number from 1 to 8"
}
