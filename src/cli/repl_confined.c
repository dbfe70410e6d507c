/* cli/repl_confined.c - see repl_confined.h. */
#include "base/zkeep.h"
#include "cli/commands.h"
#include "cli/repl_confined.h"
#include "cli/confined.h"
#include "cli/repl_execute.h"
#include "confine/confine.h"
#include "base/log.h"
#include "base/parse.h"
#include "base/spawn.h"
#include "replication/sendopts.h"
#include "zfs/zfs.h"

#include <pwd.h>
#include <strings.h>

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
	return repl_execute(data);
}

/* Whether --recvoptions asks for -u (the user mounts nothing). */
static bool recv_no_mount(const struct repl_cli *c)
{
	struct sendopts ro = SENDOPTS_INIT;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	bool user_no_mount = sendopts_parse(c->recvoptions, true, &ro, &err) == 0 &&
			     sendopts_has(&ro, 'u');
	sendopts_release(&ro);
	return user_no_mount;
}

/*
 * What the job needs granted: out[0] the source side, out[1] the target
 * side; *local_needs the first of those on this host, and the count of them
 * is returned. props receives the names of the properties the receive sets
 * (out points into it).
 */
static size_t repl_needs(const struct repl_cli *c, bool src_remote, bool dst_remote,
			 struct strvec *props, struct deleg_need out[2],
			 const struct deleg_need **local_needs)
{
	struct sendopts so = SENDOPTS_INIT, ro = SENDOPTS_INIT;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	bool raw = sendopts_parse(c->sendoptions, false, &so, &err) == 0 && sendopts_has(&so, 'w');
	(void)sendopts_parse(c->recvoptions, true, &ro, &err);
	sendopts_release(&so);
	strbuf_reset(&err);
	bool rollback = c->syncoid ? !c->no_rollback : c->rollback;
	/*
	 * Properties the receive sets need one permission each: those of
	 * --recvoptions "o k=v", and with --preserve-properties the source's
	 * local ones (read here, from this host's ZFS).
	 */
	for (size_t i = 0; i < ro.n; i++)
		if (ro.flag[i] == 'o' && ro.value[i]) {
			_cleanup_free_ char *k = xstrndup(ro.value[i], strcspn(ro.value[i], "="));
			if (strvec_find(props, k) < 0)
				strvec_push(props, k);
		}
	if (c->preserve_properties && !src_remote)
		local_props(c->source_arg, c->recursive, props);
	if (c->preserve_recordsize && strvec_find(props, "recordsize") < 0)
		strvec_push(props, "recordsize");
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
		  .recv_props = props->n ? (const char *const *)props->v : NULL },
	};
	memcpy(out, needs, sizeof(needs));
	/* Only this host's side is granted: the other host's is its admin's. */
	*local_needs = src_remote ? &out[1] : out;
	return src_remote || dst_remote ? 1 : 2;
}

int repl_execute_confined(struct repl_cli *c)
{
	if (confined_disabled()) {
		confined_warn_unconfined();
		return repl_execute(c);
	}
	if (c->dry_run || c->dumpsnaps)
		return repl_execute(c); /* changes nothing */
	if (c->force_delete) {
		/* Destroying a mounted filesystem unmounts it: Linux cannot delegate that. */
		log_notice("--force-delete destroys (and so unmounts) the target, which Linux "
			   "cannot delegate: running unconfined");
		return repl_execute(c);
	}
	bool src_remote = strchr(c->source_arg, ':') != NULL;
	bool dst_remote = strchr(c->target_arg, ':') != NULL;
	if (src_remote && dst_remote) {
		log_notice("both ends are remote: nothing to confine here, running as before");
		return repl_execute(c);
	}
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	bool user_no_mount = recv_no_mount(c);
	_cleanup_strvec_ struct strvec props = STRVEC_INIT;
	struct deleg_need needs[2];
	const struct deleg_need *local_needs;
	size_t nlocal = repl_needs(c, src_remote, dst_remote, &props, needs, &local_needs);
	if (!deleg_dataset_name_ok(local_needs[0].dataset) ||
	    (nlocal == 2 && !deleg_dataset_name_ok(needs[1].dataset)))
		return repl_execute(c); /* let the command word the error */
	/* A local source that does not exist has nothing to grant (`zfs allow` would fail
	 * with a message about permissions): the command says what is wrong, and changes
	 * nothing, without a worker. */
	if (!src_remote && !dataset_exists(c->source_arg))
		return repl_execute(c);
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
	confined_report(&info);
	if (r == 0 && info.privileged)
		log_info("replicated as confined worker uid %u", (unsigned)info.uid);
	if (err.len)
		log_error("%s", err.buf);
	confine_info_release(&info);
	return r < 0 ? EXIT_FATAL : status;
}
