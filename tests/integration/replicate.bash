# Helpers for the 40-replicate-*.bats tests (load after lib).
#
# SYNCOID is zkeep run under the name `syncoid` (a symlink in the test's temp dir, so
# the Perl syncoid in /usr/sbin is never the one tested).

setup_replicate() {
    need_root
    need_zfs
    need_zkeep
    mkdir -p "$BATS_TEST_TMPDIR/bin"
    ln -sf "$ZKEEP" "$BATS_TEST_TMPDIR/bin/syncoid"
    SYNCOID=$BATS_TEST_TMPDIR/bin/syncoid
    HOST=$(hostname)
    export SYNCOID HOST
}

# The sync snapshots of a dataset (short names), oldest first.
sync_snaps_of() { # DATASET
    snapshots_of "$1" | grep -E "^syncoid_" || true
}

# Whether a short name is a sync snapshot of this host in syncoid 2.3's format.
is_sync_name() { # NAME [ID]
    local p="syncoid_${2:+$2_}$HOST"
    [[ $1 =~ ^${p}_[0-9]{4}-[0-9]{2}-[0-9]{2}_[0-9]{2}:[0-9]{2}:[0-9]{2}-GMT-?[0-9]{2}:[0-9]{2}$ ]]
}

# Non-sync snapshots of a dataset, oldest first, space separated.
plain_snaps_of() { # DATASET
    snapshots_of "$1" | grep -vE "^syncoid_" | tr '\n' ' ' | sed 's/ $//'
}

# sha256 of every file under a snapshot's directory, by relative path.
tree_sum() { # DIR
    (cd "$1" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
}

assert_same_tree() { # DIR1 DIR2
    local a b
    a=$(tree_sum "$1") && b=$(tree_sum "$2") || { fail "cannot read $1 or $2"; return 1; }
    [ -n "$a" ] || { fail "no files under $1"; return 1; }
    assert_equal "$b" "$a" "files under $2 (vs $1)"
}

# Fill a directory with N MiB of incompressible data in a few files.
fill() { # DIR MIB [TAG]
    local i
    for ((i = 0; i < $2; i++)); do
        head -c 1048576 /dev/urandom >"$1/${3:-f}$i.bin"
    done
}

# Everything about both pools that a run could change.
pool_state() { # POOL...
    zfs list -Hp -t all -r -o name,guid,createtxg,userrefs,receive_resume_token "$@" 2>/dev/null
    local s
    for s in $(zfs list -H -t snapshot -o name -r "$@" 2>/dev/null | tr ' ' '?'); do
        zfs holds -H "${s//\?/ }" 2>/dev/null
    done
}

# Every hold on every snapshot of a dataset: "snapshot<TAB>tag<TAB>time" lines.
all_holds() { # DATASET
    zfs list -H -t snapshot -o name -d 1 "$1" | while IFS= read -r s; do zfs holds -H "$s"; done
}

# Wait until a running `zfs receive` has read at least BYTES of its stream (rchar of
# /proc/PID/io), 120 s at most: an observable state to interrupt a transfer at, instead
# of a sleep that a loaded TCG host can make too short or too long. Fails with the
# processes when no receive gets there.
wait_received() { # BYTES
    local i pid r
    for ((i = 0; i < 600; i++)); do
        for pid in $(pgrep -f '^zfs receive'); do
            # the receive may end between pgrep and here: a failed read is no error
            r=$(awk '$1 == "rchar:" {print $2}' "/proc/$pid/io" 2>/dev/null || true)
            [ -n "$r" ] && [ "$r" -ge "$1" ] && return 0
        done
        sleep 0.2
    done
    fail "no zfs receive read $1 bytes in 120 s; processes:" \
        "$(ps -eo pid,etimes,args | grep -E 'zfs|zkeep|syncoid|ssh' | grep -v grep)"
}

# Wait until the run whose output goes to FILE has pushed at least 1 MiB of its stream,
# as its own progress lines say ("1.02 MiB of 4.02 MiB (25%), ..."; the run needs
# ZKEEP_PROGRESS_INTERVAL=1, and syncoid --debug), 120 s at most. What zkeep has sent
# at a bandwidth limit is in the receiver a moment later: the state to interrupt at.
wait_sent() { # FILE
    local i
    for ((i = 0; i < 600; i++)); do
        grep -qE '(info|notice|DEBUG): [1-9][0-9]*\.[0-9]+ MiB( of|,) ' "$1" 2>/dev/null && return 0
        sleep 0.2
    done
    fail "the run did not report 1 MiB sent in 120 s; its output:" "$(cat "$1")" "processes:" \
        "$(ps -eo pid,etimes,args | grep -E 'zfs|zkeep|syncoid|ssh' | grep -v grep)"
}

# Run CMD with its output (2>&1) in OUT.log; OUT gets "rc RC most N": its exit status and
# the most `zfs receive` processes seen at once while it ran (sampled every 0.2 s, one
# pgrep each: the sampling must not slow the run much under emulation).
max_receives_during() { # OUT CMD...
    local out=$1 most=0 n
    shift
    "$@" >"$out.log" 2>&1 &
    local pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        n=$(pgrep -c -f "^zfs receive" || true)
        [ "$n" -gt "$most" ] && most=$n
        sleep 0.2
    done
    wait "$pid" && echo "rc 0 most $most" >"$out" || echo "rc $? most $most" >"$out"
}
