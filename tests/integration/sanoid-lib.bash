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

# mksnaps DATASET < NAMES: create many snapshots of one dataset fast. `zfs snapshot`
# takes one snapshot per dataset per call, so this uses a ZFS channel program
# (zfs program), which takes them all in one transaction, 2000 per call.
mksnaps() {
    local ds=$1 lua=$BATS_TEST_TMPDIR/mksnaps.lua
    cat >"$lua" <<'LUA'
local argv = ...
argv = argv["argv"]
for i = 2, #argv do
  local err = zfs.sync.snapshot(argv[1] .. "@" .. argv[i])
  if err ~= 0 then error("snapshot " .. argv[i] .. ": error " .. err) end
end
return #argv - 1
LUA
    xargs -n 2000 zfs program -t 100000000 -m 100000000 "${ds%%/*}" "$lua" "$ds" >/dev/null
}
