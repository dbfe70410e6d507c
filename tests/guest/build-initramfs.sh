#!/usr/bin/env bash
# Build (or reuse) the zkeep test guest's initramfs and print its path.
#
#   tests/guest/build-initramfs.sh KERNEL_VERSION
#
# The initramfs is tiny: a static busybox, tests/guest/init, and the modules stage 1
# needs to reach the host root (virtio PCI, 9p over virtio, overlayfs, the virtio
# console), with their dependencies taken from that kernel's modules.dep. Everything
# else (zfs.ko, loop, all binaries) comes from the host root once the guest is in it.
#
# Cached in $ZKEEP_GUEST_CACHE (default /var/cache/zkeep-guest), keyed by the kernel
# version and a hash of this script, init, busybox and modules.dep; a second call
# with the same inputs only prints the path.
set -euo pipefail

die() { echo "build-initramfs: $*" >&2; exit 1; }
[ $# -eq 1 ] || die "usage: $0 KERNEL_VERSION"
kver=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${ZKEEP_GUEST_CACHE:-/var/cache/zkeep-guest}
moddir=/lib/modules/$kver
busybox=/bin/busybox
hint="run tests/guest/install-deps.sh"

[ -f "$moddir/modules.dep" ] || die "no $moddir/modules.dep: kernel $kver is not installed ($hint)"
[ -x "$busybox" ] || die "no $busybox (package busybox-static; $hint)"
# The guest has no libc in the initramfs: a dynamically linked busybox cannot run.
if ldd "$busybox" >/dev/null 2>&1; then
    die "$busybox is not a static busybox (package busybox-static; $hint)"
fi

# What stage 1 loads, in this order; dependencies are added before each. virtio_pci
# first so the devices exist when their drivers register (all of these are modules in
# Debian's 6.1 kernel: CONFIG_VIRTIO*, NET_9P*, 9P_FS, OVERLAY_FS, VIRTIO_CONSOLE=m).
wanted=(virtio_pci virtio_console 9pnet_virtio 9p overlay)

key=$(cat "${BASH_SOURCE[0]}" "$here/init" "$busybox" "$moddir/modules.dep" | sha256sum | cut -c1-16)
image=$cache/initramfs-$kver-$key.img
if [ -s "$image" ]; then
    echo "$image"
    exit 0
fi

# modules.dep: "kernel/fs/9p/9p.ko: kernel/net/9p/9pnet.ko kernel/fs/netfs/netfs.ko ..."
declare -A dep_line=()
while IFS= read -r line; do
    path=${line%%:*}
    name=${path##*/}
    name=${name%%.ko*}
    dep_line[${name//-/_}]=$line
done <"$moddir/modules.dep"

order=()
declare -A seen=()
add_module() { # NAME: append NAME after its dependencies (depth first, each once)
    local name=${1//-/_} line path dep
    [ -n "${seen[$name]:-}" ] && return 0
    seen[$name]=1
    line=${dep_line[$name]:-}
    [ -n "$line" ] || die "module $name not found in $moddir/modules.dep (built into the kernel? then drop it from 'wanted')"
    path=${line%%:*}
    for dep in ${line#*:}; do
        dep=${dep##*/}
        add_module "${dep%%.ko*}"
    done
    order+=("$path")
}
for m in "${wanted[@]}"; do add_module "$m"; done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"/{bin,dev,proc,sys,lib/modules}
cp "$busybox" "$root/bin/busybox"
install -m 0755 "$here/init" "$root/init"

# Stored uncompressed whatever the kernel uses, so busybox insmod needs no xz/zstd support.
: >"$root/modules.order"
for path in "${order[@]}"; do
    base=${path##*/}
    plain=${base%%.ko*}.ko
    case $base in
        *.ko) cp "$moddir/$path" "$root/lib/modules/$plain" ;;
        *.ko.xz) xz -dc "$moddir/$path" >"$root/lib/modules/$plain" ;;
        *.ko.zst) zstd -qdc "$moddir/$path" >"$root/lib/modules/$plain" ;;
        *.ko.gz) gzip -dc "$moddir/$path" >"$root/lib/modules/$plain" ;;
        *) die "unknown module file type: $path" ;;
    esac
    echo "$plain" >>"$root/modules.order"
done

mkdir -p "$cache"
# The kernel's initramfs unpacker wants a newc cpio; gzip is always supported (RD_GZIP).
(cd "$root" && find . | LC_ALL=C sort | "$busybox" cpio -o -H newc 2>/dev/null) | gzip -6 >"$work/initramfs.img"
mv "$work/initramfs.img" "$image.tmp.$$"
mv "$image.tmp.$$" "$image"
# Older images for this kernel are stale now.
find "$cache" -maxdepth 1 -name "initramfs-$kver-*.img" ! -name "${image##*/}" -delete
echo "$image"
