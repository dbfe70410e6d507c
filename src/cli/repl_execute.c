/* cli/repl_execute.c - see repl_execute.h. */
#include "base/zkeep.h"
#include "cli/commands.h"
#include "cli/repl_execute.h"
#include "cli/repl_printer.h"
#include "confine/sandbox.h"
#include "base/log.h"
#include "base/parse.h"
#include "base/json_out.h"
#include "base/timeutil.h"
#include "replication/pump.h"
#include "replication/ssh.h"
#include "snapshots/syncsnap.h"

#include <jansson.h>
#include <regex.h>
#include <signal.h>
#include <sys/socket.h>

static void on_event(const struct replicate_event *ev, void *data)
{
	repl_printer_event(data, ev);
}

/* Compiled --exclude-datasets, --include-snaps or --exclude-snaps patterns. */
struct regex_list {
	regex_t *v;
	size_t n;
};

static void regex_list_release(struct regex_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		regfree(&l->v[i]);
	free(l->v);
	*l = (struct regex_list){ 0 };
}

static int compile_all(const struct strvec *src, struct regex_list *out, const char *opt)
{
	out->v = xcalloc(src->n + 1, sizeof(regex_t));
	out->n = 0;
	if (src->n > REPLAN_MAX_REGEX) {
		log_error("%s: at most %d patterns", opt, REPLAN_MAX_REGEX);
		return -EINVAL;
	}
	for (size_t i = 0; i < src->n; i++) {
		int r = regcomp(&out->v[i], src->v[i], REG_EXTENDED | REG_NOSUB);
		if (r) {
			char msg[256];
			regerror(r, &out->v[i], msg, sizeof(msg));
			log_error("%s='%s': not a valid extended regular expression: %s", opt, src->v[i],
				  msg);
			return -EINVAL;
		}
		out->n++;
	}
	return 0;
}

/* side: 0 the source's host, 1 the target's (which socket the supervisor connected). */
static struct runner *remote_runner(struct repl_cli *c, const struct endpoint *e, int side)
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
		.runtime_dir = c->ssh_runtime_dir,
		.connected_fd = c->ssh_connected_fds[side],
		/* syncoid runs remote commands with sudo unless the user is root */
		.elevate = !c->serve && e->user && !streq(e->user, "root") &&
			   !c->no_privilege_elevation,
	};
	struct runner *r = ssh_runner_new(&so, &err);
	c->ssh_connected_fds[side] = 0; /* the runner's now, whatever happened */
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

/* The options, checked and converted: what the engine's options point into. */
struct exec_opts {
	struct sendopts send, recv;
	struct regex_list exclude_datasets, include_snaps, exclude_snaps;
	size_t buffer_size;
	uint64_t bwlimit;
	unsigned jobs; /* --jobs, 0 when not given */
	time_t now;
	char host[256];
};
#define EXEC_OPTS_INIT { .send = SENDOPTS_INIT, .recv = SENDOPTS_INIT }

static void exec_opts_release(struct exec_opts *o)
{
	regex_list_release(&o->exclude_datasets);
	regex_list_release(&o->include_snaps);
	regex_list_release(&o->exclude_snaps);
	sendopts_release(&o->send);
	sendopts_release(&o->recv);
}

/* --source-bwlimit and --target-bwlimit: the lower of them that is not 0 (none). */
static int parse_bwlimits(const struct repl_cli *c, uint64_t *bwlimit)
{
	const char *bw[] = { c->source_bwlimit, c->target_bwlimit };
	uint64_t v;
	for (size_t i = 0; i < 2; i++) {
		if (!bw[i])
			continue;
		if (parse_size(bw[i], &v) < 0) {
			log_error("--%s-bwlimit=%s: not a rate in bytes per second (e.g. 10M)",
				  i ? "target" : "source", bw[i]);
			return -EINVAL;
		}
		if (v && (!*bwlimit || v < *bwlimit))
			*bwlimit = v;
	}
	return 0;
}

/* Check and convert the options that need no ZFS; -EINVAL when one is wrong (reported). */
static int parse_options(const struct repl_cli *c, struct exec_opts *o)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	if (c->identifier && !syncsnap_identifier_valid(c->identifier)) {
		log_error("--identifier='%s': only letters, digits and - _ : . are allowed",
			  c->identifier);
		return -EINVAL;
	}
	if (c->compress && !streq(c->compress, "default")) {
		struct pump_codec codec;
		if (pump_codec_from_syncoid(c->compress, &codec, &err) < 0) {
			log_error("--compress: %s", err.buf);
			return -EINVAL;
		}
	}
	if (sendopts_parse(c->sendoptions, false, &o->send, &err) < 0 ||
	    sendopts_parse(c->recvoptions, true, &o->recv, &err) < 0) {
		log_error("%s", err.buf);
		return -EINVAL;
	}
	if (c->recursive && sendopts_has(&o->send, 'R')) {
		log_error("--sendoptions=R cannot be combined with --recursive: the recursion is "
			  "done per dataset");
		return -EINVAL;
	}
	uint64_t v = 0;
	if (c->mbuffer_size && (parse_size(c->mbuffer_size, &v) < 0 || v == 0)) {
		log_error("--mbuffer-size=%s: not a size (e.g. 16M)", c->mbuffer_size);
		return -EINVAL;
	}
	o->buffer_size = (size_t)v;
	if (c->jobs && parse_uint_range(c->jobs, 1, REPL_MAX_JOBS, &o->jobs) < 0) {
		log_error("--jobs=%s: not a number from 1 to %d", c->jobs, REPL_MAX_JOBS);
		return -EINVAL;
	}
	if (parse_bwlimits(c, &o->bwlimit) < 0 ||
	    compile_all(&c->exclude_datasets, &o->exclude_datasets, "--exclude-datasets") < 0 ||
	    compile_all(&c->include_snaps, &o->include_snaps, "--include-snaps") < 0 ||
	    compile_all(&c->exclude_snaps, &o->exclude_snaps, "--exclude-snaps") < 0)
		return -EINVAL;
	if (zkeep_now(&o->now) < 0) {
		log_error("ZKEEP_NOW is not a number of seconds");
		return -EINVAL;
	}
	if (gethostname(o->host, sizeof(o->host)) < 0) {
		log_error("cannot read the host name: %s", strerror(errno));
		return -EINVAL;
	}
	o->host[sizeof(o->host) - 1] = '\0';
	return 0;
}

/* The two sides' backends: this host's runner, or an ssh runner for a remote side. */
struct sides {
	struct runner *run, *rsrc, *rtgt; /* rtgt == rsrc: the same remote host */
	struct zfs zsrc, ztgt;
	bool zinit;
};

static void sides_release(struct sides *s)
{
	if (s->zinit) {
		zfs_release(&s->zsrc);
		zfs_release(&s->ztgt);
	}
	if (s->rtgt != s->rsrc)
		runner_free(s->rtgt);
	runner_free(s->rsrc);
	runner_free(s->run);
}

/* syncoid --debug shows the commands it runs; zkeep's are these (no shell, no pipes). */
static void trace_command(const struct runner *r, const char *const *argv, void *data)
{
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	ssh_quote_argv(&sb, argv);
	log_debug("running on %s: %s", r->label, sb.buf);
}

static void trace_runners(struct sides *s)
{
	struct runner *const all[] = { s->run, s->rsrc, s->rtgt };
	for (size_t i = 0; i < ARRAY_SIZE(all); i++)
		if (all[i])
			all[i]->trace = trace_command;
}

/* Connect to the remote sides (c->src, c->dst); -1 on failure (reported). */
static int open_sides(struct repl_cli *c, struct sides *s)
{
	const struct endpoint *esrc = &c->src, *etgt = &c->dst;
	s->run = runner_local_new();
	if (c->root_receives && c->root_requests_fd > 2)
		runner_local_receive_via_root(s->run, c->root_requests_fd);
	if (c->endpoints_r < 0) {
		log_error("%s", c->endpoints_err.buf);
		return -1;
	}
	if (esrc->host) {
		s->rsrc = remote_runner(c, esrc, 0);
		if (!s->rsrc)
			return -1;
	}
	if (etgt->host) {
		s->rtgt = endpoint_same_connection(esrc, etgt) ? s->rsrc : remote_runner(c, etgt, 1);
		if (!s->rtgt)
			return -1;
	}
	zfs_init(&s->zsrc, s->rsrc ? s->rsrc : s->run);
	zfs_init(&s->ztgt, s->rtgt ? s->rtgt : s->run);
	s->zinit = true;
	return 0;
}

/*
 * The codec one remote side speaks. syncoid's default, lzo, is lz4 on zkeep's
 * wire (zkeep links liblz4, not liblzo); a remote without the lz4 tool gets
 * zstd for the default instead, so a host set up for syncoid (lzop, plus zstd
 * as most have) is not silently sent an uncompressed stream. A codec the user
 * chose is never swapped. With no usable tool the stream goes uncompressed,
 * with syncoid's warning (it can cost hours on a slow link).
 */
static void remote_codec(const struct repl_cli *c, struct runner *r, const char *side,
			 const char *cname, bool chosen, const struct pump_codec *want,
			 struct pump_codec *out)
{
	if (c->serve || remote_has_codec(r, want)) {
		*out = *want;
		return;
	}
	struct pump_codec alt = { 0 };
	if (!chosen && pump_codec_from_syncoid("zstd-fast", &alt, NULL) == 0 &&
	    remote_has_codec(r, &alt)) {
		log_info("%s %s has no lz4: the stream is compressed with zstd instead", side,
			 r->label);
		*out = alt;
		return;
	}
	_cleanup_strvec_ struct strvec argv = STRVEC_INIT;
	pump_codec_argv(want, true, &argv);
	const char *at = strchr(r->label, '@');
	log_warning("%s%s not available on %s ssh:%s - sync will continue without compression.",
		    argv.n ? argv.v[0] : cname, chosen ? "" : " and zstd", side,
		    at ? at + 1 : r->label);
}

/* Stream compression, only across ssh; none by default for raw sends
 * (incompressible). -1 on an unknown codec (reported). */
static int choose_codecs(const struct repl_cli *c, const struct sides *s,
			 const struct sendopts *send, struct replicate_opts *ro)
{
	if (!s->rsrc && !s->rtgt)
		return 0;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	bool chosen = c->compress && !streq(c->compress, "default") && !streq(c->compress, "lzo");
	const char *cname = c->compress ? c->compress : sendopts_has(send, 'w') ? "none" : "lzo";
	struct pump_codec codec = { 0 };
	if (streq(cname, "default"))
		cname = "lzo";
	if (pump_codec_from_syncoid(cname, &codec, &err) < 0) {
		log_error("%s", err.buf);
		return -1;
	}
	if (codec.kind == PUMP_CODEC_NONE)
		return 0;
	if (s->rsrc)
		remote_codec(c, s->rsrc, "source", cname, chosen, &codec, &ro->src_codec);
	if (s->rtgt)
		remote_codec(c, s->rtgt, "target", cname, chosen, &codec, &ro->tgt_codec);
	return 0;
}

/*
 * A confined worker's --force-delete: ask root to unmount what it is about
 * to destroy (repl_confined.c serves it; Linux cannot delegate unmounting).
 */
static int ask_root_unmount(void *data, const char *dataset, struct strbuf *err)
{
	const struct repl_cli *c = data;
	_cleanup_free_ char *req = xasprintf("unmount %s", dataset);
	char buf[SANDBOX_REQUEST_MAX + 1];
	ssize_t n;
	if (send(c->root_requests_fd, req, strlen(req), MSG_NOSIGNAL) < 0 ||
	    (n = recv(c->root_requests_fd, buf, sizeof(buf) - 1, 0)) < 0) {
		strbuf_addf(err, "cannot ask root to unmount it: %s", strerror(errno));
		return -EIO;
	}
	buf[n] = '\0';
	if (streq(buf, "ok"))
		return 0;
	const char *why = skip_prefix(buf, "error ");
	strbuf_addf(err, "root did not unmount it: %s", why ? why : "no answer");
	return -EPERM;
}

/* The engine's options from the command's; they point into c, o, prefix and tag. */
static void engine_opts(const struct repl_cli *c, const struct exec_opts *o, const char *prefix,
			const char *tag, struct replicate_opts *ro)
{
	ro->buffer_size = o->buffer_size;
	ro->bwlimit = o->bwlimit;
	ro->plan.source_root = c->source_arg;
	ro->plan.target_root = c->target_arg;
	ro->plan.recursive = c->recursive;
	ro->plan.skip_parent = c->skip_parent;
	ro->plan.exclude_datasets = o->exclude_datasets.v;
	ro->plan.n_exclude_datasets = o->exclude_datasets.n;
	ro->plan.include_snaps = o->include_snaps.v;
	ro->plan.n_include_snaps = o->include_snaps.n;
	ro->plan.exclude_snaps = o->exclude_snaps.v;
	ro->plan.n_exclude_snaps = o->exclude_snaps.n;
	ro->plan.no_stream = c->no_stream;
	ro->plan.resume = !c->no_resume;
	ro->plan.allow_rollback = c->syncoid ? !c->no_rollback : c->rollback;
	ro->plan.syncoid = c->syncoid;
	ro->plan.force_delete = c->force_delete;
	ro->plan.delete_target_snapshots = c->delete_target_snapshots;
	ro->plan.clone_handling = !c->no_clone_handling;
	ro->plan.preserve_properties = c->preserve_properties;
	ro->plan.preserve_recordsize = c->preserve_recordsize;
	ro->plan.hostname = o->host;
	ro->take_sync_snap = !c->no_sync_snap;
	ro->keep_sync_snap = c->keep_sync_snap;
	ro->create_bookmark = c->create_bookmark;
	ro->use_hold = c->use_hold;
	ro->hold_tag = tag;
	ro->sync_prefix = prefix;
	ro->now = o->now;
	ro->send = &o->send;
	ro->recv = &o->recv;
	ro->dry_run = c->dry_run;
	if (c->root_requests_fd > 2 && c->force_delete) {
		ro->before_destroy = ask_root_unmount;
		ro->before_destroy_data = (void *)c;
	}
}

/* The totals: a "done" event with --json, else a log line (syncoid's only with -v). */
static void report_result(const struct repl_cli *c, const struct replicate_result *res)
{
	if (c->json) {
		json_emit_line(stdout,
			       json_pack("{s:s, s:i, s:i, s:i, s:i, s:I, s:b}", "event", "done",
					 "synced", (int)res->synced, "uptodate", (int)res->uptodate,
					 "skipped", (int)res->skipped, "failed", (int)res->failed,
					 "bytes", (json_int_t)res->bytes, "dry_run", c->dry_run));
	} else if (!c->syncoid || log_enabled(LOG_LVL_INFO)) {
		log_info("%u synced, %u up to date, %u skipped, %u failed", res->synced,
			 res->uptodate, res->skipped, res->failed);
	}
}

/* "[user@]host" of a remote endpoint, as syncoid names it in its lines; NULL if local. */
static char *endpoint_nice_host(const struct endpoint *e)
{
	if (!endpoint_is_remote(e))
		return NULL;
	return e->user ? xasprintf("%s@%s", e->user, e->host) : xstrdup(e->host);
}

/*
 * How many datasets at once. --jobs N, at most 8 ssh sessions on one
 * connection (sshd's default MaxSessions is 10; a dataset holds two when
 * both sides share a connection). Without --jobs: one as `syncoid` (a
 * drop-in opens no more sessions at once than syncoid did: a server may
 * have lowered MaxSessions), and for `zkeep replicate` one per CPU up to
 * 4, but one when a bar shows the progress or a bandwidth limit is set.
 * With --serve as without: each command is a session of its own (serve
 * takes one request per session), so a dataset holds the same sessions.
 * Always one when a confined --force-delete asks root to unmount (one
 * channel of questions and answers).
 */
static unsigned choose_jobs(const struct repl_cli *c, const struct exec_opts *o,
			    const struct repl_printer *pr)
{
	bool one_channel = c->root_requests_fd > 2 && c->force_delete;
	if (!c->recursive || (one_channel && o->jobs <= 1))
		return 1;
	if (one_channel) {
		log_notice("--jobs=%u: root unmounts for --force-delete one at a time: "
			   "one dataset at a time", o->jobs);
		return 1;
	}
	bool shared = endpoint_is_remote(&c->src) && endpoint_is_remote(&c->dst) &&
		      endpoint_same_connection(&c->src, &c->dst);
	unsigned most = REPL_MAX_SSH_SESSIONS / (shared ? 2 : 1);
	unsigned jobs = o->jobs;
	if (!jobs) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		bool parallel = !c->syncoid && !pr->bar && !o->bwlimit && cpus > 1;
		jobs = !parallel ? 1 : cpus > REPL_DEFAULT_JOBS_MAX ? REPL_DEFAULT_JOBS_MAX
								    : (unsigned)cpus;
	}
	if (jobs > most) {
		log_notice("--jobs=%u: %u at most, as both sides share one ssh connection "
			   "(2 sessions each)", jobs, most);
		jobs = most;
	}
	return jobs;
}

static int run_engine(struct repl_cli *c, const struct exec_opts *o, struct sides *s,
		      struct replicate_opts *ro)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	struct repl_printer pr;
	/* syncoid shows pv's bar by default, its lines only with --debug */
	repl_printer_init(&pr, c->json, c->syncoid ? LOG_LVL_INFO : LOG_LVL_NOTICE);
	_cleanup_free_ char *shost = endpoint_nice_host(&c->src);
	_cleanup_free_ char *thost = endpoint_nice_host(&c->dst);
	pr.run = (struct syncoid_run){
		.no_stream = c->no_stream,
		.snaps_filtered = ro->plan.n_include_snaps || ro->plan.n_exclude_snaps,
		.recursive = c->recursive,
		.source_host = shost,
		.target_host = thost,
	};
	ro->jobs = choose_jobs(c, o, &pr);
	if (ro->jobs > 1) {
		pr.bar = false; /* bars of several transfers would overwrite each other */
		log_debug("replicating up to %u datasets at once", ro->jobs);
	}
	ro->event = on_event;
	ro->event_data = &pr;
	/* cron with --quiet, syncoid without --debug in a log: no zfs send -nvP */
	ro->no_estimate = !repl_printer_watched(&pr);

	if (c->dumpsnaps)
		dump_snaps(&s->zsrc, &s->ztgt, c);
	struct replicate_result res;
	/* a receiver that dies must show up as an error, not kill us */
	signal(SIGPIPE, SIG_IGN);
	int r = replicate_run(&s->zsrc, &s->ztgt, ro, &res, &err);
	repl_printer_done(&pr);
	if (r == -ENOENT && c->syncoid) {
		/* syncoid passes on zfs's own words */
		log_error("cannot open '%s': dataset does not exist", c->source_arg);
		log_debug("%s", err.buf);
		return EXIT_FATAL;
	}
	if (r < 0) {
		log_error("%s", err.buf);
		return EXIT_FATAL;
	}
	report_result(c, &res);
	return res.failed ? EXIT_PARTIAL : EXIT_OK;
}

int repl_execute(struct repl_cli *c)
{
	_cleanup_release_(exec_opts) struct exec_opts o = EXEC_OPTS_INIT;
	if (parse_options(c, &o) < 0)
		return EXIT_FATAL;
	_cleanup_release_(sides) struct sides s = { 0 };
	struct replicate_opts ro = { 0 };
	if (open_sides(c, &s) < 0)
		return EXIT_FATAL;
	if (c->syncoid && log_enabled(LOG_LVL_DEBUG))
		trace_runners(&s);
	if (choose_codecs(c, &s, &o.send, &ro) < 0)
		return EXIT_FATAL;
	c->source_arg = c->src.dataset;
	c->target_arg = c->dst.dataset;
	const char *names[] = { c->source_arg, c->target_arg };
	for (size_t i = 0; i < 2; i++)
		if (!zfs_name_valid(names[i], false)) {
			log_error("'%s' is not a valid dataset name", names[i]);
			return EXIT_FATAL;
		}
	_cleanup_free_ char *prefix = syncsnap_prefix(c->identifier, o.host);
	_cleanup_free_ char *tag =
		c->syncoid ? xstrdup(prefix)
			   : (c->identifier ? xasprintf("zkeep_%s_%s", c->identifier, o.host)
					    : xasprintf("zkeep_%s", o.host));
	engine_opts(c, &o, prefix, tag, &ro);
	return run_engine(c, &o, &s, &ro);
}
