# Helpers for the transport tests: a private sshd on 127.0.0.1 with keys made here.
#
#   start_sshd      (in setup_file) generates a host key and two user keys and starts
#                   /usr/sbin/sshd -D on a free high port; exports SSHD_PORT, SSHD_DIR,
#                   SSH_OPTS (for test-transport) and LOGGED_CMDS (every command the
#                   shell key ran, one per line, as sshd got it).
#     key "id":     a shell key; its forced command logs SSH_ORIGINAL_COMMAND to
#                   $LOGGED_CMDS and runs it with sh -c, as a login shell would.
#                   With SSHD_PLAIN_SHELL_KEY=1 it has no forced command (sshd runs
#                   the command with root's shell, as on a plain remote host, and
#                   nothing is logged): the benchmark counts every program started.
#     key "serve":  forced command `zkeep serve --stdio $SERVE_ALLOW` (ZKEEP serve),
#                   SERVE_ALLOW defaulting to "--allow-receive dstp/inbox --allow-send srcp/out".
#   stop_sshd       (in teardown_file)
#
# Loading this file defines setup_file/teardown_file (root check, start_sshd / stop_sshd)
# for every test file that uses the private sshd; transport_setup is the common start of
# setup() for the transport tests (the two pools srcp and dstp, the option arrays).
#
# TT is the test-transport tool of the build (tests/tools/test-transport.c).

case ${ZKEEP_BUILD:-build} in
    /*) TT=${ZKEEP_BUILD}/tests/test-transport ;;
    *) TT=$ZKEEP_ROOT/${ZKEEP_BUILD:-build}/tests/test-transport ;;
esac
export TT

need_tt() {
    [ -x "$TT" ] || skip "test-transport is not built ($TT)"
}

start_sshd() {
    SSHD_DIR=$(mktemp -d /tmp/zkeep-sshd.XXXXXX)
    chmod 700 "$SSHD_DIR"
    ssh-keygen -q -t ed25519 -N '' -f "$SSHD_DIR/host_key" -C zkeep-test-host
    ssh-keygen -q -t ed25519 -N '' -f "$SSHD_DIR/id" -C zkeep-test-shell
    ssh-keygen -q -t ed25519 -N '' -f "$SSHD_DIR/serve" -C zkeep-test-serve
    ssh-keygen -q -t ed25519 -N '' -f "$SSHD_DIR/stranger" -C zkeep-test-unknown
    LOGGED_CMDS=$SSHD_DIR/commands.log
    : >"$LOGGED_CMDS"
    cat >"$SSHD_DIR/logcmd" <<EOS
#!/bin/sh
printf '%s\n' "\$SSH_ORIGINAL_COMMAND" >>"$LOGGED_CMDS"
exec /bin/sh -c "\$SSH_ORIGINAL_COMMAND"
EOS
    chmod 755 "$SSHD_DIR/logcmd"
    {
        if [ "${SSHD_PLAIN_SHELL_KEY:-0}" = 1 ]; then
            cat "$SSHD_DIR/id.pub"
        else
            echo "command=\"$SSHD_DIR/logcmd\",restrict $(cat "$SSHD_DIR/id.pub")"
        fi
        echo "command=\"$ZKEEP serve --stdio ${SERVE_ALLOW:---allow-receive dstp/inbox --allow-send srcp/out}\",restrict $(cat "$SSHD_DIR/serve.pub")"
    } >"$SSHD_DIR/authorized_keys"
    SSHD_PORT=$((20000 + RANDOM % 20000))
    # KexAlgorithms: OpenSSH 9's default key exchange (sntrup761, post-quantum) costs
    # 1.5 s of CPU per connection under TCG; the tests open hundreds. The server offering
    # only curve25519 changes what is negotiated, nothing zkeep does or sends.
    cat >"$SSHD_DIR/sshd_config" <<EOS
Port $SSHD_PORT
ListenAddress 127.0.0.1
HostKey $SSHD_DIR/host_key
PidFile $SSHD_DIR/sshd.pid
AuthorizedKeysFile $SSHD_DIR/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
MaxSessions 50
MaxStartups 50
LogLevel VERBOSE
KexAlgorithms curve25519-sha256,curve25519-sha256@libssh.org
EOS
    # two names for the one server, for jobs whose two ends are different hosts
    {
        echo "[127.0.0.1]:$SSHD_PORT $(cat "$SSHD_DIR/host_key.pub")"
        echo "[localhost]:$SSHD_PORT $(cat "$SSHD_DIR/host_key.pub")"
    } >"$SSHD_DIR/known_hosts"
    mkdir -p /run/sshd
    /usr/sbin/sshd -f "$SSHD_DIR/sshd_config" -D -E "$SSHD_DIR/sshd.log" &
    SSHD_PID=$!
    local i
    for i in $(seq 100); do
        ssh -o BatchMode=yes -o UserKnownHostsFile="$SSHD_DIR/known_hosts" \
            -o StrictHostKeyChecking=yes -i "$SSHD_DIR/id" -p "$SSHD_PORT" root@127.0.0.1 true \
            2>/dev/null && break
        sleep 0.2
    done
    : >"$LOGGED_CMDS"
    export SSHD_DIR SSHD_PORT SSHD_PID LOGGED_CMDS
}

# In setup(): the option arrays (bats does not carry arrays from setup_file).
transport_env() {
    SSH_OPTS=(--sshport "$SSHD_PORT" --sshkey "$SSHD_DIR/id"
        --sshoption "UserKnownHostsFile=$SSHD_DIR/known_hosts" --sshoption StrictHostKeyChecking=yes)
    SERVE_OPTS=(--sshport "$SSHD_PORT" --sshkey "$SSHD_DIR/serve"
        --sshoption "UserKnownHostsFile=$SSHD_DIR/known_hosts" --sshoption StrictHostKeyChecking=yes
        --serve --zkeep "$ZKEEP")
}

setup_file() {
    [ "$(id -u)" = 0 ] || skip "needs root"
    start_sshd
}

teardown_file() {
    stop_sshd
}

# In setup() of the 45-transport-* tests: needs, option arrays, pools srcp and dstp.
transport_setup() {
    need_root
    need_zfs
    need_zkeep
    need_tt
    transport_env
    make_pool srcp
    make_pool dstp
}

stop_sshd() {
    [ -n "${SSHD_PID:-}" ] && kill "$SSHD_PID" 2>/dev/null
    wait "$SSHD_PID" 2>/dev/null || true
    rm -rf "$SSHD_DIR"
}

# sha256 of every file under DIR, by relative path (content identity of two trees).
tree_sums() { # DIR
    (cd "$1" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
}

assert_same_files() { # DIR1 DIR2
    local a b
    a=$(tree_sums "$1") && b=$(tree_sums "$2") || { fail "cannot read $1 or $2"; return 1; }
    [ -n "$a" ] || { fail "no files under $1"; return 1; }
    assert_equal "$b" "$a" "files under $2 (vs $1)"
}

# Compressible and incompressible files: MIB MiB of each kind.
fill_mixed() { # DIR MIB
    local i
    for ((i = 0; i < $2; i++)); do
        head -c 1048576 /dev/urandom >"$1/random$i.bin"
        seq $((i * 100000)) $((i * 100000 + 150000)) >"$1/text$i.txt"
    done
}

# Number of connections sshd accepted so far.
accepted_count() {
    grep -c "Accepted publickey" "$SSHD_DIR/sshd.log" || true
}
