/*
 * snapshots/monitor.h - the pure verdicts of sanoid's Nagios monitors
 * (--monitor-snapshots, --monitor-health, --monitor-capacity): they take what
 * the engine listed and return the level (0 OK, 1 WARNING, 2 CRITICAL) with
 * sanoid's words. The engine (snapshot_engine.c) does the listing and joins
 * the lines; tests/unit/test_monitor.c pins the words.
 */
#ifndef ZKEEP_MONITOR_H
#define ZKEEP_MONITOR_H

#include "base/zkeep.h"
#include "base/strbuf.h"
#include "zfs/zfs.h"

/* sanoid's displaytime(): "1d 2h 3m 4s", "5m 0s", "7s". */
void sanoid_displaytime(struct strbuf *sb, int64_t seconds);

/*
 * One type of snapshots of one dataset: elapsed seconds since its newest
 * (-1: none at all) against warn and crit (0: not checked). Appends the
 * message, if any, to msg ("CRIT: pool/fs newest hourly snapshot is 2h 0m 0s
 * old (should be < 1h 30m 0s)") and returns the level it raises the run to
 * (dont_warn, dont_crit: report without raising it).
 */
int monitor_snapshot_age(const char *path, const char *type, int64_t elapsed, int64_t warn,
			 int64_t crit, bool dont_warn, bool dont_crit, struct strbuf *msg);

/*
 * The `zpool list -o name,size,cap,health,free` text (header first) of pool
 * into its four words; health stays empty when the pool is not listed.
 */
void monitor_parse_zpool_list(const char *text, const char *pool, struct strbuf *size,
			      struct strbuf *cap, struct strbuf *health, struct strbuf *free_space);

/*
 * sanoid's reading of the vdevs of `zpool status`: a vdev with errors makes
 * an ONLINE pool (*state 0) WARNING, and every vdev not ONLINE (or with
 * errors) is named in dmge; an unavailable vdev makes an ONLINE pool WARNING.
 */
void monitor_vdev_damage(const struct zpool_status *st, int *state, struct strbuf *dmge);

/* A pool's capacity (percent) against its limits (0: not checked): 0, 1 or 2. */
int monitor_capacity_state(unsigned capacity, unsigned warn, unsigned crit);

#endif
