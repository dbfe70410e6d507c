/*
 * confine/jobconf.h - zkeep.conf: the jobs zkeep runs on a schedule, and the grants
 * a job needs (pure).
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
 *     serve = no                    ; ssh target whose key runs `zkeep serve --stdio`
 *     schedule = hourly             ; OnCalendar
 *     randomized_delay = 10m        ; RandomizedDelaySec
 *     ssh_port = 22
 *     ssh_key = /etc/zkeep/keys/offsite         ; handed to the unit with LoadCredential=
 *     ssh_known_hosts = /etc/zkeep/known_hosts  ; likewise; ssh then checks strictly
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
	bool serve;                     /* the target's key runs `zkeep serve --stdio` (--serve) */
	char *schedule;                 /* OnCalendar; default "hourly" */
	uint64_t randomized_delay;      /* seconds; default 300 */
	unsigned ssh_port;              /* default 22 */
	char *ip_allow;                 /* what the ssh connector may reach (IPAddressAllow=) */
	char *ssh_key;                  /* ssh target: the key file, or NULL */
	char *ssh_known_hosts;          /* ssh target: its known_hosts file, or NULL */
	char *receive_set;              /* "o k=v ..." from receive_set, or NULL */
	char *receive_inherit;          /* "x k ..." from receive_inherit, or NULL */
	char *recvoptions;              /* its runs' --recvoptions: "u" and the two above */
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
 * ONE rule for the grants a job needs, used by `zkeep allow` and `zkeep
 * units` (ExecStartPre=+ runs `zkeep allow --apply`, through
 * jobconf_needs()) and by the live confined workers (cli/repl_confined.c,
 * cli/snapshots_confined.c). The callers gather the facts; these functions
 * only decide (pure). tests/unit/test_jobneeds.c pins that a unit's grants
 * equal its worker's.
 *
 * A replication run (zkeep replicate, syncoid, a [job] of zkeep.conf):
 */
struct repl_facts {
	const char *source, *target;      /* dataset names, without any host part */
	bool source_remote, target_remote; /* on another host: its admin's to grant, not ours */
	bool recursive;
	const char *sendoptions;          /* --sendoptions (sendopts.h; -w: raw) or NULL */
	const char *recvoptions;          /* --recvoptions ("o k=v" sets k) or NULL */
	bool rollback;                    /* receive -F */
	bool no_sync_snap;                /* takes no sync snapshot (so destroys none) */
	bool preserve_recordsize;         /* the receive sets recordsize */
	bool force_delete;                /* --force-delete: the target may be destroyed
					   * (zfs destroy -r) and received anew */
	bool receives_by_root;            /* root runs the receives into the target
					   * (zfs/root_receive.h): a confined run as root,
					   * a unit's receive socket */
	const char *const *source_props;  /* --preserve-properties: the source's local
					   * properties (NULL-terminated or NULL) */
	/* Read from this host's ZFS at run time (a local target only): */
	bool target_exists;
	bool target_partial_full;         /* the target holds an interrupted FULL receive
					   * (a resume token, no snapshot) */
};

/*
 * The needs of a replication run on this host, into out (the source side
 * first; the other host's side is left out); returns their number (0 to 2).
 * Source: send (send-raw when -w), hold, bookmark, and but with
 * no_sync_snap snapshot and destroy (its sync snapshots). Target: receive,
 * abort, destroy, hold; force with rollback; raw-encrypted when raw and
 * recursive; one permission per property the receive sets (names kept in
 * props, which out points into). A target that does not exist yet is new
 * (granted through its parent, delegation.h); one that holds an
 * interrupted full receive too, with abort-full: aborting it destroys the
 * target, received anew; and so does an existing target with force_delete
 * (`zfs destroy -r`; a pool root, never destroyed, is not), whose destroy
 * root unmounts for (cli/repl_confined.c). With receives_by_root the target
 * need is DELEG_RECV_BY_ROOT: no receive (delegation.h).
 */
size_t jobconf_repl_needs(const struct repl_facts *f, struct strvec *props,
			  struct deleg_need out[2]);

/*
 * The options of job j's `zkeep replicate` run (the ExecStart= of its unit)
 * as facts, with the run-time facts given; strings point into j. A local
 * target's receives are root's (its unit's receive socket, or a run as root).
 */
void jobconf_repl_facts(const struct job *j, bool target_exists, bool target_partial_full,
			struct repl_facts *f);

/* jobconf_repl_needs() of jobconf_repl_facts(). */
size_t jobconf_needs(const struct job *j, bool target_exists, bool target_partial_full,
		     struct strvec *props, struct deleg_need needs[2]);

/*
 * sanoid's job (snapshots: sanoid --cron, --take-snapshots,
 * --prune-snapshots): snapshot when it takes, destroy when it prunes, with
 * descendants, on each of roots[0..n) that is not below another of them,
 * has a valid name and exists (exists(name, ctx) - the engine's listing in
 * the worker, ZFS at ExecStartPre). Returns the number of needs written to
 * out (room for n; they point into roots), at most DELEG_MAX_NEEDS.
 */
size_t jobconf_snapshot_needs(const char *const *roots, size_t n, bool take, bool prune,
			      bool (*exists)(const char *name, void *ctx), void *ctx,
			      struct deleg_need *out);

#endif
