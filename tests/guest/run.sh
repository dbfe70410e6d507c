#!/usr/bin/env bash
# Run a script as root inside a throw-away QEMU guest that has the real OpenZFS module.
#
#   tests/guest/run.sh [--timeout SECONDS] [--mem MB] [--cpus N] [--keep-log FILE]
#                      [--out DIR] [--systemd] [--hotplug-disk MB] SCRIPT [ARGS...]
#
# The guest boots Debian's own kernel (the newest /boot/vmlinuz-*-amd64) under TCG
# (nested KVM hangs on these machines), sees the host's / read-only through 9p with a
# tmpfs overlay on top, loads zfs.ko (the host's dkms build for that kernel) and runs
# SCRIPT with ARGS in the directory run.sh was started from (the same path in the
# guest). Everything the guest writes vanishes with it, except:
#   - SCRIPT's stdout and stderr, which appear live on run.sh's stdout, after one line
#     "# guest: kernel ..., zfs ..., zfsutils ...";
#   - its exit status, which becomes run.sh's;
#   - files written under $ZKEEP_GUEST_OUT in the guest, which land in --out DIR
#     (default: a temp dir that is removed).
# The guest gets a clean root environment (PATH, HOME=/root, no TZ) plus the host's
# ZKEEP_* variables (e.g. ZKEEP_BUILD), ZKEEP_GUEST=1 and ZKEEP_GUEST_OUT.
# ZKEEP_ZFS=2.1 runs OpenZFS 2.1.11 (module and userland) instead of the host's; see
# below and tests/guest/README.md.
# --keep-log FILE keeps the guest's console log (kernel messages, stage 1 errors).
# --timeout (default 1800 s) is a watchdog: a hung guest is killed and run.sh fails.
# --cpus (default 1) is the guest's vCPU count. One is faster: the tests run one
# command after another, and with two vCPUs per guest, two guests on a two-core host
# ran the same file 3x slower than with one (53-confine-sanoid: 250 s against 80 s):
# multi-threaded TCG stops every vCPU for each cross-CPU TLB flush, and a vCPU whose
# host thread is not running holds the others up.
# --systemd boots systemd (the host's, 252) as PID 1 once the guest is set up, into a
# minimal target of stage 2's own (sysinit and sockets: journald, udevd, tmpfiles; the
# host's fstab, gettys, network and time sync masked), and SCRIPT runs as the oneshot
# service zkeep-guest-job.service, with the same output, status and power-off.
# --hotplug-disk MB gives the guest a disk it can plug and unplug (the drive tests'
# removable drive): a sparse image of MB megabytes in run.sh's temp dir, attached to no
# device at boot. The guest asks for it by writing a line to the virtio-serial port
# zkeep.hotplug and reads the answer ("ok ..." or "error ...") from it:
#   add virtio-blk-pci | add scsi-hd   QMP device_add (id hotdisk, serial zkeep-hotplug;
#                                      scsi-hd on the virtio-scsi controller hotscsi)
#   del                                QMP device_del, answered once QEMU removed it
# tests/integration/hotplug.bash has the guest's side.
#
# Exit status: SCRIPT's; 124 if the watchdog fired; 125 if the guest died, could not
# be set up before reporting a status, or was stopped because it is stuck (ZFS hung,
# out of memory or tmpfs space: seen on its console); 2 for usage errors.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
hint="run tests/guest/install-deps.sh (as root) first"
die() { echo "run.sh: $*" >&2; exit 125; }
usage() { sed -n '4,5p' "${BASH_SOURCE[0]}" | sed 's/^# //' >&2; exit 2; }

timeout=1800
mem=2048
cpus=1
keep_log=
out_dir=
systemd=0
hotplug_mb=
while [ $# -gt 0 ]; do
    case $1 in
        --timeout) [ $# -ge 2 ] || usage; timeout=$2; shift 2 ;;
        --mem) [ $# -ge 2 ] || usage; mem=$2; shift 2 ;;
        --cpus) [ $# -ge 2 ] || usage; cpus=$2; shift 2 ;;
        --keep-log) [ $# -ge 2 ] || usage; keep_log=$2; shift 2 ;;
        --out) [ $# -ge 2 ] || usage; out_dir=$2; shift 2 ;;
        --systemd) systemd=1; shift ;;
        --hotplug-disk) [ $# -ge 2 ] || usage; hotplug_mb=$2; shift 2 ;;
        -h | --help) usage ;;
        --) shift; break ;;
        -*) echo "run.sh: unknown option $1" >&2; usage ;;
        *) break ;;
    esac
done
[ $# -ge 1 ] || usage
[[ $timeout =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --timeout wants whole seconds" >&2; exit 2; }
[[ $mem =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --mem wants megabytes" >&2; exit 2; }
[[ $cpus =~ ^[1-9][0-9]?$ ]] || { echo "run.sh: --cpus wants a count of vCPUs" >&2; exit 2; }
[[ -z $hotplug_mb || $hotplug_mb =~ ^[1-9][0-9]{0,5}$ ]] || { echo "run.sh: --hotplug-disk wants megabytes" >&2; exit 2; }

script=$1
shift
# SCRIPT runs in the guest from the same cwd, so check it here where errors are cheap.
if [[ $script == */* ]]; then
    [ -f "$script" ] && [ -x "$script" ] || die "$script is not an executable file"
    script_real=$(realpath "$script")
else
    script_real=$(command -v "$script") || die "$script: command not found"
fi

# --- what the guest needs from the host --------------------------------------------
[ "$(id -u)" = 0 ] || die "must run as root (qemu exports / with the host's permissions)"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found: $hint"
kernel=$(find /boot -maxdepth 1 -name 'vmlinuz-*-amd64' | sort -V | tail -n1)
[ -n "$kernel" ] || die "no Debian kernel /boot/vmlinuz-*-amd64: $hint"
kver=${kernel#/boot/vmlinuz-}
[ -d "/lib/modules/$kver" ] || die "no /lib/modules/$kver for $kernel: $hint"
modinfo -k "$kver" -F filename zfs >/dev/null 2>&1 \
    || die "no zfs.ko for kernel $kver (zfs-dkms not built for it?): $hint"
[ "$systemd" = 0 ] || [ -x /lib/systemd/systemd ] || die "--systemd: no /lib/systemd/systemd on the host"
command -v zfs >/dev/null && command -v zpool >/dev/null || die "zfs/zpool not found (zfsutils-linux): $hint"
# ZKEEP_ZFS picks the OpenZFS the guest runs: unset, "" or "host" is the host's own
# (its dkms zfs.ko and /usr/sbin/zfs); "2.1" is Debian 12's 2.1.11, prepared by
# install-deps.sh in /var/cache/zkeep-zfs/2.1.11 (modules for this kernel, userland),
# which stage2.sh loads and puts over the host's userland in the guest's overlay.
zfs_alt=
case ${ZKEEP_ZFS:-host} in
    host) ;;
    2.1)
        zfs_alt=/var/cache/zkeep-zfs/2.1.11
        [ -s "$zfs_alt/modules/$kver/load-order" ] && [ -x "$zfs_alt/root/sbin/zfs" ] \
            || die "ZKEEP_ZFS=2.1: ZFS 2.1.11 is not prepared in $zfs_alt for kernel $kver: $hint" ;;
    *)
        echo "run.sh: ZKEEP_ZFS='$ZKEEP_ZFS' is not a ZFS version the guest has: use 2.1 or host (unset)" >&2
        exit 2 ;;
esac
initrd=$("$here/build-initramfs.sh" "$kver") || die "could not build the initramfs"

# --- exchange share: job description in, exit status out --------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/zkeep-guest.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/xchg"
cp "$here/stage2.sh" "$tmp/xchg/stage2.sh"
if [ -n "$out_dir" ]; then
    mkdir -p "$out_dir"
    out_dir=$(realpath "$out_dir")
else
    out_dir=$tmp/out
    mkdir "$out_dir"
fi

# The guest mounts its own /proc, /sys, /dev and /run over the host's, and a fresh
# tmpfs on /tmp: the parts of /tmp holding the cwd, the script or an existing path
# given as an argument are kept visible (top-level entries of /tmp, bind-mounted).
cwd=$PWD
fresh_tmp=1
keep_tmp=()
paths=("$(pwd -P)" "$script_real")
for a in "$@"; do
    [[ $a == /tmp/* && -e $a ]] && paths+=("$(realpath "$a")")
done
for p in "${paths[@]}"; do
    case $p in
        /proc | /proc/* | /sys | /sys/* | /dev | /dev/* | /run | /run/*)
            [ "$p" = "${paths[0]}" ] || [ "$p" = "$script_real" ] || continue
            die "$p is hidden in the guest (it has its own /proc, /sys, /dev, /run): run from elsewhere" ;;
        /tmp) fresh_tmp=0 ;;
        /tmp/*)
            top=${p#/tmp/}
            top=/tmp/${top%%/*}
            [[ " ${keep_tmp[*]} " == *" $top "* ]] || keep_tmp+=("$top") ;;
    esac
done
# The guest starts from a clean environment; ZKEEP_* settings (ZKEEP_BUILD, ...) pass.
env_pass=()
while IFS= read -r -d '' kv; do
    case ${kv%%=*} in
        ZKEEP_GUEST*) ;; # set by the guest itself
        ZKEEP_*) env_pass+=("$kv") ;;
    esac
done < <(env -0)
{
    printf 'cwd=%q\n' "$cwd"
    printf 'script=%q\n' "$script"
    printf 'args=('; [ $# -eq 0 ] || printf ' %q' "$@"; printf ' )\n'
    printf 'keep_tmp=('; [ ${#keep_tmp[@]} -eq 0 ] || printf ' %q' "${keep_tmp[@]}"; printf ' )\n'
    printf 'fresh_tmp=%q\n' "$fresh_tmp"
    printf 'systemd=%q\n' "$systemd"
    printf 'env_pass=('; [ ${#env_pass[@]} -eq 0 ] || printf ' %q' "${env_pass[@]}"; printf ' )\n'
    printf 'zfs_alt=%q\n' "$zfs_alt"
} >"$tmp/xchg/job"

# --- boot ---------------------------------------------------------------------------
# -virtfs takes comma-separated options: a comma in a path is written twice.
q() { printf '%s' "${1//,/,,}"; }
# Kernel console (ttyS0) goes to a file; SCRIPT's output comes through a virtio console
# on stdio, so no kernel message can land in the middle of it. -nodefaults: no NIC,
# VGA or disks to probe. stdin is /dev/null: the guest never reads the terminal.
qemu=(qemu-system-x86_64 -accel tcg -m "$mem" -smp "$cpus" -nographic -no-reboot -nodefaults
    -kernel "$kernel" -initrd "$initrd"
    -append "console=ttyS0 quiet panic=-1 rdinit=/init"
    -monitor none -serial "file:$tmp/console.log"
    -device virtio-serial-pci -chardev stdio,id=out,signal=off -device virtconsole,chardev=out
    -virtfs "local,path=/,mount_tag=hostroot,security_model=passthrough,readonly=on,multidevs=remap"
    -virtfs "local,path=$(q "$tmp/xchg"),mount_tag=xchg,security_model=none"
    -virtfs "local,path=$(q "$out_dir"),mount_tag=out,security_model=none")

# --hotplug-disk: the image as a block node without a device; QEMU's pipe chardevs read
# NAME.in and write NAME.out, so run.sh talks QMP and serves the guest's requests through
# FIFOs with bash alone (no socket tool, no port to pick).
if [ -n "$hotplug_mb" ]; then
    truncate -s "${hotplug_mb}M" "$tmp/hotdisk.img"
    mkfifo "$tmp/qmp.in" "$tmp/qmp.out" "$tmp/hotplug.in" "$tmp/hotplug.out"
    qemu+=(-blockdev "driver=raw,node-name=hotimg,file.driver=file,file.filename=$(q "$tmp/hotdisk.img")"
        -device virtio-scsi-pci,id=hotscsi
        -chardev "pipe,id=qmp,path=$(q "$tmp/qmp")" -mon chardev=qmp,mode=control
        -chardev "pipe,id=hotplug,path=$(q "$tmp/hotplug")"
        -device virtserialport,chardev=hotplug,name=zkeep.hotplug)
fi

# The host's side of --hotplug-disk: one request line from the guest, one answer line,
# until qemu is gone. Each step is logged to $tmp/hotplug.log (shown with the console).
hotplug_serve() {
    set +e # a failed step is answered to the guest, never the end of the service
    # O_RDWR: opening a FIFO so never blocks, whether or not qemu has it open yet.
    exec 3<>"$tmp/qmp.out" 4<>"$tmp/qmp.in" 5<>"$tmp/hotplug.out" 6<>"$tmp/hotplug.in"
    log() { echo "$(date +%T) $*" >>"$tmp/hotplug.log"; }
    # QMP command -> QEMU's "return" or "error" line; events on the way go to qmp.events.
    qmp() {
        local l
        printf '%s\n' "$1" >&4
        while IFS= read -r -t 30 -u 3 l; do
            case $l in
                *'"event"'*) printf '%s\n' "$l" >>"$tmp/qmp.events" ;;
                *'"return"'* | *'"error"'*) printf '%s\n' "$l"; return 0 ;;
            esac
        done
        echo '{"error": {"desc": "QEMU did not answer within 30 s"}}'
    }
    answer() { # QMP-ANSWER OK-TEXT
        if [[ $1 == *'"return"'* ]]; then
            echo "ok $2"
        else
            echo "error $(sed -n 's/.*"desc": *"\([^"]*\)".*/\1/p' <<<"$1")"
        fi
    }
    # device_del returns at once; the device is gone with its DEVICE_DELETED event (a
    # PCI device only once the guest let go of it).
    deleted() {
        local l end=$((SECONDS + 30)) re='"DEVICE_DELETED".*"device": *"hotdisk"'
        grep -qE "$re" "$tmp/qmp.events" && return 0
        while [ $SECONDS -lt $end ]; do
            IFS= read -r -t 1 -u 3 l || continue
            printf '%s\n' "$l" >>"$tmp/qmp.events"
            [[ $l =~ $re ]] && return 0
        done
        return 1
    }
    local r req line buf='' rc reply dev a ready=0
    # QMP takes commands once capabilities are negotiated; tried again before a request
    # if qemu was not up yet.
    negotiate() {
        [ "$ready" = 1 ] && return 0
        r=$(qmp '{"execute": "qmp_capabilities"}')
        log "qmp_capabilities: $r"
        [[ $r == *'"return"'* ]] && ready=1
    }
    negotiate
    while kill -0 "$qpid" 2>/dev/null; do
        line=
        IFS= read -r -t 1 -u 5 line
        rc=$?
        # a timeout keeps the part of a line read so far
        if [ $rc -gt 128 ]; then buf+=$line; continue; fi
        [ $rc = 0 ] || break
        req=${buf}${line%$'\r'}
        buf=
        negotiate
        case $req in
            "add virtio-blk-pci" | "add scsi-hd")
                dev=${req#add }
                a="\"driver\": \"$dev\", \"id\": \"hotdisk\", \"drive\": \"hotimg\", \"serial\": \"zkeep-hotplug\""
                [ "$dev" = scsi-hd ] && a+=', "bus": "hotscsi.0"'
                r=$(qmp "{\"execute\": \"device_add\", \"arguments\": {$a}}")
                reply=$(answer "$r" "plugged in as $dev") ;;
            del)
                : >"$tmp/qmp.events"
                r=$(qmp '{"execute": "device_del", "arguments": {"id": "hotdisk"}}')
                reply=$(answer "$r" unplugged)
                if [[ $reply == ok* ]] && ! deleted; then
                    reply="error QEMU did not remove the disk within 30 s (the guest did not release it)"
                fi ;;
            *) reply="error unknown request '$req' (add virtio-blk-pci, add scsi-hd, del)" ;;
        esac
        log "$req: $r -> $reply"
        printf '%s\n' "$reply" >&6
    done
}

# In the background so that a signal to run.sh (Ctrl-C, a CI runner's TERM) is handled
# at once: the trap stops qemu instead of waiting for the watchdog. timeout forwards
# the TERM to qemu and kills it outright 10 s later.
timeout -k 10 "$timeout" "${qemu[@]}" </dev/null &
qpid=$!
# Fail fast instead of waiting for the watchdog: a hung ZFS (the kernel's hung-task
# report, e.g. txg_sync blocked), an OOM kill, a panic, or stage 2's report that the
# guest's memory or a tmpfs ran out (tests/guest/stage2.sh) stops the guest at once.
hang_re='blocked for more than [0-9]+ seconds|Out of memory: Killed|Kernel panic|zkeep-guest: resources exhausted'
(
    while kill -0 "$qpid" 2>/dev/null; do
        sleep 2
        if line=$(grep -a -m1 -E "$hang_re" "$tmp/console.log" 2>/dev/null); then
            printf '%s\n' "$line" >"$tmp/failfast"
            kill -TERM "$qpid" 2>/dev/null
            exit 0
        fi
    done
) &
wpid=$!
hpid=
if [ -n "$hotplug_mb" ]; then
    hotplug_serve &
    hpid=$!
fi
trap 'kill -TERM "$qpid" 2>/dev/null; wait "$qpid"; echo "run.sh: interrupted, guest stopped" >&2; exit 130' INT TERM
qrc=0
wait "$qpid" || qrc=$?
trap - INT TERM
kill "$wpid" $hpid 2>/dev/null || true
wait "$wpid" $hpid 2>/dev/null || true

if [ -n "$keep_log" ]; then
    cp "$tmp/console.log" "$keep_log" || echo "run.sh: could not write $keep_log" >&2
fi
show_console() {
    echo "run.sh: last lines of the guest console (all of it: --keep-log FILE):" >&2
    tail -n 40 "$tmp/console.log" | sed 's/^/  | /' >&2
    if [ -s "$tmp/hotplug.log" ]; then
        echo "run.sh: the hot-plug requests (--hotplug-disk):" >&2
        tail -n 10 "$tmp/hotplug.log" | sed 's/^/  | /' >&2
    fi
}
if [ -s "$tmp/failfast" ]; then
    echo "run.sh: the guest is stuck, stopped it at once: $(tr -d '\r' <"$tmp/failfast")" >&2
    show_console
    exit 125
fi
if [ "$qrc" = 124 ]; then
    echo "run.sh: watchdog: the guest did not finish within $timeout s; killed it" >&2
    show_console
    exit 124
fi
if [ -s "$tmp/xchg/rc" ]; then
    rc=$(cat "$tmp/xchg/rc")
    [[ $rc =~ ^[0-9]+$ ]] && exit "$rc"
fi
echo "run.sh: the guest ended (qemu exit $qrc) without reporting SCRIPT's exit status" >&2
show_console
exit 125
