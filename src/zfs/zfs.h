/*
 * zfs/zfs.h - every ZFS operation zkeep needs, through the zfs and zpool CLIs.
 *
 * All calls go through a runner (runner.h), so the same code works on this
 * host and on a remote one. Output is always requested with -Hp (tabs,
 * exact numbers) and parsed by the pure functions at the end of this file,
 * which are unit-tested and fuzzed without ZFS.
 *
 * Listing is done per tree, never per dataset: zfs_list_tree() reads every
 * dataset, snapshot and bookmark under a set of roots, with the properties
 * asked for, in ONE `zfs list` call.
 *
 * Errors: functions return 0 or a negative errno (-ENOENT when ZFS says the
 * dataset does not exist, -EEXIST when it exists already, -EPERM when
 * permission is denied, -EBUSY when busy, -ENOEXEC when the program could not
 * run, -EIO for any other failure of the command). The message - the
 * operation, the dataset and ZFS's own words - is in zfs_error(z) until the
 * next call. The backend never logs.
 */
#ifndef ZKEEP_ZFS_H
#define ZKEEP_ZFS_H

#include "zfs/runner.h"

#include <time.h>

struct zfs {
	struct runner *run; /* not owned */
	struct strbuf err;  /* message of the last failure */
	bool dry_run;       /* when set, changing calls only record their argv in `planned` */
	struct strvec planned; /* with dry_run: each would-be command, words joined by spaces */
	bool no_holds_p;    /* `zfs holds` has no -p (OpenZFS 2.1): found on first use */
};

void zfs_init(struct zfs *z, struct runner *run);
void zfs_release(struct zfs *z);
static inline const char *zfs_error(const struct zfs *z) { return z->err.buf; }

/* ---- version and features ---------------------------------------------- */

struct zfs_version {
	unsigned major, minor, patch; /* of the userland tools; 0.0.0 unknown */
	unsigned kmod_major, kmod_minor, kmod_patch;
};
/* `zfs version`. */
int zfs_get_version(struct zfs *z, struct zfs_version *v);
/* True when version v is at least major.minor. */
bool zfs_version_at_least(const struct zfs_version *v, unsigned major, unsigned minor);

/* ---- listing ----------------------------------------------------------- */

enum zfs_type {
	ZFS_TYPE_FILESYSTEM = 1,
	ZFS_TYPE_VOLUME = 2,
	ZFS_TYPE_SNAPSHOT = 4,
	ZFS_TYPE_BOOKMARK = 8,
};
const char *zfs_type_name(enum zfs_type t);
/* Whether dataset name is strictly below root ("a/b" below "a"; not "ab", not "a"). */
bool zfs_name_below(const char *name, const char *root);
/* Whether name is root itself or below it. */
bool zfs_name_within(const char *name, const char *root);

/* A snapshot or a bookmark. */
struct zfs_snap {
	char *name;        /* full name, "pool/fs@snap" or "pool/fs#mark" */
	const char *short_name; /* inside name, after '@' or '#' */
	enum zfs_type type;
	uint64_t guid, createtxg;
	int64_t creation;  /* seconds since the epoch */
	char **props;      /* values of tree->props in order; NULL where "-" */
};

struct zfs_dataset {
	char *name;
	enum zfs_type type;
	uint64_t guid, createtxg;
	int64_t creation;
	char **props;      /* values of tree->props in order; NULL where "-" */
	/* Snapshots and bookmarks, oldest first: by createtxg, a snapshot
	 * before a bookmark of the same txg. */
	struct zfs_snap *snaps;
	size_t nsnaps;
};

struct zfs_tree {
	struct zfs_dataset *ds; /* in zfs's order: a parent before its children */
	size_t nds;
	struct strvec props;    /* the extra properties asked for */
	/* ds's indices by name (then index), for zfs_tree_find(); made by
	 * zfs_parse_list(), used while it covers all nds */
	size_t *by_name;
	size_t nby_name;
};
#define ZFS_TREE_INIT { .ds = NULL, .nds = 0, .props = STRVEC_INIT, .by_name = NULL, \
			.nby_name = 0 }

enum {
	ZFS_LIST_RECURSIVE = 1 << 0, /* the roots and everything below them */
	ZFS_LIST_SNAPSHOTS = 1 << 1, /* include snapshots */
	ZFS_LIST_BOOKMARKS = 1 << 2, /* include bookmarks */
};

/*
 * List roots (NULL-terminated; may be several) in one call, with the extra
 * properties `props` (NULL-terminated, may be NULL; user properties too).
 * When a root does not exist the rest is still listed, and the return is
 * -ENOENT with every missing root named in zfs_error().
 */
int zfs_list_tree(struct zfs *z, const char *const *roots, unsigned flags,
		  const char *const *props, struct zfs_tree *out);
/*
 * The snapshots of datasets (NULL-terminated, each a row of rows) by name, guid and
 * createtxg only, added to rows as zfs_parse_snapshot_ids() does. One
 * `zfs list -t snapshot -d 1 -o name,guid,createtxg`: ZFS 2.2+ lists these columns
 * without reading each snapshot's properties, about 5x faster than zfs_list_tree()
 * (bench/RESULTS.md, 2026-12-05 12:06).
 * A dataset destroyed meanwhile is left out (-ENOENT, as zfs_list_tree).
 */
int zfs_list_snapshot_ids(struct zfs *z, const char *const *datasets, struct zfs_tree *rows);
void zfs_tree_release(struct zfs_tree *t);
/* The dataset named name (the first listed if twice), or NULL: O(log n) after a parse. */
struct zfs_dataset *zfs_tree_find(const struct zfs_tree *t, const char *name);
/* Index of a property name in t->props, or -1. */
ssize_t zfs_tree_prop_index(const struct zfs_tree *t, const char *prop);
/* The snapshot of ds with this short name, or NULL. */
struct zfs_snap *zfs_dataset_find_snap(const struct zfs_dataset *ds, const char *short_name);
/* The snapshot "pool/fs@snap" of t by its full name, or NULL. */
struct zfs_snap *zfs_tree_find_snap(const struct zfs_tree *t, const char *full_name);
/* The snapshot or bookmark (types: ZFS_TYPE_SNAPSHOT | ZFS_TYPE_BOOKMARK) with this guid, or NULL. */
const struct zfs_snap *zfs_dataset_find_guid(const struct zfs_dataset *ds, uint64_t guid,
					     unsigned types);
const struct zfs_snap *zfs_tree_find_guid(const struct zfs_tree *t, uint64_t guid, unsigned types);

/* ---- properties -------------------------------------------------------- */

enum {
	ZFS_SRC_LOCAL = 1 << 0,
	ZFS_SRC_DEFAULT = 1 << 1,
	ZFS_SRC_INHERITED = 1 << 2,
	ZFS_SRC_RECEIVED = 1 << 3,
	ZFS_SRC_TEMPORARY = 1 << 4,
	ZFS_SRC_NONE = 1 << 5, /* read-only properties: source "-" */
};

struct zfs_prop {
	char *dataset, *name, *value; /* value "-" when unset */
	unsigned source;              /* one ZFS_SRC_* */
	char *inherited_from;         /* with ZFS_SRC_INHERITED, else NULL */
};

struct zfs_props {
	struct zfs_prop *p;
	size_t n;
};

/*
 * `zfs get -Hp` of props (NULL = all) on datasets, with -r when recursive,
 * filtered to the sources in `sources` (0 = any).
 */
int zfs_get_props(struct zfs *z, const char *const *datasets, bool recursive,
		  const char *const *props, unsigned sources, struct zfs_props *out);
/*
 * `zfs get -Hpr -t filesystem,volume -o COLUMNS PROPS DATASETS`, its output as
 * text, for a parser that must not trust a column split (a free-text value
 * such as sharenfs may hold tabs and line breaks: recv_guard_parse()).
 */
int zfs_get_text(struct zfs *z, const char *const *datasets, const char *columns,
		 const char *const *props, struct strbuf *out);
void zfs_props_release(struct zfs_props *p);
/* One value of one dataset (caller frees). -ENOENT: no such dataset. */
int zfs_get_prop(struct zfs *z, const char *dataset, const char *prop, char **value);
/* Whether a dataset (or snapshot) exists: 1 yes, 0 no (also when zfs cannot say). */
int zfs_exists(struct zfs *z, const char *name);
/* `zfs set k=v ...` (assignments NULL-terminated). */
int zfs_set_props(struct zfs *z, const char *dataset, const char *const *assignments);
/* `zfs inherit PROP DATASET` (also over a received value). */
int zfs_inherit_prop(struct zfs *z, const char *dataset, const char *prop);
/* `zfs unmount FILESYSTEM` (only it: a filesystem mounted below it stays, and makes it busy). */
int zfs_unmount(struct zfs *z, const char *filesystem);

/* ---- changing datasets ------------------------------------------------- */

/* `zfs create [-p] [-o k=v]... name`. */
int zfs_create(struct zfs *z, const char *name, bool parents, const char *const *props);

/*
 * `zfs snapshot [-r] [-o k=v]... a@s b@s ...`: all names in one atomic call.
 */
int zfs_snapshot(struct zfs *z, const char *const *snapshots, bool recursive,
		 const char *const *props);

/*
 * Destroy snapshots of one dataset by short name, batched as
 * `zfs destroy dataset@a,b,c` (split so that no argument passes 64 KiB).
 * Stops at the first failing batch.
 */
int zfs_destroy_snapshots(struct zfs *z, const char *dataset, const char *const *short_names);

/*
 * Destroy the snapshots of several datasets, `names[i]` (short names) of
 * `datasets[i]`, with up to `parallel` `zfs destroy datasets[i]@a,b,c` running
 * at once. Each call waits for a txg sync; calls running together share txgs,
 * so 200 datasets take a few txgs instead of 200. This is the way without
 * root, where channel programs are not allowed. ok[i] tells whether dataset
 * i's call succeeded; a dataset whose names do not fit one call is not tried
 * (ok false), nor is one whose call failed retried: the caller goes on with
 * zfs_destroy_snapshots() for those, which words the error. With dry_run each
 * call is recorded and ok.
 */
void zfs_destroy_snapshots_parallel(struct zfs *z, const char *const *datasets,
				    const char *const *const *names, size_t n, unsigned parallel,
				    bool *ok);

/*
 * Destroy snapshots (full names) of ONE pool in one process per ~96 KiB of
 * names: a ZFS channel program (`zfs program POOL`, root only) calling
 * zfs.sync.destroy() on each. `zfs destroy` takes the snapshots of one
 * dataset per call, so with many datasets this saves a process per dataset.
 * Unlike `zfs destroy a@x,y`, a snapshot that cannot go (held, cloned) does
 * not stop the others. Appends each destroyed name to `done`, and each one
 * that failed to `failed` with the reason (strerror text) at the same index
 * of `reasons`. Returns 0, or -ENOTSUP (message in zfs_error) when the first
 * program could not run at all (not root, channel programs not allowed):
 * nothing was destroyed and the caller may fall back to
 * zfs_destroy_snapshots(). Ignores dry_run: callers decide.
 */
int zfs_destroy_snapshots_zcp(struct zfs *z, const char *pool, const char *const *snapshots,
			      struct strvec *done, struct strvec *failed, struct strvec *reasons);

enum {
	ZFS_DESTROY_RECURSIVE = 1 << 0, /* -r */
	ZFS_DESTROY_DEFER = 1 << 1,     /* -d */
};
/* Destroy one dataset, snapshot or bookmark. */
int zfs_destroy(struct zfs *z, const char *name, unsigned flags);

/* `zfs rollback [-r] snap`. */
int zfs_rollback(struct zfs *z, const char *snapshot, bool destroy_newer);

/* ---- holds and bookmarks ----------------------------------------------- */

int zfs_hold(struct zfs *z, const char *tag, const char *const *snapshots, bool recursive);
int zfs_hold_release(struct zfs *z, const char *tag, const char *const *snapshots, bool recursive);

struct zfs_hold {
	char *snapshot, *tag;
	int64_t timestamp;
};
struct zfs_holds {
	struct zfs_hold *h;
	size_t n;
};
/*
 * `zfs holds -Hp [-r] snap...`. OpenZFS 2.1 has no -p: after its "invalid
 * option 'p'" the call is made again with -H alone, whose local dates give
 * timestamps to the minute (seconds 0); later calls on z go straight to -H.
 */
int zfs_list_holds(struct zfs *z, const char *const *snapshots, bool recursive,
		   struct zfs_holds *out);
void zfs_holds_release(struct zfs_holds *h);

/* `zfs bookmark SNAP_OR_BOOKMARK BOOKMARK`. */
int zfs_bookmark(struct zfs *z, const char *source, const char *bookmark);

/* ---- send and receive -------------------------------------------------- */

struct zfs_send_args {
	const char *snapshot;     /* what to send; NULL when resuming */
	const char *from;         /* incremental base: "fs@a", "@a" or "fs#mark"; NULL = full */
	bool intermediates;       /* -I (all snapshots between) instead of -i */
	bool raw;                 /* -w */
	bool replicate;           /* -R */
	bool props;               /* -p */
	bool large_blocks;        /* -L */
	bool embed;               /* -e */
	bool compressed;          /* -c */
	bool holds;               /* -h */
	bool saved;               /* -S: a partially received dataset */
	const char *resume_token; /* -t TOKEN (the other fields but flags ignored) */
	const char *extra_flags;  /* validated one-letter flags to add, e.g. "Lce" */
};

/* The argv of a send; `estimate` makes it `zfs send -nvP ...` (pure). */
void zfs_send_argv(const struct zfs_send_args *a, bool estimate, struct strvec *argv);
/* Size in bytes of what the send would transfer (zfs send -nvP). */
int zfs_send_estimate(struct zfs *z, const struct zfs_send_args *a, uint64_t *bytes);

struct zfs_recv_args {
	const char *target;
	bool resumable;      /* -s */
	bool force;          /* -F */
	bool no_mount;       /* -u */
	bool discard_first;  /* -d */
	bool verbose;        /* -v */
	const char *const *set_props;     /* each "-o k=v" (NULL-terminated, may be NULL) */
	const char *const *exclude_props; /* each "-x k" */
	const char *extra_flags;          /* validated one-letter flags */
};
void zfs_recv_argv(const struct zfs_recv_args *a, struct strvec *argv);

/*
 * A running `zfs send` or `zfs receive`. Its stderr goes to an anonymous
 * file, read by zfs_proc_finish(), so nobody has to drain it while data
 * flows.
 */
struct zfs_proc {
	struct child c;
	int errfd;
	char *what; /* "zfs send pool/a@x" for messages */
};
#define ZFS_PROC_INIT { .c = CHILD_INIT, .errfd = -1, .what = NULL }

/*
 * Start `zfs send` writing to out_fd (an fd, or SPAWN_PIPE: then read
 * p->c.out). Start `zfs receive` reading from in_fd (an fd or SPAWN_PIPE:
 * then write p->c.in).
 */
int zfs_send_start(struct zfs *z, const struct zfs_send_args *a, int out_fd, struct zfs_proc *p);
int zfs_recv_start(struct zfs *z, const struct zfs_recv_args *a, int in_fd, struct zfs_proc *p);
/*
 * Wait for the process; 0 when it exited 0, else an error with its stderr in
 * zfs_error(z) (also on success, stderr is kept there: zfs receive prints
 * warnings about properties it could not set).
 */
int zfs_proc_finish(struct zfs *z, struct zfs_proc *p);
/* Kill (SIGTERM) and reap a process that is no longer wanted. */
void zfs_proc_kill(struct zfs_proc *p);

/* receive_resume_token of a dataset; *token NULL when there is none. */
int zfs_get_resume_token(struct zfs *z, const char *dataset, char **token);
/* `zfs receive -A dataset`: discard a partially received state. */
int zfs_recv_abort(struct zfs *z, const char *dataset);
/*
 * Whether the dataset name exists (false also when zfs cannot say), and
 * whether it holds the partial state of an interrupted FULL receive: a
 * resume token and no snapshot yet (aborting it destroys name itself;
 * false when either question fails). One `zfs get`, and a snapshot listing
 * only when there is a token.
 */
void zfs_receive_target_state(struct zfs *z, const char *name, bool *exists, bool *partial_full);
/*
 * Where root mounts what a run receives into target, added to areas, from
 * real mounts (/proc/self/mountinfo) wherever there is one, never from a
 * mountpoint property that a receive or a worker may have changed without
 * a remount: the directory target inherits from its parent (where the
 * parent is mounted now, then target's last name; a parent that is not
 * mounted: its mountpoint property, which the operator set); for a pool's
 * root, its mountpoint while that is ZFS's default; and where target is
 * mounted now (by hand, or by root before). None from a mountpoint that is
 * none or legacy, or a pool root's that was set. Ask before the worker
 * runs. 0, or the errno of asking (message in z->err).
 */
int zfs_received_mount_areas(struct zfs *z, const char *target, struct strvec *areas);

/*
 * What `zfs receive` as root would have mounted: `zfs mount` each filesystem
 * under root (with recursive, its descendants too, parents first) with
 * canmount=on and a mountpoint, not mounted yet. Each mount that fails adds
 * "NAME: zfs's message" to failed. A dataset whose mountpoint lies outside
 * every one of areas (NULL-terminated, zfs_received_mount_areas(); none:
 * nothing is mounted) - one a stream, --preserve-properties or a worker
 * set - is not mounted: "NAME: mountpoint PATH: why" goes to elsewhere. One
 * whose mountpoint does not lead only through root's own directories
 * (path_root_only(): a symbolic link planted in a received parent's
 * content, a directory a user owns) is not mounted either: the same words
 * go to refused. Either kind gets canmount=noauto, so that no boot or `zfs
 * mount -a` mounts it where root would not. A listing that names a dataset
 * twice or one outside root (a line break in a property value could fake a
 * line) mounts nothing:
 * -EINVAL, said in refused. 0, or the errno of listing them (message in
 * z->err).
 */
int zfs_mount_received(struct zfs *z, const char *const *areas, const char *root, bool recursive,
		       struct strvec *failed, struct strvec *elsewhere, struct strvec *refused);

/* ---- diff and delegation ----------------------------------------------- */

/*
 * `zfs diff -FHt a b` into out (zdiff.h parses it). On failure zfs_error()
 * holds only the reason, zfs's own words or "output too large", for the
 * caller to name the snapshots.
 */
int zfs_diff(struct zfs *z, const char *a, const char *b, struct strbuf *out);
/* `zfs allow DATASET`: the permissions delegated on it, as zfs prints them. */
int zfs_allow_list(struct zfs *z, const char *dataset, struct strbuf *out);
/*
 * The argv of `zfs allow [-l|-d] -u UID PERMS DATASET` (scope 'l', 'd' or 0
 * for both; 'c': `zfs allow -c PERMS DATASET`, the create-time set, for no
 * uid), of `zfs unallow [-r] -u UID DATASET` (every grant of UID there, and
 * with recursive below it too) and of `zfs unallow -c PERMS DATASET` (pure).
 */
void zfs_allow_argv(char scope, uid_t uid, const char *perms, const char *dataset,
		    struct strvec *argv);
void zfs_unallow_argv(uid_t uid, bool recursive, const char *dataset, struct strvec *argv);
void zfs_unallow_create_argv(const char *perms, const char *dataset, struct strvec *argv);
/* `zfs unallow WHO DATASET`, WHO one entry of deleg_unallow_all() ("-u\tNAME", "-e", ...). */
int zfs_unallow_who(struct zfs *z, const char *who, const char *dataset);
/* `zpool set PROP=VALUE POOL`. */
int zpool_set_prop(struct zfs *z, const char *pool, const char *prop, const char *value);

/* ---- pools ------------------------------------------------------------- */

struct zpool_info {
	char *name, *health;
	uint64_t guid, size, allocated, free;
	unsigned capacity; /* percent */
};
struct zpool_infos {
	struct zpool_info *p;
	size_t n;
};
/* `zpool list -Hp` of pools (NULL = all). */
int zpool_list(struct zfs *z, const char *const *pools, struct zpool_infos *out);
void zpool_infos_release(struct zpool_infos *p);
/* `zpool get -Hp value PROP pool` (e.g. "delegation", "feature@bookmarks"). */
int zpool_get_prop(struct zfs *z, const char *pool, const char *prop, char **value);
/*
 * Properties of pools in one `zpool get -Hp -o name,property,value P1,P2,...
 * POOL...` (each zpool process costs more than its answer): values[i *
 * nprops + k] (caller frees each) is pools[i]'s props[k], matched by exact
 * names. Fails (nothing set) when one pool is not there: ask it alone to
 * tell which.
 */
int zpool_get_pools_props(struct zfs *z, const char *const *pools, size_t npools,
			  const char *const *props, size_t nprops, char **values);
/* One property of n distinct pools: values[i] is pools[i]'s. */
int zpool_get_prop_pools(struct zfs *z, const char *prop, const char *const *pools, size_t n,
			 char **values);
enum {
	ZPOOL_IMPORT_NO_CACHEFILE = 1 << 1, /* -o cachefile=none: nothing imports it at boot */
	ZPOOL_IMPORT_NO_MOUNT = 1 << 2,     /* -N */
	/* -o delegation=off: no `zfs allow` the pool carries works until root turns it on */
	ZPOOL_IMPORT_NO_DELEGATION = 1 << 3,
};
/*
 * `zpool import [-d dir]... [-o ...] [-o altroot=ALTROOT] [-N] NAME_OR_GUID`;
 * dirs and altroot may be NULL.
 * Ignores dry_run (zkeep drive looks at a drive by importing it). On
 * failure zfs_error() names the whole command line, since the directories
 * searched matter:
 * "'zpool import -d DIR NAME' failed (exit status 1): cannot import ...";
 * -ENOEXEC with "cannot run zpool import: REASON" when zpool did not run.
 */
int zpool_import(struct zfs *z, const char *name_or_guid, const char *const *dirs,
		 const char *altroot, unsigned flags);
/*
 * `zpool import [-d dir]...`: the text of what could be imported (exit
 * status 1, "no pools available to import", is no error). Fails only when
 * zpool did not run: -ENOEXEC, "cannot run zpool import: REASON".
 */
int zpool_import_scan(struct zfs *z, const char *const *dirs, struct strbuf *out);
int zpool_export(struct zfs *z, const char *pool);
/* `zpool scrub [-w] pool`. */
int zpool_scrub(struct zfs *z, const char *pool, bool wait);
/*
 * `zpool list -o COLUMNS POOL` in zpool's own rounded units with its header
 * line - the one call without -Hp, for sanoid's monitor lines, which show
 * exactly this text ("Size:9.50G"). out gets what it printed even when it
 * failed (the return value says whether it did).
 */
int zpool_list_human(struct zfs *z, const char *pool, const char *columns, struct strbuf *out);
/*
 * The text of `zpool status -p pool` (parse it with zpool_parse_status()).
 * out gets what zpool printed even when it failed.
 */
int zpool_status(struct zfs *z, const char *pool, struct strbuf *out);
/*
 * `zpool list -vHPL pool`: the pool and its vdevs, a line each, devices as
 * full paths with symlinks resolved (drive_parse_vdevs() reads it).
 */
int zpool_list_devices(struct zfs *z, const char *pool, struct strbuf *out);

/* ---- pure parsers (no I/O; unit-tested and fuzzed) ---------------------- */

/*
 * Parse `zfs list -Hp -o name,type,guid,createtxg,creation[,props...]` output
 * with nprops extra columns into out (which must be empty, with out->props
 * already holding the names). 0 or -EINVAL with the line in err.
 */
int zfs_parse_list(const char *buf, size_t len, struct zfs_tree *out, struct strbuf *err);
/*
 * Parse `zfs list -Hp -o name,guid,createtxg -t snapshot` output into the snapshots of
 * rows' datasets (rows holds dataset rows, as zfs_parse_list makes them): type snapshot,
 * creation 0, every prop NULL. A snapshot of a dataset not in rows is left out.
 * 0 or -EINVAL with the line in err.
 */
int zfs_parse_snapshot_ids(const char *buf, size_t len, struct zfs_tree *rows,
			   struct strbuf *err);
/* `zfs get -Hp -o name,property,value,source`. */
int zfs_parse_get(const char *buf, size_t len, struct zfs_props *out, struct strbuf *err);
/*
 * `zfs get`'s source column (n bytes at s) as a ZFS_SRC_*; *from gets the X
 * of "inherited from X" (caller frees), else NULL. 0 or -EINVAL.
 */
int zfs_source_parse(const char *s, size_t n, unsigned *src, char **from);
/* A ZFS_SRC_* as `zfs get` words it ("inherited" without its "from X"). */
const char *zfs_source_word(unsigned source);
/* `zfs holds -Hp`: name, tag, timestamp (or 2.1's `zfs holds -H` date, to the minute). */
int zfs_parse_holds(const char *buf, size_t len, struct zfs_holds *out, struct strbuf *err);
/* The "size\t<bytes>" line of `zfs send -nvP`. -ENODATA when absent. */
int zfs_parse_send_estimate(const char *buf, size_t len, uint64_t *bytes);
/* `zfs version`: "zfs-2.3.2-2~bpo12+2\nzfs-kmod-2.3.2-...". */
int zfs_parse_version(const char *buf, struct zfs_version *v);
/*
 * The loaded module's version from /sys/module/zfs/version ("2.3.2-2~bpo12+2"),
 * this host's only, without starting a process: 0 with *major, *minor, or
 * -errno (-ENOENT: no module loaded).
 */
int zfs_kmod_version(unsigned *major, unsigned *minor);
/*
 * `zpool get -Hp -o property,value P1,...`: values[i] (caller frees each) is
 * props[i]'s, matched by exact name; -EINVAL (nothing set) when a line is
 * not "property<TAB>value" or a property is missing.
 */
int zpool_parse_props(const char *buf, size_t len, const char *const *props, size_t n,
		      char **values);
/*
 * The same for lines whose key is their first key_columns columns
 * ("pool<TAB>property<TAB>value": keys "pool<TAB>property", 2).
 */
int zpool_parse_keyed(const char *buf, size_t len, const char *const *keys, size_t n,
		      unsigned key_columns, char **values);
/* `zpool list -Hp -o name,health,guid,size,allocated,free,capacity`. */
int zpool_parse_list(const char *buf, size_t len, struct zpool_infos *out, struct strbuf *err);
/*
 * `zpool status` output (with or without -p). Its config section - the lines
 * after the header "NAME STATE READ WRITE CKSUM", up to a blank line or
 * "errors:" - gives one vdev per line of at least five words; the first of
 * them is the pool itself. Each "errors:" line gives its text. Lines of
 * other sections (spares and devices with fewer words) are skipped.
 */
struct zpool_status_vdev {
	char *name, *state;
	char *read, *write, *cksum; /* error counts as printed ("0", "12", "1.2K") */
	unsigned indent;            /* leading blanks, a tab counting one: 1 for the pool */
	bool pool;                  /* the first line of its section: the pool itself */
};
struct zpool_status {
	struct zpool_status_vdev *v;
	size_t n;
	struct strvec errors;       /* the text after each "errors:" */
};
#define ZPOOL_STATUS_INIT { .v = NULL, .n = 0, .errors = STRVEC_INIT }
/* 0, or -E2BIG for absurdly many lines (what was parsed is kept). */
int zpool_parse_status(const char *buf, size_t len, struct zpool_status *out);
void zpool_status_release(struct zpool_status *s);
/* Map ZFS's stderr wording to an errno (see the header comment). */
int zfs_errno_from_message(const char *msg);

/* ---- names ------------------------------------------------------------- */

/*
 * Whether name is a valid ZFS dataset (or, with allow_snap, snapshot or
 * bookmark) name: components of [A-Za-z0-9_.: -] (space allowed, as ZFS
 * does), no empty component, no "." or "..", under 256 bytes. Checked
 * before a name from the user reaches zfs, for a clear error.
 */
bool zfs_name_valid(const char *name, bool allow_snap);
/* The pool part of a dataset name (caller frees). */
char *zfs_pool_of(const char *name);

#endif
