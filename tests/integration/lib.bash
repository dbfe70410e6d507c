# Helpers for the integration tests. They run INSIDE the real-ZFS test guest, as root:
#
#   tests/guest/run.sh tests/guest/run-integration.sh [BATS ARGS...]
#
# In a .bats file:   load lib        (then e.g. `teardown() { destroy_pools; }`)
#
# ZKEEP is the absolute path of the zkeep binary, ${ZKEEP_BUILD:-build}/zkeep relative to
# the repo root (run.sh passes the host's ZKEEP_* variables into the guest). It may not
# exist: tests that run it call need_zkeep first.

ZKEEP_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
case ${ZKEEP_BUILD:-build} in
    /*) ZKEEP=${ZKEEP_BUILD}/zkeep ;;
    *) ZKEEP=$ZKEEP_ROOT/${ZKEEP_BUILD:-build}/zkeep ;;
esac
export ZKEEP_ROOT ZKEEP

# The reference tools the differential tests and benchmarks name: Debian 12's
# sanoid/syncoid 2.1 (installed) and 2.3.0 from Debian's newest suite (unpacked by
# tests/guest/install-deps.sh; its sanoid reads its own sanoid.defaults.conf).
REF21_SANOID=/usr/sbin/sanoid
REF21_SYNCOID=/usr/sbin/syncoid
REF230_SANOID=/var/cache/zkeep-refs/sanoid-2.3.0/usr/sbin/sanoid
REF230_SYNCOID=/var/cache/zkeep-refs/sanoid-2.3.0/usr/sbin/syncoid

# --- preconditions -------------------------------------------------------------------

need_root() {
    [ "$(id -u)" = 0 ] || skip "needs root"
}

# Outside the guest (no ZFS) the test is skipped; inside it a missing ZFS is a failure.
need_zfs() {
    if [ -z "${ZKEEP_GUEST:-}" ]; then
        [ -e /dev/zfs ] || skip "needs ZFS: run through tests/guest/run.sh"
    fi
    [ -c /dev/zfs ] || { fail "no /dev/zfs: the zfs module is not loaded"; return 1; }
    command -v zpool >/dev/null || fail "zpool not found"
}

need_zkeep() {
    [ -x "$ZKEEP" ] || skip "zkeep is not built ($ZKEEP); build it first (meson/ninja)"
}

# The major.minor of the ZFS tools in use ("2.3", or "2.1" in a guest booted with
# ZKEEP_ZFS=2.1), for the tests whose exact expectation depends on the version.
zfs_tools_version() {
    local v
    v=$(zfs version 2>/dev/null | head -n1) || return 1
    v=${v#zfs-}
    [[ $v =~ ^([0-9]+\.[0-9]+)\. ]] || { fail "cannot read the ZFS version from '$v'"; return 1; }
    echo "${BASH_REMATCH[1]}"
}

# --- assertions ----------------------------------------------------------------------
# Each prints what it expected and what it got, and returns 1 (which fails the test).
# Inside a helper, `fail` is followed by `return 1` unless it is the last command:
# errexit does not reach into command substitutions.

fail() { # LINE...
    printf '%s\n' "$@" >&2
    return 1
}

# After `run CMD`: the command succeeded / failed (optionally with status N).
assert_success() {
    [ "$status" -eq 0 ] || fail "expected success, got status $status; output:" "$output"
}
assert_failure() {
    if [ $# -gt 0 ]; then
        [ "$status" -eq "$1" ] || fail "expected status $1, got $status; output:" "$output"
    else
        [ "$status" -ne 0 ] || fail "expected failure, got status 0; output:" "$output"
    fi
}

assert_equal() { # ACTUAL EXPECTED [WHAT]
    [ "$1" = "$2" ] || fail "${3:-value} differs:" "  expected: '$2'" "  actual:   '$1'"
}

# After `run CMD`: $output contains STRING (fixed string, not a pattern).
assert_output_contains() {
    [[ $output == *"$1"* ]] || fail "output does not contain '$1'; output:" "$output"
}

assert_dataset_exists() { # NAME (filesystem, volume, snapshot or bookmark)
    zfs list -H -o name -t all "$1" >/dev/null 2>&1 || fail "dataset '$1' does not exist"
}

assert_no_dataset() { # NAME
    ! zfs list -H -o name -t all "$1" >/dev/null 2>&1 || fail "dataset '$1' exists"
}

assert_prop() { # DATASET PROPERTY EXPECTED (raw value, as `zfs get -p`)
    local got
    got=$(zfs get -H -p -o value "$2" "$1") || { fail "cannot get $2 of '$1'"; return 1; }
    assert_equal "$got" "$3" "property $2 of '$1'"
}

assert_same_file() { # FILE1 FILE2: same content (sha256)
    local a b
    a=$(file_sha256 "$1") && b=$(file_sha256 "$2") || return 1
    assert_equal "$b" "$a" "sha256 of '$2' (vs '$1')"
}

# Nothing delegated (`zfs allow` empty) on any dataset of the given trees: what a
# confined run must leave behind, whatever happened to it.
assert_no_grants() { # DATASET...
    local ds out
    for ds in $(zfs list -H -o name -r "$@"); do
        out=$(zfs allow "$ds")
        [ -z "$out" ] || { fail "grants left on $ds:" "$out"; return 1; }
    done
}

# ...and no grant journal entry left in $ZKEEP_STATE_DIR.
assert_no_grant_journal() {
    [ -z "$(ls "$ZKEEP_STATE_DIR"/grants/ 2>/dev/null)" ] ||
        fail "journal left: $(ls "$ZKEEP_STATE_DIR"/grants/)"
}

# --- small queries -------------------------------------------------------------------

file_sha256() { # FILE
    local sum
    sum=$(sha256sum <"$1") || { fail "cannot read '$1'"; return 1; }
    echo "${sum%% *}"
}

mountpoint_of() { # DATASET: where it is mounted (fails if it is not)
    local mp
    mp=$(zfs get -H -o value mountpoint "$1") || { fail "cannot get the mountpoint of '$1'"; return 1; }
    [ "$(zfs get -H -o value mounted "$1")" = yes ] || { fail "'$1' is not mounted"; return 1; }
    echo "$mp"
}

snapshots_of() { # DATASET: its snapshot names (the part after @), oldest first
    zfs list -H -o name -t snapshot -s createtxg -d 1 "$1" | sed 's/.*@//'
}

# --- file-backed pools -----------------------------------------------------------------
# make_pool NAME [SIZE] [ZPOOL-CREATE-OPTIONS...]
#   Creates pool NAME on a sparse file (default 256M; ZFS wants at least 64M) in the
#   test's temp dir, mounted at /NAME as usual, and records it for destroy_pools.
#   Extra options go to `zpool create` (e.g. -O encryption=on ... or -m none).
# destroy_pools
#   Destroys (or, failing that, force-exports) every pool recorded in this test (or in
#   setup_file, when called from teardown_file) and removes its file. Call it from
#   teardown: a pool left imported would break the next test that uses its name.

_zkeep_pool_dir() {
    local d=${BATS_TEST_TMPDIR:-${BATS_FILE_TMPDIR:-/var/tmp/zkeep-pools}}
    mkdir -p "$d/pools" && echo "$d/pools"
}

make_pool() {
    [ $# -ge 1 ] || { fail "usage: make_pool NAME [SIZE] [ZPOOL-CREATE-OPTIONS...]"; return 1; }
    local name=$1 size=256M dir file
    shift
    if [ $# -gt 0 ] && [[ $1 != -* ]]; then
        size=$1
        shift
    fi
    dir=$(_zkeep_pool_dir) || return 1
    # Refuse a name whose default mountpoint is a real host directory (e.g. "usr").
    if [ -d "/$name" ] && [ -n "$(ls -A "/$name" 2>/dev/null)" ]; then
        fail "make_pool: /$name exists and is not empty; pick another pool name"
        return 1
    fi
    file=$dir/$name.img
    truncate -s "$size" "$file" || { fail "make_pool: cannot make $file"; return 1; }
    echo "$name" >>"$dir/list"
    zpool create "$@" "$name" "$file" || fail "make_pool: zpool create $* $name $file failed"
}

destroy_pools() {
    local dir list name rc=0
    dir=$(_zkeep_pool_dir) || return 1
    list=$dir/list
    [ -f "$list" ] || return 0
    # Newest first: a later pool may sit on a file or zvol of an earlier one.
    while IFS= read -r name; do
        zpool list -H -o name "$name" >/dev/null 2>&1 || continue
        zpool destroy -f "$name" || zpool export -f "$name" \
            || { echo "destroy_pools: cannot destroy or export pool $name" >&2; rc=1; }
    done < <(tac "$list")
    rm -f "$list" "$dir"/*.img
    return "$rc"
}

# The OpenZFS receive-name hole (tests/poc/recv-name-bypass.sh), played by a hostile
# test as a worker's uid. recv_forge_setup POOL VICTIM: RECV_SHIM is the PoC's
# LD_PRELOAD shim, built under RECV_SHIM_DIR (a way a run uid may walk; the caller
# removes it); VICTIM is a copy of POOL/o@a, and $BATS_TEST_TMPDIR/incr an incremental
# stream that would apply to it.
recv_forge_setup() {
    RECV_SHIM_DIR=$(mktemp -d /tmp/recv-shim.XXXXXX)
    chmod 755 "$RECV_SHIM_DIR"
    RECV_SHIM=$RECV_SHIM_DIR/recv-name-shim.so
    cc -shared -fPIC -o "$RECV_SHIM" "$BATS_TEST_DIRNAME/../poc/recv-name-shim.c" -ldl
    zfs create "$1/o"
    zfs snapshot "$1/o@a"
    zfs send "$1/o@a" | zfs receive -u "$2"
    echo planted >"$(zfs get -H -o value mountpoint "$1/o")/planted"
    zfs snapshot "$1/o@b"
    zfs send -i @a "$1/o@b" >"$BATS_TEST_TMPDIR/incr"
    chmod 644 "$BATS_TEST_TMPDIR/incr"
}

# recv_forge NAME VICTIM UID: as UID, receive that stream into VICTIM through an ioctl
# that names NAME; RECV_FORGED is "rc=N: what it printed". Fails unless the shim
# rewrote the ioctl and the receive was refused.
recv_forge() {
    RECV_FORGED=$(SHIM_NAME=$1 LD_PRELOAD=$RECV_SHIM setpriv --reuid "$3" --regid "$3" \
        --clear-groups zfs receive -u "$2" <"$BATS_TEST_TMPDIR/incr" 2>&1) &&
        RECV_FORGED="rc=0: $RECV_FORGED" || RECV_FORGED="rc=$?: $RECV_FORGED"
    echo "forged receive as uid $3: $RECV_FORGED"
    [[ $RECV_FORGED == *"shim: zc_name '"*"' -> '$1'"* ]] ||
        { fail "the shim did not forge the ioctl"; return 1; }
    [[ $RECV_FORGED != rc=0:* ]] || { fail "uid $3's own ioctl received into $2"; return 1; }
}
