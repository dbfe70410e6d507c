/* cli/repl_confined.c - see repl_confined.h. */
#include "base/zkeep.h"
#include "cli/commands.h"
#include "cli/repl_confined.h"
#include "cli/confined.h"
#include "cli/repl_execute.h"
#include "cli/root_receives.h"
#include "cli/jobspec.h"
#include "confine/confine.h"
#include "base/log.h"
#include "base/term.h"
#include "base/parse.h"
#include "replication/sendopts.h"
#include "replication/ssh.h"
#include "replication/ssh_connector.h"
#include "zfs/root_receive.h"
#include "zfs/root_request.h"
#include "zfs/zfs.h"

#include <pwd.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <strings.h>

/* The names of the properties set locally on dataset (and below it). */
static void local_props(struct zfs *z, const char *dataset, bool recursive, struct strvec *out)
{
	struct zfs_props p = { 0 };
	const char *const ds[] = { dataset, NULL };
	if (zfs_get_props(z, ds, recursive, NULL, ZFS_SRC_LOCAL, &p) == 0)
		for (size_t i = 0; i < p.n && out->n < DELEG_MAX_PROPS; i++)
			if (strvec_find(out, p.p[i].name) < 0)
				strvec_push(out, p.p[i].name);
	zfs_props_release(&p);
}

/*
 * What `zfs receive` as root would have mounted (zfs_mount_received()), in
 * area only. Failures (a key not loaded) and mountpoints outside area (which
 * --preserve-properties of a source's own mountpoint sets too) are only
 * reported: the data is received. A mount refused because received data
 * could redirect it (a symbolic link on the way to the mountpoint) is an
 * error: false.
 */
static bool mount_received(struct zfs *z, const struct strvec *areas, const char *root,
			   bool recursive)
{
	_cleanup_strvec_ struct strvec failed = STRVEC_INIT, elsewhere = STRVEC_INIT;
	_cleanup_strvec_ struct strvec refused = STRVEC_INIT;
	zfs_mount_received(z, (const char *const *)areas->v, root, recursive, &failed, &elsewhere,
			   &refused);
	for (size_t i = 0; i < failed.n; i++)
		log_info("not mounted: %s", failed.v[i]);
	for (size_t i = 0; i < elsewhere.n; i++)
		log_warning("not mounted (mount it yourself if you trust where): %s", elsewhere.v[i]);
	for (size_t i = 0; i < refused.n; i++)
		log_error("not mounted, the way to its mountpoint is not root's alone (received "
			  "data may redirect it): %s", refused.v[i]);
	return refused.n == 0;
}

/*
 * A confined ssh client. ssh reads its keys, known_hosts and config from the
 * home of its passwd entry; the worker's (synthetic) home is the run's
 * directory. As root (the run uid cannot read root's originals), the
 * supervisor copies there, under .ssh/ (root's, so the worker cannot swap
 * them): the key --sshkey names (no other: root's ~/.ssh/id_* stay out of
 * the worker's reach), the caller's known_hosts, known_hosts2 and config,
 * and the files --sshconfig and file-valued --sshoption name; the worker
 * then points the options at the copies. Not root, the originals are added
 * to the paths Landlock lets it read. As root the supervisor also makes the
 * TCP connection (ssh_connect_for_worker()) and the worker has no network;
 * otherwise Landlock (ABI 4+) allows TCP connect only to the --sshport
 * (default 22): a Port in an ssh config is not seen there, so give it as
 * --sshport.
 */
#define SSH_HOME_FILES "known_hosts", "known_hosts2", "config"
#define SSH_COPY_KEY ".ssh/zkeep-sshkey"
#define SSH_COPY_CONFIG ".ssh/zkeep-sshconfig"
#define SSH_COPY_OPTION ".ssh/zkeep-opt%zu"

struct ssh_setup {
	struct confine_file files[CONFINE_MAX_FILES];
	size_t nfiles;
	struct strvec store, ro;
	unsigned port;
	int fds[2]; /* the sockets connected for the worker's ssh to the source's and the
		     * target's host, or -1 */
	int keep[2]; /* the connected ones, for the worker */
	size_t nkeep;
};

static void ssh_setup_init(struct ssh_setup *ss)
{
	memset(ss, 0, sizeof(*ss));
	strvec_init(&ss->store);
	strvec_init(&ss->ro);
	ss->fds[0] = ss->fds[1] = -1;
}

static void ssh_setup_release(struct ssh_setup *ss)
{
	strvec_release(&ss->store);
	strvec_release(&ss->ro);
	for (size_t i = 0; i < ARRAY_SIZE(ss->fds); i++) {
		if (ss->fds[i] >= 0)
			close(ss->fds[i]);
		ss->fds[i] = -1;
	}
}

/*
 * As root: connect the worker's ssh to e's host here, so the worker gets a
 * network namespace of its own with nothing in it (ssh.h: the master runs
 * over the socket, ProxyCommand=-). Where to connect is what `ssh -G` says
 * with the job's options and root's config, as ssh itself would decide. A
 * config that sends ssh through a ProxyCommand or ProxyJump is not a TCP
 * connection zkeep can make for it: then *proxy is set (caller frees). 1
 * when connected (*fd), 0 when not (*proxy), -errno when the host cannot be
 * reached (reported).
 */
static int ssh_connect_for_worker(const struct repl_cli *c, const struct endpoint *e, int *fd,
				  char **proxy)
{
	struct ssh_opts so = {
		.user = e->user, .host = e->host, .port = c->sshport, .key = c->sshkey,
		.cipher = c->sshcipher, .config = c->sshconfig,
		.options = (const char *const *)c->ssh_options.v,
	};
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT, msg = STRBUF_INIT;
	_cleanup_release_(ssh_destination) struct ssh_destination d = SSH_DESTINATION_INIT;
	int r = ssh_destination_resolve(&so, &d, &err);
	if (r < 0) {
		log_error("%s", err.buf);
		return r;
	}
	if (d.proxy) {
		*proxy = xasprintf("the ssh config of %s sets %s", e->host, d.proxy);
		return 0;
	}
	r = ssh_destination_connect(&d, fd, &err);
	if (r < 0) {
		_cleanup_free_ char *label = e->user ? xasprintf("%s@%s", e->user, e->host)
						     : xstrdup(e->host);
		(void)ssh_describe_failure(label, 255, err.buf, &msg);
		log_error("%s", msg.buf);
		return r;
	}
	log_info("connected to %s port %u for the worker's ssh: the worker gets no network",
		 d.hostname, d.port);
	return 1;
}

/*
 * A job unit's run (not root, no network of its own): its one remote host's
 * connection from root's connector at path (replication/ssh_connector.h),
 * which connects where the job's configuration says. 0 with fds[i] set for
 * the remote side, or -errno (reported).
 */
static int ssh_fetch_connection(const struct endpoint *const remote[2], int fds[2],
				const char *path)
{
	if (remote[0] && remote[1]) {
		log_error("%s is set, and a connector serves one host: this job has two",
			  SSH_CONNECTOR_ENV);
		return -EINVAL;
	}
	size_t i = remote[0] ? 0 : 1;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	/* longer than a TCP connect root makes without a ConnectTimeout (about 127 s) */
	int r = ssh_connector_fetch(path, 180 * 1000, &fds[i], &err);
	if (r < 0) {
		log_error("%s", err.buf);
		return r;
	}
	log_info("root's connector connected this run's ssh to %s", remote[i]->host);
	return 0;
}

/* The --sshoption KEY=/FILE whose file the worker gets as a copy: the length of KEY, or 0. */
static size_t ssh_file_option(const char *opt)
{
	static const char *const keys[] = { "UserKnownHostsFile", "GlobalKnownHostsFile",
					    "IdentityFile", "CertificateFile" };
	const char *eq = strchr(opt, '=');
	if (!eq || eq[1] != '/' || strpbrk(eq + 1, " \t"))
		return 0;
	size_t keylen = (size_t)(eq - opt);
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (strlen(keys[i]) == keylen && strncasecmp(opt, keys[i], keylen) == 0)
			return keylen;
	return 0;
}

/* As root: src copied as NAME (".ssh/..."); else src readable in place. */
static void ssh_share(struct ssh_setup *ss, const char *src, const char *name, bool required,
		      bool root)
{
	if (!root) {
		strvec_push(&ss->ro, src);
		return;
	}
	if (ss->nfiles >= CONFINE_MAX_FILES)
		return; /* confine_run() refuses more */
	strvec_push(&ss->store, src);
	const char *s = ss->store.v[ss->store.n - 1];
	strvec_push(&ss->store, name);
	ss->files[ss->nfiles++] = (struct confine_file){ .src = s,
		.name = ss->store.v[ss->store.n - 1], .required = required };
}

/* In the supervisor: what the worker's ssh gets, copied (root) or readable. */
static int ssh_setup_prepare(const struct repl_cli *c, struct confine_job *job,
			     struct ssh_setup *ss)
{
	bool root = geteuid() == 0;
	ss->port = 22;
	if (c->sshport && parse_uint_range(c->sshport, 1, 65535, &ss->port) < 0) {
		log_error("--sshport: '%s' is not a TCP port", c->sshport);
		return -EINVAL;
	}
	job->tcp_ports = &ss->port;
	job->n_tcp_ports = 1;
	/* each remote side's host, once (one connection serves both when they are one) */
	const struct endpoint *remote[2] = {
		endpoint_is_remote(&c->src) ? &c->src : NULL,
		endpoint_is_remote(&c->dst) && !endpoint_same_connection(&c->src, &c->dst) ? &c->dst
											   : NULL,
	};
	_cleanup_free_ char *proxy = NULL;
	const char *connector = root ? NULL : getenv(SSH_CONNECTOR_ENV);
	if (connector && !*connector)
		connector = NULL;
	if (connector) {
		int r = ssh_fetch_connection(remote, ss->fds, connector);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; root && i < ARRAY_SIZE(remote) && !proxy; i++) {
		if (!remote[i])
			continue;
		int r = ssh_connect_for_worker(c, remote[i], &ss->fds[i], &proxy);
		if (r < 0)
			return r;
	}
	if (proxy) {
		log_notice("%s: the confined worker keeps this host's network (Landlock limits "
			   "its TCP to port %u where the kernel can)", proxy, ss->port);
		for (size_t i = 0; i < ARRAY_SIZE(ss->fds); i++)
			if (ss->fds[i] >= 0) {
				close(ss->fds[i]);
				ss->fds[i] = -1;
			}
	}
	if ((root && !proxy) || connector) {
		/* No TCP port: as root the sandbox gives the worker a network namespace
		 * of its own (a unit's run has one already). ssh still reads the
		 * system's config (as it would). */
		job->tcp_ports = NULL;
		job->n_tcp_ports = 0;
		for (size_t i = 0; i < ARRAY_SIZE(ss->fds); i++)
			if (ss->fds[i] >= 0)
				ss->keep[ss->nkeep++] = ss->fds[i];
		job->keep_fds = ss->keep;
		job->nkeep_fds = ss->nkeep;
		static const char *const sys[] = { "/etc/ssh/ssh_config", "/etc/ssh/ssh_config.d" };
		for (size_t i = 0; i < ARRAY_SIZE(sys); i++)
			if (access(sys[i], R_OK) == 0)
				strvec_push(&ss->ro, sys[i]);
	}
	struct passwd *pw = getpwuid(geteuid());
	_cleanup_free_ char *home_ssh = pw && pw->pw_dir ? xasprintf("%s/.ssh", pw->pw_dir) : NULL;
	if (root && home_ssh) {
		static const char *const names[] = { SSH_HOME_FILES };
		for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
			_cleanup_free_ char *src = xasprintf("%s/%s", home_ssh, names[i]);
			_cleanup_free_ char *name = xasprintf(".ssh/%s", names[i]);
			ssh_share(ss, src, name, false, true);
		}
	} else if (home_ssh && access(home_ssh, R_OK) == 0) {
		strvec_push(&ss->ro, home_ssh);
	}
	if (c->sshkey)
		ssh_share(ss, c->sshkey, SSH_COPY_KEY, true, root);
	else if (root)
		log_notice("the confined ssh gets only the key --sshkey names, and none is given");
	if (c->sshconfig)
		ssh_share(ss, c->sshconfig, SSH_COPY_CONFIG, true, root);
	for (size_t i = 0; i < c->ssh_options.n; i++) {
		size_t keylen = ssh_file_option(c->ssh_options.v[i]);
		_cleanup_free_ char *name = xasprintf(SSH_COPY_OPTION, i);
		if (keylen)
			ssh_share(ss, c->ssh_options.v[i] + keylen + 1, name, true, root);
	}
	job->files = ss->files;
	job->nfiles = ss->nfiles;
	if (ss->ro.n)
		job->ro_paths = (const char *const *)ss->ro.v;
	return 0;
}

/*
 * In the worker, when the supervisor made copies: the ssh options point at
 * them in the run's directory work (the worker's own memory: nothing to
 * restore). store keeps the new strings.
 */
static void ssh_use_copies(struct repl_cli *c, const char *work, struct strvec *store)
{
	if (c->sshkey) {
		strvec_pushf(store, "%s/" SSH_COPY_KEY, work);
		c->sshkey = store->v[store->n - 1];
	}
	if (c->sshconfig) {
		strvec_pushf(store, "%s/" SSH_COPY_CONFIG, work);
		c->sshconfig = store->v[store->n - 1];
	}
	for (size_t i = 0; i < c->ssh_options.n; i++) {
		size_t keylen = ssh_file_option(c->ssh_options.v[i]);
		if (!keylen)
			continue;
		_cleanup_free_ char *name = xasprintf(SSH_COPY_OPTION, i);
		_cleanup_free_ char *o = xasprintf("%.*s=%s/%s", (int)keylen, c->ssh_options.v[i],
						   work, name);
		free(c->ssh_options.v[i]);
		c->ssh_options.v[i] = steal_pointer(&o);
	}
}

struct repl_work {
	struct repl_cli *c;
	bool copies; /* the supervisor copied the ssh files into the run's directory */
};

static int repl_worker(void *data, const char *work_dir)
{
	struct repl_work *w = data;
	_cleanup_strvec_ struct strvec store = STRVEC_INIT;
	if (w->copies && work_dir)
		ssh_use_copies(w->c, work_dir, &store);
	/* Its own directory is all a worker may write to when it is not root's
	 * (Landlock alone, no private /tmp): the ssh control socket goes there. */
	w->c->ssh_runtime_dir = work_dir;
	return repl_execute(w->c);
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

void repl_cli_grant_facts(const struct repl_cli *c, bool src_remote, bool dst_remote,
			  struct repl_facts *f)
{
	*f = (struct repl_facts){
		.source = c->source_arg, .target = c->target_arg,
		.source_remote = src_remote, .target_remote = dst_remote,
		.recursive = c->recursive,
		.sendoptions = c->sendoptions, .recvoptions = c->recvoptions,
		.rollback = c->syncoid ? !c->no_rollback : c->rollback,
		.no_sync_snap = c->no_sync_snap,
		.preserve_recordsize = c->preserve_recordsize,
		.force_delete = c->force_delete,
	};
}

/*
 * What the job needs granted on this host (the other host's side is its
 * admin's), by the one rule (jobconf_repl_needs(), also `zkeep allow` and
 * `zkeep units`): the count is returned, the source side first;
 * *local_needs is out. props receives the names of the properties the
 * receive sets (out points into it).
 */
static size_t repl_needs(const struct repl_cli *c, struct zfs *z, bool src_remote, bool dst_remote,
			 bool by_root, struct strvec *props, struct deleg_need out[2],
			 const struct deleg_need **local_needs)
{
	struct repl_facts f;
	repl_cli_grant_facts(c, src_remote, dst_remote, &f);
	f.receives_by_root = by_root && !dst_remote;
	/* --preserve-properties: the source's local properties, read here (this host's ZFS). */
	_cleanup_strvec_ struct strvec local = STRVEC_INIT;
	if (c->preserve_properties && !src_remote)
		local_props(z, c->source_arg, c->recursive, &local);
	if (local.n)
		f.source_props = (const char *const *)local.v;
	if (!dst_remote)
		repl_target_facts(z, c->target_arg, &f);
	*local_needs = out;
	return jobconf_repl_needs(&f, props, out);
}

/*
 * Whether the run can be confined: not with --no-confine (warned), not a dry
 * run or --dumpsnaps (they change nothing), not
 * endpoints that do not parse (the command says what is wrong). Both ends
 * remote: a worker without grants and without this host's zfs.
 */
static bool confinable(const struct repl_cli *c)
{
	if (confined_disabled()) {
		confined_warn_unconfined();
		return false;
	}
	if (c->dry_run || c->dumpsnaps)
		return false;
	if (c->endpoints_r < 0)
		return false;
	return true;
}

int repl_unmount_request(const char *target, const char *request, const char **dataset)
{
	const char *name = skip_prefix(request, "unmount ");
	/* a pool's root is never destroyed (--force-delete), so never unmounted for it */
	if (!name || !deleg_dataset_name_ok(name) || !zfs_name_within(name, target) ||
	    !strchr(name, '/'))
		return -EPERM;
	*dataset = name;
	return 0;
}

/*
 * --force-delete, as root: the worker destroys its target when the run
 * finds nothing in common with the source, and destroying a mounted
 * filesystem unmounts it, which Linux cannot delegate. Whether it will is
 * known only in the worker, so right before the destroy it asks root on a
 * channel of its own ("unmount DATASET"); root unmounts that dataset's
 * mounted filesystems (deepest first) only when it is the job's target or
 * below it - what the worker is granted to destroy anyway - and after the
 * run mounts again those that still exist.
 */
struct root_service {
	const char *target;
	struct zfs *z;
	bool syncoid;            /* say it at debug level: syncoid prints no such line */
	bool unmounts;           /* --force-delete: root unmounts for the worker */
	struct strvec unmounted;
	struct root_receives receives; /* the worker's (cli/root_receives.h) */
};

static void serve_unmount(struct root_service *s, const char *request, struct strbuf *reply)
{
	const char *name;
	if (!s->unmounts || repl_unmount_request(s->target, request, &name) < 0) {
		_cleanup_strbuf_ struct strbuf quoted = STRBUF_INIT;
		term_escape(&quoted, request, strlen(request), TERM_FINAL | TERM_ONE_LINE);
		log_warning("refused the confined worker's request '%s': root unmounts only %s "
			    "and what is below it", quoted.buf, s->target);
		strbuf_addf(reply, "error refused: root unmounts only %s and what is below it",
			    s->target);
		return;
	}
	_cleanup_strbuf_ struct strbuf out = STRBUF_INIT;
	if (zfs_get_text(s->z, ARGV(name), "value,name", ARGV("mounted"), &out) < 0) {
		strbuf_addf(reply, "error %s", zfs_error(s->z));
		return;
	}
	_cleanup_strvec_ struct strvec lines = STRVEC_INIT;
	strvec_split(&lines, out.buf, "\n");
	for (size_t i = lines.n; i-- > 0;) { /* listed parents first: children first here */
		const char *fs = skip_prefix(lines.v[i], "yes\t");
		if (!fs || !zfs_name_within(fs, name))
			continue;
		if (zfs_unmount(s->z, fs) < 0) {
			strbuf_addf(reply, "error %s", zfs_error(s->z));
			return;
		}
		log_msg(s->syncoid ? LOG_LVL_DEBUG : LOG_LVL_INFO,
			"unmounted %s for the confined worker, which destroys it (--force-delete)",
			fs);
		strvec_push(&s->unmounted, fs);
	}
	strbuf_addstr(reply, "ok");
}

static void serve_request(void *ctx, const char *request, int *fds, size_t nfds,
			  struct strbuf *reply)
{
	struct root_service *s = ctx;
	if (skip_prefix(request, ROOT_RECV_VERB "\n"))
		root_receives_serve(&s->receives, request, fds, nfds);
	else
		serve_unmount(s, request, reply);
}

/*
 * Run repl_execute(c) as the worker of job: with ssh set up when a side is
 * remote, receiving with -u as root (Linux cannot delegate mounting), then
 * mount what it received and report. The exit status.
 */
static int run_worker(struct repl_cli *c, struct confine_job *job, struct zfs *z, const char *self,
		      const char *const *props, bool force, const struct deleg_need *target_need,
		      int unit_channel)
{
	bool src_remote = endpoint_is_remote(&c->src);
	bool dst_remote = endpoint_is_remote(&c->dst);
	/* both ends remote: this host's ZFS is not the job's (it may have none) */
	const char *const ssh_programs[] = { "zfs", "zpool", "ssh", self, NULL };
	const char *const remote_programs[] = { "ssh", self, NULL };
	_cleanup_(ssh_setup_release) struct ssh_setup ss;
	ssh_setup_init(&ss);
	struct repl_work w = { .c = c };
	if (src_remote || dst_remote) {
		if (ssh_setup_prepare(c, job, &ss) < 0)
			return EXIT_FATAL;
		job->programs = src_remote && dst_remote ? remote_programs : ssh_programs;
		w.copies = geteuid() == 0;
		for (size_t i = 0; i < ARRAY_SIZE(ss.fds); i++) /* the worker's ssh takes them */
			c->ssh_connected_fds[i] = ss.fds[i] >= 0 ? ss.fds[i] : 0;
	}
	/* Linux cannot delegate mounting: the worker receives with -u, we mount after. */
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	bool user_no_mount = recv_no_mount(c);
	_cleanup_free_ char *recvoptions = NULL;
	const char *saved = c->recvoptions;
	if (geteuid() == 0 && !user_no_mount && !dst_remote) {
		recvoptions = c->recvoptions ? xasprintf("u %s", c->recvoptions) : xstrdup("u");
		c->recvoptions = recvoptions;
	}
	/* What the operator sets itself is theirs: the guard checks the rest (prop_guard.h). */
	_cleanup_strvec_ struct strvec keep = STRVEC_INIT;
	recvopts_prop_words(c->recvoptions, &keep);
	if (keep.n)
		job->guard_keep = (const char *const *)keep.v;
	/*
	 * The worker's channel to root: --force-delete asks root to unmount what
	 * it destroys (serve_unmount); root runs every zfs receive into the
	 * target (root_receives_serve()), and the worker holds no receive grant.
	 */
	struct confine_info info = CONFINE_INFO_INIT;
	struct root_service rs = {
		.target = c->target_arg, .z = z, .syncoid = c->syncoid,
		.unmounts = c->force_delete, .unmounted = STRVEC_INIT,
	};
	root_receives_init(&rs.receives, z, &info);
	const struct root_recv_policy policy = {
		.target = c->target_arg, .recursive = c->recursive, .force = force, .props = props,
		.keep = keep.n ? (const char *const *)keep.v : NULL,
	};
	/* not there when the run began (or to be replaced): granted once root's receive made it */
	if (c->root_receives)
		root_receives_add(&rs.receives, &policy,
				  target_need && !target_need->exists ? target_need : NULL);
	int pair[2] = { -1, -1 };
	int fds[3], channel = -1; /* the worker's end of its channel to root */
	struct sandbox_requests rq = { .fd = -1, .fn = serve_request,
				       .malformed = root_receives_malformed, .ctx = &rs };
	if ((c->force_delete || c->root_receives) && !dst_remote && geteuid() == 0) {
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) {
			log_error("cannot make the worker's channel to root: %s", strerror(errno));
			return EXIT_FATAL;
		}
		rq.fd = pair[0];
		job->requests = &rq;
		channel = pair[1];
	} else if (c->root_receives && unit_channel >= 0) {
		channel = unit_channel; /* a unit's run: the worker asks root's receive service */
	}
	if (channel >= 0) { /* the worker keeps its end of the channel */
		size_t n = 0;
		for (size_t i = 0; i < job->nkeep_fds && n < ARRAY_SIZE(fds) - 1; i++)
			fds[n++] = job->keep_fds[i];
		fds[n++] = channel;
		job->keep_fds = fds;
		job->nkeep_fds = n;
		c->root_requests_fd = channel;
	}
	/* Where root will mount what is received: decided before the worker can change it. */
	_cleanup_strvec_ struct strvec areas = STRVEC_INIT;
	if (geteuid() == 0 && !user_no_mount && !dst_remote &&
	    zfs_received_mount_areas(z, c->target_arg, &areas) < 0)
		log_warning("nothing received will be mounted: %s", zfs_error(z));
	int status = EXIT_FATAL;
	c->relay_path = self;
	int r = confine_run(job, repl_worker, &w, &status, &info, &err);
	c->relay_path = NULL;
	root_receives_release(&rs.receives); /* root's receives end before anything is mounted */
	c->ssh_connected_fds[0] = c->ssh_connected_fds[1] = 0; /* ss closes root's copies */
	c->root_requests_fd = 0;
	c->recvoptions = saved;
	for (size_t i = 0; i < 2; i++)
		if (pair[i] >= 0)
			close(pair[i]);
	if (r == 0 && info.privileged && !user_no_mount && !dst_remote &&
	    !mount_received(z, &areas, c->target_arg, c->recursive) && status == EXIT_OK)
		status = EXIT_PARTIAL;
	/*
	 * What root unmounted for a destroy that did not happen (or failed),
	 * parents first; not after a failed run or guard (nothing is mounted then).
	 */
	for (size_t i = rs.unmounted.n; r == 0 && i-- > 0;)
		if (zfs_exists(z, rs.unmounted.v[i]) == 1 &&
		    !mount_received(z, &areas, rs.unmounted.v[i], false) && status == EXIT_OK)
			status = EXIT_PARTIAL;
	strvec_release(&rs.unmounted);
	confined_report(&info);
	if (r == 0 && info.privileged)
		log_info("replicated as confined worker uid %u", (unsigned)info.uid);
	if (err.len)
		log_error("%s", err.buf);
	confine_info_release(&info);
	return r < 0 ? EXIT_FATAL : status;
}

/*
 * Under its systemd unit a job runs as a DynamicUser, and root's receive
 * service for it listens on the socket ZKEEP_ROOT_RECEIVES names
 * (cmd/units.c, `zkeep allow --serve-receives`): connected here, before
 * the worker starts, for a local target. *fd is -1 when there is none;
 * -errno when the socket is named but cannot be reached (logged): the
 * run's user holds no receive grant then, so going on would fail later.
 */
static int unit_receive_channel(bool dst_remote, int *fd)
{
	*fd = -1;
	const char *path = getenv("ZKEEP_ROOT_RECEIVES");
	if (!path || !*path || dst_remote || geteuid() == 0)
		return 0;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_error("ZKEEP_ROOT_RECEIVES: the path is too long for a socket: %s", path);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		log_error("cannot reach root's receive service at %s (ZKEEP_ROOT_RECEIVES): %s",
			  path, strerror(e));
		if (s >= 0)
			close(s);
		return -e;
	}
	*fd = s;
	return 0;
}

int repl_execute_confined(struct repl_cli *c)
{
	if (!confinable(c))
		return repl_execute(c);
	bool src_remote = endpoint_is_remote(&c->src);
	bool dst_remote = endpoint_is_remote(&c->dst);
	_cleanup_fd_ int unit_channel = -1;
	if (unit_receive_channel(dst_remote, &unit_channel) < 0)
		return EXIT_FATAL;
	bool by_root = geteuid() == 0 || unit_channel >= 0;
	/* This host's ZFS, for the questions the grants depend on (reading needs no privilege). */
	_cleanup_(runner_freep) struct runner *run = runner_local_new();
	_cleanup_release_(zfs) struct zfs z;
	zfs_init(&z, run);
	_cleanup_strvec_ struct strvec props = STRVEC_INIT;
	struct deleg_need needs[2];
	const struct deleg_need *local_needs;
	size_t nlocal = repl_needs(c, &z, src_remote, dst_remote, by_root, &props, needs,
				   &local_needs);
	/*
	 * Root runs the receives into the target: the worker gets no receive
	 * permission, zfs/root_receive.h says why. A new target gets its grants
	 * once root's receive made it; so does one a partial full receive's
	 * abort or --force-delete destroys and root receives anew.
	 */
	bool force = false;
	const struct deleg_need *target_need = NULL;
	c->root_receives = false;
	for (size_t i = 0; i < nlocal; i++) {
		if (!(needs[i].ops & DELEG_RECEIVE))
			continue;
		force = needs[i].ops & DELEG_RECV_FORCE;
		if (needs[i].ops & DELEG_RECV_BY_ROOT) {
			c->root_receives = true;
			target_need = &needs[i];
		}
	}
	for (size_t i = 0; i < nlocal; i++)
		if (!deleg_dataset_name_ok(local_needs[i].dataset))
			return repl_execute(c); /* let the command word the error (changes nothing) */
	/* A local source that does not exist has nothing to grant (`zfs allow` would fail
	 * with a message about permissions): the command says what is wrong, and changes
	 * nothing, without a worker. */
	if (!src_remote && !zfs_exists(&z, c->source_arg))
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
	struct confine_job job = {
		.name = c->syncoid ? "syncoid" : "replicate",
		.needs = local_needs, .nneeds = nlocal,
		.state_dir = getenv("ZKEEP_STATE_DIR"),
	};
	int status = run_worker(c, &job, &z, self, (const char *const *)props.v, force,
				target_need, unit_channel);
	c->root_receives = false;
	return status;
}
