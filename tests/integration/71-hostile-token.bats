#!/usr/bin/env bats
# Hostile resume tokens. `zfs send -t` sends the snapshot the token's toguid names,
# searched in the whole pool, whatever its toname says. A serve key restricted to
# one tree, and a target planting a partial receive, must not get anything else:
#   command="zkeep serve --stdio --allow-receive dstp/inbox --allow-send srcp/out",restrict
# Tokens are forged with tests/tools/test-token.c (its own encoder).
# Runs in the guest:
#   tests/guest/run.sh tests/guest/run-integration.sh tests/integration/71-hostile-token.bats

load lib
load transport

case ${ZKEEP_BUILD:-build} in
    /*) TOKEN_TOOL=${ZKEEP_BUILD}/tests/test-token ;;
    *) TOKEN_TOOL=$ZKEEP_ROOT/${ZKEEP_BUILD:-build}/tests/test-token ;;
esac

# One pool setup for the file: srcp/out (the send tree), srcp/secret (outside it),
# a snapshot of srcp itself (an ancestor), dstp/inbox (the receive tree).
setup_file() {
    [ "$(id -u)" = 0 ] || skip "needs root"
    start_sshd
    make_pool srcp
    make_pool dstp
    zfs create -o mountpoint=/srcp-out-tok srcp/out
    zfs create srcp/secret
    zfs create dstp/inbox
    head -c 300000 /dev/urandom >/srcp-out-tok/data
    echo "the secret" >/srcp/secret/file
    head -c 300000 /dev/urandom >/srcp/secret/bulk
    zfs snapshot srcp/out@s1
    head -c 300000 /dev/urandom >/srcp-out-tok/more
    zfs snapshot srcp/out@s2
    zfs snapshot srcp/secret@s1
    zfs snapshot srcp@top
    zfs bookmark srcp@top srcp#top
}

teardown_file() {
    destroy_pools
    rm -rf /srcp-out-tok
    stop_sshd
}

setup() {
    need_zfs
    need_zkeep
    need_tt
    [ -x "$TOKEN_TOOL" ] || skip "test-token is not built"
    transport_env
}

guid() { zfs get -Hp -o value guid "$1"; }

# A resumable partial receive of SNAP's full stream into TARGET (the first BYTES bytes).
partial_receive() { # SNAP TARGET BYTES
    zfs send "$1" | head -c "$3" | zfs receive -s "$2" 2>/dev/null || true
    zfs get -H -o value receive_resume_token "$2"
}

@test "token: real tokens of the kernel are read exactly (full and incremental)" {
    tok=$(partial_receive srcp/out@s1 dstp/part 200000)
    [ "$tok" != - ] || fail "no resume token on dstp/part"
    echo "# full: $tok" >&3
    run "$TOKEN_TOOL" show "$tok"
    assert_success
    assert_output_contains "toname srcp/out@s1"
    assert_output_contains "toguid $(guid srcp/out@s1)"
    zfs receive -A dstp/part
    zfs send srcp/out@s1 | zfs receive dstp/inc
    tok=$(zfs send -i @s1 srcp/out@s2 | head -c 150000 | zfs receive -s dstp/inc 2>/dev/null; \
          zfs get -H -o value receive_resume_token dstp/inc)
    echo "# incremental: $tok" >&3
    [ "$tok" != - ] || fail "no resume token on dstp/inc"
    run "$TOKEN_TOOL" show "$tok"
    assert_success
    assert_output_contains "toguid $(guid srcp/out@s2)"
    assert_output_contains "fromguid $(guid srcp/out@s1)"
    zfs receive -A dstp/inc
    zfs destroy -r dstp/inc
}

@test "serve: a forged token naming the allowed tree but sending an outside snapshot is refused" {
    state_before=$(zfs list -Hp -t all -r -o name,guid dstp srcp)
    forged=$("$TOKEN_TOOL" make toname=srcp/out@s1 "toguid=$(guid srcp/secret@s1)" \
        object=0 offset=0 bytes=0)
    run "$TT" run "${SERVE_OPTS[@]}" root@127.0.0.1 -- zfs send -t "$forged" -nv
    echo "# $output" >&3
    assert_failure
    assert_output_contains "refused the request"
    assert_output_contains "the resume token sends snapshot guid $(guid srcp/secret@s1)"
    # the real send: nothing of srcp/secret leaves (its file is in the clear in a stream)
    run "$TT" run "${SERVE_OPTS[@]}" root@127.0.0.1 -- zfs send -t "$forged"
    assert_failure
    assert_output_contains "refused the request"
    [[ $output != *"the secret"* ]] || fail "srcp/secret's data came out"
    # an incremental source outside the tree: refused too
    forged=$("$TOKEN_TOOL" make toname=srcp/out@s2 "toguid=$(guid srcp/out@s2)" \
        "fromguid=$(guid srcp/secret@s1)" object=0 offset=0 bytes=0)
    run "$TT" run "${SERVE_OPTS[@]}" root@127.0.0.1 -- zfs send -t "$forged"
    assert_failure
    assert_output_contains "refused the request"
    assert_output_contains "incremental source"
    # and a label outside the tree (zfs starts its search for the guid there)
    forged=$("$TOKEN_TOOL" make toname=srcp/secret@s1 "toguid=$(guid srcp/out@s1)" \
        object=0 offset=0 bytes=0)
    run "$TT" run "${SERVE_OPTS[@]}" root@127.0.0.1 -- zfs send -t "$forged"
    assert_failure
    assert_output_contains "the resume token names 'srcp/secret@s1', outside"
    assert_equal "$(zfs list -Hp -t all -r -o name,guid dstp srcp)" "$state_before"
    # a real token of the allowed tree still resumes through the key
    tok=$(partial_receive srcp/out@s1 dstp/inbox/part 200000)
    [ "$tok" != - ] || fail "no resume token on dstp/inbox/part"
    stream=$BATS_TEST_TMPDIR/stream
    "$TT" run "${SERVE_OPTS[@]}" root@127.0.0.1 -- zfs send -t "$tok" >"$stream"
    zfs receive -s -u dstp/inbox/part <"$stream"
    assert_equal "$(guid dstp/inbox/part@s1)" "$(guid srcp/out@s1)"
}

@test "serve: snapshots and bookmarks of an ancestor of the allowed tree are not listed" {
    top=$(guid srcp@top)
    for req in "zfs list -H -o name,guid -t snapshot srcp" \
               "zfs list -H -o name,guid -t bookmark srcp" \
               "zfs list -H -o name,guid -t all srcp" \
               "zfs get -H -o name,value -t snapshot guid srcp"; do
        # shellcheck disable=SC2086
        run "$TT" run "${SERVE_OPTS[@]}" root@127.0.0.1 -- $req
        echo "# $req: $output" >&3
        assert_failure
        assert_output_contains "refused the request"
        [[ $output != *"$top"* ]] || fail "$req: the guid of srcp@top leaked: $output"
    done
    # the ancestor itself (whether a target's parent exists) is still answered
    run "$TT" run "${SERVE_OPTS[@]}" root@127.0.0.1 -- zfs list -H -o name srcp
    assert_success
    assert_output_contains "srcp"
}

@test "replicate: a resume token planted on the target that sends outside the source is not resumed" {
    # confined (the worker's grants would stop the send) and with --no-confine (the one
    # exception: nothing but the check stands between the token and srcp/secret);
    # a target each (what a run replicated may be held)
    local t
    for confine in "" --no-confine; do
        t=dstp/t${confine:+-unconfined}
        # the target holds a partial receive of srcp/secret@s1, as a hostile target can
        tok=$(partial_receive srcp/secret@s1 "$t" 150000)
        [ "$tok" != - ] || fail "no resume token on $t"
        run "$ZKEEP" $confine replicate --no-sync-snap srcp/out "$t"
        echo "# replicate $confine: $output" >&3
        # nothing is sent with the token: the target's partial state is reset (its own)
        # and srcp/out replicated as if there had been none
        assert_success
        assert_output_contains "the resume token on $t sends snapshot guid $(guid srcp/secret@s1)"
        assert_output_contains "not a snapshot of srcp/out"
        assert_output_contains "resetting partially receive state of $t"
        assert_equal "$(zfs get -H -o value receive_resume_token "$t")" - "token after the run"
        assert_equal "$(zfs list -H -t snapshot -o name -r "$t" | tr '\n' ' ')" \
            "$t@s1 $t@s2 " "snapshots on $t"
        assert_equal "$(zfs get -Hp -o value guid "$t@s2")" "$(guid srcp/out@s2)" "$t@s2"
        assert_equal "$(zfs get -H -o value mounted "$t")" yes "$t mounted"
        [ ! -e "/$t/file" ] || fail "srcp/secret's file arrived on $t"
        [ -e "/$t/more" ] || fail "srcp/out's file is missing on $t"
    done
}
