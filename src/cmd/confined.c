/* cmd/confined.c - see confined.h. */
#include "zkeep.h"
#include "cmd/commands.h"
#include "cmd/confined.h"
#include "confine.h"
#include "log.h"
#include "sendopts.h"
#include "spawn.h"
#include "zfs.h"

static bool disabled;

void confined_disable(void)
{
	disabled = true;
}

bool confined_disabled(void)
{
	const char *e = getenv("ZKEEP_NO_CONFINE");
	return disabled || (e && *e && !streq(e, "0"));
}

static void warn_unconfined(void)
{
	log_warning("*** --no-confine: running WITHOUT confinement, with all of this "
		    "process's privileges (root: every dataset of every pool). For debugging "
		    "only. ***");
}

/* Whether a local dataset exists (reading needs no privilege). */
static bool dataset_exists(const char *name)
{
	const char *const argv[] = { "zfs", "list", "-H", "-o", "name", name, NULL };
	struct spawn_req req = { .argv = argv };
	int code = -1;
	return spawn_run(&req, NULL, 0, NULL, NULL, &code) == 0 && code == 0;
}

/*
 * What `zfs receive` as root would have mounted: each filesystem under target
 * with canmount=on and a mountpoint, not mounted yet. Failures (a key not
 * loaded) are only reported: the data is received.
 */
static void mount_received(const char *target, bool recursive)
{
	struct runner *run = runner_local_new();
	struct zfs z;
	zfs_init(&z, run);
	const char *const roots[] = { target, NULL };
	const char *const props[] = { "canmount", "mounted", "mountpoint", NULL };
	struct zfs_tree t = ZFS_TREE_INIT;
	if (zfs_list_tree(&z, roots, recursive ? ZFS_LIST_RECURSIVE : 0, props, &t) == 0) {
		for (size_t i = 0; i < t.nds; i++) {
			const struct zfs_dataset *d = &t.ds[i];
			if (d->type != ZFS_TYPE_FILESYSTEM || !streq(d->props[0], "on") ||
			    !streq(d->props[1], "no") || !d->props[2] || d->props[2][0] != '/')
				continue;
			const char *const argv[] = { "zfs", "mount", d->name, NULL };
			_cleanup_strbuf_ struct strbuf msg = STRBUF_INIT;
			int code = 0;
			if (runner_run(run, argv, NULL, 0, NULL, &msg, &code) < 0 || code != 0)
				log_info("not mounted: %s: %s", d->name, msg.buf);
		}
	}
	zfs_tree_free(&t);
	zfs_done(&z);
	runner_free(run);
}

/* The names of the properties set locally on dataset (and below it). */
static void local_props(const char *dataset, bool recursive, struct strvec *out)
{
	struct runner *run = runner_local_new();
	struct zfs z;
	struct zfs_props p = { 0 };
	zfs_init(&z, run);
	const char *const ds[] = { dataset, NULL };
	if (zfs_get_props(&z, ds, recursive, NULL, ZFS_SRC_LOCAL, &p) == 0)
		for (size_t i = 0; i < p.n && out->n < DELEG_MAX_PROPS; i++)
			if (strvec_find(out, p.p[i].name) < 0)
				strvec_push(out, p.p[i].name);
	zfs_props_free(&p);
	zfs_done(&z);
	runner_free(run);
}

static int repl_worker(void *data)
{
	return repl_cli_execute(data);
}

int repl_cli_execute_confined(struct repl_cli *c)
{
	if (confined_disabled()) {
		warn_unconfined();
		return repl_cli_execute(c);
	}
	if (c->dry_run || c->dumpsnaps)
		return repl_cli_execute(c); /* changes nothing */
	if (c->force_delete) {
		/* Destroying a mounted filesystem unmounts it: Linux cannot delegate that. */
		log_notice("--force-delete destroys (and so unmounts) the target, which Linux "
			   "cannot delegate: running unconfined");
		return repl_cli_execute(c);
	}
	if (strchr(c->source_arg, ':') || strchr(c->target_arg, ':')) {
		/* Grants on another host and a confined ssh client: not done yet. */
		log_notice("replication over ssh is not confined yet: running as before");
		return repl_cli_execute(c);
	}
	struct sendopts so = SENDOPTS_INIT, ro = SENDOPTS_INIT;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	bool raw = sendopts_parse(c->sendoptions, false, &so, &err) == 0 && sendopts_has(&so, 'w');
	bool user_no_mount = sendopts_parse(c->recvoptions, true, &ro, &err) == 0 &&
			     sendopts_has(&ro, 'u');
	sendopts_free(&so);
	strbuf_reset(&err);
	bool rollback = c->syncoid ? !c->no_rollback : c->rollback;
	/*
	 * Properties the receive sets need one permission each: those of
	 * --recvoptions "o k=v", and with --preserve-properties the source's
	 * local ones (read here, from this host's ZFS).
	 */
	_cleanup_strvec_ struct strvec props = STRVEC_INIT;
	for (size_t i = 0; i < ro.n; i++)
		if (ro.flag[i] == 'o' && ro.value[i]) {
			_cleanup_free_ char *k = xstrndup(ro.value[i], strcspn(ro.value[i], "="));
			if (strvec_find(&props, k) < 0)
				strvec_push(&props, k);
		}
	if (c->preserve_properties)
		local_props(c->source_arg, c->recursive, &props);
	sendopts_free(&ro);
	struct deleg_need needs[2] = {
		{ .dataset = c->source_arg, .recursive = c->recursive, .exists = true,
		  .ops = (raw ? DELEG_SEND_RAW : DELEG_SEND) | DELEG_HOLD | DELEG_BOOKMARK |
			 (c->no_sync_snap ? 0 : DELEG_SNAPSHOT | DELEG_DESTROY_SNAPS) },
		{ .dataset = c->target_arg, .recursive = c->recursive,
		  .exists = dataset_exists(c->target_arg),
		  .ops = DELEG_RECEIVE | DELEG_RECV_ABORT | DELEG_DESTROY_SNAPS | DELEG_HOLD |
			 (rollback ? DELEG_RECV_FORCE : 0) |
			 (raw && c->recursive ? DELEG_RECV_RAW_ENC : 0),
		  .recv_props = props.n ? (const char *const *)props.v : NULL },
	};
	if (!deleg_dataset_name_ok(c->source_arg) || !deleg_dataset_name_ok(c->target_arg))
		return repl_cli_execute(c); /* let the command word the error */
	struct confine_job job = {
		.name = c->syncoid ? "syncoid" : "replicate",
		.needs = needs, .nneeds = 2,
		.state_dir = getenv("ZKEEP_STATE_DIR"),
	};
	/* Linux cannot delegate mounting: the worker receives with -u, we mount after. */
	_cleanup_free_ char *recvoptions = NULL;
	const char *saved = c->recvoptions;
	if (geteuid() == 0 && !user_no_mount) {
		recvoptions = c->recvoptions ? xasprintf("u %s", c->recvoptions) : xstrdup("u");
		c->recvoptions = recvoptions;
	}
	struct confine_info info = CONFINE_INFO_INIT;
	int status = EXIT_FATAL;
	int r = confine_run(&job, repl_worker, c, &status, &info, &err);
	c->recvoptions = saved;
	if (r == 0 && info.privileged && !user_no_mount)
		mount_received(c->target_arg, c->recursive);
	for (size_t i = 0; i < info.recovered.n; i++)
		log_notice("revoked leftover grants of a crashed run: %s", info.recovered.v[i]);
	for (size_t i = 0; i < info.missing.n; i++)
		log_warning("missing grant (an admin must run it): %s", info.missing.v[i]);
	if (r == 0 && info.privileged)
		log_info("replicated as confined worker uid %u", (unsigned)info.uid);
	if (err.len)
		log_error("%s", err.buf);
	confine_info_free(&info);
	return r < 0 ? EXIT_FATAL : status;
}
