/* cmd/confined.c - see confined.h. */
#include "base/zkeep.h"
#include "cli/commands.h"
#include "cli/confined.h"
#include "confine/confine.h"
#include "base/log.h"
#include "base/parse.h"

#include <pwd.h>
#include <strings.h>
#include "replication/sendopts.h"
#include "base/spawn.h"
#include "zfs/zfs.h"

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
 * Whether NAME holds the partial state of an interrupted FULL receive (a
 * resume token and no snapshot yet): aborting it (--no-resume, or an origin
 * that is gone) destroys NAME itself, which needs destroy on NAME, not only
 * on its descendants.
 */
static bool partial_full_receive(const char *name)
{
	const char *const tok_argv[] = { "zfs", "get", "-H", "-o", "value",
					 "receive_resume_token", name, NULL };
	const char *const snaps_argv[] = { "zfs", "list", "-H", "-o", "name", "-t", "snapshot",
					   "-d", "1", name, NULL };
	_cleanup_strbuf_ struct strbuf tok = STRBUF_INIT, snaps = STRBUF_INIT;
	struct spawn_req req = { .argv = tok_argv };
	int code = -1;
	if (spawn_run(&req, NULL, 0, &tok, NULL, &code) != 0 || code != 0)
		return false;
	strbuf_rtrim(&tok);
	if (tok.len == 0 || streq(tok.buf, "-"))
		return false;
	req.argv = snaps_argv;
	return spawn_run(&req, NULL, 0, &snaps, NULL, &code) == 0 && code == 0 && snaps.len == 0;
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
	zfs_tree_release(&t);
	zfs_release(&z);
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
	zfs_props_release(&p);
	zfs_release(&z);
	runner_free(run);
}

/*
 * A confined ssh client. ssh reads its keys, known_hosts and config from the
 * home of its passwd entry; the worker's (synthetic) home is its directory.
 * As root, the caller's ~/.ssh files and the files that --sshkey,
 * --sshconfig and file-valued --sshoption name are copied there (the run uid
 * cannot read root's originals) and the options pointed at the copies; not
 * root, the originals are added to the paths Landlock lets it read. Landlock
 * (ABI 4+) allows TCP connect only to the --sshport (default 22): a Port in
 * an ssh config is not seen here, so give it as --sshport.
 */
#define SSH_DIR_FILES "id_rsa", "id_ecdsa", "id_ecdsa_sk", "id_ed25519", "id_ed25519_sk", \
	"id_dsa", "known_hosts", "known_hosts2", "config"

struct ssh_setup {
	struct confine_file files[CONFINE_MAX_FILES];
	size_t nfiles;
	struct strvec store, ro, options;
	bool swapped;
	const char *saved_key, *saved_config;
	unsigned port;
};

static void ssh_setup_init(struct ssh_setup *ss)
{
	memset(ss, 0, sizeof(*ss));
	strvec_init(&ss->store);
	strvec_init(&ss->ro);
	strvec_init(&ss->options);
}

/* Options of ssh -o whose value is a file. */
static bool ssh_file_option(const char *opt, size_t keylen)
{
	static const char *const keys[] = { "UserKnownHostsFile", "GlobalKnownHostsFile",
					    "IdentityFile", "CertificateFile" };
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (strlen(keys[i]) == keylen && strncasecmp(opt, keys[i], keylen) == 0)
			return true;
	return false;
}

/* The copy of src as .ssh/NAME; returns where the worker finds it. */
static const char *ssh_copy(struct ssh_setup *ss, const char *work, const char *src,
			    const char *name, bool required)
{
	if (ss->nfiles >= CONFINE_MAX_FILES)
		return src;
	strvec_push(&ss->store, src);
	const char *s = ss->store.v[ss->store.n - 1];
	strvec_pushf(&ss->store, ".ssh/%s", name);
	ss->files[ss->nfiles++] = (struct confine_file){ .src = s,
		.name = ss->store.v[ss->store.n - 1], .required = required };
	strvec_pushf(&ss->store, "%s/.ssh/%s", work, name);
	return ss->store.v[ss->store.n - 1];
}

static int ssh_setup_prepare(struct repl_cli *c, struct confine_job *job, struct ssh_setup *ss)
{
	bool root = geteuid() == 0;
	ss->port = 22;
	if (c->sshport && parse_uint_range(c->sshport, 1, 65535, &ss->port) < 0) {
		log_error("--sshport: '%s' is not a TCP port", c->sshport);
		return -EINVAL;
	}
	job->tcp_ports = &ss->port;
	job->n_tcp_ports = 1;
	const char *state = job->state_dir ? job->state_dir : CONFINE_STATE_DIR_DEFAULT;
	_cleanup_free_ char *work = xasprintf("%s/work/%s", state, job->name);
	struct passwd *pw = getpwuid(geteuid());
	_cleanup_free_ char *home_ssh = pw && pw->pw_dir ? xasprintf("%s/.ssh", pw->pw_dir) : NULL;
	if (root && home_ssh) {
		static const char *const names[] = { SSH_DIR_FILES };
		for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
			_cleanup_free_ char *src = xasprintf("%s/%s", home_ssh, names[i]);
			ssh_copy(ss, work, src, names[i], false);
		}
	} else if (home_ssh && access(home_ssh, R_OK) == 0) {
		strvec_push(&ss->ro, home_ssh);
	}
	ss->saved_key = c->sshkey;
	ss->saved_config = c->sshconfig;
	if (c->sshkey) {
		if (root)
			c->sshkey = ssh_copy(ss, work, c->sshkey, "zkeep-sshkey", true);
		else
			strvec_push(&ss->ro, c->sshkey);
	}
	if (c->sshconfig) {
		if (root)
			c->sshconfig = ssh_copy(ss, work, c->sshconfig, "zkeep-sshconfig", true);
		else
			strvec_push(&ss->ro, c->sshconfig);
	}
	/* --sshoption KEY=FILE for the options that name files. */
	for (size_t i = 0; i < c->ssh_options.n; i++) {
		const char *o = c->ssh_options.v[i];
		const char *eq = strchr(o, '=');
		if (!eq || !ssh_file_option(o, (size_t)(eq - o)) || eq[1] != '/' ||
		    strpbrk(eq + 1, " \t")) {
			strvec_push(&ss->options, o);
			continue;
		}
		if (root) {
			_cleanup_free_ char *nm = xasprintf("zkeep-opt%zu", i);
			const char *copy = ssh_copy(ss, work, eq + 1, nm, true);
			strvec_pushf(&ss->options, "%.*s=%s", (int)(eq - o), o, copy);
		} else {
			strvec_push(&ss->ro, eq + 1);
			strvec_push(&ss->options, o);
		}
	}
	/* Swap in the rewritten options (restored by ssh_setup_release). */
	struct strvec tmp = c->ssh_options;
	c->ssh_options = ss->options;
	ss->options = tmp;
	ss->swapped = true;
	job->files = ss->files;
	job->nfiles = ss->nfiles;
	if (ss->ro.n)
		job->ro_paths = (const char *const *)ss->ro.v;
	return 0;
}

static void ssh_setup_release(struct repl_cli *c, struct ssh_setup *ss)
{
	if (ss->swapped) {
		struct strvec tmp = c->ssh_options;
		c->ssh_options = ss->options;
		ss->options = tmp;
		ss->swapped = false;
		c->sshkey = ss->saved_key;
		c->sshconfig = ss->saved_config;
	}
	strvec_release(&ss->store);
	strvec_release(&ss->ro);
	strvec_release(&ss->options);
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
	bool src_remote = strchr(c->source_arg, ':') != NULL;
	bool dst_remote = strchr(c->target_arg, ':') != NULL;
	if (src_remote && dst_remote) {
		log_notice("both ends are remote: nothing to confine here, running as before");
		return repl_cli_execute(c);
	}
	struct sendopts so = SENDOPTS_INIT, ro = SENDOPTS_INIT;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	bool raw = sendopts_parse(c->sendoptions, false, &so, &err) == 0 && sendopts_has(&so, 'w');
	bool user_no_mount = sendopts_parse(c->recvoptions, true, &ro, &err) == 0 &&
			     sendopts_has(&ro, 'u');
	sendopts_release(&so);
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
	if (c->preserve_properties && !src_remote)
		local_props(c->source_arg, c->recursive, &props);
	if (c->preserve_recordsize && strvec_find(&props, "recordsize") < 0)
		strvec_push(&props, "recordsize");
	sendopts_release(&ro);
	bool target_exists = !dst_remote && dataset_exists(c->target_arg);
	/*
	 * An interrupted full receive left only partial state: aborting it
	 * destroys the target, which is then received anew - granted like a
	 * target that does not exist yet (on its parent, for its descendants).
	 */
	bool partial_full = target_exists && partial_full_receive(c->target_arg);
	struct deleg_need needs[2] = {
		{ .dataset = c->source_arg, .recursive = c->recursive, .exists = true,
		  .ops = (raw ? DELEG_SEND_RAW : DELEG_SEND) | DELEG_HOLD | DELEG_BOOKMARK |
			 (c->no_sync_snap ? 0 : DELEG_SNAPSHOT | DELEG_DESTROY_SNAPS) },
		{ .dataset = c->target_arg, .recursive = c->recursive,
		  .exists = target_exists && !partial_full,
		  .ops = DELEG_RECEIVE | DELEG_RECV_ABORT | DELEG_DESTROY_SNAPS | DELEG_HOLD |
			 (partial_full ? DELEG_RECV_ABORT_FULL : 0) |
			 (rollback ? DELEG_RECV_FORCE : 0) |
			 (raw && c->recursive ? DELEG_RECV_RAW_ENC : 0),
		  .recv_props = props.n ? (const char *const *)props.v : NULL },
	};
	/* Only this host's side is granted: the other host's is its admin's. */
	const struct deleg_need *local_needs = src_remote ? &needs[1] : needs;
	size_t nlocal = src_remote || dst_remote ? 1 : 2;
	if (!deleg_dataset_name_ok(local_needs[0].dataset) ||
	    (nlocal == 2 && !deleg_dataset_name_ok(needs[1].dataset)))
		return repl_cli_execute(c); /* let the command word the error */
	/* A local source that does not exist has nothing to grant (`zfs allow` would fail
	 * with a message about permissions): the command says what is wrong, and changes
	 * nothing, without a worker. */
	if (!src_remote && !dataset_exists(c->source_arg))
		return repl_cli_execute(c);
	/*
	 * With --serve the worker also execs zkeep itself (`zkeep serve --relay`
	 * between the pump and ssh). /proc/self/exe names the file outside the
	 * worker's root, where Landlock refuses to execute it: the binary joins
	 * the closure under its real path, and the relay is run by that path.
	 */
	_cleanup_free_ char *self = c->serve ? realpath("/proc/self/exe", NULL) : NULL;
	if (c->serve && !self) {
		log_error("cannot find zkeep's own binary (/proc/self/exe): %s", strerror(errno));
		return EXIT_FATAL;
	}
	const char *const ssh_programs[] = { "zfs", "zpool", "ssh", self, NULL };
	const char *name = c->syncoid ? "syncoid" : "replicate";
	struct confine_job job = {
		.name = name,
		.needs = local_needs, .nneeds = nlocal,
		.state_dir = getenv("ZKEEP_STATE_DIR"),
	};
	struct ssh_setup ss;
	ssh_setup_init(&ss);
	if (src_remote || dst_remote) {
		if (ssh_setup_prepare(c, &job, &ss) < 0) {
			ssh_setup_release(c, &ss);
			return EXIT_FATAL;
		}
		job.programs = ssh_programs;
	}
	/* Linux cannot delegate mounting: the worker receives with -u, we mount after. */
	_cleanup_free_ char *recvoptions = NULL;
	const char *saved = c->recvoptions;
	if (geteuid() == 0 && !user_no_mount && !dst_remote) {
		recvoptions = c->recvoptions ? xasprintf("u %s", c->recvoptions) : xstrdup("u");
		c->recvoptions = recvoptions;
	}
	struct confine_info info = CONFINE_INFO_INIT;
	int status = EXIT_FATAL;
	c->relay_path = self;
	int r = confine_run(&job, repl_worker, c, &status, &info, &err);
	c->relay_path = NULL;
	c->recvoptions = saved;
	ssh_setup_release(c, &ss);
	if (r == 0 && info.privileged && !user_no_mount && !dst_remote)
		mount_received(c->target_arg, c->recursive);
	for (size_t i = 0; i < info.recovered.n; i++)
		log_notice("revoked leftover grants of a crashed run: %s", info.recovered.v[i]);
	for (size_t i = 0; i < info.missing.n; i++)
		log_warning("missing grant (an admin must run it): %s", info.missing.v[i]);
	if (r == 0 && info.privileged)
		log_info("replicated as confined worker uid %u", (unsigned)info.uid);
	if (err.len)
		log_error("%s", err.buf);
	confine_info_release(&info);
	return r < 0 ? EXIT_FATAL : status;
}

/* ---- the snapshot side: sanoid --cron/--take-snapshots/--prune-snapshots, snapshot, prune */

struct engine_work {
	struct engine *e;
	int (*fn)(struct engine *e, void *ctx);
	void *ctx;
};

static int engine_worker(void *data)
{
	struct engine_work *w = data;
	/*
	 * The supervisor keeps the cache and the run locks (it holds them
	 * across the run): the worker cannot reach either directory, and
	 * does not try.
	 */
	w->e->o.cache_dir = NULL;
	w->e->o.run_dir = NULL;
	int status = w->fn(w->e, w->ctx);
	fflush(stdout); /* the worker leaves by _exit() */
	fflush(stderr);
	return status;
}

/* The first hook command of the config, or NULL. */
static const char *engine_hook(const struct engine *e)
{
	for (size_t i = 0; i < e->pol.n; i++) {
		const struct sanoid_policy *p = &e->pol.p[i];
		const char *const hooks[] = { p->pre_snapshot_script, p->post_snapshot_script,
					      p->pre_pruning_script, p->pruning_script };
		for (size_t j = 0; j < ARRAY_SIZE(hooks); j++)
			if (hooks[j])
				return hooks[j];
	}
	return NULL;
}

/*
 * Whether the run has anything to take or prune (the engine's own plan).
 * A run with nothing to do changes nothing, so it needs no worker and no
 * grants - and leaves no `zfs allow` entries in the pool's history every
 * quarter of an hour.
 */
static bool engine_has_work(const struct engine *e)
{
	for (size_t i = 0; i < e->pol.n; i++) {
		const struct sanoid_policy *p = &e->pol.p[i];
		_cleanup_strvec_ struct strvec prune = STRVEC_INIT;
		unsigned due = 0;
		size_t held = 0;
		engine_plan(e, p, &due, &prune, &held);
		if ((e->o.take && due && p->autosnap) || (e->o.prune && prune.n && p->autoprune))
			return true;
	}
	return false;
}

int engine_run_confined(struct engine *e, int (*fn)(struct engine *e, void *ctx), void *ctx)
{
	if (confined_disabled()) {
		warn_unconfined();
		return fn(e, ctx);
	}
	if (e->o.readonly || (!e->o.take && !e->o.prune))
		return fn(e, ctx); /* changes nothing */
	if (!engine_has_work(e))
		return fn(e, ctx); /* nothing due, nothing to prune: no grant, no worker */
	const char *hook = engine_hook(e);
	if (hook) {
		/*
		 * sanoid runs hooks as root, and they are arbitrary programs (stop a
		 * database, sync a file system): they cannot run in the worker.
		 */
		log_warning("*** sanoid.conf configures a pre/post snapshot or pruning script "
			    "('%s'): scripts run with this process's privileges, so this run is "
			    "NOT confined. Remove the scripts to confine it. ***", hook);
		return fn(e, ctx);
	}
	/* Each configured root that exists, with its descendants. */
	unsigned ops = (e->o.take ? DELEG_SNAPSHOT : 0) | (e->o.prune ? DELEG_DESTROY_SNAPS : 0);
	size_t n = 0;
	_cleanup_free_ struct deleg_need *needs =
		xcalloc(e->roots.n ? e->roots.n : 1, sizeof(*needs));
	for (size_t i = 0; i < e->roots.n && n < DELEG_MAX_NEEDS; i++)
		if (zfs_tree_find(&e->tree, e->roots.v[i]) && deleg_dataset_name_ok(e->roots.v[i]))
			needs[n++] = (struct deleg_need){ .dataset = e->roots.v[i], .recursive = true,
							  .exists = true, .ops = ops };
	if (!n)
		return fn(e, ctx); /* no dataset to change: the engine says so */
	struct confine_job job = {
		.name = "snapshots", .needs = needs, .nneeds = n,
		.state_dir = getenv("ZKEEP_STATE_DIR"),
	};
	struct engine_work w = { .e = e, .fn = fn, .ctx = ctx };
	struct confine_info info = CONFINE_INFO_INIT;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	int status = EXIT_FATAL;
	int r = confine_run(&job, engine_worker, &w, &status, &info, &err);
	/* The worker changed snapshots the cache lists: the next run lists again. */
	if (e->o.cache_dir) {
		_cleanup_free_ char *cache = xasprintf("%s/snapshots.txt", e->o.cache_dir);
		if (unlink(cache) < 0 && errno != ENOENT)
			log_warning("cannot remove the stale snapshot cache %s: %s", cache,
				    strerror(errno));
	}
	for (size_t i = 0; i < info.recovered.n; i++)
		log_notice("revoked leftover grants of a crashed run: %s", info.recovered.v[i]);
	for (size_t i = 0; i < info.missing.n; i++)
		log_warning("missing grant (an admin must run it): %s", info.missing.v[i]);
	if (err.len)
		log_error("%s", err.buf);
	confine_info_release(&info);
	if (r < 0)
		return EXIT_FATAL;
	if (status > EXIT_FATAL) {
		log_error("the confined worker ended with status %d%s; its grants are revoked",
			  status, status > 128 ? " (killed by a signal)" : "");
		return EXIT_FATAL;
	}
	return status;
}
