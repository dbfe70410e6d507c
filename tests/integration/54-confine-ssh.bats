#!/usr/bin/env bats
# Replication over ssh runs in the confined worker too (as root): the local side as a
# run uid holding only its grants, the ssh client and its closure in the worker's
# root, the job's key and the caller's known_hosts copied into the run's own home
# (the run uid cannot read root's), removed with it after the run; no grant left behind. Uses the
# private sshd on 127.0.0.1 of transport.bash. The guest kernel has Landlock ABI 2:
# the TCP port rule (ABI 4) is only shown, not enforced, there.
# Runs in the guest: tests/guest/run.sh tests/guest/run-integration.sh

load lib
load transport
load replicate

setup() {
    setup_replicate
    transport_env
    make_pool srcp
    make_pool dstp
    zfs create srcp/data
    fill /srcp/data 1
    zfs snapshot srcp/data@s1
    export ZKEEP_STATE_DIR=$BATS_TEST_TMPDIR/state
    SSHO=(--sshport="$SSHD_PORT" --sshkey="$SSHD_DIR/id"
        -o "UserKnownHostsFile=$SSHD_DIR/known_hosts" -o StrictHostKeyChecking=yes)
}

teardown() {
    destroy_pools
}


@test "ssh push: the local send runs as a run uid in the worker; copies of the key removed" {
    run "$ZKEEP" --verbose replicate "${SSHO[@]}" srcp/data root@127.0.0.1:dstp/data
    assert_success
    assert_output_contains "replicated as confined worker uid 607"
    assert_dataset_exists dstp/data@s1
    assert_same_tree /srcp/data/.zfs/snapshot/s1 /dstp/data/.zfs/snapshot/s1
    grep -q "receive" "$LOGGED_CMDS" || fail "no remote zfs receive: $(cat "$LOGGED_CMDS")"
    # The local side's commands ran as the run uid: the sync snapshot is its.
    zpool history -l srcp | grep ' zfs snapshot ' | grep -q 'user 607' ||
        fail "sync snapshot not made by a run uid: $(zpool history -l srcp | tail -3)"
    [ -z "$(ls -A "$ZKEEP_STATE_DIR/work")" ] ||
        fail "the run's directory (ssh copies) left: $(ls -laR "$ZKEEP_STATE_DIR/work")"
    assert_no_grants srcp dstp; assert_no_grant_journal
    # Incremental, with syncoid's name too.
    echo more >/srcp/data/more
    zfs snapshot srcp/data@s2
    run "$SYNCOID" "${SSHO[@]}" --no-sync-snap srcp/data root@127.0.0.1:dstp/data
    assert_success
    assert_dataset_exists dstp/data@s2
    assert_no_grants srcp dstp; assert_no_grant_journal
}

# Root runs the confined worker's receives into a local target (zfs/root_receive.h):
# every receive into $1 in the pool's history is root's, and there is one.
receives_by_root() {
    local hist
    hist=$(zpool history -l "${1%%/*}" | grep " zfs receive .* $1 \\[" || true)
    echo "$hist"
    [ -n "$hist" ] || fail "no receive into $1"
    grep -v 'user 0 ' <<<"$hist" && fail "a receive into $1 was not root's" || true
}

@test "ssh pull: the worker runs confined, root receives for it and mounts; no grant left" {
    run "$ZKEEP" --verbose replicate "${SSHO[@]}" --no-sync-snap root@127.0.0.1:srcp/data dstp/pulled
    assert_success
    assert_output_contains "replicated as confined worker uid 607"
    assert_same_tree /srcp/data/.zfs/snapshot/s1 /dstp/pulled/.zfs/snapshot/s1
    assert_equal "$(zfs get -H -o value mounted dstp/pulled)" yes "dstp/pulled mounted"
    receives_by_root dstp/pulled
    assert_no_grants srcp dstp; assert_no_grant_journal
}

@test "ssh --serve push: the worker runs the zkeep relay too; pull with --serve; refused outside the key's dataset" {
    # The serve key's forced command is `zkeep serve --stdio --allow-receive dstp/inbox
    # --allow-send srcp/out` (transport.bash): no shell, no zfs on that key.
    SERVEO=(--serve --sshport="$SSHD_PORT" --sshkey="$SSHD_DIR/serve"
        -o "UserKnownHostsFile=$SSHD_DIR/known_hosts" -o StrictHostKeyChecking=yes)
    zfs create dstp/inbox
    run "$ZKEEP" --verbose replicate "${SERVEO[@]}" srcp/data root@127.0.0.1:dstp/inbox/data
    assert_success
    assert_output_contains "replicated as confined worker uid 607"
    # the server quarantines what it receives: not mounted until its admin says
    zfs mount dstp/inbox/data
    assert_same_tree /srcp/data/.zfs/snapshot/s1 /dstp/inbox/data/.zfs/snapshot/s1
    zpool history -l srcp | grep ' zfs snapshot ' | grep -q 'user 607' ||
        fail "sync snapshot not made by a run uid: $(zpool history -l srcp | tail -3)"
    assert_no_grants srcp dstp; assert_no_grant_journal
    [ -z "$(ls -A "$ZKEEP_STATE_DIR/work")" ] || fail "ssh files left"

    # pull from the served srcp/out into a local dataset, confined on this side
    zfs create srcp/out
    fill /srcp/out 1
    zfs snapshot srcp/out@o1
    run "$SYNCOID" "${SERVEO[@]}" --no-sync-snap root@127.0.0.1:srcp/out dstp/pulled
    assert_success
    assert_same_tree /srcp/out/.zfs/snapshot/o1 /dstp/pulled/.zfs/snapshot/o1
    receives_by_root dstp/pulled
    assert_no_grants srcp dstp; assert_no_grant_journal

    # outside the key's dataset: the server refuses, nothing is created
    run "$ZKEEP" replicate "${SERVEO[@]}" srcp/data root@127.0.0.1:dstp/elsewhere
    assert_failure
    assert_no_dataset dstp/elsewhere
    assert_no_grants srcp dstp; assert_no_grant_journal
}

@test "ssh: a wrong known_hosts fails inside the worker (no host key prompt), nothing left" {
    echo "[127.0.0.1]:$SSHD_PORT $(cat "$SSHD_DIR/stranger.pub")" >"$BATS_TEST_TMPDIR/bad_known_hosts"
    run "$ZKEEP" replicate --sshport="$SSHD_PORT" --sshkey="$SSHD_DIR/id" \
        -o "UserKnownHostsFile=$BATS_TEST_TMPDIR/bad_known_hosts" -o StrictHostKeyChecking=yes \
        srcp/data root@127.0.0.1:dstp/x
    assert_failure
    assert_no_dataset dstp/x
    assert_no_grants srcp dstp; assert_no_grant_journal
    [ -z "$(ls -A "$ZKEEP_STATE_DIR/work")" ] || fail "ssh files left"
}

@test "zkeep confine --print for an ssh job: ssh in the closure, its port, its config" {
    run "$ZKEEP" confine --print --state-dir "$ZKEEP_STATE_DIR" --grant srcp/data=send,snapshot,hold \
        --program zfs --program ssh --port "$SSHD_PORT"
    assert_success
    assert_output_contains "/usr/bin/ssh"
    assert_output_contains "/etc/ssh/ssh_config"
    # The port rule is printed where the kernel enforces it (Landlock ABI 4+).
    if printf '%s\n' "$output" | grep -Eq "landlock: ABI ([4-9]|[1-9][0-9])"; then
        assert_output_contains "$SSHD_PORT"
    fi
}
