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
 * reach. So root lists the guarded properties (and each dataset's type) of
 * the granted trees before the worker starts and after it ended, and puts
 * back whatever the worker made less safe (confine/prop_guard.h).
 *
 * The listing is `zfs get -Hpr -t filesystem,volume -o RECV_GUARD_COLUMNS`,
 * value last: sharenfs and sharesmb are free text a worker can set, with
 * tabs and line breaks in it. recv_guard_parse() starts a row only at a line
 * whose first three fields are a dataset inside the listed roots, a listed
 * property and a source; any other line continues the previous row's value.
 * A line forged inside a value can only repeat a (dataset, property) that
 * ZFS lists as well: such a pair is marked ambiguous, and always repaired.
 */
#define RECV_GUARD_COLUMNS "name,property,source,value"

struct guard_row {
	char *dataset, *name, *value;
	unsigned source;  /* ZFS_SRC_* */
	bool ambiguous;   /* listed more than once */
};

struct guard_rows {
	struct guard_row *r; /* sorted by dataset, then property; one per pair */
	size_t n;
};
#define GUARD_ROWS_INIT { .r = NULL, .n = 0 }
void guard_rows_release(struct guard_rows *rows);

/* The properties the guard lists: "type" and every override's (not serve's mountpoint). */
void recv_guard_list_props(struct strvec *props);

/*
 * Parse such a listing of roots (each listed with its descendants) into out
 * (released first). Never fails on content: what is not a row is a value's
 * continuation; -E2BIG past a million rows.
 */
int recv_guard_parse(const char *buf, size_t len, const char *const *roots,
		     struct guard_rows *out);

/*
 * What the guard repairs in after, compared with before. A property counts
 * as weakened when its value is not acceptable - the override's (setuid
 * off...), for an -x override (zoned, exec) inherited (any source but local
 * or received) unless that dropped a local value, or the operator's own
 * value for it in keep ("k=v" from -o, "k" from -x) - and it is not as it
 * was before: on a dataset that is new (or changed its type), or whose
 * value changed (-x: value or source). An
 * ambiguous pair is always repaired. A dataset that existed gets its old
 * value back (set, when it was local or received; else inherit), a new one
 * the operator's value or the override's. Values "-" (not a property of
 * the type) are skipped. A value that a mount option shadows (source
 * "temporary": `zfs get` of a filesystem mounted nosuid while setuid is on
 * shows off) is taken as the property's, the other one.
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

void recv_guard_repairs(const struct guard_rows *before, const struct guard_rows *after,
			const char *const *keep, struct recv_repairs *out);

#endif
