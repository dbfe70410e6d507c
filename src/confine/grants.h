/*
 * confine/grants.h - crash-safe `zfs allow` for a run uid (I/O).
 *
 * A run gets a transient uid from a configured range (no passwd entry is
 * needed: `zfs allow -u NUMBER` stores the number). Its grants are written to
 * a journal in the state directory, and fsync'ed, BEFORE each `zfs allow`;
 * after the run they are revoked (`zfs unallow -u UID dataset`, which removes
 * every permission of that uid there, local and descendent) and the journal
 * is removed. A crash between the two leaves the journal: the next start
 * (grants_recover) revokes what it lists. The journal stays locked (flock)
 * for as long as its run lives, so recovery never touches a live run, and a
 * uid with a journal on disk is never handed out again: a uid is not reused
 * while a grant for it may exist.
 *
 * Under systemd (units.c), systemd is the supervisor: the unit's
 * ExecStartPre=+ grants to the unit's DynamicUser uid and its ExecStopPost=+
 * revokes, each a short `zkeep allow` process, so no process holds a lock
 * for the run. Those journals are named after the job instead
 * (STATE/grants/job-NAME.UID.journal): grants_recover() leaves them to the
 * job's own next start and to `zkeep allow --recover` (run at boot, when no
 * job can be running).
 *
 * Layout: STATE/grants/UID.journal, text:
 *     zkeep-grants 2                            (1 is read too: no create lines)
 *     pool<TAB>HOST<TAB>POOL<TAB>GUID           (before its first allow)
 *     allow<TAB>HOST<TAB>DATASET<TAB>PERMS      ("-" for this host)
 *     txg<TAB>HOST<TAB>DATASET<TAB>TXG          (before a create line, or an allow
 *                                                line with create: the newest
 *                                                createtxg in DATASET's tree)
 *     create<TAB>HOST<TAB>DATASET<TAB>ADDED     (a create-time grant: ADDED, or
 *                                                "-", is what it added to
 *                                                DATASET's create-time set)
 *
 * A create-time grant (scope 'c', delegation.h) is for no uid: ZFS copies it
 * to the uid of whoever creates a dataset below DATASET. Its revoke removes
 * from the set only what the run added (the operator's own stay), then the
 * uid's grants on each dataset of the tree created after TXG (the copies;
 * zfs unallow -r where it covers two levels, deleg_created_since()). ZFS
 * copies a create-time set to whoever creates a dataset anywhere below it:
 * another run with create on a dataset below (an existing target it
 * receives new children into) gets copies too, so every allow grant with
 * create is revoked the same way on what was made below it since. Two runs
 * that make new datasets under one parent at once share the set: the first
 * to end removes it, and the other's target, if not yet created, is refused
 * (permission denied) until its next run.
 *
 * A grant is revoked only on the pool it was made on: while that pool is
 * not imported (exported, a drive unplugged, or another pool of the same
 * name imported instead) its entry and the journal stay ("pending"), and so
 * does the uid's block; the next recovery after the pool is back revokes
 * it. Only on that very pool, imported, does "dataset does not exist" count
 * as revoked (the grants of a dataset are stored in it and go with it).
 *
 * Every zfs command is an argv vector through a runner (runner.h); for a
 * grant on another host the caller's runner_for(ctx, host) returns the
 * runner of that host (NULL host: this one). Runners stay owned by the
 * caller.
 *
 * Functions return 0 or -errno with a message in err. Nothing is logged.
 */
#ifndef ZKEEP_GRANTS_H
#define ZKEEP_GRANTS_H

#include "zfs/delegation.h"
#include "zfs/runner.h"

#include <sys/types.h>

#define GRANTS_UID_MIN_DEFAULT 60700u
#define GRANTS_UID_MAX_DEFAULT 60799u
#define GRANTS_MAX_ENTRIES 65536

typedef struct runner *(*grants_runner_fn)(void *ctx, const char *host);

struct grants {
	char *dir;       /* STATE/grants */
	char *journal;   /* STATE/grants/UID.journal */
	uid_t uid;
	int fd;          /* the journal, open and flock'ed; -1 when none */
	size_t applied;  /* number of `zfs allow` made so far */
};
#define GRANTS_INIT { .dir = NULL, .journal = NULL, .uid = 0, .fd = -1, .applied = 0 }

/*
 * Revoke the grants of every journal in STATE/grants that no live run holds
 * (crashed runs). Each revoked journal is removed; one whose grants cannot
 * all be revoked (a pool not imported, a host unreachable) stays, with its
 * uid. For each revoked entry a line "HOST DATASET uid UID" is appended to
 * `done`, for each entry waiting for its pool "HOST DATASET uid UID: REASON
 * (journal PATH)" to `pending` (either may be NULL). Returns 0 (also with
 * entries pending), or the first error (the others are still tried).
 */
int grants_recover(const char *state_dir, bool include_jobs, grants_runner_fn runner_for,
		   void *ctx, struct strvec *done, struct strvec *pending, struct strbuf *err);

/*
 * The systemd shape: refuse a uid in a user's subordinate ids (-EPERM),
 * revoke what journals of job `job` list (a run that ended without its
 * ExecStopPost), then create and lock the journal
 * job-JOB.UID.journal for uid. -EBUSY while grants of the job's last run
 * wait for their pool (the uid is not lent more). grants_apply() as usual;
 * then grants_detach() closes the journal and keeps it (and the grants) for
 * grants_revoke_job() at the end of the run.
 */
int grants_begin_job(struct grants *g, const char *state_dir, const char *job, uid_t uid,
		     grants_runner_fn runner_for, void *ctx, struct strbuf *err);
void grants_detach(struct grants *g);
/*
 * The journal of job `job`'s run under way (grants_begin_job()'s, kept by
 * grants_detach()): its uid, and it opened for appending into *fd (a
 * grant made for the run meanwhile is revoked with the rest; fd NULL: the
 * uid alone, from the journal's name, nothing opened). -ENOENT when
 * the job has none (no run holds grants), -EEXIST when it has several.
 */
int grants_job_journal(const char *state_dir, const char *job, uid_t *uid, int *fd,
		       struct strbuf *err);
/* Revoke and remove every journal of job `job`; done and pending as for grants_recover(). */
int grants_revoke_job(const char *state_dir, const char *job, grants_runner_fn runner_for,
		      void *ctx, struct strvec *done, struct strvec *pending, struct strbuf *err);

/*
 * Take a free run uid in [uid_min, uid_max]: one with no journal, no
 * passwd entry and in no user's subordinate ids (base/subid.h). Creates
 * and locks its journal. -EAGAIN when all are taken.
 */
int grants_begin(struct grants *g, const char *state_dir, uid_t uid_min, uid_t uid_max,
		 struct strbuf *err);

/*
 * Check that delegation is on for every pool of the set (zpool get
 * delegation), then for each grant: journal it (fsync), then
 * `zfs allow [-l] -u UID PERMS DATASET`. Stops at the first failure (what
 * was applied is journalled: call grants_end() in every case).
 */
int grants_apply(struct grants *g, const struct deleg_set *set, grants_runner_fn runner_for,
		 void *ctx, struct strbuf *err);

/*
 * Revoke everything the journal lists (also entries whose `zfs allow` may
 * or may not have happened), then remove the journal and unlock. When a
 * revoke fails or waits for its pool (-ENXIO) the journal stays for
 * grants_recover(). Safe on GRANTS_INIT.
 */
int grants_end(struct grants *g, grants_runner_fn runner_for, void *ctx, struct strbuf *err);

/* A runner_for that always returns ctx (a single local runner). */
struct runner *grants_same_runner(void *ctx, const char *host);

#endif
