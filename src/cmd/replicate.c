/* cmd/replicate.c - `zkeep replicate`, and the driver shared with `syncoid`. */
#include "base/zkeep.h"
#include "cli/commands.h"
#include "cli/replicate_cli.h"
#include "cli/confined.h"
#include "config.h"
#include "base/log.h"
#include "base/parse.h"
#include "replication/pump.h"
#include "replication/ssh.h"
#include "snapshots/syncsnap.h"
#include "base/timeutil.h"

#include "base/json_out.h"

#include <getopt.h>
#include <jansson.h>
#include <regex.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

void repl_cli_init(struct repl_cli *c)
{
	memset(c, 0, sizeof(*c));
	strvec_init(&c->exclude_datasets);
	strvec_init(&c->include_snaps);
	strvec_init(&c->exclude_snaps);
	strvec_init(&c->ssh_options);
}

void repl_cli_release(struct repl_cli *c)
{
	strvec_release(&c->exclude_datasets);
	strvec_release(&c->include_snaps);
	strvec_release(&c->exclude_snaps);
	strvec_release(&c->ssh_options);
}

/* ---- events (shared with zkeep drive backup) ------------------------------- */

static const char *const ev_names[] = {
	[REPL_EV_INFO] = "info",	 [REPL_EV_WARNING] = "warning",
	[REPL_EV_ERROR] = "error",	 [REPL_EV_PLAN] = "plan",
	[REPL_EV_SEND_START] = "send",	 [REPL_EV_PROGRESS] = "progress",
	[REPL_EV_SEND_DONE] = "sent",	 [REPL_EV_DEBUG] = "debug",
};

void repl_printer_init(struct repl_printer *p, bool json, enum log_level level)
{
	memset(p, 0, sizeof(*p));
	p->json = json;
	p->indent = "";
	p->level = level;
	const char *term = getenv("TERM");
	p->bar = !json && isatty(STDERR_FILENO) && !(term && streq(term, "dumb")) &&
		 log_enabled(LOG_LVL_NOTICE);
	p->line_interval = 10;
	const char *iv = getenv("ZKEEP_PROGRESS_INTERVAL");
	unsigned secs;
	if (iv && *iv && parse_uint_range(iv, 0, 86400, &secs) == 0)
		p->line_interval = secs;
}

static void json_event(const struct repl_printer *p, const struct replicate_event *ev)
{
	if (ev->kind == REPL_EV_DEBUG && !log_enabled(LOG_LVL_DEBUG))
		return;
	json_t *o = json_object();
	json_object_set_new(o, "event", json_string(ev_names[ev->kind]));
	if (p->step)
		json_object_set_new(o, "step", json_str(p->step));
	if (ev->source)
		json_object_set_new(o, "source", json_str(ev->source));
	if (ev->target)
		json_object_set_new(o, "target", json_str(ev->target));
	if (ev->kind == REPL_EV_SEND_START || ev->kind == REPL_EV_PROGRESS ||
	    ev->kind == REPL_EV_SEND_DONE) {
		json_object_set_new(o, "from", json_str(ev->from));
		json_object_set_new(o, "to", json_str(ev->to));
		json_object_set_new(o, "bytes", json_integer((json_int_t)ev->bytes));
		json_object_set_new(o, "expected_bytes", json_integer((json_int_t)ev->expected_bytes));
	}
	if (ev->kind == REPL_EV_PROGRESS || ev->kind == REPL_EV_SEND_DONE) {
		json_object_set_new(o, "rate", json_real(ev->rate));
		json_object_set_new(o, "seconds", json_real(ev->seconds));
		if (ev->kind == REPL_EV_PROGRESS)
			json_object_set_new(o, "eta", ev->eta >= 0 ? json_real(ev->eta) : json_null());
	}
	if (ev->message)
		json_object_set_new(o, "message", json_str(ev->message));
	json_emit_line(stdout, o);
}

static void pump_view(const struct replicate_event *ev, bool done, struct pump_progress *pp)
{
	*pp = (struct pump_progress){
		.stream_bytes = ev->bytes,
		.expected_bytes = ev->expected_bytes,
		.elapsed = ev->seconds,
		.rate = ev->rate,
		.eta = ev->eta,
		.done = done,
	};
}

static unsigned term_width(void)
{
	struct winsize ws;
	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
		return ws.ws_col;
	return 80;
}

static void draw_bar(struct repl_printer *p, const struct replicate_event *ev, bool done)
{
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	struct pump_progress pp;
	pump_view(ev, done, &pp);
	size_t ind = strlen(p->indent);
	unsigned w = term_width() - 1; /* never the last column: no wrap */
	strbuf_addstr(&sb, p->indent);
	pump_progress_format(&pp, PUMP_SHOW_BAR, w > ind ? w - (unsigned)ind : 0, &sb);
	fprintf(stderr, "\r%s\033[K%s", sb.buf, done ? "\n" : "");
	fflush(stderr);
	p->bar_drawn = !done;
}

void repl_printer_done(struct repl_printer *p)
{
	if (p->bar_drawn) {
		fputc('\n', stderr);
		fflush(stderr);
		p->bar_drawn = false;
	}
}

void repl_printer_event(struct repl_printer *p, const struct replicate_event *ev)
{
	if (p->json) {
		json_event(p, ev);
		return;
	}
	if (p->bar_drawn && ev->kind != REPL_EV_PROGRESS && ev->kind != REPL_EV_SEND_DONE &&
	    (ev->kind != REPL_EV_DEBUG || log_enabled(LOG_LVL_DEBUG))) {
		fputs("\r\033[K", stderr); /* wipe the bar; the next tick redraws it */
		p->bar_drawn = false;
	}
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	struct pump_progress pp;
	switch (ev->kind) {
	case REPL_EV_INFO:
		log_notice("%s%s", p->indent, ev->message);
		break;
	case REPL_EV_WARNING:
		log_warning("%s", ev->message);
		break;
	case REPL_EV_ERROR:
		log_error("%s", ev->message);
		break;
	case REPL_EV_DEBUG:
		log_debug("%s", ev->message);
		break;
	case REPL_EV_PLAN:
		fputs(ev->message, stdout);
		fflush(stdout);
		break;
	case REPL_EV_SEND_START:
		p->last_line = 0;
		if (ev->expected_bytes && log_enabled(p->level)) {
			pump_human_bytes(&sb, (double)ev->expected_bytes);
			log_msg(p->level, "%sabout %s to send", p->indent, sb.buf);
		}
		break;
	case REPL_EV_PROGRESS:
		if (p->bar) {
			draw_bar(p, ev, false);
		} else if (p->line_interval > 0 && log_enabled(p->level) &&
			   ev->seconds - p->last_line >= p->line_interval) {
			p->last_line = ev->seconds;
			pump_view(ev, false, &pp);
			pump_progress_format(&pp, PUMP_SHOW_LINE, 0, &sb);
			log_msg(p->level, "%s%s", p->indent, sb.buf);
		}
		break;
	case REPL_EV_SEND_DONE:
		if (p->bar_drawn) {
			draw_bar(p, ev, true);
		} else if (log_enabled(p->level)) {
			pump_view(ev, true, &pp);
			pp.expected_bytes = 0; /* the totals, not how far off the estimate was */
			pump_progress_format(&pp, PUMP_SHOW_LINE, 0, &sb);
			log_msg(p->level, "%ssent %s", p->indent, sb.buf + strlen("done: "));
		}
		break;
	}
}

static void on_event(const struct replicate_event *ev, void *data)
{
	repl_printer_event(data, ev);
}

/* ---- driver ----------------------------------------------------------------- */

static int compile_all(const struct strvec *src, regex_t **out, size_t *n, const char *opt)
{
	*out = xcalloc(src->n + 1, sizeof(regex_t));
	*n = 0;
	if (src->n > REPLAN_MAX_REGEX) {
		log_error("%s: at most %d patterns", opt, REPLAN_MAX_REGEX);
		return -EINVAL;
	}
	for (size_t i = 0; i < src->n; i++) {
		int r = regcomp(&(*out)[i], src->v[i], REG_EXTENDED | REG_NOSUB);
		if (r) {
			char msg[256];
			regerror(r, &(*out)[i], msg, sizeof(msg));
			log_error("%s='%s': not a valid extended regular expression: %s", opt, src->v[i],
				  msg);
			return -EINVAL;
		}
		(*n)++;
	}
	return 0;
}

static void free_all(regex_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		regfree(&v[i]);
	free(v);
}

/* The names of this host's pools (for syncoid's "host:" rule). */
static void local_pools(struct zfs *z, struct strvec *out)
{
	struct zpool_infos pools = { 0 };
	if (zpool_list(z, NULL, &pools) < 0)
		return;
	for (size_t i = 0; i < pools.n; i++)
		strvec_push(out, pools.p[i].name);
	zpool_infos_release(&pools);
}

static struct runner *remote_runner(struct repl_cli *c, const struct endpoint *e)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct ssh_opts so = {
		.user = e->user,
		.host = e->host,
		.port = c->sshport,
		.key = c->sshkey,
		.cipher = c->sshcipher,
		.config = c->sshconfig,
		.options = (const char *const *)c->ssh_options.v,
		.mode = c->serve ? SSH_REMOTE_SERVE : SSH_REMOTE_SHELL,
		.zkeep_path = c->relay_path,
		/* syncoid runs remote commands with sudo unless the user is root */
		.elevate = !c->serve && e->user && !streq(e->user, "root") &&
			   !c->no_privilege_elevation,
	};
	struct runner *r = ssh_runner_new(&so, &err);
	if (!r) {
		log_error("%s", err.buf);
		return NULL;
	}
	if (ssh_runner_connect(r, &err) < 0) {
		log_error("%s", err.buf);
		runner_free(r);
		return NULL;
	}
	return r;
}

/* Whether the remote side has the codec's command-line tool (syncoid checks too). */
static bool remote_has_codec(struct runner *r, const struct pump_codec *codec)
{
	_cleanup_strvec_ struct strvec argv = STRVEC_INIT;
	int code = -1;
	pump_codec_argv(codec, true, &argv);
	if (!argv.n)
		return true;
	const char *const probe[] = { argv.v[0], "--version", NULL };
	return runner_run(r, probe, NULL, 0, NULL, NULL, &code) == 0 && code == 0;
}

/* --dumpsnaps: what syncoid's dumphash() shows - the snapshots of each source
 * dataset and of its target, before the sync - in lines instead of Perl's
 * Data::Dumper format. */
static void dump_one(const char *side, const struct zfs_dataset *d)
{
	for (size_t i = 0; d && i < d->nsnaps; i++) {
		const struct zfs_snap *sn = &d->snaps[i];
		printf("  %s %s%s guid=%" PRIu64 " createtxg=%" PRIu64 " creation=%" PRId64 "\n",
		       side, sn->type == ZFS_TYPE_BOOKMARK ? "#" : "@", sn->short_name, sn->guid,
		       sn->createtxg, sn->creation);
	}
}

static void dump_snaps(struct zfs *src, struct zfs *tgt, const struct repl_cli *c)
{
	struct zfs_tree st = ZFS_TREE_INIT, tt = ZFS_TREE_INIT;
	const char *sroots[] = { c->source_arg, NULL }, *troots[] = { c->target_arg, NULL };
	unsigned fl = ZFS_LIST_SNAPSHOTS | ZFS_LIST_BOOKMARKS | (c->recursive ? ZFS_LIST_RECURSIVE : 0);
	if (zfs_list_tree(src, sroots, fl, NULL, &st) < 0) {
		log_warning("--dumpsnaps: %s", zfs_error(src));
		return;
	}
	if (zfs_list_tree(tgt, troots, fl, NULL, &tt) < 0)
		zfs_tree_release(&tt); /* a target that does not exist yet has no snapshots */
	for (size_t i = 0; i < st.nds; i++) {
		_cleanup_free_ char *t = replan_target_name(c->source_arg, c->target_arg, st.ds[i].name);
		printf("merged snapshot list of %s (from %s):\n", t, st.ds[i].name);
		dump_one("source", &st.ds[i]);
		dump_one("target", zfs_tree_find(&tt, t));
	}
	fflush(stdout);
	zfs_tree_release(&st);
	zfs_tree_release(&tt);
}

int repl_cli_execute(struct repl_cli *c)
{
	struct replicate_opts ro;
	struct sendopts so = SENDOPTS_INIT, rcv = SENDOPTS_INIT;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	regex_t *exd = NULL, *inc = NULL, *exs = NULL;
	size_t nexd = 0, ninc = 0, nexs = 0;
	struct runner *run = NULL, *rsrc = NULL, *rtgt = NULL;
	struct zfs zsrc, ztgt, zlocal;
	struct endpoint esrc = ENDPOINT_INIT, etgt = ENDPOINT_INIT;
	bool zinit = false;
	int ret = EXIT_FATAL;
	char host[256];
	time_t now;
	_cleanup_free_ char *prefix = NULL, *tag = NULL;
	/* Declared before the first goto: a jump must not skip a cleanup variable. */
	_cleanup_strvec_ struct strvec pools = STRVEC_INIT;

	memset(&ro, 0, sizeof(ro));
	if (c->identifier && !syncsnap_identifier_valid(c->identifier)) {
		log_error("--identifier='%s': only letters, digits and - _ : . are allowed",
			  c->identifier);
		return EXIT_FATAL;
	}
	if (c->compress && !streq(c->compress, "default")) {
		struct pump_codec codec;
		if (pump_codec_from_syncoid(c->compress, &codec, &err) < 0) {
			log_error("--compress: %s", err.buf);
			return EXIT_FATAL;
		}
	}
	if (sendopts_parse(c->sendoptions, false, &so, &err) < 0 ||
	    sendopts_parse(c->recvoptions, true, &rcv, &err) < 0) {
		log_error("%s", err.buf);
		goto out;
	}
	if (c->recursive && sendopts_has(&so, 'R')) {
		log_error("--sendoptions=R cannot be combined with --recursive: the recursion is "
			  "done per dataset");
		goto out;
	}
	uint64_t v = 0;
	if (c->mbuffer_size && (parse_size(c->mbuffer_size, &v) < 0 || v == 0)) {
		log_error("--mbuffer-size=%s: not a size (e.g. 16M)", c->mbuffer_size);
		goto out;
	}
	ro.buffer_size = (size_t)v;
	const char *bw[] = { c->source_bwlimit, c->target_bwlimit };
	for (size_t i = 0; i < 2; i++) {
		if (!bw[i])
			continue;
		if (parse_size(bw[i], &v) < 0) {
			log_error("--%s-bwlimit=%s: not a rate in bytes per second (e.g. 10M)",
				  i ? "target" : "source", bw[i]);
			goto out;
		}
		if (v && (!ro.bwlimit || v < ro.bwlimit))
			ro.bwlimit = v;
	}
	if (compile_all(&c->exclude_datasets, &exd, &nexd, "--exclude-datasets") < 0 ||
	    compile_all(&c->include_snaps, &inc, &ninc, "--include-snaps") < 0 ||
	    compile_all(&c->exclude_snaps, &exs, &nexs, "--exclude-snaps") < 0)
		goto out;
	if (zkeep_now(&now) < 0) {
		log_error("ZKEEP_NOW is not a number of seconds");
		goto out;
	}
	if (gethostname(host, sizeof(host)) < 0) {
		log_error("cannot read the host name: %s", strerror(errno));
		goto out;
	}
	host[sizeof(host) - 1] = '\0';

	run = runner_local_new();
	zfs_init(&zlocal, run);
	if (strchr(c->source_arg, ':') || strchr(c->target_arg, ':'))
		local_pools(&zlocal, &pools);
	if (endpoint_parse(c->source_arg, (const char *const *)pools.v, &esrc, &err) < 0 ||
	    endpoint_parse(c->target_arg, (const char *const *)pools.v, &etgt, &err) < 0) {
		log_error("%s", err.buf);
		goto out_zfs;
	}
	if (esrc.host) {
		rsrc = remote_runner(c, &esrc);
		if (!rsrc)
			goto out_zfs;
	}
	if (etgt.host) {
		bool same = esrc.host && streq(esrc.host, etgt.host) && streq(esrc.user, etgt.user);
		rtgt = same ? rsrc : remote_runner(c, &etgt);
		if (!rtgt)
			goto out_zfs;
	}
	zfs_init(&zsrc, rsrc ? rsrc : run);
	zfs_init(&ztgt, rtgt ? rtgt : run);
	zinit = true;
	/* compression only across ssh; none by default for raw sends (incompressible) */
	if (esrc.host || etgt.host) {
		const char *cname = c->compress ? c->compress
				    : sendopts_has(&so, 'w') ? "none" : "lzo";
		struct pump_codec codec = { 0 };
		if (streq(cname, "default"))
			cname = "lzo";
		if (pump_codec_from_syncoid(cname, &codec, &err) < 0) {
			log_error("%s", err.buf);
			goto out_zfs;
		}
		if (rsrc && codec.kind != PUMP_CODEC_NONE) {
			if (c->serve || remote_has_codec(rsrc, &codec))
				ro.src_codec = codec;
			else
				log_info("%s has no %s tool: sending uncompressed", rsrc->label, cname);
		}
		if (rtgt && codec.kind != PUMP_CODEC_NONE) {
			if (c->serve || remote_has_codec(rtgt, &codec))
				ro.tgt_codec = codec;
			else
				log_info("%s has no %s tool: sending uncompressed", rtgt->label, cname);
		}
	}
	c->source_arg = esrc.dataset;
	c->target_arg = etgt.dataset;
	const char *names[] = { c->source_arg, c->target_arg };
	for (size_t i = 0; i < 2; i++)
		if (!zfs_name_valid(names[i], false)) {
			log_error("'%s' is not a valid dataset name", names[i]);
			goto out_zfs;
		}

	prefix = syncsnap_prefix(c->identifier, host);
	tag = c->syncoid ? xstrdup(prefix)
			 : (c->identifier ? xasprintf("zkeep_%s_%s", c->identifier, host)
					  : xasprintf("zkeep_%s", host));
	ro.plan.source_root = c->source_arg;
	ro.plan.target_root = c->target_arg;
	ro.plan.recursive = c->recursive;
	ro.plan.skip_parent = c->skip_parent;
	ro.plan.exclude_datasets = exd;
	ro.plan.n_exclude_datasets = nexd;
	ro.plan.include_snaps = inc;
	ro.plan.n_include_snaps = ninc;
	ro.plan.exclude_snaps = exs;
	ro.plan.n_exclude_snaps = nexs;
	ro.plan.no_stream = c->no_stream;
	ro.plan.resume = !c->no_resume;
	ro.plan.allow_rollback = c->syncoid ? !c->no_rollback : c->rollback;
	ro.plan.force_delete = c->force_delete;
	ro.plan.delete_target_snapshots = c->delete_target_snapshots;
	ro.plan.clone_handling = !c->no_clone_handling;
	ro.plan.preserve_properties = c->preserve_properties;
	ro.plan.preserve_recordsize = c->preserve_recordsize;
	ro.plan.hostname = host;
	ro.take_sync_snap = !c->no_sync_snap;
	ro.keep_sync_snap = c->keep_sync_snap;
	ro.create_bookmark = c->create_bookmark;
	ro.use_hold = c->use_hold;
	ro.hold_tag = tag;
	ro.sync_prefix = prefix;
	ro.now = now;
	ro.send = &so;
	ro.recv = &rcv;
	ro.dry_run = c->dry_run;
	struct repl_printer pr;
	/* syncoid shows pv's bar by default, its lines only with --debug */
	repl_printer_init(&pr, c->json, c->syncoid ? LOG_LVL_INFO : LOG_LVL_NOTICE);
	ro.event = on_event;
	ro.event_data = &pr;

	if (c->dumpsnaps)
		dump_snaps(&zsrc, &ztgt, c);
	struct replicate_result res;
	/* a receiver that dies must show up as an error, not kill us */
	signal(SIGPIPE, SIG_IGN);
	int r = replicate_run(&zsrc, &ztgt, &ro, &res, &err);
	repl_printer_done(&pr);
	if (r < 0) {
		log_error("%s", err.buf);
		ret = EXIT_FATAL;
	} else {
		ret = res.failed ? EXIT_PARTIAL : EXIT_OK;
		if (c->json) {
			json_emit_line(stdout,
				       json_pack("{s:s, s:i, s:i, s:i, s:i, s:I, s:b}", "event", "done",
						 "synced", (int)res.synced, "uptodate", (int)res.uptodate,
						 "skipped", (int)res.skipped, "failed", (int)res.failed,
						 "bytes", (json_int_t)res.bytes, "dry_run", c->dry_run));
		} else if (!c->syncoid || log_enabled(LOG_LVL_INFO)) {
			log_info("%u synced, %u up to date, %u skipped, %u failed", res.synced,
				 res.uptodate, res.skipped, res.failed);
		}
	}
out_zfs:
	if (zinit) {
		zfs_release(&zsrc);
		zfs_release(&ztgt);
	}
	zfs_release(&zlocal);
	if (rtgt != rsrc)
		runner_free(rtgt);
	runner_free(rsrc);
	runner_free(run);
	endpoint_release(&esrc);
	endpoint_release(&etgt);
out:
	free_all(exd, nexd);
	free_all(inc, ninc);
	free_all(exs, nexs);
	sendopts_release(&so);
	sendopts_release(&rcv);
	return ret;
}

/* ---- the target is busy ----------------------------------------------------- */

/* pid of a local process receiving into target (zfs receive), or 0. */
static pid_t local_receiver(const char *target)
{
	DIR *d = opendir("/proc");
	if (!d)
		return 0;
	pid_t found = 0, self = getpid();
	struct dirent *de;
	while (!found && (de = readdir(d))) {
		uint64_t pid;
		if (parse_u64(de->d_name, &pid) < 0 || pid == (uint64_t)self)
			continue;
		_cleanup_free_ char *path = xasprintf("/proc/%s/cmdline", de->d_name);
		_cleanup_strbuf_ struct strbuf cl = STRBUF_INIT;
		strbuf_init(&cl, 64 << 10);
		if (strbuf_read_file(&cl, path) < 0 || !cl.len)
			continue; /* gone, a kernel thread, or too long to be a zfs receive */
		_cleanup_strvec_ struct strvec argv = STRVEC_INIT;
		for (size_t i = 0; i < cl.len; i += strlen(cl.buf + i) + 1)
			strvec_push(&argv, cl.buf + i);
		if (replan_argv_receives_into((const char *const *)argv.v, argv.n, target))
			found = (pid_t)pid;
	}
	closedir(d);
	return found;
}

/* The directory of replication locks: $ZKEEP_RUN_DIR, /run/zkeep, or the user's. */
static char *lock_dir(void)
{
	const char *env = getenv("ZKEEP_RUN_DIR");
	if (env && *env)
		return xstrdup(env);
	if (mkdir("/run/zkeep", 0755) == 0 || errno == EEXIST) {
		if (access("/run/zkeep", W_OK) == 0)
			return xstrdup("/run/zkeep");
	}
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	if (xdg && *xdg) {
		char *dir = xasprintf("%s/zkeep", xdg);
		if (mkdir(dir, 0700) == 0 || errno == EEXIST)
			return dir;
		free(dir);
	}
	return NULL;
}

/*
 * Refuse to replicate into a target another run is receiving into: a lock
 * (flock, pid on the first line) per TARGET argument in the run dir, held
 * until we exit, and - like syncoid 2.3 - no local `zfs receive` into it may
 * be running (which catches syncoid and hand-made pipes too). Returns the
 * lock's descriptor (>= 0), -1 when no lock could be made (not fatal: the
 * check by process still ran), or -EBUSY (reported).
 */
static int lock_target(const struct repl_cli *c)
{
	const char *t = c->target_arg;
	if (!strchr(t, ':')) {
		pid_t pid = local_receiver(t);
		if (pid) {
			log_error("cannot replicate into %s now: it is the target of a running zfs "
				  "receive (pid %d); try again when that has finished",
				  t, (int)pid);
			return -EBUSY;
		}
	}
	_cleanup_free_ char *dir = lock_dir();
	if (!dir) {
		log_debug("no run directory for a lock on %s: /run/zkeep is not writable and "
			  "XDG_RUNTIME_DIR is not set", t);
		return -1;
	}
	_cleanup_strbuf_ struct strbuf path = STRBUF_INIT;
	strbuf_addf(&path, "%s/", dir);
	replan_lock_name(t, &path);
	int fd = open(path.buf, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		log_debug("cannot open the lock %s: %s", path.buf, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		_cleanup_strbuf_ struct strbuf who = STRBUF_INIT;
		strbuf_init(&who, 64);
		strbuf_read_fd(&who, fd);
		strbuf_setlen(&who, strcspn(who.buf, "\n"));
		close(fd);
		if (e == EWOULDBLOCK) {
			log_error("cannot replicate into %s now: another replication into it is "
				  "running (pid %s, lock %s); try again when it has finished",
				  t, who.len ? who.buf : "unknown", path.buf);
			return -EBUSY;
		}
		log_debug("cannot lock %s: %s", path.buf, strerror(e));
		return -1;
	}
	char pid[32];
	int n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n)
		log_debug("cannot write the pid into %s: %s", path.buf, strerror(errno));
	return fd;
}

int repl_cli_run(struct repl_cli *c)
{
	int lock = -1;
	/* a dry run changes nothing: it may look at a busy target */
	if (!c->dry_run) {
		lock = lock_target(c);
		if (lock == -EBUSY)
			return EXIT_PARTIAL; /* syncoid's status for a busy target */
	}
	int ret = repl_cli_execute_confined(c);
	if (lock >= 0)
		close(lock);
	return ret;
}

/* ---- options shared by syncoid and zkeep replicate -------------------------- */

enum {
	OPT_SKIP_PARENT = 256, OPT_EXCLUDE_DATASETS, OPT_IDENTIFIER, OPT_NO_SYNC_SNAP,
	OPT_KEEP_SYNC_SNAP, OPT_CREATE_BOOKMARK, OPT_USE_HOLD, OPT_NO_HOLD, OPT_NO_STREAM,
	OPT_NO_RESUME, OPT_NO_ROLLBACK, OPT_ROLLBACK, OPT_NO_CLONE_ROLLBACK, OPT_FORCE_DELETE,
	OPT_DELETE_TARGET_SNAPSHOTS, OPT_INCLUDE_SNAPS, OPT_EXCLUDE_SNAPS, OPT_NO_CLONE_HANDLING,
	OPT_SENDOPTIONS, OPT_RECVOPTIONS, OPT_PRESERVE_PROPERTIES, OPT_PRESERVE_RECORDSIZE,
	OPT_COMPRESS, OPT_MBUFFER_SIZE, OPT_PV_OPTIONS, OPT_SOURCE_BWLIMIT, OPT_TARGET_BWLIMIT,
	OPT_BWLIMIT, OPT_SSHKEY, OPT_SSHPORT, OPT_SSHCONFIG, OPT_INSECURE_DIRECT,
	OPT_NO_PRIV_ELEVATION, OPT_NO_COMMAND_CHECKS, OPT_MONITOR_VERSION, OPT_DUMPSNAPS, OPT_DEBUG,
	OPT_QUIET, OPT_VERBOSE, OPT_HELP, OPT_VERSION, OPT_DRY_RUN, OPT_JSON, OPT_SERVE,
};

#define COMMON_OPTIONS \
	{ "recursive", no_argument, NULL, 'r' }, \
	{ "skip-parent", no_argument, NULL, OPT_SKIP_PARENT }, \
	{ "exclude-datasets", required_argument, NULL, OPT_EXCLUDE_DATASETS }, \
	{ "identifier", required_argument, NULL, OPT_IDENTIFIER }, \
	{ "no-sync-snap", no_argument, NULL, OPT_NO_SYNC_SNAP }, \
	{ "keep-sync-snap", no_argument, NULL, OPT_KEEP_SYNC_SNAP }, \
	{ "create-bookmark", no_argument, NULL, OPT_CREATE_BOOKMARK }, \
	{ "no-stream", no_argument, NULL, OPT_NO_STREAM }, \
	{ "no-resume", no_argument, NULL, OPT_NO_RESUME }, \
	{ "force-delete", no_argument, NULL, OPT_FORCE_DELETE }, \
	{ "delete-target-snapshots", no_argument, NULL, OPT_DELETE_TARGET_SNAPSHOTS }, \
	{ "include-snaps", required_argument, NULL, OPT_INCLUDE_SNAPS }, \
	{ "exclude-snaps", required_argument, NULL, OPT_EXCLUDE_SNAPS }, \
	{ "no-clone-handling", no_argument, NULL, OPT_NO_CLONE_HANDLING }, \
	{ "sendoptions", required_argument, NULL, OPT_SENDOPTIONS }, \
	{ "recvoptions", required_argument, NULL, OPT_RECVOPTIONS }, \
	{ "preserve-properties", no_argument, NULL, OPT_PRESERVE_PROPERTIES }, \
	{ "preserve-recordsize", no_argument, NULL, OPT_PRESERVE_RECORDSIZE }, \
	{ "compress", required_argument, NULL, OPT_COMPRESS }, \
	{ "sshkey", required_argument, NULL, OPT_SSHKEY }, \
	{ "sshport", required_argument, NULL, OPT_SSHPORT }, \
	{ "sshcipher", required_argument, NULL, 'c' }, \
	{ "sshoption", required_argument, NULL, 'o' }, \
	{ "sshconfig", required_argument, NULL, OPT_SSHCONFIG }, \
	{ "debug", no_argument, NULL, OPT_DEBUG }, \
	{ "quiet", no_argument, NULL, OPT_QUIET }, \
	{ "help", no_argument, NULL, OPT_HELP }, \
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN }, \
	{ "serve", no_argument, NULL, OPT_SERVE }

static const struct option syncoid_options[] = {
	COMMON_OPTIONS,
	{ "exclude", required_argument, NULL, OPT_EXCLUDE_DATASETS },
	{ "use-hold", no_argument, NULL, OPT_USE_HOLD },
	{ "no-rollback", no_argument, NULL, OPT_NO_ROLLBACK },
	{ "no-clone-rollback", no_argument, NULL, OPT_NO_CLONE_ROLLBACK },
	{ "mbuffer-size", required_argument, NULL, OPT_MBUFFER_SIZE },
	{ "pv-options", required_argument, NULL, OPT_PV_OPTIONS },
	{ "source-bwlimit", required_argument, NULL, OPT_SOURCE_BWLIMIT },
	{ "target-bwlimit", required_argument, NULL, OPT_TARGET_BWLIMIT },
	{ "insecure-direct-connection", required_argument, NULL, OPT_INSECURE_DIRECT },
	{ "no-privilege-elevation", no_argument, NULL, OPT_NO_PRIV_ELEVATION },
	{ "no-command-checks", no_argument, NULL, OPT_NO_COMMAND_CHECKS },
	{ "monitor-version", no_argument, NULL, OPT_MONITOR_VERSION },
	{ "dumpsnaps", no_argument, NULL, OPT_DUMPSNAPS },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

static const struct option replicate_options[] = {
	COMMON_OPTIONS,
	{ "no-hold", no_argument, NULL, OPT_NO_HOLD },
	{ "rollback", no_argument, NULL, OPT_ROLLBACK },
	{ "buffer-size", required_argument, NULL, OPT_MBUFFER_SIZE },
	{ "bwlimit", required_argument, NULL, OPT_BWLIMIT },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "verbose", no_argument, NULL, OPT_VERBOSE },
	{ NULL, 0, NULL, 0 },
};

/*
 * Parse argv into c. Returns 0 to run, 1 when done (help/version printed),
 * -1 on a usage error (already reported).
 */
int repl_cli_parse(struct repl_cli *c, int argc, char **argv, const char *help)
{
	const struct option *opts = c->syncoid ? syncoid_options : replicate_options;
	int ch;
	optind = 1;
	opterr = 1;
	if (!c->syncoid)
		c->use_hold = true;
	while ((ch = c->syncoid ? getopt_long_only(argc, argv, "+rc:o:", opts, NULL)
				: getopt_long(argc, argv, "+rc:o:nv", opts, NULL)) != -1) {
		switch (ch) {
		case 'r': c->recursive = true; break;
		case OPT_SKIP_PARENT: c->skip_parent = true; break;
		case OPT_EXCLUDE_DATASETS: strvec_push(&c->exclude_datasets, optarg); break;
		case OPT_IDENTIFIER: c->identifier = optarg; break;
		case OPT_NO_SYNC_SNAP: c->no_sync_snap = true; break;
		case OPT_KEEP_SYNC_SNAP: c->keep_sync_snap = true; break;
		case OPT_CREATE_BOOKMARK: c->create_bookmark = true; break;
		case OPT_USE_HOLD: c->use_hold = true; break;
		case OPT_NO_HOLD: c->use_hold = false; break;
		case OPT_NO_STREAM: c->no_stream = true; break;
		case OPT_NO_RESUME: c->no_resume = true; break;
		case OPT_NO_ROLLBACK: c->no_rollback = true; break;
		case OPT_ROLLBACK: c->rollback = true; break;
		case OPT_NO_CLONE_ROLLBACK: break; /* zkeep rolls back with -r: clones are never destroyed */
		case OPT_FORCE_DELETE: c->force_delete = true; break;
		case OPT_DELETE_TARGET_SNAPSHOTS: c->delete_target_snapshots = true; break;
		case OPT_INCLUDE_SNAPS: strvec_push(&c->include_snaps, optarg); break;
		case OPT_EXCLUDE_SNAPS: strvec_push(&c->exclude_snaps, optarg); break;
		case OPT_NO_CLONE_HANDLING: c->no_clone_handling = true; break;
		case OPT_SENDOPTIONS: c->sendoptions = optarg; break;
		case OPT_RECVOPTIONS: c->recvoptions = optarg; break;
		case OPT_PRESERVE_PROPERTIES: c->preserve_properties = true; break;
		case OPT_PRESERVE_RECORDSIZE: c->preserve_recordsize = true; break;
		case OPT_COMPRESS: c->compress = optarg; break;
		case OPT_MBUFFER_SIZE: c->mbuffer_size = optarg; break;
		case OPT_PV_OPTIONS:
			log_warning("--pv-options is ignored: zkeep shows progress itself (a bar "
				    "on a terminal)");
			break;
		case OPT_SOURCE_BWLIMIT: c->source_bwlimit = optarg; break;
		case OPT_TARGET_BWLIMIT: c->target_bwlimit = optarg; break;
		case OPT_BWLIMIT: c->source_bwlimit = optarg; break;
		case OPT_SSHKEY: c->sshkey = optarg; break;
		case OPT_SSHPORT: c->sshport = optarg; break;
		case 'c': c->sshcipher = optarg; break;
		case 'o': strvec_push(&c->ssh_options, optarg); break;
		case OPT_SSHCONFIG: c->sshconfig = optarg; break;
		case OPT_INSECURE_DIRECT:
			log_warning("--insecure-direct-connection is ignored: zkeep always sends "
				    "through ssh");
			break;
		case OPT_NO_PRIV_ELEVATION: c->no_privilege_elevation = true; break;
		case OPT_NO_COMMAND_CHECKS: break; /* zkeep needs no helper commands */
		case OPT_MONITOR_VERSION: break;   /* does nothing in syncoid either */
		case OPT_DUMPSNAPS: c->dumpsnaps = true; break;
		case OPT_DEBUG: log_set_level(LOG_LVL_DEBUG); break;
		case OPT_QUIET: log_set_level(LOG_LVL_ERROR); break;
		case 'v':
		case OPT_VERBOSE: log_set_level(LOG_LVL_INFO); break;
		case 'n':
		case OPT_DRY_RUN: c->dry_run = true; break;
		case OPT_JSON: c->json = true; break;
		case OPT_SERVE: c->serve = true; break;
		case OPT_HELP: fputs(help, stdout); return 1;
		case OPT_VERSION: printf("syncoid version 2.3.0 (zkeep %s)\n", ZKEEP_VERSION); return 1;
		default:
			fprintf(stderr, "see '%s --help'\n", c->syncoid ? "syncoid" : "zkeep replicate");
			return -1;
		}
	}
	if (argc - optind != 2) {
		log_error("need exactly a SOURCE and a TARGET dataset (got %d argument%s); see --help",
			  argc - optind, argc - optind == 1 ? "" : "s");
		return -1;
	}
	c->source_arg = argv[optind];
	c->target_arg = argv[optind + 1];
	return 0;
}

const char cmd_replicate_help[] =
	"usage: zkeep replicate [options] SOURCE TARGET\n"
	"\n"
	"Replicate the ZFS dataset SOURCE (and with -r its children) to TARGET, with\n"
	"syncoid's semantics (see docs/replicate.md), safer defaults and --json events.\n"
	"SOURCE and TARGET are [[user@]host:]dataset.\n"
	"\n"
	"Differences from `syncoid`:\n"
	"  - the newest common snapshot is held on both sides (tag zkeep_[ID_]HOST) so no\n"
	"    pruner can force a full resend; --no-hold turns that off;\n"
	"  - a target with snapshots newer than the common one is never rolled back and\n"
	"    receives never use -F unless --rollback is given;\n"
	"  - short options are single letters; long options need two dashes.\n"
	"\n"
	"Options:\n"
	"  -r, --recursive               also replicate every child dataset\n"
	"      --skip-parent             with -r: not the SOURCE dataset itself\n"
	"      --exclude-datasets=RE     with -r: skip datasets matching RE (repeatable)\n"
	"      --include-snaps=RE        send only snapshots matching RE (repeatable)\n"
	"      --exclude-snaps=RE        do not send snapshots matching RE (repeatable)\n"
	"      --identifier=ID           syncoid_ID_HOST sync snapshots (several targets)\n"
	"      --no-sync-snap            take no sync snapshot; send the newest existing one\n"
	"      --keep-sync-snap          keep older sync snapshots\n"
	"      --create-bookmark         with --no-sync-snap: bookmark the newest sent snapshot\n"
	"      --no-hold                 do not hold the newest common snapshot\n"
	"      --no-stream               send only the newest snapshot (-i), not all (-I)\n"
	"      --no-resume               do not resume interrupted receives (discard them)\n"
	"      --rollback                allow rolling the target back and receive -F\n"
	"      --force-delete            destroy a target that shares no snapshot (never a pool)\n"
	"      --delete-target-snapshots destroy target snapshots the source no longer has\n"
	"      --no-clone-handling       send clones in full\n"
	"      --sendoptions=OPTS        extra zfs send flags, e.g. \"w\" or \"Lce\"\n"
	"      --recvoptions=OPTS        extra zfs receive flags, e.g. \"u o canmount=off\"\n"
	"      --preserve-properties     receive with -o for each locally set source property\n"
	"      --preserve-recordsize     receive with -o recordsize=SOURCE'S\n"
	"      --compress=NAME           stream compression over ssh (syncoid's names)\n"
	"      --buffer-size=SIZE        transfer buffer (default 16M)\n"
	"      --bwlimit=RATE            bytes per second, e.g. 20M\n"
	"      --sshkey=FILE --sshport=N --sshcipher=C --sshoption=OPT --sshconfig=FILE\n"
	"      --serve                   the remote key's forced command is `zkeep serve --stdio`\n"
	"                                (no shell there; see `zkeep help serve`)\n"
	"  -n, --dry-run                 print the plan with estimated sizes; change nothing\n"
	"      --json                    one JSON event per line on stdout\n"
	"  -v, --verbose, --debug, --quiet\n"
	"\n"
	"Progress: a bar on a terminal, else a log line every 10 s (ZKEEP_PROGRESS_INTERVAL\n"
	"seconds), or --json progress events.\n"
	"\n"
	"Exit status: 0 all datasets replicated or up to date, 1 some failed or the target\n"
	"is busy (another run or a zfs receive is writing into it), 2 nothing could be done\n"
	"(usage, source missing, listing failed).\n";

int cmd_replicate(int argc, char **argv)
{
	struct repl_cli c;
	repl_cli_init(&c);
	int r = repl_cli_parse(&c, argc, argv, cmd_replicate_help);
	int ret = r < 0 ? EXIT_FATAL : r > 0 ? EXIT_OK : repl_cli_run(&c);
	repl_cli_release(&c);
	return ret;
}
