/*
 * confine/unit_hardening.h - the systemd [Service] sandboxing of every unit zkeep
 * writes (pure): one list, used by `zkeep units` for the job, snapshot and
 * recovery services and by drive_units.h for the drive services. Check a
 * unit with `systemd-analyze security --offline=true UNIT`
 * (tests/units/test-units.sh scores them).
 *
 * Not set anywhere, and why:
 *   PrivateUsers=   ZFS 2.2+ shows no dataset to another user namespace;
 *   PrivateDevices= /dev/zfs is needed (DeviceAllow= limits to it instead),
 *                   but by the ssh connector (UNIT_CONNECT);
 *   RootDirectory=  zkeep's own worker sandbox does the chroot part.
 */
#ifndef ZKEEP_UNIT_HARDENING_H
#define ZKEEP_UNIT_HARDENING_H

#include "base/strbuf.h"

enum unit_kind {
	/* replication jobs, snapshots, grant recovery: zfs through /dev/zfs only */
	UNIT_ZFS = 1 << 0,
	/* a removable drive's backup (root: imports, exports and powers off its pool) */
	UNIT_DRIVE = 1 << 1,
	/* root's ssh connector of a job (no ZFS, no device, no capability): as UNIT_ZFS
	 * but PrivateDevices=yes */
	UNIT_CONNECT = 1 << 2,
};

/* Append the hardening lines of a unit of this kind, one "Key=value\n" each. */
void unit_hardening(enum unit_kind kind, struct strbuf *out);

/*
 * A word a unit file holds as it is (a dataset, a path): no whitespace, quote,
 * backslash, ';', or '%' / '$' that systemd would expand. unit_path_ok(): also
 * absolute, and under 1024 bytes.
 */
bool unit_word_ok(const char *s);
bool unit_path_ok(const char *s);

/* No network at all (local jobs, recovery, drives). */
#define UNIT_NET_LOCAL \
	"PrivateNetwork=yes\n" \
	"RestrictAddressFamilies=AF_UNIX\n" \
	"IPAddressDeny=any\n"

#endif
