#!/usr/bin/env bats
# No exceptions left: --force-delete (root only unmounts; the worker destroys under a
# transient grant) and --serve jobs (pull and push through a `zkeep serve` key, also
# with the zkeep binary under /tmp, which the worker's private /tmp would hide) run
# as a run uid, and leave no grant behind.
# Runs in the guest:
#   tests/guest/run.sh tests/guest/run-integration.sh tests/integration/77-hostile-unconfined.bats

load lib
load replicate
load transport

setup() {
    setup_replicate
    need_tt
    transport_env
    make_pool srcp
    make_pool dstp
    zfs create srcp/d
    echo src >/srcp/d/f
    zfs snapshot srcp/d@s1
    export ZKEEP_STATE_DIR=$BATS_TEST_TMPDIR/state
}

teardown() {
    destroy_pools
    rm -rf /backup-inbox /srcp-out-elsewhere /tmp/zkeep-t77
}

# The uid of each `zfs CMD` line of `zpool history -l POOL` about DATASET.
history_uids() { # POOL CMD DATASET
    zpool history -l "$1" | awk -v c="zfs $2" -v d="$3" \
        'index($0, c) && index($0, d) { if (match($0, /\[user [0-9]+/)) print substr($0, RSTART + 6, RLENGTH - 6) }'
}

assert_run_uid() { # UID...
    local u
    [ $# -gt 0 ] || { fail "no uid recorded"; return 1; }
    for u in "$@"; do
        [ "$u" -ge 60700 ] && [ "$u" -le 60799 ] || { fail "ran as uid $u, not a run uid"; return 1; }
    done
}

@test "force-delete: the worker destroys the target under a transient grant; root only unmounts" {
    zfs create dstp/d
    echo mine >/dstp/d/mine
    zfs create dstp/d/child
    zfs snapshot -r dstp/d@other
    zfs create dstp/sibling
    zfs snapshot dstp/sibling@keep
    run timeout 240 "$ZKEEP" --verbose replicate --force-delete srcp/d dstp/d
    assert_success
    assert_output_contains "replicated as confined worker uid"
    [[ $output != *unconfined* ]] || fail "ran unconfined: $output"
    assert_no_dataset dstp/d@other
    assert_no_dataset dstp/d/child
    assert_dataset_exists dstp/d@s1
    [ ! -e /dstp/d/mine ] || fail "old target content survived"
    [ -e /dstp/d/f ] || fail "the new target is not mounted"
    # the destroy was the worker's (zpool history -l names the uid)
    assert_run_uid $(history_uids dstp destroy dstp/d)
    assert_dataset_exists dstp/sibling@keep
    assert_no_grants_in srcp dstp
}

serve_setup() {
    RSERVE_OPTS=(--sshport "$SSHD_PORT" --sshkey "$SSHD_DIR/serve"
        --sshoption "UserKnownHostsFile=$SSHD_DIR/known_hosts" --sshoption StrictHostKeyChecking=yes
        --serve)
    zfs create -o mountpoint=/backup-inbox dstp/inbox
    zfs create -o mountpoint=/srcp-out-elsewhere srcp/out
    echo out >/srcp-out-elsewhere/f
    zfs snapshot srcp/out@s1
}

@test "serve: pull and push through a zkeep serve key run confined, as a run uid" {
    serve_setup
    run timeout 240 "$ZKEEP" --verbose replicate "${RSERVE_OPTS[@]}" root@127.0.0.1:srcp/out dstp/pulled
    assert_success
    assert_output_contains "replicated as confined worker uid"
    assert_same_files /srcp-out-elsewhere/.zfs/snapshot/s1 /dstp/pulled
    assert_run_uid $(history_uids dstp receive dstp/pulled)
    assert_no_grants_in srcp dstp
    run timeout 240 "$ZKEEP" --verbose replicate "${RSERVE_OPTS[@]}" srcp/d root@127.0.0.1:dstp/inbox/d
    assert_success
    assert_output_contains "replicated as confined worker uid"
    assert_dataset_exists dstp/inbox/d@s1
    assert_no_grants_in srcp dstp
}

@test "serve: a zkeep binary under /tmp still reaches the worker (its private /tmp hides nothing)" {
    serve_setup
    mkdir -p /tmp/zkeep-t77
    cp "$ZKEEP" /tmp/zkeep-t77/zkeep
    run timeout 240 /tmp/zkeep-t77/zkeep --verbose replicate "${RSERVE_OPTS[@]}" root@127.0.0.1:srcp/out dstp/pulled
    assert_success
    assert_output_contains "replicated as confined worker uid"
    assert_same_files /srcp-out-elsewhere/.zfs/snapshot/s1 /dstp/pulled
    assert_run_uid $(history_uids dstp receive dstp/pulled)
    assert_no_grants_in srcp dstp
}
