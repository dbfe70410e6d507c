# The guest's side of tests/guest/run.sh --hotplug-disk (load after lib): a disk that is
# really plugged in and pulled out, through QEMU's monitor, so the kernel and udev see
# the "add" and "remove" events a USB drive makes. Needs udev (the systemd guest).
#
#   hotplug_add scsi-hd|virtio-blk-pci   plug it in; HOTDISK is its /dev node
#   hotplug_del                          pull it out (also after the guest deleted it)
#
# The guest writes one request line to the virtio-serial port zkeep.hotplug; run.sh
# sends the QMP command and answers "ok ..." or "error ..." on the same port.

# The port's /dev node (udev's /dev/virtio-ports link needs udev; sysfs does not).
hotplug_port() {
    local d
    for d in /sys/class/virtio-ports/vport*; do
        [ "$(cat "$d/name" 2>/dev/null)" = zkeep.hotplug ] && { echo "/dev/${d##*/}"; return 0; }
    done
    fail "no virtio-serial port zkeep.hotplug: boot the guest with tests/guest/run.sh --hotplug-disk MB"
}

hotplug_request() { # REQUEST: fails unless run.sh answers "ok ..."
    local port fd reply=
    port=$(hotplug_port) || return 1
    exec {fd}<>"$port"
    # an answer that came after an earlier request gave up is not this one's
    while IFS= read -r -t 0.2 -u "$fd" _; do :; done
    printf '%s\n' "$1" >&"$fd"
    IFS= read -r -t 90 -u "$fd" reply
    exec {fd}>&-
    [[ $reply == ok* ]] || { fail "hot-plug request '$1': ${reply:-no answer from run.sh within 90 s}"; return 1; }
}

# The disk's node now, after udev has handled what is queued; empty when it is absent.
# Its by-id links end in its serial, whichever bus it is on (virtio-zkeep-hotplug,
# scsi-0QEMU_QEMU_HARDDISK_zkeep-hotplug).
hotplug_disk() {
    local l
    udevadm settle --timeout=30
    for l in /dev/disk/by-id/*zkeep-hotplug; do
        [ -e "$l" ] && { realpath "$l"; return 0; }
    done
    return 0
}

hotplug_add() { # DRIVER: scsi-hd (a virtio-scsi disk, /dev/sdX) or virtio-blk-pci (/dev/vdX)
    local i
    hotplug_request "add $1" || return 1
    HOTDISK=
    for ((i = 0; i < 60; i++)); do
        HOTDISK=$(hotplug_disk)
        [ -n "$HOTDISK" ] && break
        sleep 1
    done
    [ -n "$HOTDISK" ] || { fail "the hot-plugged disk did not appear in /dev/disk/by-id within 60 s"; return 1; }
    export HOTDISK
}

hotplug_del() {
    local i
    hotplug_request del || return 1
    for ((i = 0; i < 60; i++)); do
        [ -z "$(hotplug_disk)" ] && return 0
        sleep 1
    done
    fail "the unplugged disk is still there after 60 s: $(ls /dev/disk/by-id/*zkeep-hotplug*)"
}
