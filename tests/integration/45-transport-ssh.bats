#!/usr/bin/env bats
# The ssh transport on real pools: the ssh runner (one multiplexed connection, argv
# quoted once), named ssh failures, and zfs send -> pump -> zfs receive over ssh to a
# private sshd on 127.0.0.1 with each codec. Runs in the guest:
#   tests/guest/run.sh tests/guest/run-integration.sh tests/integration/45-transport-ssh.bats

load lib
load transport

setup() {
    transport_setup
    : >"$LOGGED_CMDS"
    rm -f /tmp/pwned
}

teardown() {
    destroy_pools
    rm -f /tmp/pwned
}

@test "ssh runner: zfs list of nasty names runs remotely, quoted once, nothing else runs, one connection" {
    zfs create "srcp/a b"
    zfs create "srcp/a b/c  d"
    zfs create srcp/x:y.z_-
    before=$(accepted_count)
    run "$TT" run "${SSH_OPTS[@]}" root@127.0.0.1 -- zfs list -H -o name -r "srcp/a b" srcp/x:y.z_-
    assert_success
    assert_equal "${lines[0]}" "srcp/a b"
    assert_equal "${lines[1]}" "srcp/a b/c  d"
    assert_equal "${lines[2]}" "srcp/x:y.z_-"
    assert_output_contains "spawned=2" # the master and one session
    # exactly what sshd was asked to run: the probe of the master, then the quoted argv
    assert_equal "$(cat "$LOGGED_CMDS")" "true
'zfs' 'list' '-H' '-o' 'name' '-r' 'srcp/a b' 'srcp/x:y.z_-'"
    assert_equal "$(($(accepted_count) - before))" 1 "ssh connections"

    # words that are shell syntax stay words (zfs gets them as names, and fails)
    : >"$LOGGED_CMDS"
    run "$TT" run "${SSH_OPTS[@]}" root@127.0.0.1 -- zfs list -H "srcp/a b'; touch /tmp/pwned; '" '$(touch /tmp/pwned)' '`touch /tmp/pwned`'
    assert_failure 1
    assert_output_contains "cannot open '\$(touch /tmp/pwned)': invalid character"
    [ ! -e /tmp/pwned ] || fail "a word was executed by the remote shell"
    assert_equal "$(tail -n1 "$LOGGED_CMDS")" \
        "'zfs' 'list' '-H' 'srcp/a b'\\''; touch /tmp/pwned; '\\''' '\$(touch /tmp/pwned)' '\`touch /tmp/pwned\`'"
    # no control socket directory is left behind
    run bash -c 'ls -d /tmp/zkeep-ssh-* 2>/dev/null'
    assert_equal "$output" ""
}

@test "ssh failures are named: authentication, host key, unreachable" {
    run "$TT" connect --sshport "$SSHD_PORT" --sshkey "$SSHD_DIR/stranger" \
        --sshoption "UserKnownHostsFile=$SSHD_DIR/known_hosts" root@127.0.0.1
    assert_failure
    assert_output_contains "authentication to root@127.0.0.1 refused"
    run "$TT" connect --sshport "$SSHD_PORT" --sshkey "$SSHD_DIR/id" \
        --sshoption UserKnownHostsFile=/dev/null --sshoption StrictHostKeyChecking=yes root@127.0.0.1
    assert_failure
    assert_output_contains "host key of root@127.0.0.1 is not trusted"
    run "$TT" connect --sshport 1 root@127.0.0.1
    assert_failure
    assert_output_contains "cannot reach root@127.0.0.1"
    run "$TT" connect "${SSH_OPTS[@]}" root@127.0.0.1
    assert_success
    assert_equal "$output" "ok"
}

@test "send-recv over ssh with every wire codec (push; pull with three): identical files" {
    zfs create srcp/data
    fill_mixed /srcp/data 1
    zfs snapshot srcp/data@s1
    zfs create dstp/push
    zfs create dstp/pull
    # every distinct wire codec: the other syncoid names map onto these (gzip = zstd-fast,
    # pigz-fast = zstdmt-fast, xz = zstdmt-slow's level, lzo = lz4; test_pump.c checks
    # the mapping and round-trips every name)
    for c in none zstd-fast zstdmt-fast pigz-slow zstd-slow lz4; do
        run "$TT" send-recv "${SSH_OPTS[@]}" --compress "$c" srcp/data@s1 "root@127.0.0.1:dstp/push/$c"
        assert_success
        assert_same_files /srcp/data/.zfs/snapshot/s1 "/dstp/push/$c"
        # compressible data: a compressing codec puts fewer bytes on the wire
        bytes=$(sed -n 's/.*bytes=\([0-9]*\) wire=\([0-9]*\).*/\1/p' <<<"$output")
        wire=$(sed -n 's/.*bytes=\([0-9]*\) wire=\([0-9]*\).*/\2/p' <<<"$output")
        if [ "$c" = none ]; then
            assert_equal "$wire" "$bytes" "wire bytes without compression"
        else
            [ "$wire" -lt "$bytes" ] || fail "$c: $wire wire bytes for $bytes stream bytes"
        fi
        echo "# push $c: $output" >&3

        case $c in none | zstd-fast | lz4)
            run "$TT" send-recv "${SSH_OPTS[@]}" --compress "$c" "root@127.0.0.1:srcp/data@s1" "dstp/pull/$c"
            assert_success
            assert_same_files /srcp/data/.zfs/snapshot/s1 "/dstp/pull/$c"
            ;;
        esac
    done
    # every remote command was zfs, or a pipeline of zfs and zstd/lz4, quoted
    run grep -vE "^(true|'zfs' '(send|receive)' .*|'zstd' .* \\| 'zfs' 'receive' .*|'lz4' .* \\| 'zfs' 'receive' .*|'zfs' 'send' .* \\| '(zstd|lz4)' .*)$" "$LOGGED_CMDS"
    assert_equal "$output" "" "unexpected remote commands"
}

@test "send-recv incremental (-I) over ssh and locally with splice" {
    zfs create srcp/data
    fill_mixed /srcp/data 1
    zfs snapshot srcp/data@a
    echo more >/srcp/data/more
    zfs snapshot srcp/data@b
    echo again >/srcp/data/again
    zfs snapshot srcp/data@c
    run "$TT" send-recv "${SSH_OPTS[@]}" srcp/data@a root@127.0.0.1:dstp/inc
    assert_success
    run "$TT" send-recv "${SSH_OPTS[@]}" -I @a srcp/data@c root@127.0.0.1:dstp/inc
    assert_success
    assert_equal "$(snapshots_of dstp/inc | tr '\n' ' ')" "a b c "
    assert_same_files /srcp/data/.zfs/snapshot/c /dstp/inc/.zfs/snapshot/c

    # locally, root can size the pipe: the splice path moves the stream
    run "$TT" send-recv srcp/data@c dstp/local
    assert_success
    assert_output_contains "spliced=1"
    assert_same_files /srcp/data/.zfs/snapshot/c /dstp/local
    run "$TT" send-recv --no-splice srcp/data@c dstp/local2
    assert_success
    assert_output_contains "spliced=0"
    assert_same_files /srcp/data/.zfs/snapshot/c /dstp/local2
}
