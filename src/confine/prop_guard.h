/*
 * confine/prop_guard.h - root puts back the guarded properties a worker
 * weakened (I/O).
 *
 * A worker that receives holds the permissions of the quarantine's
 * properties (setuid, devices, sharenfs, sharesmb, zoned, exec, volmode:
 * zfs/recvprops.h), since `zfs receive -o setuid=off` needs them. The same
 * grants let a compromised worker set setuid=on on any dataset they reach,
 * which root would then mount as it is (now, or at the next boot). So
 * before the worker starts, root lists those properties of every tree a
 * grant with such a permission covers (one `zfs get`, zfs/recvprops.h),
 * lists them again when the
 * worker has ended, and repairs, as root, what recv_guard_repairs() finds
 * weakened. Every granted dataset is listed with its descendants (a local
 * create grant is enough to make a zvol child). Run only as root; grants on
 * other hosts are their admin's.
 *
 * Functions return 0 or -errno with a message in err; nothing is logged.
 */
#ifndef ZKEEP_PROP_GUARD_H
#define ZKEEP_PROP_GUARD_H

#include "zfs/delegation.h"
#include "zfs/recvprops.h"
#include "zfs/runner.h"
#include "base/strbuf.h"

struct prop_guard {
	struct strvec roots;          /* the granted datasets, each with its descendants */
	struct strbuf before_text;    /* the listing before the worker, as zfs printed it */
	const char *const *keep;      /* the operator's own o k=v / x k words: theirs */
	bool armed;                   /* before_text was taken (or loaded) */
};
#define PROP_GUARD_INIT { .roots = STRVEC_INIT, .before_text = STRBUF_INIT }
void prop_guard_release(struct prop_guard *g);

/*
 * Before the worker starts: which of set's grants (on this host) carry a
 * guarded property's permission, and their properties now. Nothing to
 * guard: 0, not armed.
 */
int prop_guard_begin(struct prop_guard *g, const struct deleg_set *set,
		     const char *const *keep, struct runner *run, struct strbuf *err);

/*
 * After the worker ended: list again, and put back (zfs set or inherit, as
 * root) what it weakened. Each repair is appended to `repaired` as
 * "DATASET NAME: FOUND -> VALUE|inherited". -EPERM (the worker is not to be
 * trusted: the run failed) when anything was repaired, with what in err;
 * another -errno when the check or a repair failed.
 */
int prop_guard_end(struct prop_guard *g, struct runner *run, struct strvec *repaired,
		   struct strbuf *err);

/*
 * The systemd shape (`zkeep allow --apply`, the unit's worker, `--revoke`
 * in another process): keep an armed guard's roots and listing in a file
 * root owns, replaced whole (mode 0600; nothing is written when not armed),
 * and read it back for prop_guard_end(). load: -ENOENT when there is none;
 * a file that is not root's regular file, or not a guard, is refused.
 */
int prop_guard_save(const struct prop_guard *g, const char *path, struct strbuf *err);
int prop_guard_load(struct prop_guard *g, const char *path, const char *const *keep,
		    struct strbuf *err);

#endif
