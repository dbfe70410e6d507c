# Helpers for the 30-sanoid-*.bats tests (load after lib). Each test gets its own
# config, cache and run directories and a `sanoid` symlink to zkeep, so zkeep runs
# with its sanoid personality exactly as an installed drop-in would.
#
#   sanoid_setup             make $SD/{etc,cache,run}, $SANOID (the symlink)
#   write_conf <<EOF ... EOF sanoid.conf from stdin
#   zsanoid ARGS...          run it with those directories (ZKEEP_NOW/TZ from the env)
#   at "YYYY-MM-DD hh:mm:ss" print that local time (TZ) as seconds since the epoch
#   snaps DATASET            its snapshot names, sorted (one per line)

sanoid_setup() {
    SD=$BATS_TEST_TMPDIR/s
    mkdir -p "$SD/etc" "$SD/cache" "$SD/run"
    ln -sf "$ZKEEP" "$SD/sanoid"
    SANOID=$SD/sanoid
    export SD SANOID
}

write_conf() {
    cat >"$SD/etc/sanoid.conf"
}

zsanoid() {
    "$SANOID" --configdir="$SD/etc" --cache-dir="$SD/cache" --run-dir="$SD/run" "$@"
}

at() {
    date -d "$1" +%s
}

snaps() {
    zfs list -H -o name -t snapshot -d 1 "$1" | sed 's/.*@//' | LC_ALL=C sort
}

count_type() { # DATASET TYPE
    snaps "$1" | grep -c "^autosnap_.*_$2\$" || true
}

