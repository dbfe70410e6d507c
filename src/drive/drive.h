/*
 * drive/drive.h - backups to a removable drive: the engine of `zkeep drive`.
 *
 * drive_backup() does the whole cycle for one [drive NAME] (driveconf.h):
 *
 *   check    every source dataset exists (before anything is imported)
 *   import   `zpool import [-d DIR]... -o cachefile=none -o
 *            altroot=/run/zkeep/drive/NAME -N GUID` (or use it when the pool
 *            with that guid is imported already). The pool is matched by its
 *            guid only: a pool that has the configured name but another guid
 *            is refused (-EPERM) and never imported. Nothing is mounted, and
 *            the altroot (made by root, 0700, through dirfds) keeps whatever
 *            is mounted later away from where the drive's own mountpoint
 *            properties point. The name found must agree with pool = and
 *            target = (else the pool is exported again, -EINVAL).
 *   replicate each dataset through the replication engine (replicate.h) with
 *            the drive's semantics: raw (zfs send -w), no sync snapshot,
 *            target snapshots the source pruned deleted, never rolled back,
 *            receive -u, the newest common snapshot held (zkeep_drive_NAME)
 *   properties readonly=on and the configured snapdir/canmount on every
 *            target dataset, mountpoint on each configured dataset's target
 *   scrub    optional `zpool scrub -w`, then `zpool status` checked
 *   export   `zpool export` - ALWAYS, once the pool was imported, also when
 *            a step before failed
 *   power-off each leaf vdev of the pool: a file vdev or a loop device is
 *            left alone (a loop device is detached with `losetup -d` when
 *            detach_loop is set); a disk is powered off with `udisksctl
 *            power-off` when udisksctl is installed, else through sysfs
 *            (echo 1 > /sys/block/DISK/device/delete).
 *
 * Nothing on the source is changed but the replication holds (and the sync
 * snapshot when sync_snap is configured). With dry_run the pool is imported
 * (delegation=off, as always: not read-only, where ZFS would ignore that),
 * the replication planned and printed, and the pool exported again: no data
 * is written anywhere (what an import itself writes, see docs/drive.md).
 *
 * The engine never logs: it reports steps and the replication's events
 * (with progress) through o->event. Returns 0 when the cycle ran (see the
 * result for failures of single datasets or steps), or -errno with a message
 * in err when it could not start (a source dataset missing: -ENOENT, the
 * pool not found: -ENXIO, a pool named like the drive with another guid:
 * -EPERM, the import failed: -EIO).
 */
#ifndef ZKEEP_DRIVE_H
#define ZKEEP_DRIVE_H

#include "base/zkeep.h"
#include "drive/driveconf.h"
#include "replication/replicate.h"
#include "zfs/zfs.h"

#include <stdatomic.h>

enum drive_event_kind {
	DRIVE_EV_STEP,    /* step: a step begins; message says what */
	DRIVE_EV_INFO,    /* message */
	DRIVE_EV_WARNING, /* message: something went wrong, the cycle goes on */
	DRIVE_EV_ERROR,   /* message: a step failed */
	DRIVE_EV_REPL,    /* repl: an event of the replication engine */
};

struct drive_event {
	enum drive_event_kind kind;
	const char *step;    /* "check", "import", "replicate", ... */
	const char *message;
	const struct replicate_event *repl;
};

struct drive_result;

struct drive_opts {
	const struct drive *d;
	bool dry_run;
	time_t now;
	const char *hostname;
	void (*event)(const struct drive_event *ev, void *data);
	void *event_data;
	/*
	 * May be NULL. A signal number stored here (by a signal-waiting
	 * thread, which also stops the running transfer: drive_runner.h) makes
	 * the cycle stop at the next step boundary: no further dataset, no
	 * properties, no scrub, no power-off, but the export as always.
	 */
	const atomic_int *interrupted;
	/*
	 * May be NULL: then drive_backup() replicates in this process. Else
	 * (not with dry_run) it makes the targets' missing parents and calls
	 * replicate(replicate_data, z, o, pool, skip, res) for the replication
	 * step of every dataset at once (skip[i]: dataset i's parent could not
	 * be made, counted failed already), after the import and before the
	 * properties, scrub and export, which stay drive_backup()'s: the caller
	 * runs drive_replicate() elsewhere (a confined worker,
	 * cli/drive_confined.h) and adds its counts to res.
	 */
	void (*replicate)(void *replicate_data, struct zfs *z, const struct drive_opts *o,
			  const char *pool, const bool *skip, struct drive_result *res);
	void *replicate_data;
};

struct drive_result {
	char *pool;                 /* the pool's name once found (owned) */
	unsigned synced, uptodate, failed; /* datasets, as replicate_result */
	uint64_t bytes;
	bool imported;              /* this run imported the pool */
	bool exported;
	bool scrub_errors;          /* scrub found errors */
	unsigned step_failures;     /* steps other than replication that failed */
	bool powered_off;
	int interrupted;            /* the signal that stopped the cycle, or 0 */
};

int drive_backup(struct zfs *z, const struct drive_opts *o, struct drive_result *res,
		 struct strbuf *err);

/*
 * The replication step of drive_backup(): each configured dataset but those
 * skip (NULL: none) marks to its copy on pool (whose parents exist),
 * counted into res (synced, uptodate, failed, bytes), with o's events.
 */
void drive_replicate(struct zfs *z, const struct drive_opts *o, const char *pool,
		     const bool *skip, struct drive_result *res);

/*
 * The counts of drive_replicate() as a confined worker reports them to its
 * supervisor: "SYNCED UPTODATE FAILED BYTES\n" (caller frees). The parse
 * takes them exactly (decimal numbers, single spaces, one newline, less than
 * DRIVE_COUNTS_MAX bytes) and adds them to res: 0, or -EINVAL (res as it was).
 */
#define DRIVE_COUNTS_MAX 128
char *drive_counts_format(const struct drive_result *res);
int drive_counts_parse(const char *text, size_t len, struct drive_result *res);
void drive_result_release(struct drive_result *r);

/* ---- status --------------------------------------------------------------- */

enum drive_presence {
	DRIVE_ABSENT,     /* not imported and not found by `zpool import` */
	DRIVE_IMPORTABLE, /* found by a `zpool import` scan */
	DRIVE_IMPORTED,
};

struct drive_ds_status {
	char *source, *target;
	bool target_exists;
	char *newest_common;     /* short name, or NULL */
	int64_t common_creation; /* its creation time (source side), 0 when none */
	unsigned behind;         /* source snapshots newer than the newest common one */
	int64_t newest_source;   /* creation of the newest source snapshot, 0 when none */
};

struct drive_status {
	enum drive_presence presence;
	char *pool;
	uint64_t guid;
	char *health;            /* from the scan or zpool list */
	bool looked;             /* the datasets were compared (pool imported, maybe for this) */
	struct drive_ds_status *ds;
	size_t nds;
};

/*
 * Whether the drive is there and, when it is, how its datasets compare with
 * the sources. A pool that is present but not imported is imported
 * (-o delegation=off -N, by guid, under the altroot) to look and exported
 * again, unless no_import. 0 or -errno with a message in err (a listing failed).
 */
int drive_get_status(struct zfs *z, const struct drive *d, bool no_import, struct drive_status *st,
		     struct strbuf *err);
void drive_status_release(struct drive_status *st);

/* ---- pure helpers (unit-tested) ---------------------------------------------- */

struct zpool_scan_entry {
	char *name, *state;
	uint64_t guid;
};

/*
 * Parse the output of `zpool import` (no pool argument): the "pool:",
 * "id:" and "state:" lines of each importable pool. 0 or -EINVAL. At most
 * 256 entries are kept.
 */
int drive_parse_import_scan(const char *buf, struct zpool_scan_entry **out, size_t *n);
void drive_scan_free(struct zpool_scan_entry *e, size_t n);

/* Whether `zpool import NAME` failed because no such pool is attached (its stderr). */
bool drive_import_not_found(const char *zpool_stderr);

/* Leaf vdev paths (fields starting with '/') of `zpool list -vHPL POOL` output. */
void drive_parse_vdevs(const char *buf, struct strvec *out);

/*
 * The problems `zpool status -p POOL` shows: nonzero READ/WRITE/CKSUM
 * counters of any vdev and an "errors:" line other than "No known data
 * errors". Each problem is one line appended to problems. Returns the
 * number of problems.
 */
size_t drive_parse_pool_problems(const char *status, struct strvec *problems);

#endif
