#!/usr/bin/env bats
# `zkeep serve --stdio` as the forced command of an ssh key: replication into and out
# of the allowed trees works, everything else is refused. The key's authorized_keys
# line (see transport.bash):
#   command="zkeep serve --stdio --allow-receive dstp/inbox --allow-send srcp/out",restrict
# Runs in the guest:
#   tests/guest/run.sh tests/guest/run-integration.sh tests/integration/45-transport-serve.bats

load lib
load transport

setup() {
    transport_setup
    zfs create -o mountpoint=/backup-inbox dstp/inbox
    zfs create -o mountpoint=/srcp-out-elsewhere srcp/out
    zfs create srcp/secret
    fill_mixed /srcp-out-elsewhere 1
    echo secret >/srcp/secret/file
    zfs snapshot srcp/out@s1
    zfs snapshot srcp/secret@s1
    rm -f /tmp/pwned
}

teardown() {
    destroy_pools
    rm -rf /tmp/pwned /srcp-out-elsewhere /backup-inbox
}

@test "serve: push into the allowed tree; received datasets stay under its mountpoint" {
    run "$TT" send-recv "${SERVE_OPTS[@]}" -p srcp/out@s1 root@127.0.0.1:dstp/inbox/host1
    assert_success
    # received datasets are quarantined: not mounted (-u) until the server's admin says
    assert_equal "$(zfs get -H -o value mounted dstp/inbox/host1)" no "mounted after receive"
    zfs mount dstp/inbox/host1
    assert_same_files /srcp-out-elsewhere/.zfs/snapshot/s1 /backup-inbox/host1
    # the stream carried mountpoint=/srcp-out-elsewhere (-p); the server added -x mountpoint
    assert_equal "$(zfs get -H -o value,source mountpoint dstp/inbox/host1)" \
        "/backup-inbox/host1	inherited from dstp/inbox"
    # incremental, then resumable state handling through the same key
    echo more >/srcp-out-elsewhere/more
    zfs snapshot srcp/out@s2
    run "$TT" send-recv "${SERVE_OPTS[@]}" -i @s1 srcp/out@s2 root@127.0.0.1:dstp/inbox/host1
    assert_success
    assert_equal "$(snapshots_of dstp/inbox/host1 | tr '\n' ' ')" "s1 s2 "
    run "$TT" run "${SERVE_OPTS[@]}" root@127.0.0.1 -- zfs list -H -o name -r dstp/inbox
    assert_success
    assert_output_contains "dstp/inbox/host1"
    run "$TT" run "${SERVE_OPTS[@]}" root@127.0.0.1 -- zfs destroy dstp/inbox/host1@s1
    assert_success
    assert_no_dataset dstp/inbox/host1@s1
}

@test "serve: pull from the allowed send tree" {
    run "$TT" send-recv "${SERVE_OPTS[@]}" root@127.0.0.1:srcp/out@s1 dstp/pulled
    assert_success
    assert_same_files /srcp-out-elsewhere/.zfs/snapshot/s1 /dstp/pulled
}

@test "serve: compressed on the wire both ways, zkeep at both ends" {
    for c in zstd-fast lz4 zstd-slow; do
        run "$TT" send-recv "${SERVE_OPTS[@]}" --compress "$c" srcp/out@s1 "root@127.0.0.1:dstp/inbox/$c"
        assert_success
        zfs mount "dstp/inbox/$c"
        assert_same_files /srcp-out-elsewhere/.zfs/snapshot/s1 "/backup-inbox/$c"
        bytes=$(sed -n 's/.*bytes=\([0-9]*\) wire=\([0-9]*\).*/\1/p' <<<"$output")
        wire=$(sed -n 's/.*bytes=\([0-9]*\) wire=\([0-9]*\).*/\2/p' <<<"$output")
        [ "$wire" -lt "$bytes" ] || fail "$c: $wire wire bytes for $bytes stream bytes"
        echo "# serve push $c: $output" >&3
        run "$TT" send-recv "${SERVE_OPTS[@]}" --compress "$c" "root@127.0.0.1:srcp/out@s1" "dstp/pull-$c"
        assert_success
        assert_same_files /srcp-out-elsewhere/.zfs/snapshot/s1 "/dstp/pull-$c"
    done
}

@test "serve: every request outside the allowed trees is refused, and nothing changes" {
    state_before=$(zfs list -Hp -t all -r -o name,guid dstp srcp)
    run "$TT" send-recv "${SERVE_OPTS[@]}" srcp/out@s1 root@127.0.0.1:dstp/other
    assert_failure
    assert_output_contains "refused the request: 'dstp/other' is outside"
    run "$TT" send-recv "${SERVE_OPTS[@]}" srcp/out@s1 "root@127.0.0.1:dstp/inbox/../other"
    assert_failure
    assert_output_contains "not a valid"
    run "$TT" send-recv "${SERVE_OPTS[@]}" srcp/out@s1 "root@127.0.0.1:dstp/inboxevil"
    assert_failure
    assert_output_contains "outside"
    run "$TT" send-recv "${SERVE_OPTS[@]}" root@127.0.0.1:srcp/secret@s1 dstp/stolen
    assert_failure
    assert_output_contains "'srcp/secret@s1' is outside"
    assert_no_dataset dstp/stolen
    # one connection for all of these (each is a session of zkeep serve)
    run "$TT" batch "${SERVE_OPTS[@]}" root@127.0.0.1 <<'EOR'
zfs destroy -r dstp
zfs destroy -r dstp/inbox
zfs destroy srcp/out@s1
zfs list -r dstp
zfs get all srcp/secret
zfs set mountpoint=/etc dstp/inbox
zfs rollback srcp/out@s1
zpool destroy dstp
zpool list -H
sh -c id
zfs receive -o mountpoint=/etc dstp/inbox/x
zfs send srcp/secret@s1
zfs send -i srcp/secret@s1 srcp/out@s1
zfs list -H -o name dstp/inbox
EOR
    assert_success
    echo "$output" | sed 's/^/# /' >&3
    assert_equal "$(grep -c '^126	zkeep serve on the remote side refused the request' <<<"$output")" 13 "refused requests"
    assert_output_contains "0	" # the last one, inside the tree, is answered
    assert_output_contains "spawned=15" # one master + 14 sessions
    # a client that asks ssh for a shell command gets nothing run
    run ssh -o BatchMode=yes -o UserKnownHostsFile="$SSHD_DIR/known_hosts" -i "$SSHD_DIR/serve" \
        -p "$SSHD_PORT" root@127.0.0.1 'touch /tmp/pwned' </dev/null
    [ ! -e /tmp/pwned ] || fail "the serve key ran a shell command"
    # garbage and a wrong protocol version are refused
    run bash -c "printf 'Q\\0\\0\\0\\5hello' | ssh -o BatchMode=yes -o UserKnownHostsFile=$SSHD_DIR/known_hosts -i $SSHD_DIR/serve -p $SSHD_PORT root@127.0.0.1 x"
    assert_failure 126
    assert_output_contains "malformed request"
    run bash -c "printf 'Q\\0\\0\\0\\x1azkeep-serve-9\\0zfs\\0version\\0' | ssh -o BatchMode=yes -o UserKnownHostsFile=$SSHD_DIR/known_hosts -i $SSHD_DIR/serve -p $SSHD_PORT root@127.0.0.1 x"
    assert_failure 126
    assert_output_contains "unsupported protocol version"
    assert_equal "$(zfs list -Hp -t all -r -o name,guid dstp srcp)" "$state_before" "datasets"
}

@test "serve: a killed relay takes its ssh with it (no session left streaming into nothing)" {
    # the relay's "ssh" here is a sleep: it stands for a session that would go on
    "$ZKEEP" serve --relay 2 /bin/sleep 600 zfs list </dev/null >/dev/null 2>&1 &
    relay=$!
    child=
    for _ in $(seq 50); do
        child=$(pgrep -P "$relay" -x sleep || true)
        [ -n "$child" ] && break
        sleep 0.1
    done
    [ -n "$child" ] || fail "the relay started no child"
    kill "$relay"
    wait "$relay" || true
    for _ in $(seq 50); do
        kill -0 "$child" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$child" 2>/dev/null; then
        kill "$child"
        fail "the relay's child outlived it"
    fi
}
