/*
 * drive/drive_units.h - the udev rule and systemd service that start
 * `zkeep drive backup NAME` when that drive is plugged in (pure).
 *
 * The rule matches a block device whose ZFS label (blkid: ID_FS_TYPE
 * zfs_member) belongs to the drive's pool - by ID_FS_UUID, which blkid sets to
 * the pool guid, never by ID_FS_LABEL, the pool name anyone can give a stick -
 * and asks systemd for zkeep-drive-NAME.service. The service is a
 * oneshot that runs the backup; a second plug-in while it runs is merged by
 * systemd (the unit is already active).
 *
 * `zkeep drive units --output DIR` writes them; `zkeep units` can call
 * drive_units_render() for each [drive NAME] of zkeep.conf too.
 */
#ifndef ZKEEP_DRIVE_UNITS_H
#define ZKEEP_DRIVE_UNITS_H

#include "drive/driveconf.h"

/* "zkeep-drive-NAME.service" / "90-zkeep-drive-NAME.rules" (caller frees). */
char *drive_unit_name(const struct drive *d);
char *drive_rule_name(const struct drive *d);

/*
 * Render the rule and the unit. zkeep_path, config_path and state_dir (the
 * grant journals and the confined worker's directories) are absolute paths
 * without spaces, quotes, '%' or '\' (they go into the unit verbatim);
 * -EINVAL with a message in err otherwise. The texts are appended to rule
 * and unit.
 */
int drive_units_render(const struct drive *d, const char *zkeep_path, const char *config_path,
		       const char *state_dir, struct strbuf *rule, struct strbuf *unit,
		       struct strbuf *err);

#endif
