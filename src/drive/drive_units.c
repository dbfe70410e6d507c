/* drive_units.c - see drive_units.h. */
#include "base/zkeep.h"
#include "drive/drive_units.h"
#include "confine/confine.h"
#include "confine/unit_hardening.h"

char *drive_unit_name(const struct drive *d)
{
	return xasprintf("zkeep-drive-%s.service", d->name);
}

char *drive_rule_name(const struct drive *d)
{
	return xasprintf("90-zkeep-drive-%s.rules", d->name);
}

int drive_units_render(const struct drive *d, const char *zkeep_path, const char *config_path,
		       const char *state_dir, struct strbuf *rule, struct strbuf *unit,
		       struct strbuf *err)
{
	if (!unit_path_ok(zkeep_path) || !unit_path_ok(config_path) || !unit_path_ok(state_dir)) {
		strbuf_addf(err, "'%s' / '%s' / '%s': paths in units must be absolute, without "
			    "spaces, quotes, '%%', '$', ';' or '\\'", zkeep_path ? zkeep_path : "",
			    config_path ? config_path : "", state_dir ? state_dir : "");
		return -EINVAL;
	}
	_cleanup_free_ char *svc = drive_unit_name(d);
	strbuf_addf(rule, "# zkeep: back up to drive %s when its pool (guid %" PRIu64 ") is plugged in\n",
		    d->name, d->guid);
	strbuf_addstr(rule, "ACTION==\"add\", SUBSYSTEM==\"block\", ENV{ID_FS_TYPE}==\"zfs_member\", ");
	/* by guid only: the label (the pool name) is anybody's to choose */
	strbuf_addf(rule, "ENV{ID_FS_UUID}==\"%" PRIu64 "\", ", d->guid);
	strbuf_addf(rule, "TAG+=\"systemd\", ENV{SYSTEMD_WANTS}+=\"%s\"\n", svc);

	strbuf_addf(unit,
		    "# Written by `zkeep drive units`: back up to removable drive %s.\n"
		    "[Unit]\n"
		    "Description=zkeep: back up to removable drive %s\n"
		    "Documentation=man:zkeep(8) https://github.com/zkeep/zkeep/blob/main/docs/drive.md\n"
		    "After=zfs.target local-fs.target\n"
		    "Requires=zfs.target\n"
		    "\n"
		    "[Service]\n"
		    "Type=oneshot\n"
		    "ExecStart=%s drive backup --config %s %s\n"
		    "# Imports, receives, exports and powers off: root, because zpool import\n"
		    "# and export cannot be delegated. The replication itself runs in a\n"
		    "# confined worker (its own uid, namespaces, seccomp, Landlock, grants),\n"
		    "# which the capabilities past CAP_SYS_ADMIN (the ZFS ioctls) and the\n"
		    "# namespaces are for. No network, a read-only system but for /run/zkeep,\n"
		    "# the state directory (grant journals, the worker's directory) and\n"
		    "# /sys/devices (the power-off through sysfs), only /dev/zfs and disks,\n"
		    "# private mounts (the pool is exported at the end anyway).\n"
		    "CapabilityBoundingSet=" CONFINE_SUPERVISOR_CAPS "\n"
		    UNIT_NET_LOCAL
		    "Environment=ZKEEP_STATE_DIR=%s\n"
		    "RuntimeDirectory=zkeep\n"
		    "RuntimeDirectoryPreserve=yes\n"
		    "ReadWritePaths=/sys/devices\n",
		    d->name, d->name, zkeep_path, config_path, d->name, state_dir);
	/* under /var/lib: systemd makes it (root's, 0700) and writable */
	const char *rel = skip_prefix(state_dir, "/var/lib/");
	if (rel && *rel)
		strbuf_addf(unit, "StateDirectory=%s\nStateDirectoryMode=0700\n", rel);
	else
		strbuf_addf(unit, "ReadWritePaths=-%s\n", state_dir); /* made by root beforehand */
	unit_hardening(UNIT_DRIVE, unit);
	strbuf_addstr(unit, "Nice=10\n"
			    "IOSchedulingClass=idle\n"
			    "TimeoutStartSec=infinity\n");
	return 0;
}
