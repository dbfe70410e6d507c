#!/usr/bin/env bash
# Install everything zkeep needs to build and to run its real-ZFS test guest on a
# fresh Debian 12 machine. Idempotent: a second run only checks and returns.
#
#   tests/guest/install-deps.sh [--build-only]
#
# --build-only installs just the compiler toolchain and libraries (no kernel, no
# ZFS, no QEMU): enough for `meson test` of the pure modules.
set -euo pipefail

build_only=0
[ "${1:-}" = "--build-only" ] && build_only=1

die() { echo "install-deps: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root (it calls apt-get)"
command -v apt-get >/dev/null || die "this script supports Debian (apt-get) only"

export DEBIAN_FRONTEND=noninteractive
stamp_dir=/var/lib/zkeep-ci
mkdir -p "$stamp_dir"

build_pkgs=(meson ninja-build gcc pkg-config git
    libcmocka-dev libjansson-dev libinih-dev libzstd-dev liblz4-dev zlib1g-dev
    libseccomp-dev libcap-dev bats
    clang libclang-rt-14-dev # the sanitizer and fuzz builds use clang
    groff-base man-db)       # the man page test renders them
# Guest side: Debian's kernel and its headers (zfs-dkms builds against them),
# QEMU, a static busybox for the initramfs, and what the tests run inside.
guest_pkgs=(linux-image-amd64 linux-headers-amd64 qemu-system-x86 busybox-static
    kmod openssh-client openssh-server systemd procps
    dmsetup) # the drive tests unplug a device-mapper disk in the middle of a backup
zfs_pkgs=(zfs-dkms zfsutils-linux)
# Reference tools compared against in bench/ and the differential tests.
ref_pkgs=(sanoid mbuffer pv lzop)

missing() {
    local p out=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || out+=("$p")
    done
    echo "${out[@]:-}"
}

apt_updated=0
apt_update() {
    [ "$apt_updated" = 1 ] && return 0
    apt-get update -qq || die "apt-get update failed"
    apt_updated=1
}

# ZFS lives in contrib, and ZFS 2.3 in bookworm-backports.
enable_contrib_and_backports() {
    local src=/etc/apt/sources.list.d/debian.sources changed=0
    if [ -f "$src" ] && ! grep -q '^Components:.*contrib' "$src"; then
        sed -i 's/^Components: main$/Components: main contrib/' "$src"
        changed=1
    fi
    if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
        cat > /etc/apt/sources.list.d/zkeep-backports.sources <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
        changed=1
    fi
    [ "$changed" = 1 ] && apt_updated=0
    return 0
}

need=$(missing "${build_pkgs[@]}")
if [ -n "$need" ]; then
    apt_update
    echo "install-deps: installing build packages: $need"
    apt-get install -y -qq --no-install-recommends $need >/dev/null || die "installing $need failed"
fi
[ "$build_only" = 1 ] && exit 0

enable_contrib_and_backports
need=$(missing "${guest_pkgs[@]}")
if [ -n "$need" ]; then
    apt_update
    echo "install-deps: installing guest kernel and QEMU: $need"
    # Kernel from bookworm proper (6.1): not from backports, which has newer ones.
    apt-get install -y -qq --no-install-recommends $need >/dev/null || die "installing $need failed"
fi

need=$(missing "${zfs_pkgs[@]}")
if [ -n "$need" ]; then
    apt_update
    echo "install-deps: installing ZFS 2.3 from bookworm-backports (dkms build takes minutes)"
    # The host kernel has no ZFS: zfsutils' services fail to start there, harmless.
    apt-get install -y -qq --no-install-recommends -t bookworm-backports $need >/dev/null 2>&1 \
        || apt-get install -y -qq --no-install-recommends -t bookworm-backports $need \
        || die "installing ZFS failed"
fi

need=$(missing "${ref_pkgs[@]}")
if [ -n "$need" ]; then
    apt_update
    echo "install-deps: installing reference tools: $need"
    apt-get install -y -qq --no-install-recommends $need >/dev/null || die "installing $need failed"
fi

# sanoid/syncoid 2.3.0, the version zkeep claims to replace: Debian 12 ships 2.1 (above),
# Debian's newest suites 2.3.0 as an arch-all Perl package. It is unpacked, not installed,
# into $ref_dir/sanoid-2.3.0 (usr/sbin/sanoid, syncoid, findoid), beside 2.1; its Perl
# modules are 2.1's dependencies. apt fetches and verifies it with a sources list, lists
# and archive of its own, so the machine's apt setup is left as it was.
ref_dir=/var/cache/zkeep-refs
fetch_sanoid_230() {
    local dest=$ref_dir/sanoid-2.3.0 work suite deb
    [ -x "$dest/usr/sbin/syncoid" ] && return 0
    work=$(mktemp -d) || return 1
    mkdir -p "$work/lists/partial" "$work/archives/partial" "$work/etc"
    for suite in forky sid; do
        echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main" \
            >"$work/etc/sources.list"
        local apt_opts=(-o "Dir::Etc::SourceList=$work/etc/sources.list" -o Dir::Etc::SourceParts=/dev/null
            -o "Dir::State::Lists=$work/lists" -o "Dir::Cache::Archives=$work/archives"
            -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= -o APT::Get::List-Cleanup=0)
        apt-get "${apt_opts[@]}" update -qq >/dev/null 2>&1 || continue
        apt-cache "${apt_opts[@]}" show sanoid 2>/dev/null | grep -q '^Version: 2\.3\.0-' || continue
        (cd "$work/archives" && apt-get "${apt_opts[@]}" download -qq "sanoid/$suite" >/dev/null 2>&1) || continue
        deb=$(ls "$work"/archives/sanoid_2.3.0-*_all.deb 2>/dev/null | head -n1)
        [ -n "$deb" ] || continue
        mkdir -p "$dest.new" && dpkg-deb -x "$deb" "$dest.new" || break
        # sanoid names its defaults file by absolute path: point it at its own copy,
        # not at 2.1's in /usr/share/sanoid. Nothing else in it is changed.
        sed -i "s|\"/usr/share/sanoid/sanoid.defaults.conf\"|\"$dest/usr/share/sanoid/sanoid.defaults.conf\"|" \
            "$dest.new/usr/sbin/sanoid" || break
        grep -q "\"$dest/usr/share/sanoid/sanoid.defaults.conf\"" "$dest.new/usr/sbin/sanoid" || break
        mv "$dest.new" "$dest" || break
        echo "install-deps: sanoid/syncoid 2.3.0 from $suite unpacked into $dest"
        rm -rf "$work"
        return 0
    done
    rm -rf "$work" "$dest.new"
    return 1
}
mkdir -p "$ref_dir"
fetch_sanoid_230 || die "could not fetch sanoid 2.3.0 from Debian's newest suites (forky, sid)"

# OpenZFS 2.1.11, Debian 12's own version, for the version tier (ZKEEP_ZFS=2.1 run.sh):
# the kernel modules built from zfs-dkms 2.1.11's source for the guest kernel and the
# userland (zfsutils-linux and its four libraries) unpacked, all under $zfs21_dir. Nothing
# is installed: the machine keeps its own ZFS (2.3 from backports), and stage2.sh puts
# 2.1.11 in place of it only inside the guest's throw-away overlay. Complete when
# modules/KVER/load-order and root/sbin/zfs exist (written last); else it starts over.
zfs21_ver=2.1.11-1+deb12u1
zfs21_dir=/var/cache/zkeep-zfs/2.1.11
prepare_zfs21() {
    local kver=$1 mods=$zfs21_dir/modules/$1 work src t0 p
    local pkgs=(zfs-dkms zfsutils-linux libzfs4linux libnvpair3linux libuutil3linux libzpool5linux)
    if [ -s "$mods/load-order" ] && [ -x "$zfs21_dir/root/sbin/zfs" ]; then
        return 0
    fi
    [ -d "/usr/src/linux-headers-$kver" ] || { echo "install-deps: no /usr/src/linux-headers-$kver" >&2; return 1; }
    work=$(mktemp -d) || return 1
    # Pinned versions from bookworm's contrib (the sources enabled above); downloaded only.
    if ! (cd "$work" && apt-get download -qq "${pkgs[@]/%/=$zfs21_ver}" >"$work/download.log" 2>&1); then
        grep -v 'unsandboxed' "$work/download.log" >&2
        echo "install-deps: apt-get download of ZFS $zfs21_ver failed (bookworm contrib enabled?)" >&2
        rm -rf "$work"
        return 1
    fi
    if ! [ -x "$zfs21_dir/root/sbin/zfs" ]; then
        rm -rf "$zfs21_dir/root.new"
        mkdir -p "$zfs21_dir/root.new"
        for p in "${pkgs[@]:1}"; do
            dpkg-deb -x "$work/${p}_${zfs21_ver}_amd64.deb" "$zfs21_dir/root.new" \
                || { echo "install-deps: unpacking $p failed" >&2; rm -rf "$work"; return 1; }
        done
        rm -rf "$zfs21_dir/root.new/usr/share/doc" "$zfs21_dir/root.new/usr/share/man"
        rm -rf "$zfs21_dir/root" && mv "$zfs21_dir/root.new" "$zfs21_dir/root" || return 1
    fi
    # The module: the dkms source configured as dkms.conf does (kernel only, against the
    # headers of this kernel and their -common part), built, and only the .ko files kept.
    dpkg-deb -x "$work/zfs-dkms_${zfs21_ver}_all.deb" "$work/dkms" || { rm -rf "$work"; return 1; }
    src=$work/dkms/usr/src/zfs-2.1.11
    echo "install-deps: building ZFS 2.1.11 modules for $kver (takes minutes)"
    t0=$(date +%s)
    if ! (cd "$src" && ./configure --with-config=kernel \
        --with-linux="/usr/src/linux-headers-${kver%-amd64}-common" \
        --with-linux-obj="/usr/src/linux-headers-$kver" >"$work/build.log" 2>&1 &&
        make -j"$(nproc)" >>"$work/build.log" 2>&1); then
        tail -n 30 "$work/build.log" >&2
        echo "install-deps: building the ZFS 2.1.11 modules failed (log above)" >&2
        rm -rf "$work"
        return 1
    fi
    rm -rf "$mods.new"
    mkdir -p "$mods.new"
    find "$src/module" -name '*.ko' -exec cp {} "$mods.new/" \; || { rm -rf "$work"; return 1; }
    # Without their debug info: 86 MB become a few, which the guest reads over 9p.
    strip --strip-debug "$mods.new"/*.ko || { rm -rf "$work"; return 1; }
    # insmod order: each module after the ones it depends on (modinfo's depends;
    # those of the kernel itself are loaded already), sorted by tsort.
    local order m dep
    if ! order=$(for m in $(cd "$mods.new" && ls -- *.ko | sed 's/\.ko$//'); do
        echo "$m $m"
        for dep in $(modinfo -F depends "$mods.new/$m.ko" | tr ',' ' '); do
            if [ -f "$mods.new/$dep.ko" ]; then echo "$dep $m"; fi
        done
    done | tsort); then
        echo "install-deps: ZFS 2.1.11 modules: no load order (circular dependencies?)" >&2
        rm -rf "$work"
        return 1
    fi
    grep -qx zfs <<<"$order" && grep -qx spl <<<"$order" || { echo "install-deps: ZFS 2.1.11 build made no zfs.ko or spl.ko" >&2; rm -rf "$work"; return 1; }
    sed 's/$/.ko/' <<<"$order" >"$mods.new/load-order"
    rm -rf "$mods" && mv "$mods.new" "$mods" || return 1
    echo "install-deps: ZFS 2.1.11 modules for $kver built in $(($(date +%s) - t0)) s, in $mods"
    rm -rf "$work"
}

# Every installed guest kernel must have a zfs.ko; dkms builds for each kernel whose
# headers are present, so a missing one means the build failed.
kver=$(ls /lib/modules | grep -E '^[0-9].*-amd64$' | sort -V | tail -n1)
[ -n "$kver" ] || die "no Debian amd64 kernel found under /lib/modules"
if ! find "/lib/modules/$kver" -name 'zfs.ko*' | grep -q .; then
    echo "install-deps: zfs.ko missing for $kver, running dkms autoinstall"
    dkms autoinstall -k "$kver" || die "dkms could not build zfs for $kver"
fi
prepare_zfs21 "$kver" || die "could not prepare ZFS 2.1.11 in $zfs21_dir"
exit 0
