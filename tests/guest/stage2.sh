#!/bin/bash
# Stage 2 of the zkeep test guest. run.sh copies it into the exchange share and stage 1
# (tests/guest/init) switch_roots into it, so it runs as PID 1 in the guest's view of
# the host root (read-only 9p + tmpfs overlay), with the host's own bash and tools.
#
# It finishes the system (devpts, /tmp, lo, hostname, zfs + loop modules), prints the
# "# guest: kernel ..., zfs ..." line, runs the job that run.sh wrote into the exchange
# share, writes its exit status back there and powers off at once.
#
# With systemd=1 in the job file (run.sh --systemd) it does the same setup, then writes a
# minimal boot target into the overlay's /etc/systemd/system and execs systemd as PID 1;
# the job then runs as the oneshot service zkeep-guest-job.service, which calls this
# script again as `stage2.sh --job` to run it, report its status and power off.
# shellcheck disable=SC2154 # cwd, script, args, ... come from the sourced job file
set -uo pipefail # no -e: every failure must still end in a power-off

g=/run/zkeep-guest
port=/dev/hvc0 # virtio console: reaches run.sh's stdout, carries no kernel messages
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

job_mode=0
[ "${1:-}" = --job ] && job_mode=1

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

# shellcheck source=/dev/null # by run.sh: cwd, script, args, keep_tmp, fresh_tmp, env_pass, systemd
source "$g/xchg/job" || fail "cannot read the job file"
mem_kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)

setup() {
    console "stage 2 started at $(cut -d' ' -f1 /proc/uptime) s"

    # The rest of a normal /dev (devtmpfs has no /dev/fd, which process substitution needs).
    mkdir -p /dev/pts /dev/shm
    mount -t devpts -o gid=5,mode=0620,ptmxmode=0666 devpts /dev/pts || fail "cannot mount /dev/pts"
    mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm || fail "cannot mount /dev/shm"
    ln -sfn /proc/self/fd /dev/fd
    ln -sfn /proc/self/fd/0 /dev/stdin
    ln -sfn /proc/self/fd/1 /dev/stdout
    ln -sfn /proc/self/fd/2 /dev/stderr


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
    # Root's shell startup files are the host's (a developer's pyenv, cargo, nvm...):
    # bash reads ~/.bashrc for every command sshd runs, so each ssh session the tests
    # open would pay for them (pyenv init: 7 s per session under TCG). The guest's root
    # starts without them (removed in the overlay only).
    rm -f /root/.bashrc /root/.bash_profile /root/.bash_login /root/.profile /root/.bash_logout \
        || fail "cannot remove root's shell startup files in the overlay"

    # zfs.ko is the host's dkms build for this kernel. The ARC is capped at a quarter of
    # the guest's memory: pool files live in tmpfs (RAM) too, and an uncapped ARC makes
    # the small guest run out of memory under write-heavy tests.
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
}

# The job, with its output on the console port; its exit status goes back to run.sh.
run_job() {
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
}

# run.sh --systemd: systemd 252 (the host's) as PID 1, booting a target of its own
# instead of the host's default: sysinit.target (journald, udevd, tmpfiles, sysctl, ...)
# and sockets.target, then zkeep-guest-job.service, which runs this script again with
# --job. All of it is written into the overlay, so the host never sees it.
boot_systemd() {
    local u=/etc/systemd/system unit gen
    # The host's fstab names its disks, which the guest does not have; the root is the
    # overlay stage 1 mounted, and /tmp is the one set up above.
    : >/etc/fstab || fail "cannot empty /etc/fstab"
    # The host root may be a container's (/.dockerenv): systemd would then think it runs
    # in one and skip what a machine does (ConditionVirtualization=!container).
    rm -f /.dockerenv || fail "cannot remove /.dockerenv"
    # tmpfiles' tmp.conf (D /tmp) would empty /tmp at boot, the kept cwd included.
    { mkdir -p /etc/tmpfiles.d && : >/etc/tmpfiles.d/tmp.conf; } || fail "cannot override tmp.conf"
    # Units that cannot work here (no network, no real disks, no login) or only cost
    # boot time. Only sysinit.target and sockets.target are pulled in, so most of the
    # host's enabled units (multi-user.target's ssh, postgresql, its timers) never
    # start anyway; these are the ones sysinit.target would pull in or generators make.
    # Then what sysinit.target pulls in that no test needs, for boot time (each of them
    # took 1-3 s under TCG): binfmt_misc, the debug/tracing/fuse/config/hugepages file
    # systems, sysusers (the host's users are there), the random seed, utmp, and the
    # journal flush (the journal stays in /run, which journalctl reads all the same).
    for unit in systemd-timesyncd.service systemd-pstore.service getty.target \
        serial-getty@.service getty@.service console-getty.service \
        systemd-networkd.service systemd-networkd-wait-online.service \
        networking.service ifupdown-wait-online.service \
        systemd-binfmt.service proc-sys-fs-binfmt_misc.automount proc-sys-fs-binfmt_misc.mount \
        sys-kernel-debug.mount sys-kernel-tracing.mount sys-fs-fuse-connections.mount \
        sys-kernel-config.mount dev-hugepages.mount systemd-sysusers.service \
        systemd-random-seed.service systemd-update-utmp.service systemd-journal-flush.service; do
        ln -sfn /dev/null "$u/$unit" || fail "cannot mask $unit"
    done
    # Generators: getty (would add a getty on hvc0 and ttyS0), gpt-auto (no disks),
    # zfs-mount (the host's zfs-list.cache: its pools are not here), sysv and rc-local
    # (scripts of the host's services), postgresql (clusters of the host). Each
    # daemon-reload runs the generators again, so fewer make the tests faster too.
    mkdir -p /etc/systemd/system-generators || fail "cannot mask generators"
    for gen in systemd-getty-generator systemd-gpt-auto-generator zfs-mount-generator \
        systemd-sysv-generator systemd-rc-local-generator postgresql-generator; do
        ln -sfn /dev/null "/etc/systemd/system-generators/$gen" || fail "cannot mask $gen"
    done
    cat >"$u/zkeep-guest.target" <<'UNIT' || fail "cannot write zkeep-guest.target"
[Unit]
Description=zkeep test guest
Requires=sysinit.target sockets.target
After=sysinit.target sockets.target
Wants=zkeep-guest-job.service
AllowIsolate=yes
UNIT
    # No Requires=: the job runs (and powers the guest off) even if part of sysinit
    # failed; its own tests say what is missing. ExecStopPost powers off when the
    # script died before it could (run.sh then reports 125: no exit status).
    # Type=exec, not oneshot: the boot finishes once the job has started, so inside it
    # the system is "running" (is-system-running, systemd-analyze blame) as on a host.
    cat >"$u/zkeep-guest-job.service" <<UNIT || fail "cannot write zkeep-guest-job.service"
[Unit]
Description=zkeep test guest: the job run.sh gave (tests/guest/stage2.sh --job)
DefaultDependencies=no
After=sysinit.target sockets.target systemd-journald.service systemd-udevd.service systemd-udev-trigger.service

[Service]
Type=exec
ExecStart=/bin/bash $g/xchg/stage2.sh --job
ExecStopPost=/bin/sh -c 'echo 1 >/proc/sys/kernel/sysrq; echo o >/proc/sysrq-trigger'
StandardInput=null
StandardOutput=journal+console
TimeoutStartSec=infinity
UNIT
    console "starting systemd at $(cut -d' ' -f1 /proc/uptime) s"
    # execfail: a failed exec returns here (PID 1 exiting would panic the kernel).
    shopt -s execfail
    # shellcheck disable=SC2093 # it does continue when the exec fails
    exec /lib/systemd/systemd --unit=zkeep-guest.target
    fail "cannot exec /lib/systemd/systemd"
}

if [ "$job_mode" = 1 ]; then
    say "systemd $(systemctl --version | awk 'NR == 1 {print $2}') is PID 1 ($(cat /proc/1/comm)), job starts at $(cut -d' ' -f1 /proc/uptime) s"
    run_job
elif [ "${systemd:-0}" = 1 ]; then
    setup
    boot_systemd
else
    setup
    run_job
fi
