#!/usr/bin/env bats
# Progress of a transfer: periodic lines in logs (not a terminal), JSON progress
# events with --json, a bar redrawn in place on a terminal; syncoid's default output
# has no progress lines. The transfer is slowed with a bandwidth limit.

load lib
load replicate

setup() {
    setup_replicate
    make_pool srcp 512M
    make_pool dstp 512M
    zfs create srcp/p
    fill /srcp/p 3
    zfs snapshot srcp/p@s1
}

teardown() {
    destroy_pools
}

# "1.00 MiB of 3.01 MiB (33%), 512.00 KiB/s, ETA 4s": the size from zfs send -nvP
LINE_RE='[0-9.]+ [KM]iB of [0-9.]+ MiB \([0-9]+%\), [0-9.]+ [KM]iB/s(, ETA [0-9hms]+)?$'

@test "progress: periodic lines in logs with size, percentage, rate and ETA; totals at the end" {
    run env ZKEEP_PROGRESS_INTERVAL=1 "$ZKEEP" replicate --no-sync-snap --bwlimit=512K srcp/p dstp/p
    assert_success
    n=$(grep -cE "$LINE_RE" <<<"$output" || true)
    [ "$n" -ge 2 ] || fail "expected at least 2 progress lines, got $n:" "$output"
    grep -qE "$LINE_RE" <<<"$output" && grep -E "$LINE_RE" <<<"$output" | grep -q ETA \
        || fail "no ETA in the progress lines:" "$output"
    assert_output_contains "about "
    assert_output_contains " to send"
    grep -qE 'sent [0-9.]+ MiB in [0-9.]+ s, [0-9.]+ [KM]iB/s' <<<"$output" \
        || fail "no totals line:" "$output"
    [[ $output != *$'\r'* ]] || fail "a bar was drawn into a log"
    assert_same_tree /srcp/p/.zfs/snapshot/s1 /dstp/p/.zfs/snapshot/s1
}

@test "progress: --json prints progress events with bytes, expected_bytes, rate and eta" {
    run "$ZKEEP" replicate --json --no-sync-snap --bwlimit=512K srcp/p dstp/p
    assert_success
    n=$(grep -c '"event":"progress"' <<<"$output" || true)
    [ "$n" -ge 2 ] || fail "expected at least 2 progress events, got $n:" "$output"
    ev=$(grep '"event":"progress"' <<<"$output" | tail -n1)
    for k in source target from to bytes expected_bytes rate seconds eta; do
        [[ $ev == *"\"$k\":"* ]] || fail "no $k in $ev"
    done
    exp=$(sed 's/.*"expected_bytes":\([0-9]*\).*/\1/' <<<"$ev")
    [ "$exp" -gt 3000000 ] || fail "expected_bytes $exp: not zfs send -nvP's estimate"
    # every line is one JSON object (jq is the reader of record)
    if command -v jq >/dev/null; then
        jq -c . <<<"$output" >/dev/null || fail "not JSON lines:" "$output"
    fi
    assert_output_contains '"event":"sent"'
    assert_output_contains '"event":"done"'
}

@test "progress: a bar redrawn in place on a terminal; syncoid logs no progress lines by default" {
    command -v script >/dev/null || skip "script(1) is not installed"
    # the guest's TERM is dumb (no cursor control: no bar); a real terminal's is not
    run env TERM=xterm script -qec "'$ZKEEP' replicate --no-sync-snap --bwlimit=512K srcp/p dstp/p" /dev/null
    assert_success
    [[ $output == *$'\r'* ]] || fail "no carriage return: no bar redrawn in place:" "$output"
    [[ $output == *'['*'>'*']'*'%'*'ETA'* ]] || fail "no bar with percentage and ETA:" "$output"
    assert_same_tree /srcp/p/.zfs/snapshot/s1 /dstp/p/.zfs/snapshot/s1
    # syncoid, not a terminal, no --debug: pv would print nothing into a log, nor do we
    zfs snapshot srcp/p@s2
    run env ZKEEP_PROGRESS_INTERVAL=1 "$SYNCOID" --no-sync-snap --source-bwlimit=512K srcp/p dstp/p
    assert_success
    ! grep -qE "$LINE_RE" <<<"$output" || fail "syncoid printed progress lines by default:" "$output"
    [[ $output != *$'\r'* ]] || fail "syncoid drew a bar into a log"
}
