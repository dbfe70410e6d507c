/*
 * drive/driveconf.h - the [drive NAME] sections of zkeep.conf (pure).
 *
 * A removable drive holds a backup pool that is imported, written and
 * exported by `zkeep drive backup NAME`. Its section lives in the same
 * zkeep.conf as the scheduled jobs (jobconf.h); this parser reads only the
 * [drive NAME] sections and ignores every other section, which jobconf owns.
 *
 *     [drive usb1]
 *     guid = 1234567890123456789    ; the pool's guid (required)
 *     pool = usbbackup              ; the pool's name (optional: checked)
 *     datasets = tank/data tank/home ; source datasets, space separated
 *     target = usbbackup/tank       ; where they go (default: the pool)
 *     recursive = yes               ; children too (default yes)
 *     raw = yes                     ; zfs send -w (default yes)
 *     sync_snap = no                ; take a sync snapshot (default no)
 *     delete_target_snapshots = yes ; prune what the source pruned (default yes)
 *     rollback = no                 ; roll the target back (default no, never)
 *     hold = yes                    ; hold the newest common snapshot (default yes)
 *     readonly = yes                ; readonly=on on the targets (default yes)
 *     snapdir = visible             ; set snapdir on the targets (default: leave)
 *     mountpoint = none             ; set mountpoint on the targets (default: leave)
 *     canmount = noauto             ; set canmount on the targets (default: leave)
 *     scrub = no                    ; scrub before exporting (default no)
 *     search_dirs = /dev/disk/by-id ; zpool import -d (default: zpool's own)
 *     power_off = auto              ; auto|yes|no after the export (default auto)
 *     detach_loop = no              ; losetup -d a loop device vdev (default no)
 *     bwlimit = 20M                 ; bytes per second (default: no limit)
 *
 * The target of source dataset S is TARGET/S (e.g. usbbackup/tank/tank/data
 * above; with the default target, usbbackup/tank/data). A configured target
 * must lie in the configured pool. Every value is checked when the file is
 * read and an unknown key is an error.
 *
 * A drive is matched by its pool guid only, never by its name, which anyone
 * can give a pool on a stick: a section without guid = is an error (the
 * message says how to read the guid off the drive). The pool is always
 * imported with -N under the altroot DRIVE_ALTROOT_DIR/NAME (drive.h).
 *
 * Ownership: the driveconf owns every string; driveconf_release() releases it.
 */
#ifndef ZKEEP_DRIVECONF_H
#define ZKEEP_DRIVECONF_H

#include "base/zkeep.h"
#include "base/strbuf.h"
#include "base/strvec.h"

#define DRIVECONF_MAX_DRIVES 64
#define DRIVECONF_MAX_DATASETS 64
#define DRIVECONF_MAX_DIRS 16
/* Where drive pools are imported: the altroot of drive NAME is DRIVE_ALTROOT_DIR/NAME. */
#define DRIVE_ALTROOT_DIR "/run/zkeep/drive"

enum drive_power { DRIVE_POWER_AUTO, DRIVE_POWER_YES, DRIVE_POWER_NO };

struct drive {
	char *name;
	char *pool;             /* pool name, or NULL when only guid is given */
	uint64_t guid;          /* never 0 once parsed: required */
	struct strvec datasets; /* source datasets, at least one */
	char *target;           /* target root; default: the pool name */
	bool recursive, raw, sync_snap, delete_target_snapshots, rollback, hold;
	bool readonly, scrub, detach_loop;
	char *snapdir, *mountpoint, *canmount; /* NULL: leave as received */
	struct strvec search_dirs;
	enum drive_power power_off;
	uint64_t bwlimit;       /* bytes/s, 0 = none */
};

struct driveconf {
	struct drive *drives;
	size_t n;
};
#define DRIVECONF_INIT { .drives = NULL, .n = 0 }

/*
 * Parse text (the whole zkeep.conf; `origin` names it in messages). Only
 * [drive NAME] sections are read. 0, or -EINVAL with the reason in err.
 */
int driveconf_parse(const char *text, const char *origin, struct driveconf *out,
		    struct strbuf *err);
void driveconf_release(struct driveconf *c);
const struct drive *driveconf_find(const struct driveconf *c, const char *name);

/* The pool argument of `zpool import`: always the guid (caller frees). */
char *drive_import_name(const struct drive *d);
/* DRIVE_ALTROOT_DIR/NAME (caller frees). */
char *drive_altroot(const struct drive *d);
/*
 * Whether pool, the name of the pool found by the drive's guid, agrees with
 * the configured pool = and target =. 0, or -EINVAL with a message in err.
 */
int drive_check_pool_name(const struct drive *d, const char *pool, struct strbuf *err);
/*
 * The target dataset of source dataset src (caller frees): TARGET/src, with
 * TARGET the configured target or else `pool` (the imported pool's name,
 * which is all there is to go by when only the guid is configured).
 */
char *drive_target_of(const struct drive *d, const char *pool, const char *src);

#endif
