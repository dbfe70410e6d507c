/*
 * jobconf.h - zkeep.conf: the jobs zkeep runs on a schedule (pure).
 *
 * A small INI file (parsed with inih), documented in docs/zkeep.conf.md:
 *
 *     [zkeep]                       ; optional global settings
 *     state_dir = /var/lib/zkeep
 *     run_uids = 60700-60799
 *     snapshot_schedule = *:0/15    ; systemd OnCalendar for `sanoid --cron`
 *
 *     [job offsite]                 ; one replication job per section
 *     source = tank/data
 *     target = backup/tank/data     ; or user@host:pool/ds (ssh)
 *     recursive = yes
 *     raw = yes                     ; zfs send -w
 *     force = no                    ; receive -F
 *     schedule = hourly             ; OnCalendar
 *     randomized_delay = 10m        ; RandomizedDelaySec
 *     ssh_port = 22
 *     ip_allow = 192.0.2.10 2001:db8::/64  ; default: the target host's addresses
 *
 * Snapshots and pruning follow sanoid.conf; the [zkeep] snapshot_schedule
 * only says when they run. Every value is checked when the file is read:
 * names, datasets, durations, ports; an unknown key is an error (a typo
 * must not silently leave a job unconfined or unscheduled).
 *
 * Ownership: the jobconf owns every string; jobconf_release() releases it.
 */
#ifndef ZKEEP_JOBCONF_H
#define ZKEEP_JOBCONF_H

#include "zfs/delegation.h"

#define JOBCONF_MAX_JOBS 256

struct job {
	char *name;
	char *source, *target;          /* dataset names; ssh target: target_host set */
	char *target_host;              /* "[user@]host" or NULL */
	bool recursive, raw, force;
	char *schedule;                 /* OnCalendar; default "hourly" */
	uint64_t randomized_delay;      /* seconds; default 300 */
	unsigned ssh_port;              /* default 22 */
	char *ip_allow;                 /* addresses/prefixes ssh may reach (units' IPAddressAllow=) */
};

struct jobconf {
	char *state_dir;                /* default /var/lib/zkeep */
	unsigned uid_min, uid_max;      /* default GRANTS_UID_*_DEFAULT */
	char *snapshot_schedule;        /* default "*:0/15" */
	struct job *jobs;
	size_t njobs;
};
#define JOBCONF_INIT { .jobs = NULL, .njobs = 0 }

/* Parse text (the file's content; `origin` names it in messages). 0 or -EINVAL. */
int jobconf_parse(const char *text, const char *origin, struct jobconf *out, struct strbuf *err);
void jobconf_release(struct jobconf *c);
const struct job *jobconf_find(const struct jobconf *c, const char *name);

/*
 * What a replication job needs on this host (delegation.h): on the source
 * send (send-raw when raw), snapshot (sync snapshots), hold, bookmark and
 * destroy (its own sync snapshots); on a local target receive (force,
 * abort), hold (zkeep holds the last common snapshot on both sides) and
 * destroy, new when target_exists is false. Strings point into job.
 * Returns the number of needs written (at most 2).
 */
size_t jobconf_needs(const struct job *j, bool target_exists, struct deleg_need needs[2]);

#endif
