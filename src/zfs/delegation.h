/*
 * zfs/delegation.h - the minimal `zfs allow` set a job needs (pure: no I/O).
 *
 * A command describes what its job does with a list of needs, one per
 * dataset it touches: which host ("side") the dataset lives on, whether its
 * descendants are included, whether it exists yet, and which operations the
 * job performs on it (DELEG_* flags). deleg_compute() turns that into the
 * grants to make, per host and dataset, for the ZFS version found on that
 * host. grants.h applies and revokes them.
 *
 * The rules (see docs/security.md and the OpenZFS zfs-allow(8) page):
 *   snapshot            DELEG_SNAPSHOT
 *   destroy,mount       DELEG_DESTROY_SNAPS (ZFS checks mount for destroy)
 *   send                DELEG_SEND; "send:raw" instead on 2.4+ when every
 *                       send is raw (DELEG_SEND_RAW): a decrypted send is
 *                       then refused by ZFS itself
 *   hold,release        DELEG_HOLD (NixOS grants hold only: release is
 *                       needed to ever free the snapshot again)
 *   bookmark            DELEG_BOOKMARK
 *   receive,create,mount DELEG_RECEIVE; "receive:append" instead of receive
 *                       on 2.4+ when the job never forces (no DELEG_RECV_FORCE)
 *   mount only          DELEG_RECEIVE with DELEG_RECV_BY_ROOT: root runs the
 *                       receives into this dataset (zfs/root_receive.h), so
 *                       neither receive, create nor the received properties'
 *                       permissions are granted; when it does not exist yet,
 *                       nothing at all (not its parent): root grants the new
 *                       dataset as existing once its receive made it (also
 *                       after DELEG_RECV_ABORT_FULL's destroy)
 *   rollback            DELEG_RECV_FORCE (receive -F)
 *   destroy             DELEG_RECV_ABORT (receive -A)
 *   destroy,mount on the dataset itself  DELEG_RECV_ABORT_FULL (receive -A
 *                       of an interrupted full receive destroys the partial
 *                       dataset, not a %recv child)
 *   change-key,keylocation  DELEG_RECV_RAW_ENC (raw recursive receive of
 *                       encrypted datasets re-parents encryption roots)
 *   one permission per received property: its own name, "userprop" for user
 *                       properties (names with a ':')
 *
 * A receive target that does not exist yet (exists == false) cannot carry a
 * grant. ZFS checks receive, create and mount for it on its parent, so the
 * parent (which must exist) gets exactly those, locally (-l): its other
 * children, the sibling backups, get nothing. Everything else goes into the
 * parent's create-time set (zfs allow -c, scope 'c'), which ZFS copies to
 * whoever creates a dataset below the parent as that user's local grants on
 * it: the new target, and each child a recursive receive creates in it
 * (verified on 2.1.11 and 2.3.2; OpenZFS dsl_deleg_set_create_perms). Those
 * copies are local, so what ZFS checks on snapshots (send, destroy) is not
 * granted on a dataset created in the same run. grants.h revokes the copies
 * with the uid's other grants (grants.h). A new target that is there now
 * and may be destroyed and received anew (DELEG_RECV_ABORT_FULL: a partial
 * full receive, which a resume may continue instead; --force-delete, which
 * may keep it) is also granted as the dataset it is now, with destroy,mount
 * on it and below it.
 *
 * Scope: a recursive need is granted "local+descendent" (zfs allow's
 * default). A non-recursive one on an existing dataset is split: what ZFS
 * checks on the filesystem (snapshot, hold, release, bookmark, receive,
 * create, rollback, properties...) is granted "local" (zfs allow -l); what
 * it checks on a snapshot - send and destroy,mount - "descendent" (-d),
 * because ZFS applies only descendent permissions to snapshots
 * (dsl_deleg_access_impl; verified on 2.3: destroy of ds@snap with a -l
 * grant is "permission denied"). Child filesystems get those -d rights too:
 * ZFS has no finer scope.
 *
 * Ownership: deleg_compute() fills a deleg_set that owns every string;
 * deleg_set_release() releases it (NULL-safe, and safe on DELEG_SET_INIT).
 */
#ifndef ZKEEP_DELEGATION_H
#define ZKEEP_DELEGATION_H

#include "base/strbuf.h"
#include "base/strvec.h"

#include <sys/types.h>

enum {
	DELEG_SNAPSHOT = 1 << 0,
	DELEG_DESTROY_SNAPS = 1 << 1,
	DELEG_SEND = 1 << 2,
	DELEG_SEND_RAW = 1 << 3,
	DELEG_HOLD = 1 << 4,
	DELEG_BOOKMARK = 1 << 5,
	DELEG_RECEIVE = 1 << 6,
	DELEG_RECV_FORCE = 1 << 7,
	DELEG_RECV_ABORT = 1 << 8,
	DELEG_RECV_RAW_ENC = 1 << 9,
	DELEG_RECV_ABORT_FULL = 1 << 10,
	DELEG_RECV_BY_ROOT = 1 << 11,
};
#define DELEG_ALL_OPS ((1u << 12) - 1)

/* One dataset a job touches, on one host. */
struct deleg_need {
	const char *host;       /* NULL: this host; else "[user@]host" as the job names it */
	const char *dataset;    /* valid ZFS dataset name (no '@' or '#') */
	bool recursive;         /* and everything below it */
	bool exists;            /* false: a receive target the job will create */
	unsigned ops;           /* DELEG_* */
	const char *const *recv_props; /* properties a receive sets; NULL-terminated or NULL */
};

/* One `zfs allow` to make: perms on dataset at host, in a scope. */
struct deleg_grant {
	char *host;             /* NULL: this host */
	char *dataset;
	char scope;             /* 0: local+descendent, 'l': zfs allow -l, 'd': zfs allow -d,
				 * 'c': zfs allow -c (create time: for no user, copied to
				 * the creator of each new dataset below) */
	struct strvec perms;    /* sorted, unique, e.g. {"hold", "release", "send"} */
};

struct deleg_set {
	struct deleg_grant *g;
	size_t n;
};
#define DELEG_SET_INIT { .g = NULL, .n = 0 }

/* Limits on a job description (input from config). */
#define DELEG_MAX_NEEDS 4096
#define DELEG_MAX_PROPS 256

/*
 * Compute the grants for needs[0..n) on ZFS version major.minor (of the host
 * each need names; a caller with several hosts calls once per host or passes
 * the lowest version). Needs on the same host and dataset are merged; the
 * result is ordered by host, then dataset. 0, or -EINVAL with the reason in
 * err (invalid dataset name, a new target without a parent, too many needs
 * or properties, an empty ops set).
 */
int deleg_compute(const struct deleg_need *needs, size_t n, unsigned major, unsigned minor,
		  struct deleg_set *out, struct strbuf *err);
void deleg_set_release(struct deleg_set *s);
static inline void cleanup_deleg_set(struct deleg_set *s) { deleg_set_release(s); }
#define _cleanup_deleg_set_ _cleanup_(cleanup_deleg_set)

/* "hold,release,send" (caller frees). */
char *deleg_perms_join(const struct deleg_grant *g);

/* The permission that lets a receive set property `prop` ("userprop" for user properties). */
const char *deleg_prop_perm(const char *prop);

/* True when a need's dataset name is acceptable (no '@', '#', empty component). */
bool deleg_dataset_name_ok(const char *name);

/*
 * Parse one "DATASET=OP,OP,..." job description (zkeep allow/confine
 * --grant, and the job config) into *need. OPs: snapshot, destroy, send,
 * send-raw, hold, bookmark, receive, force, abort, raw-encrypted; the flags
 * recursive and new (a receive target that does not exist yet); prop:NAME
 * for each property a receive sets. Strings are copied into store (which
 * must outlive need); need->recv_props points into props_store.
 * 0 or -EINVAL with the reason in err.
 */
int deleg_parse_need(const char *spec, struct deleg_need *need, struct strvec *store,
		     struct strvec *props_store, struct strbuf *err);

/*
 * Which of grant g's permissions the output of `zfs allow DATASET` (text,
 * for g->dataset) shows as held by a principal: the user (by name or as
 * "(unknown: UID)"), any of its groups (names), or everyone. A permission
 * counts when it is granted on the dataset itself in a scope that covers
 * g->scope, or on an ancestor as descendent; for a create-time grant (scope
 * 'c'), when the dataset's create-time set has it or the user holds it there
 * as descendent. Permission sets (@name) are not expanded. The missing ones
 * are appended to `missing` as the `zfs allow` that grants them. Pure.
 */
void deleg_missing(const struct deleg_grant *g, const char *text, const char *user, uid_t uid,
		   const char *const *groups, struct strvec *missing);

/*
 * The create-time set of `dataset` in the output of `zfs allow DATASET`
 * (its "Create time permissions:" section), appended to perms without
 * duplicates. Pure.
 */
void deleg_create_time(const char *text, const char *dataset, struct strvec *perms);

/*
 * What `zfs allow DATASET` (text) shows as delegated on dataset itself (not
 * on its ancestors), as the arguments of the `zfs unallow` that removes
 * each: "-u\tNAME", "-g\tNAME", "-e" (everyone), "-c" (the create-time
 * set), "-s\t@SET" (a permission set), appended to out without
 * duplicates. Pure. A drive someone plugs in may carry any of them.
 */
void deleg_unallow_all(const char *text, const char *dataset, struct strvec *out);

/*
 * Where to run `zfs unallow -r -u UID` so that each dataset of a tree that
 * was created after txg `after` loses the uid's grants (the create-time
 * copies). listing: "CREATETXG<TAB>NAME" lines, as `zfs get -Hpr -o
 * value,name createtxg TREE` prints them. `zfs unallow -r` reaches only a
 * dataset's direct children (OpenZFS cmd/zfs set_deleg_perms: one
 * zfs_iter_filesystems level; seen on 2.3.2 with a grandchild), so the
 * answer is each new dataset below an even number of new ancestors. Names
 * are appended to out. 0, or -EINVAL for a line that is not TXG<TAB>NAME.
 * Pure.
 */
int deleg_created_since(const char *listing, uint64_t after, struct strvec *out);

#endif
