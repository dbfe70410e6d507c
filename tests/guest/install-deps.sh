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
    clang libclang-rt-14-dev) # the sanitizer and fuzz builds use clang
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

# Every installed guest kernel must have a zfs.ko; dkms builds for each kernel whose
# headers are present, so a missing one means the build failed.
kver=$(ls /lib/modules | grep -E '^[0-9].*-amd64$' | sort -V | tail -n1)
[ -n "$kver" ] || die "no Debian amd64 kernel found under /lib/modules"
if ! find "/lib/modules/$kver" -name 'zfs.ko*' | grep -q .; then
    echo "install-deps: zfs.ko missing for $kver, running dkms autoinstall"
    dkms autoinstall -k "$kver" || die "dkms could not build zfs for $kver"
fi
exit 0
