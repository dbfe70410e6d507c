/*
 * zfs/recvprops.h - the quarantine of received datasets (pure: no I/O).
 *
 * A stream carries properties that root later acts on: a received
 * setuid=on or devices=on makes the mounted copy a way to root, sharenfs
 * and sharesmb export it, zoned hands it to a container, volmode=full makes
 * a received zvol's partitions appear to the host's udev, lvm and mdadm. So
 * every `zfs receive` zkeep runs (its own push and pull, and every receive
 * a `zkeep serve` key asks for) overrides them, from the one table in
 * recvprops.c, like zrepl's recv.properties.override:
 *
 *   setuid=off devices=off sharenfs=off sharesmb=off   (-o, filesystems)
 *   zoned: -x (inherited from the target's parent)     (filesystems)
 *   exec: -x (inherited: the operator's exec=off on a   (filesystems)
 *       backup tree holds for what lands in it; not forced off, so
 *       a replica meant to run still can)
 *   volmode=none                                       (-o, volumes)
 *   mountpoint: -x (serve only: inherited from the     (filesystems)
 *       server's own tree; zkeep's own receives keep the replica's
 *       mountpoint, and root mounts it only through a checked path,
 *       zfs_mount_received())
 *
 * OpenZFS refuses a -o or -x of a property that does not apply to the
 * stream's type unless the stream is recursive (-R), so the overrides are
 * chosen by the type being received.
 *
 * Only the operator may weaken one: a property that zkeep's own
 * --recvoptions name (o k=v or x k) is not overridden; a property a
 * stream carries is; a serve client that names one is refused.
 */
#ifndef ZKEEP_RECVPROPS_H
#define ZKEEP_RECVPROPS_H

#include "base/zkeep.h"
#include "base/strbuf.h"
#include "base/strvec.h"
#include "zfs/zfs.h"

/*
 * The property name of one receive -o value ("name=value", assignment
 * true) or -x value ("name", assignment false), parsed exactly: the name is
 * [a-z0-9_:.-]+ and ends at the first '=' (-o) or the end (-x). 0 with
 * *name (caller frees), or -EINVAL.
 */
int recv_prop_name(const char *word, bool assignment, char **name);

/* Whether the quarantine overrides property name (serve: mountpoint too). */
bool recv_prop_guarded(const char *name, bool serve);

/*
 * Add the overrides for a receive of type (ZFS_TYPE_FILESYSTEM or
 * ZFS_TYPE_VOLUME) to set ("k=v" for -o) and ex ("k" for -x), except those
 * the operator's own keep_set/keep_ex (NULL-terminated, may be NULL)
 * already name. set and ex should hold the operator's own values only:
 * strip what came from a stream or a source first (recv_guard_strip()).
 */
void recv_guard_args(enum zfs_type type, bool serve, const char *const *keep_set,
		     const char *const *keep_ex, struct strvec *set, struct strvec *ex);

/*
 * Whether word, a -o value (assignment) or a -x value, is exactly one of
 * the overrides ("setuid=off", "-x mountpoint" in serve...): a client may
 * repeat what the server would add, never change it.
 */
bool recv_prop_is_override(const char *word, bool assignment, bool serve);

/* Remove from set ("k=v") every assignment of a guarded property. */
void recv_guard_strip(struct strvec *set);

/* The names of every override's property (for the grants of a receive). */
void recv_guard_names(struct strvec *names);

/*
 * The worker's grants are the weak spot of the quarantine: to receive with
 * -o setuid=off it must hold the setuid permission, with which a
 * compromised worker can as well set setuid=on, on anything its grants
 * reach. So root lists the guarded properties of the granted trees before
 * the worker starts and after it ended (`zfs get`), and puts back whatever
 * the worker made less safe. A property counts as weakened when:
 *   an -o override (setuid...): its value is not the override's value and
 *       the dataset is new, or existed with another value;
 *   an -x override (zoned, exec): on a new dataset, its source is local or
 *       received; on one that existed, its value or source changed, and
 *       it is now local or received, or was local (an -x clears only a
 *       received value).
 * A new dataset gets the override (set VALUE, or inherit); one that existed
 * gets its old value back (set, when it was local or received; else
 * inherit). Properties in keep (the operator's own -o/-x names) and values
 * "-" (not a property of that type) are not checked.
 */
struct recv_repair {
	char *dataset, *name;
	char *value; /* zfs set NAME=VALUE; NULL: zfs inherit NAME */
	char *found; /* what the worker left, e.g. "on (local)" */
};

struct recv_repairs {
	struct recv_repair *r;
	size_t n;
};
#define RECV_REPAIRS_INIT { .r = NULL, .n = 0 }
void recv_repairs_release(struct recv_repairs *r);

/* Append to out the repairs that after needs, compared with before (rows of any order). */
void recv_guard_repairs(const struct zfs_props *before, const struct zfs_props *after,
			const char *const *keep, struct recv_repairs *out);

#endif
