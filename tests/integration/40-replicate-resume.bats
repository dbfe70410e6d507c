#!/usr/bin/env bats
# Interrupted transfers: kill -9 of the sender or the receiver mid-stream, resumed by the
# next run without resending what arrived; a resume whose snapshot is gone is reset.
# The transfer is slowed with a bandwidth limit so that it can be interrupted.

load lib
load replicate

setup() {
    setup_replicate
    make_pool srcp 512M
    make_pool dstp 512M
}

teardown() {
    destroy_pools
}

# Start CMD in the background, wait until it has sent 1 MiB (its progress lines; a
# syncoid CMD needs --debug for them), then kill -9 the process matching PATTERN
# (pgrep -f).
interrupt() {
    local pattern=$1 i pid=
    shift
    ZKEEP_PROGRESS_INTERVAL=1 "$@" >"$BATS_TEST_TMPDIR/bg.out" 2>&1 &
    bg=$!
    # both ends of the stream running (not the `zfs send -nvP` estimate), for 60 s at most
    for ((i = 0; i < 300; i++)); do
        pgrep -f "$SEND_RE" >/dev/null && pgrep -f '^zfs receive' >/dev/null && break
        sleep 0.2
    done
    wait_sent "$BATS_TEST_TMPDIR/bg.out" || return 1
    pid=$(pgrep -f "$pattern" | head -n1)
    if [ -z "$pid" ]; then
        fail "no process matches '$pattern' (transfer already over?); processes:" \
            "$(ps -eo pid,etimes,args | grep -E 'zfs|zkeep|syncoid' | grep -v grep)" \
            "output so far:" "$(cat "$BATS_TEST_TMPDIR/bg.out")"
        return 1
    fi
    kill -9 "$pid"
    wait "$bg" || true
    # the other end exits after its peer (a killed receive may take a moment)
    for ((i = 0; i < 100; i++)); do
        pgrep -f '^zfs (send|receive)' >/dev/null || break
        sleep 0.2
    done
}

# The real send, not the `zfs send -nvP` size estimate.
SEND_RE='^zfs send( -[iI])? srcp/'

# Sum of the "bytes" of the "sent" JSON events of zkeep replicate's output.
sent_bytes() {
    grep '"event":"sent"' | sed 's/.*"bytes":\([0-9]*\).*/\1/' | awk '{s += $1} END {print s + 0}'
}

@test "resume: kill -9 of the sender mid-transfer; the next run resumes and the data is identical" {
    zfs create srcp/big
    fill /srcp/big 4
    zfs snapshot srcp/big@s1
    # 4 MiB at 128 KiB/s: half a minute to interrupt it in, even on a loaded TCG host
    interrupt "$SEND_RE" "$ZKEEP" replicate --no-sync-snap --bwlimit=128K --buffer-size=64K srcp/big dstp/big
    token=$(zfs get -H -o value receive_resume_token dstp/big)
    [ -n "$token" ] && [ "$token" != - ] || fail "no resume token on the target after the kill"
    run "$ZKEEP" replicate --json --no-sync-snap srcp/big dstp/big
    assert_success
    sent=$(sent_bytes <<<"$output")
    full=$(zfs send -nvP srcp/big@s1 | awk '$1 == "size" {print $2}')
    [ "$sent" -gt 0 ] && [ "$sent" -lt "$((full - 524288))" ] \
        || fail "the resumed run sent $sent bytes of $full: not resumed"
    assert_equal "$(zfs get -H -o value receive_resume_token dstp/big)" - "token after the resume"
    assert_equal "$(zfs get -Hp -o value guid dstp/big@s1)" "$(zfs get -Hp -o value guid srcp/big@s1)" "guid"
    assert_same_tree /srcp/big/.zfs/snapshot/s1 /dstp/big/.zfs/snapshot/s1
}

@test "resume: kill -9 of the receiver during an incremental; syncoid resumes it" {
    zfs create srcp/inc
    echo base >/srcp/inc/base
    zfs snapshot srcp/inc@s1
    run "$SYNCOID" srcp/inc dstp/inc
    assert_success
    fill /srcp/inc 8
    zfs snapshot srcp/inc@s2
    sleep 1
    interrupt '^zfs receive' "$SYNCOID" --debug --source-bwlimit=256K --mbuffer-size=64K srcp/inc dstp/inc
    token=$(zfs get -H -o value receive_resume_token dstp/inc)
    [ -n "$token" ] && [ "$token" != - ] || fail "no resume token after killing the receiver"
    sleep 1
    run "$SYNCOID" srcp/inc dstp/inc
    assert_success
    assert_equal "$(zfs get -H -o value receive_resume_token dstp/inc)" - "token after the resume"
    assert_equal "$(plain_snaps_of dstp/inc)" "s1 s2" "plain snapshots"
    last=$(sync_snaps_of srcp/inc | tail -n1)
    # the interrupted run's sync snapshot arrives after the resume as an intermediate,
    # and stays on the target until the next run prunes it (syncoid 2.3.0 prunes only
    # what the target had before the run)
    assert_equal "$(sync_snaps_of dstp/inc | wc -l) $(sync_snaps_of dstp/inc | tail -n1)" "2 $last" \
        "the interrupted run's sync snapshot and the newest on the target"
    assert_equal "$(sync_snaps_of srcp/inc)" "$last" "only the newest sync snapshot is left on the source"
    run "$SYNCOID" --no-sync-snap srcp/inc dstp/inc
    assert_success
    run "$SYNCOID" srcp/inc dstp/inc
    assert_success
    last=$(sync_snaps_of srcp/inc | tail -n1)
    assert_equal "$(sync_snaps_of dstp/inc)" "$last" "only the newest sync snapshot is left on the target a run later"
    assert_same_tree "/srcp/inc/.zfs/snapshot/$last" "/dstp/inc/.zfs/snapshot/$last"
}

@test "resume: the interrupted send's snapshot is gone; the partial state is reset and a normal sync follows" {
    zfs create srcp/og
    echo base >/srcp/og/base
    zfs snapshot srcp/og@s1
    run "$SYNCOID" --no-sync-snap srcp/og dstp/og
    assert_success
    fill /srcp/og 8
    zfs snapshot srcp/og@s2
    interrupt "$SEND_RE" "$SYNCOID" --debug --no-sync-snap --source-bwlimit=256K --mbuffer-size=64K srcp/og dstp/og
    token=$(zfs get -H -o value receive_resume_token dstp/og)
    [ -n "$token" ] && [ "$token" != - ] || fail "no resume token after the kill"
    zfs destroy srcp/og@s2
    echo new >/srcp/og/new
    zfs snapshot srcp/og@s3
    run "$SYNCOID" --no-sync-snap srcp/og dstp/og
    assert_success
    assert_output_contains "resetting partially receive state"
    assert_equal "$(zfs get -H -o value receive_resume_token dstp/og)" - "token after the reset"
    assert_equal "$(plain_snaps_of dstp/og)" "s1 s3" "snapshots after the reset"
    assert_same_tree /srcp/og/.zfs/snapshot/s3 /dstp/og/.zfs/snapshot/s3
}

@test "resume: kill -9 of zkeep itself mid-transfer; the next run resumes" {
    zfs create srcp/z
    fill /srcp/z 4
    zfs snapshot srcp/z@s1
    interrupt '^/.*zkeep replicate' "$ZKEEP" replicate --no-sync-snap --bwlimit=128K \
        --buffer-size=64K srcp/z dstp/z
    token=$(zfs get -H -o value receive_resume_token dstp/z)
    [ -n "$token" ] && [ "$token" != - ] || fail "no resume token after killing zkeep"
    run "$ZKEEP" replicate --json --no-sync-snap srcp/z dstp/z
    assert_success
    sent=$(sent_bytes <<<"$output")
    full=$(zfs send -nvP srcp/z@s1 | awk '$1 == "size" {print $2}')
    [ "$sent" -lt "$((full - 524288))" ] || fail "sent $sent of $full bytes: not resumed"
    assert_same_tree /srcp/z/.zfs/snapshot/s1 /dstp/z/.zfs/snapshot/s1
    # no hold left behind but the one on the newest common snapshot
    assert_equal "$(all_holds srcp/z | cut -f1,2 | tr '\t' ' ')" "srcp/z@s1 zkeep_$HOST" "holds on the source"
}

@test "resume: --no-resume discards the partial state and sends everything again" {
    zfs create srcp/nr
    fill /srcp/nr 4
    zfs snapshot srcp/nr@s1
    interrupt "$SEND_RE" "$ZKEEP" replicate --no-sync-snap --bwlimit=128K --buffer-size=64K \
        srcp/nr dstp/nr
    token=$(zfs get -H -o value receive_resume_token dstp/nr)
    [ -n "$token" ] && [ "$token" != - ] || fail "no resume token on the target after the kill"
    run "$ZKEEP" replicate --json --no-resume --no-sync-snap srcp/nr dstp/nr
    assert_success
    sent=$(sent_bytes <<<"$output")
    full=$(zfs send -nvP srcp/nr@s1 | awk '$1 == "size" {print $2}')
    [ "$sent" -ge "$((full - 65536))" ] || fail "sent $sent of $full bytes: resumed despite --no-resume"
    assert_equal "$(zfs get -H -o value receive_resume_token dstp/nr)" - "token after the run"
    assert_same_tree /srcp/nr/.zfs/snapshot/s1 /dstp/nr/.zfs/snapshot/s1
}
