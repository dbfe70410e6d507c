/* cmd/restore.c - `zkeep restore list|file|dataset`: get data back from snapshots and backups. */
#include "base/zkeep.h"
#include "cli/commands.h"
#include "drive/drive.h"
#include "base/log.h"
#include "replication/replicate.h"
#include "drive/snapfs.h"
#include "base/timeutil.h"

#include <getopt.h>
#include <jansson.h>
#include <signal.h>

#define DEFAULT_CONFIG "/etc/zkeep/zkeep.conf"

const char cmd_restore_help[] =
	"usage: zkeep restore list [--json] [--config FILE] DATASET [BACKUP_DATASET]\n"
	"       zkeep restore file [--force] SNAPSHOT PATH DEST\n"
	"       zkeep restore dataset [-r] [--dry-run] [--json] BACKUP_DATASET NEW_DATASET\n"
	"\n"
	"list     the snapshots of DATASET and of its backup, with their dates, side by\n"
	"         side (matched by guid). Without BACKUP_DATASET, the backups of every\n"
	"         [drive NAME] of zkeep.conf whose pool is imported are shown.\n"
	"file     copy PATH (a file, symlink or directory tree) out of SNAPSHOT\n"
	"         (DATASET@NAME, on the source or a backup) to DEST, keeping mode, times\n"
	"         and (as root) owner. PATH is relative to the dataset's root, or an\n"
	"         absolute path under its mountpoint. Nothing is overwritten unless --force.\n"
	"         Read-only through .zfs/snapshot, or a temporary read-only mount.\n"
	"dataset  replicate BACKUP_DATASET (with -r its children) back into NEW_DATASET,\n"
	"         which must not exist: every snapshot, raw when the backup is encrypted\n"
	"         - the key is needed only to mount it afterwards (zfs load-key NEW_DATASET;\n"
	"         zfs mount NEW_DATASET). Nothing is changed on the backup.\n"
	"\n"
	"Exit status: 0 done, 1 partly done, 2 nothing done (usage, missing dataset,\n"
	"DEST exists).\n";


/* ---- list ------------------------------------------------------------------- */

static void add_snap_rows(json_t *rows, const struct zfs_dataset *d, bool backup)
{
	for (size_t i = 0; d && i < d->nsnaps; i++) {
		const struct zfs_snap *s = &d->snaps[i];
		if (s->type != ZFS_TYPE_SNAPSHOT)
			continue;
		json_t *row = NULL;
		for (size_t k = 0; k < json_array_size(rows); k++) {
			json_t *r = json_array_get(rows, k);
			if ((uint64_t)json_integer_value(json_object_get(r, "guid_lo")) ==
				    (s->guid & 0xffffffffu) &&
			    (uint64_t)json_integer_value(json_object_get(r, "guid_hi")) == (s->guid >> 32))
				row = r;
		}
		if (!row) {
			row = json_pack("{s:s, s:I, s:I, s:I, s:b, s:b}", "snapshot", s->short_name,
					"created", (json_int_t)s->creation, "guid_lo",
					(json_int_t)(s->guid & 0xffffffffu), "guid_hi",
					(json_int_t)(s->guid >> 32), "on_source", false, "on_backup",
					false);
			json_array_append_new(rows, row);
		}
		json_object_set_new(row, backup ? "on_backup" : "on_source", json_true());
		if (backup)
			json_object_set_new(row, "backup_name", json_string(s->name));
		else
			json_object_set_new(row, "source_name", json_string(s->name));
	}
}

static int by_created(const void *a, const void *b)
{
	json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "created"));
	json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "created"));
	return x < y ? -1 : x > y;
}

static int list_one(struct zfs *z, const char *ds, const char *backup, bool json)
{
	_cleanup_release_(zfs_tree) struct zfs_tree s = ZFS_TREE_INIT, t = ZFS_TREE_INIT;
	const char *const sr[] = { ds, NULL }, *const tr[] = { backup, NULL };
	_cleanup_free_ json_t **v = NULL;
	int rs = zfs_list_tree(z, sr, ZFS_LIST_SNAPSHOTS, NULL, &s);
	_cleanup_strbuf_ struct strbuf serr = STRBUF_INIT;
	strbuf_addstr(&serr, zfs_error(z));
	int rt = backup ? zfs_list_tree(z, tr, ZFS_LIST_SNAPSHOTS, NULL, &t) : 0;
	if (rs < 0 && rt < 0) {
		log_error("%s; %s", serr.buf, zfs_error(z));
		return EXIT_FATAL;
	}
	if (rs < 0)
		log_warning("source: %s", serr.buf);
	if (rt < 0)
		log_warning("backup: %s", zfs_error(z));
	json_t *rows = json_array();
	add_snap_rows(rows, zfs_tree_find(&s, ds), false);
	if (backup)
		add_snap_rows(rows, zfs_tree_find(&t, backup), true);
	size_t n = json_array_size(rows);
	v = xcalloc(n + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(rows, i));
	json_decref(rows);
	qsort(v, n, sizeof(*v), by_created);
	if (json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++) {
			json_object_del(v[i], "guid_lo");
			json_object_del(v[i], "guid_hi");
			json_array_append(arr, v[i]);
		}
		json_t *o = json_pack("{s:s, s:s?, s:o}", "dataset", ds, "backup", backup, "snapshots",
				      arr);
		char *str = json_dumps(o, JSON_COMPACT);
		if (str)
			puts(str);
		free(str);
		json_decref(o);
	} else {
		if (backup)
			printf("%s  (backup: %s)\n", ds, backup);
		else
			printf("%s\n", ds);
		printf("  %-40s %-25s %-7s %s\n", "SNAPSHOT", "CREATED", "SOURCE", "BACKUP");
		for (size_t i = 0; i < n; i++) {
			_cleanup_strbuf_ struct strbuf tm = STRBUF_INIT;
			time_format_iso(&tm, (time_t)json_integer_value(json_object_get(v[i], "created")));
			printf("  %-40s %-25s %-7s %s\n",
			       json_string_value(json_object_get(v[i], "snapshot")), tm.buf,
			       json_is_true(json_object_get(v[i], "on_source")) ? "yes" : "-",
			       json_is_true(json_object_get(v[i], "on_backup")) ? "yes" : "-");
		}
		if (!n)
			printf("  (no snapshots)\n");
	}
	for (size_t i = 0; i < n; i++)
		json_decref(v[i]);
	return EXIT_OK;
}

/* Backups of ds on the configured drives whose pools are imported. */
static void find_backups(struct zfs *z, const char *config, const char *ds, struct strvec *out)
{
	_cleanup_strbuf_ struct strbuf text = STRBUF_INIT, err = STRBUF_INIT;
	struct driveconf c = DRIVECONF_INIT;
	if (strbuf_read_file(&text, config) < 0)
		return;
	if (driveconf_parse(text.buf, config, &c, &err) < 0) {
		log_warning("%s", err.buf);
		return;
	}
	struct zpool_infos pools = { 0 };
	if (zpool_list(z, NULL, &pools) == 0) {
		for (size_t i = 0; i < c.n; i++) {
			const struct drive *d = &c.drives[i];
			const char *pool = NULL;
			for (size_t k = 0; k < pools.n; k++)
				if (pools.p[k].guid == d->guid) /* never by name */
					pool = pools.p[k].name;
			if (!pool)
				continue;
			for (size_t k = 0; k < d->datasets.n; k++) {
				const char *base = d->datasets.v[k];
				const char *rest = skip_prefix(ds, base);
				if (rest && (!*rest || (*rest == '/' && d->recursive)))
					strvec_push_nodup(out, drive_target_of(d, pool, ds));
			}
		}
		zpool_infos_release(&pools);
	}
	driveconf_release(&c);
}

static int do_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false;
	const char *config = DEFAULT_CONFIG;
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (ch) {
		case 'j': json = true; break;
		case 'c': config = optarg; break;
		default: return EXIT_FATAL;
		}
	}
	int nargs = argc - optind;
	if (nargs < 1 || nargs > 2) {
		log_error("zkeep restore list DATASET [BACKUP_DATASET]");
		return EXIT_FATAL;
	}
	const char *ds = argv[optind];
	for (int i = 0; i < nargs; i++)
		if (!zfs_name_valid(argv[optind + i], false)) {
			log_error("'%s' is not a dataset name", argv[optind + i]);
			return EXIT_FATAL;
		}
	struct runner *run = runner_local_new();
	struct zfs z;
	zfs_init(&z, run);
	_cleanup_strvec_ struct strvec backups = STRVEC_INIT;
	if (nargs == 2)
		strvec_push(&backups, argv[optind + 1]);
	else
		find_backups(&z, config, ds, &backups);
	int ret = EXIT_OK;
	if (!backups.n)
		ret = list_one(&z, ds, NULL, json);
	for (size_t i = 0; i < backups.n; i++) {
		int r = list_one(&z, ds, backups.v[i], json);
		if (r > ret)
			ret = r;
	}
	zfs_release(&z);
	runner_free(run);
	return ret;
}

/* ---- file ------------------------------------------------------------------- */

static int do_file(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned flags = 0;
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "+f", opts, NULL)) != -1) {
		switch (ch) {
		case 'f': flags |= SNAPFS_COPY_FORCE; break;
		default: return EXIT_FATAL;
		}
	}
	if (argc - optind != 3) {
		log_error("zkeep restore file [--force] SNAPSHOT PATH DEST");
		return EXIT_FATAL;
	}
	const char *snap = argv[optind], *path = argv[optind + 1], *dest = argv[optind + 2];
	_cleanup_(runner_freep) struct runner *run = runner_local_new();
	_cleanup_release_(zfs) struct zfs z;
	zfs_init(&z, run);
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	_cleanup_(snapfs_release) struct snapfs_dir sd = SNAPFS_DIR_INIT;
	_cleanup_free_ char *ds = NULL, *mp = NULL, *joined = NULL, *src = NULL;
	_cleanup_strvec_ struct strvec parts = STRVEC_INIT;
	if (snapfs_open(&z, snap, &sd, &err) < 0) {
		log_error("%s", err.buf);
		return EXIT_FATAL;
	}
	/* an absolute path under the dataset's mountpoint is taken relative to it */
	const char *rel = path;
	ds = xstrndup(snap, (size_t)(strchr(snap, '@') - snap));
	if (path[0] == '/' && zfs_get_prop(&z, ds, "mountpoint", &mp) == 0 && mp[0] == '/') {
		const char *r = skip_prefix(path, mp);
		if (r && (*r == '/' || !*r))
			rel = r;
	}
	while (*rel == '/')
		rel++;
	strvec_split(&parts, rel, "/");
	for (size_t i = 0; i < parts.n; i++)
		if (streq(parts.v[i], "..")) {
			log_error("%s: '..' is not allowed in PATH", path);
			return EXIT_FATAL;
		}
	joined = strvec_join(&parts, "/");
	src = parts.n ? xasprintf("%s/%s", sd.path, joined) : xstrdup(sd.path);
	if (access(src, F_OK) < 0 && errno == ENOENT) {
		log_error("%s is not in %s (looked for %s)", path, snap, src);
		return EXIT_FATAL;
	}
	struct snapfs_stats st;
	int r = snapfs_copy(src, dest, flags, &st, &err);
	if (r < 0) {
		log_error("restoring %s from %s: %s", path, snap, err.buf);
		return r == -EEXIST ? EXIT_FATAL : EXIT_PARTIAL;
	}
	if (err.len)
		log_warning("%s", err.buf);
	log_notice("restored %s from %s to %s: %" PRIu64 " file(s), %" PRIu64
		   " director%s, %" PRIu64 " bytes",
		   path, snap, dest, st.files, st.dirs, st.dirs == 1 ? "y" : "ies", st.bytes);
	return EXIT_OK;
}

/* ---- dataset ---------------------------------------------------------------- */

static void on_event(const struct replicate_event *ev, void *data)
{
	bool json = *(bool *)data;
	if (json) {
		if (ev->kind == REPL_EV_PROGRESS || ev->kind == REPL_EV_DEBUG)
			return;
		json_t *o = json_pack("{s:s, s:s?, s:s?, s:s?, s:I}", "event",
				      ev->kind == REPL_EV_SEND_DONE ? "sent"
				      : ev->kind == REPL_EV_ERROR   ? "error"
				      : ev->kind == REPL_EV_WARNING ? "warning"
								    : "info",
				      "source", ev->source, "target", ev->target, "message",
				      ev->message, "bytes", (json_int_t)ev->bytes);
		char *s = json_dumps(o, JSON_COMPACT);
		if (s)
			puts(s);
		free(s);
		json_decref(o);
		return;
	}
	switch (ev->kind) {
	case REPL_EV_INFO: log_notice("%s", ev->message); break;
	case REPL_EV_WARNING: log_warning("%s", ev->message); break;
	case REPL_EV_ERROR: log_error("%s", ev->message); break;
	case REPL_EV_PLAN: fputs(ev->message, stdout); break;
	case REPL_EV_SEND_DONE:
		log_notice("  %" PRIu64 " bytes in %.1f s", ev->bytes, ev->seconds);
		break;
	default: break;
	}
}

static int do_dataset(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "recursive", no_argument, NULL, 'r' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	bool recursive = false, dry_run = false, json = false;
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "+rn", opts, NULL)) != -1) {
		switch (ch) {
		case 'r': recursive = true; break;
		case 'n': dry_run = true; break;
		case 'j': json = true; break;
		default: return EXIT_FATAL;
		}
	}
	if (argc - optind != 2) {
		log_error("zkeep restore dataset [-r] BACKUP_DATASET NEW_DATASET");
		return EXIT_FATAL;
	}
	const char *backup = argv[optind], *target = argv[optind + 1];
	for (int i = 0; i < 2; i++)
		if (!zfs_name_valid(argv[optind + i], false)) {
			log_error("'%s' is not a dataset name", argv[optind + i]);
			return EXIT_FATAL;
		}
	_cleanup_(runner_freep) struct runner *run = runner_local_new();
	_cleanup_release_(zfs) struct zfs z;
	zfs_init(&z, run);
	_cleanup_free_ char *enc = NULL, *v = NULL;
	_cleanup_release_(sendopts) struct sendopts so = SENDOPTS_INIT, rcv = SENDOPTS_INIT;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	if (zfs_get_prop(&z, backup, "encryption", &enc) < 0) {
		log_error("backup: %s", zfs_error(&z));
		return EXIT_FATAL;
	}
	if (zfs_get_prop(&z, target, "name", &v) == 0) {
		log_error("%s exists: restore into a new dataset (then rename it if you like)", target);
		return EXIT_FATAL;
	}
	bool raw = !streq(enc, "off");
	if (sendopts_parse(raw ? "w" : "", false, &so, &err) < 0 ||
	    sendopts_parse(raw ? "u" : "", true, &rcv, &err) < 0) {
		log_error("%s", err.buf);
		return EXIT_FATAL;
	}
	struct replicate_opts ro;
	memset(&ro, 0, sizeof(ro));
	ro.plan.source_root = backup;
	ro.plan.target_root = target;
	ro.plan.recursive = recursive;
	ro.plan.resume = true;
	ro.plan.clone_handling = true;
	ro.plan.hostname = "restore";
	ro.sync_prefix = "zkeep_restore"; /* no sync snapshot is taken */
	ro.send = &so;
	ro.recv = &rcv;
	ro.dry_run = dry_run;
	ro.event = on_event;
	ro.event_data = &json;
	struct replicate_result res;
	signal(SIGPIPE, SIG_IGN);
	if (replicate_run(&z, &z, &ro, &res, &err) < 0) {
		log_error("%s", err.buf);
		return EXIT_FATAL;
	}
	int ret = res.failed ? (res.synced ? EXIT_PARTIAL : EXIT_FATAL) : EXIT_OK;
	if (!json && !dry_run && ret == EXIT_OK) {
		log_notice("restored %s to %s (%u dataset(s))", backup, target, res.synced);
		if (raw)
			log_notice("it is encrypted: zfs load-key %s%s && zfs mount %s%s", recursive ? "-r " : "",
				   target, recursive ? "-a" : "", recursive ? "" : target);
	}
	return ret;
}

int cmd_restore(int argc, char **argv)
{
	if (argc < 2 || streq(argv[1], "--help") || streq(argv[1], "-h")) {
		fputs(cmd_restore_help, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_FATAL : EXIT_OK;
	}
	if (streq(argv[1], "list"))
		return do_list(argc - 1, argv + 1);
	if (streq(argv[1], "file"))
		return do_file(argc - 1, argv + 1);
	if (streq(argv[1], "dataset"))
		return do_dataset(argc - 1, argv + 1);
	log_error("unknown restore command '%s' (list, file, dataset); see 'zkeep restore --help'",
		  argv[1]);
	return EXIT_FATAL;
}
