#!/bin/bash
# Stage 2 of the zkeep test guest. run.sh copies it into the exchange share and stage 1
# (tests/guest/init) switch_roots into it, so it runs as PID 1 in the guest's view of
# the host root (read-only 9p + tmpfs overlay), with the host's own bash and tools.
#
# It finishes the system (devpts, /tmp, lo, hostname, zfs + loop modules), prints the
# "# guest: kernel ..., zfs ..." line, runs the job that run.sh wrote into the exchange
# share, writes its exit status back there and powers off at once.
# shellcheck disable=SC2154 # cwd, script, args, ... come from the sourced job file
set -uo pipefail # no -e: every failure must still end in a power-off

g=/run/zkeep-guest
port=/dev/hvc0 # virtio console: reaches run.sh's stdout, carries no kernel messages
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

exec </dev/null >"$port" 2>&1
# Send bytes to the host unchanged (no \n -> \r\n), so logs stay clean. Only after the
# exec: hvc resets its termios when the last open file on it closes.
stty -F "$port" -onlcr

say() { echo "# guest: $*"; }
console() { echo "zkeep-guest: $*" >/dev/ttyS0; } # into run.sh's console log only

power_off() {
    # stty sets the port with TCSADRAIN: returns once all output reached the host.
    stty -F "$port" -onlcr 2>/dev/null
    echo 1 >/proc/sys/kernel/sysrq
    echo o >/proc/sysrq-trigger
    sleep 30
}

fail() {
    say "setup failed: $*"
    console "setup failed: $*"
    power_off
}

console "stage 2 started at $(cut -d' ' -f1 /proc/uptime) s"

# The rest of a normal /dev (devtmpfs has no /dev/fd, which process substitution needs).
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=0620,ptmxmode=0666 devpts /dev/pts || fail "cannot mount /dev/pts"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm || fail "cannot mount /dev/shm"
ln -sfn /proc/self/fd /dev/fd
ln -sfn /proc/self/fd/0 /dev/stdin
ln -sfn /proc/self/fd/1 /dev/stdout
ln -sfn /proc/self/fd/2 /dev/stderr

# shellcheck source=/dev/null # by run.sh: cwd, script, args, keep_tmp, fresh_tmp, env_pass
source "$g/xchg/job" || fail "cannot read the job file"

# A fresh /tmp, except the top-level directories of it that hold the caller's cwd or
# script (run.sh lists them in keep_tmp): those stay as the host has them.
if [ "$fresh_tmp" = 1 ]; then
    i=0
    # Bind mounts need a mount point of the same kind: a directory or a file.
    mkpoint() { if [ -d "$1" ]; then mkdir -p "$2"; else touch "$2"; fi; }
    mkdir -p "$g/keep"
    for d in "${keep_tmp[@]}"; do
        mkpoint "$d" "$g/keep/$i" && mount --bind "$d" "$g/keep/$i" || fail "cannot keep $d"
        i=$((i + 1))
    done
    mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp || fail "cannot mount /tmp"
    i=0
    for d in "${keep_tmp[@]}"; do
        mkpoint "$g/keep/$i" "$d" && mount --move "$g/keep/$i" "$d" || fail "cannot keep $d"
        i=$((i + 1))
    done
fi

# Loopback only (tests run sshd on 127.0.0.1); no other network devices exist.
ip link set lo up 2>/dev/null || busybox ip link set lo up || fail "cannot bring lo up"
# A real hostname: "(none)" breaks snapshot names that embed it (syncoid-style).
echo zkeep-guest >/proc/sys/kernel/hostname
echo zkeep-guest >/etc/hostname
echo "127.0.1.1 zkeep-guest" >>/etc/hosts

# zfs.ko is the host's dkms build for this kernel. The ARC is capped at a quarter of
# the guest's memory: pool files live in tmpfs (RAM) too, and an uncapped ARC makes
# the small guest run out of memory under write-heavy tests.
mem_kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
modprobe loop || fail "modprobe loop failed"
if [ -n "${zfs_alt:-}" ]; then
    # Another OpenZFS than the host's (run.sh ZKEEP_ZFS=2.1): its modules, built for
    # this kernel, are loaded in dependency order; its userland is copied over the
    # host's in the overlay (the host's binaries and libraries of the same names are
    # replaced, the rest stays unused), so every caller, zkeep's confined worker (which
    # resolves /usr/sbin/zfs's libraries from the ELF and the ld.so cache) included,
    # runs it. Directory symlinks (/sbin -> usr/sbin) are followed, not replaced.
    zmods=$zfs_alt/modules/$(uname -r)
    [ -s "$zmods/load-order" ] || fail "no ZFS modules for $(uname -r) in $zfs_alt"
    while read -r ko; do
        if [ "$ko" = zfs.ko ]; then
            insmod "$zmods/$ko" zfs_arc_max=$((mem_kb * 1024 / 4)) || fail "insmod $zmods/$ko failed"
        else
            insmod "$zmods/$ko" || fail "insmod $zmods/$ko failed"
        fi
    done <"$zmods/load-order"
    tar -C "$zfs_alt/root" -cf - . | tar -C / -xf - --keep-directory-symlink --no-same-owner \
        || fail "cannot put the userland of $zfs_alt over the host's"
    ldconfig || fail "ldconfig failed after installing $zfs_alt's libraries"
else
    modprobe zfs zfs_arc_max=$((mem_kb * 1024 / 4)) \
        || fail "modprobe zfs failed: no zfs.ko for kernel $(uname -r)? run tests/guest/install-deps.sh"
fi
# What udev does on real systems; delegated (zfs allow) users need it.
chmod 0666 /dev/zfs || fail "no /dev/zfs after loading zfs"

say "kernel $(uname -r), zfs $(cat /sys/module/zfs/version), zfsutils $(zfs version 2>&1 | head -n1)${zfs_alt:+ (from $zfs_alt)}"
console "running the job at $(cut -d' ' -f1 /proc/uptime) s"

# Fail fast: when the guest's memory or a tmpfs (the pool files live there) runs
# out, ZFS hangs instead of failing and the run would sit until the watchdog. This
# says so on the console, where run.sh watches for it and stops the guest at once.
watch_resources() {
    local avail pct fs warned=
    while sleep 5; do
        avail=$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo)
        if [ "$avail" -lt $((mem_kb / 25)) ]; then
            console "resources exhausted: memory available ${avail} kB of ${mem_kb} kB"
            warned=1
        fi
        for fs in / /tmp; do
            pct=$(df --output=pcent "$fs" 2>/dev/null | tail -n1 | tr -dc 0-9)
            if [ -n "$pct" ] && [ "$pct" -ge 98 ]; then
                console "resources exhausted: $fs is ${pct}% full"
                warned=1
            fi
        done
        [ -z "$warned" ] || return 0
    done
}
watch_resources &

cd "$cwd" || fail "cannot cd to $cwd in the guest"
umask 022
# A clean root environment, like a login shell's: nothing of the kernel's init env,
# only the host's ZKEEP_* variables that run.sh passed on.
env -i "${env_pass[@]}" PATH="$PATH" HOME=/root USER=root LOGNAME=root SHELL=/bin/bash \
    LANG=C.UTF-8 TERM=dumb ZKEEP_GUEST=1 ZKEEP_GUEST_OUT="$g/out" \
    "$script" "${args[@]}"
rc=$?

console "job exited with $rc at $(cut -d' ' -f1 /proc/uptime) s"
echo "$rc" >"$g/xchg/rc"
timeout 20 sync
power_off
