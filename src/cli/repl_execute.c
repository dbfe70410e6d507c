/* cli/repl_execute.c - see repl_execute.h. */
#include "base/zkeep.h"
#include "cli/commands.h"
#include "cli/repl_execute.h"
#include "cli/repl_printer.h"
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

static void on_event(const struct replicate_event *ev, void *data)
{
	repl_printer_event(data, ev);
}

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

int repl_execute(struct repl_cli *c)
{
	struct replicate_opts ro;
	struct sendopts so = SENDOPTS_INIT, rcv = SENDOPTS_INIT;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	regex_t *exd = NULL, *inc = NULL, *exs = NULL;
	size_t nexd = 0, ninc = 0, nexs = 0;
	struct runner *run = NULL, *rsrc = NULL, *rtgt = NULL;
	struct zfs zsrc, ztgt;
	const struct endpoint *esrc = &c->src, *etgt = &c->dst;
	bool zinit = false;
	int ret = EXIT_FATAL;
	char host[256];
	time_t now;
	_cleanup_free_ char *prefix = NULL, *tag = NULL;

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
	if (c->endpoints_r < 0) {
		log_error("%s", c->endpoints_err.buf);
		goto out_zfs;
	}
	if (esrc->host) {
		rsrc = remote_runner(c, esrc);
		if (!rsrc)
			goto out_zfs;
	}
	if (etgt->host) {
		bool same = esrc->host && streq(esrc->host, etgt->host) && streq(esrc->user, etgt->user);
		rtgt = same ? rsrc : remote_runner(c, etgt);
		if (!rtgt)
			goto out_zfs;
	}
	zfs_init(&zsrc, rsrc ? rsrc : run);
	zfs_init(&ztgt, rtgt ? rtgt : run);
	zinit = true;
	/* compression only across ssh; none by default for raw sends (incompressible) */
	if (esrc->host || etgt->host) {
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
	c->source_arg = esrc->dataset;
	c->target_arg = etgt->dataset;
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
	if (rtgt != rsrc)
		runner_free(rtgt);
	runner_free(rsrc);
	runner_free(run);
out:
	free_all(exd, nexd);
	free_all(inc, ninc);
	free_all(exs, nexs);
	sendopts_release(&so);
	sendopts_release(&rcv);
	return ret;
}
