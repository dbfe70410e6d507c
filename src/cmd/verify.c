/* cmd/verify.c - `zkeep verify SOURCE TARGET`: is the backup the same as the source? */
#include "base/zkeep.h"
#include "cli/commands.h"
#include "drive/drive.h"
#include "base/log.h"
#include "replication/replan.h"
#include "drive/snapfs.h"
#include "base/timeutil.h"

#include <getopt.h>
#include <jansson.h>

const char cmd_verify_help[] =
	"usage: zkeep verify [-r] [--snapshot NAME] [--scrub] [--no-content] [--metadata]\n"
	"                    [--json] SOURCE TARGET\n"
	"\n"
	"Check that TARGET is a faithful backup of SOURCE (local datasets):\n"
	"  snapshots  every snapshot on TARGET exists on SOURCE with the same guid, in\n"
	"             the same createtxg order (target snapshots the source pruned are\n"
	"             listed, not counted as differences);\n"
	"  content    for a target whose files can be read (not encrypted, or its key\n"
	"             loaded): every file of the newest common snapshot (or --snapshot\n"
	"             NAME) compared byte for byte on both sides, read-only through\n"
	"             .zfs/snapshot or a temporary read-only mount; --metadata also\n"
	"             compares mode, owner and mtime;\n"
	"             for a raw encrypted target without its key: the target pool is\n"
	"             scrubbed (zpool scrub -w) and zpool status checked for errors.\n"
	"  --scrub    scrub the target pool in any case; --no-content skips both.\n"
	"\n"
	"Every difference is printed (path and what differs); --json prints one object.\n"
	"Exit status: 0 the backup matches, 1 differences found, 2 could not check\n"
	"(a dataset is missing, a snapshot could not be read or mounted).\n";

#define MAX_REPORTED 1000

struct vstate {
	bool json;
	unsigned long differences, reported;
	json_t *list;
	const char *context;
};

static void report(struct vstate *v, const char *where, const char *what)
{
	v->differences++;
	if (v->reported >= MAX_REPORTED)
		return;
	v->reported++;
	if (v->json)
		json_array_append_new(v->list, json_pack("{s:s, s:s}", "where", where, "what", what));
	else
		printf("DIFFERS %s: %s\n", where, what);
}

static void on_file_diff(const char *path, const char *what, void *data)
{
	struct vstate *v = data;
	_cleanup_free_ char *where = xasprintf("%s:/%s", v->context, path);
	report(v, where, what);
}

static void note(struct vstate *v, const char *fmt, ...) PRINTF(2, 3);
static void note(struct vstate *v, const char *fmt, ...)
{
	if (v->json)
		return;
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static const struct zfs_snap *snap_by_guid(const struct zfs_dataset *d, uint64_t guid)
{
	for (size_t i = 0; d && i < d->nsnaps; i++)
		if (d->snaps[i].type == ZFS_TYPE_SNAPSHOT && d->snaps[i].guid == guid)
			return &d->snaps[i];
	return NULL;
}

/* Snapshot identity and order of one dataset pair. */
static void check_snapshots(struct vstate *v, const struct zfs_dataset *s,
			    const struct zfs_dataset *t)
{
	uint64_t last_src_txg = 0;
	const char *last_name = NULL;
	unsigned pruned = 0, missing = 0, same = 0;
	unsigned long before = v->differences;
	for (size_t i = 0; i < t->nsnaps; i++) {
		const struct zfs_snap *ts = &t->snaps[i];
		if (ts->type != ZFS_TYPE_SNAPSHOT)
			continue;
		const struct zfs_snap *ss = zfs_dataset_find_snap(s, ts->short_name);
		if (ss && ss->type == ZFS_TYPE_SNAPSHOT && ss->guid != ts->guid) {
			_cleanup_free_ char *w = xasprintf("%s", ts->name);
			_cleanup_free_ char *m = xasprintf("guid %" PRIu64 " on the target, %" PRIu64
							   " on the source: not the same snapshot",
							   ts->guid, ss->guid);
			report(v, w, m);
			continue;
		}
		const struct zfs_snap *byguid = snap_by_guid(s, ts->guid);
		if (!byguid) {
			pruned++;
			continue;
		}
		if (!streq(byguid->short_name, ts->short_name)) {
			_cleanup_free_ char *m = xasprintf("same guid as %s but named differently",
							   byguid->name);
			report(v, ts->name, m);
		}
		if (byguid->createtxg <= last_src_txg) {
			_cleanup_free_ char *m = xasprintf("order differs: after @%s on the target, "
							   "before it on the source", last_name);
			report(v, ts->name, m);
		}
		last_src_txg = byguid->createtxg;
		last_name = ts->short_name;
		same++;
	}
	for (size_t i = 0; i < s->nsnaps; i++)
		if (s->snaps[i].type == ZFS_TYPE_SNAPSHOT && !snap_by_guid(t, s->snaps[i].guid))
			missing++;
	note(v, "%s %s: %u snapshot(s) match the source", v->differences == before ? "ok  " : "BAD ",
	     t->name, same);
	if (pruned)
		note(v, "     %u snapshot(s) only on the target (pruned on the source)", pruned);
	if (missing)
		note(v, "     %u source snapshot(s) not on the target yet", missing);
}

static const char *prop(const struct zfs_tree *tr, const struct zfs_dataset *d, const char *name)
{
	ssize_t i = zfs_tree_prop_index(tr, name);
	return i >= 0 && d->props && d->props[i] ? d->props[i] : "-";
}

/* The snapshot to compare files of: --snapshot, else the newest common one. */
static const struct zfs_snap *pick_snapshot(const struct zfs_dataset *s,
					    const struct zfs_dataset *t, const char *want)
{
	if (want) {
		const struct zfs_snap *ts = zfs_dataset_find_snap(t, want);
		const struct zfs_snap *ss = zfs_dataset_find_snap(s, want);
		return ts && ss && ts->guid == ss->guid ? ts : NULL;
	}
	const struct zfs_snap *best = NULL;
	for (size_t i = 0; i < t->nsnaps; i++)
		if (t->snaps[i].type == ZFS_TYPE_SNAPSHOT && snap_by_guid(s, t->snaps[i].guid))
			best = &t->snaps[i];
	return best;
}

static int check_files(struct vstate *v, struct zfs *z, const struct zfs_dataset *s,
		       const struct zfs_dataset *t, const struct zfs_snap *ts, unsigned flags)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	_cleanup_free_ char *ssnap = xasprintf("%s@%s", s->name, ts->short_name);
	_cleanup_(snapfs_release) struct snapfs_dir a = SNAPFS_DIR_INIT, b = SNAPFS_DIR_INIT;
	if (snapfs_open(z, ssnap, &a, &err) < 0 || snapfs_open(z, ts->name, &b, &err) < 0) {
		log_error("%s", err.buf);
		return -EIO;
	}
	struct snapfs_stats st;
	unsigned long before = v->differences;
	v->context = ts->name;
	if (snapfs_compare(a.path, b.path, flags, on_file_diff, v, &st, &err) < 0) {
		log_error("%s", err.buf);
		return -EIO;
	}
	note(v, "%s %s: %" PRIu64 " file(s), %" PRIu64 " director%s, %" PRIu64 " bytes compared%s",
	     v->differences == before ? "ok  " : "BAD ", ts->name, st.files, st.dirs,
	     st.dirs == 1 ? "y" : "ies", st.bytes,
	     v->differences == before ? ", identical" : "");
	return 0;
}

static int scrub_pool(struct vstate *v, struct zfs *z, const char *pool)
{
	note(v, "scrubbing pool %s (zpool scrub -w) ...", pool);
	fflush(stdout);
	if (zpool_scrub(z, pool, true) < 0) {
		log_error("%s", zfs_error(z));
		return -EIO;
	}
	_cleanup_strbuf_ struct strbuf st = STRBUF_INIT;
	_cleanup_strvec_ struct strvec problems = STRVEC_INIT;
	if (zpool_status(z, pool, &st) < 0) {
		log_error("%s", zfs_error(z));
		return -EIO;
	}
	drive_parse_pool_problems(st.buf, &problems);
	_cleanup_free_ char *where = xasprintf("pool %s", pool);
	for (size_t i = 0; i < problems.n; i++)
		report(v, where, problems.v[i]);
	if (!problems.n)
		note(v, "ok   pool %s: scrub found no errors", pool);
	return 0;
}

enum { OPT_SNAPSHOT = 256, OPT_SCRUB, OPT_NO_CONTENT, OPT_METADATA, OPT_JSON, OPT_HELP };

int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "recursive", no_argument, NULL, 'r' },
		{ "snapshot", required_argument, NULL, OPT_SNAPSHOT },
		{ "scrub", no_argument, NULL, OPT_SCRUB },
		{ "no-content", no_argument, NULL, OPT_NO_CONTENT },
		{ "metadata", no_argument, NULL, OPT_METADATA },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	bool recursive = false, scrub = false, content = true;
	unsigned cmpflags = 0;
	const char *want = NULL;
	struct vstate v = { 0 };
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "+rv", opts, NULL)) != -1) {
		switch (ch) {
		case 'r': recursive = true; break;
		case OPT_SNAPSHOT: want = optarg; break;
		case OPT_SCRUB: scrub = true; break;
		case OPT_NO_CONTENT: content = false; break;
		case OPT_METADATA: cmpflags |= SNAPFS_CMP_METADATA; break;
		case OPT_JSON: v.json = true; break;
		case 'v': log_set_level(LOG_LVL_INFO); break;
		case OPT_HELP: fputs(cmd_verify_help, stdout); return EXIT_OK;
		default: fprintf(stderr, "see 'zkeep verify --help'\n"); return EXIT_FATAL;
		}
	}
	if (argc - optind != 2) {
		log_error("need a SOURCE and a TARGET dataset; see 'zkeep verify --help'");
		return EXIT_FATAL;
	}
	const char *src = argv[optind], *tgt = argv[optind + 1];
	for (int i = 0; i < 2; i++)
		if (!zfs_name_valid(i ? tgt : src, false)) {
			log_error("'%s' is not a dataset name", i ? tgt : src);
			return EXIT_FATAL;
		}
	if (want && (strchr(want, '@') || strchr(want, '/'))) {
		log_error("--snapshot takes the short name (after '@')");
		return EXIT_FATAL;
	}

	_cleanup_(runner_freep) struct runner *run = runner_local_new();
	_cleanup_release_(zfs) struct zfs z;
	zfs_init(&z, run);
	_cleanup_release_(zfs_tree) struct zfs_tree st = ZFS_TREE_INIT, tt = ZFS_TREE_INIT;
	static const char *const props[] = { "encryption", "keystatus", NULL };
	const char *const sroots[] = { src, NULL }, *const troots[] = { tgt, NULL };
	unsigned lf = ZFS_LIST_SNAPSHOTS | (recursive ? ZFS_LIST_RECURSIVE : 0);
	_cleanup_strvec_ struct strvec pools = STRVEC_INIT;
	if (zfs_list_tree(&z, sroots, lf, props, &st) < 0) {
		log_error("source: %s", zfs_error(&z));
		return EXIT_FATAL;
	}
	if (zfs_list_tree(&z, troots, lf, props, &tt) < 0) {
		log_error("target: %s", zfs_error(&z));
		return EXIT_FATAL;
	}
	v.list = json_array();
	bool failed = false;
	for (size_t i = 0; i < st.nds; i++) {
		const struct zfs_dataset *s = &st.ds[i];
		_cleanup_free_ char *tname = replan_target_name(src, tgt, s->name);
		const struct zfs_dataset *t = zfs_tree_find(&tt, tname);
		if (!t) {
			report(&v, tname, "missing on the target");
			continue;
		}
		check_snapshots(&v, s, t);
		if (!content)
			continue;
		bool readable = streq(prop(&tt, t, "encryption"), "off") ||
				streq(prop(&tt, t, "keystatus"), "available");
		bool src_readable = streq(prop(&st, s, "encryption"), "off") ||
				    streq(prop(&st, s, "keystatus"), "available");
		if (t->type != ZFS_TYPE_FILESYSTEM || !readable || !src_readable || scrub) {
			_cleanup_free_ char *pool = zfs_pool_of(t->name);
			if (strvec_find(&pools, pool) < 0)
				strvec_push(&pools, pool);
			if (!readable)
				note(&v, "     %s is encrypted and its key is not loaded: checked by a "
					 "scrub of pool %s", t->name, pool);
			if (t->type != ZFS_TYPE_FILESYSTEM || !readable || !src_readable)
				continue;
		}
		const struct zfs_snap *ts = pick_snapshot(s, t, want);
		if (!ts) {
			if (want) {
				_cleanup_free_ char *m = xasprintf("snapshot @%s is not on both sides with "
								   "the same guid", want);
				report(&v, t->name, m);
			} else {
				note(&v, "     %s: no snapshot in common: no content to compare", t->name);
			}
			continue;
		}
		if (check_files(&v, &z, s, t, ts, cmpflags) < 0)
			failed = true;
	}
	for (size_t i = 0; i < pools.n; i++)
		if (scrub_pool(&v, &z, pools.v[i]) < 0)
			failed = true;
	if (v.differences > v.reported && !v.json)
		printf("... and %lu more difference(s)\n", v.differences - v.reported);
	int ret = failed ? EXIT_FATAL : v.differences ? EXIT_PARTIAL : EXIT_OK;
	if (v.json) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:o}", "source", src, "target", tgt, "result",
				      ret == EXIT_OK ? "ok" : ret == EXIT_PARTIAL ? "differs" : "error",
				      "differences", (json_int_t)v.differences, "details", v.list);
		v.list = NULL;
		char *s = json_dumps(o, JSON_COMPACT);
		if (s)
			puts(s);
		free(s);
		json_decref(o);
	} else if (ret == EXIT_OK) {
		printf("%s matches %s\n", tgt, src);
	} else if (ret == EXIT_PARTIAL) {
		printf("%lu difference(s) between %s and %s\n", v.differences, src, tgt);
	} else {
		printf("could not check everything (see the errors above)\n");
	}
	json_decref(v.list);
	return ret;
}
