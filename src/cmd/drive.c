/* cmd/drive.c - `zkeep drive backup|status|units`: backups to removable drives. */
#include "base/zkeep.h"
#include "cli/commands.h"
#include "cli/drive_confined.h"
#include "cli/repl_printer.h"
#include "confine/jobconf.h"
#include "drive/drive.h"
#include "drive/drive_runner.h"
#include "drive/drive_units.h"
#include "base/atomic_file.h"
#include "base/log.h"
#include "base/timeutil.h"

#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/stat.h>

#define DEFAULT_CONFIG "/etc/zkeep/zkeep.conf"

const char cmd_drive_help[] =
	"usage: zkeep drive backup [--dry-run] [--json] [-v] [--config FILE] NAME\n"
	"       zkeep drive status [--json] [--no-import] [--config FILE] [NAME]\n"
	"       zkeep drive units --output DIR [--zkeep PATH] [--config FILE] [NAME]\n"
	"\n"
	"Back up to a removable drive described by a [drive NAME] section of zkeep.conf\n"
	"(default " DEFAULT_CONFIG "; see docs/drive.md). The section must name the\n"
	"pool's guid (guid = ; `zpool import` shows it as \"id:\"): a drive is matched by\n"
	"its guid only, never by its pool name, and a pool with the configured name but\n"
	"another guid is refused and never imported.\n"
	"\n"
	"backup  import the drive's pool by guid without mounting anything (zpool\n"
	"        import -N, altroot " DRIVE_ALTROOT_DIR "/NAME), replicate each\n"
	"        dataset raw (encrypted stays encrypted: the drive never needs a key)\n"
	"        without a sync snapshot, deleting target snapshots the source pruned\n"
	"        and never rolling the target back; set readonly=on (and the\n"
	"        configured snapdir/mountpoint/canmount) on the targets, scrub when\n"
	"        configured, export the pool - also after a failure - and power the\n"
	"        drive off. An interrupted backup resumes next time. The replication\n"
	"        runs in a confined worker under zfs allow grants (the pool needs\n"
	"        delegation=on), as zkeep replicate's does; root imports, runs the\n"
	"        worker's receives onto the drive, sets the properties, scrubs and\n"
	"        exports.\n"
	"        --dry-run imports the pool, prints the plan and exports it.\n"
	"        The pool is always imported with delegation=off and left so: no\n"
	"        zfs allow a drive carries works for anyone while it is imported, and\n"
	"        a backup removes them all before it turns delegation on for its own\n"
	"        grants, and off again before the export.\n"
	"status  whether the drive is present, when it was last backed up (the newest\n"
	"        snapshot it shares with the source) and how many source snapshots it is\n"
	"        behind. A present pool that is not imported is imported to look (not\n"
	"        read-only: ZFS would ignore delegation=off; no data is written, but the\n"
	"        import is recorded and resumes what the pool had pending, such as a\n"
	"        scrub), and exported again (--no-import: only say whether it is there,\n"
	"        from a zpool import scan, writing nothing).\n"
	"units   write 90-zkeep-drive-NAME.rules (udev) and zkeep-drive-NAME.service into\n"
	"        DIR, to start the backup when the drive is plugged in.\n"
	"\n"
	"Exit status: 0 done, 1 some dataset or step failed (the pool is exported\n"
	"anyway), 2 nothing done (usage, config, drive not present, a pool with the\n"
	"drive's name but another guid, source missing).\n";

struct dopts {
	const char *config;
	const char *output, *zkeep_path;
	bool dry_run, json, no_import;
	struct repl_printer repl;
	/* zkeep.conf's [zkeep] settings the confined worker runs with, as every job */
	const struct jobconf *settings;
};

/*
 * The state directory of the grant journals and the workers' directories:
 * ZKEEP_STATE_DIR, else zkeep.conf's state_dir, as for every job (and the
 * recover unit, which revokes what a crashed run left there).
 */
static const char *state_dir(const struct dopts *o)
{
	const char *env = getenv("ZKEEP_STATE_DIR");
	return env && *env ? env : o->settings->state_dir;
}

static int load_config(const char *path, struct driveconf *c, struct jobconf *settings)
{
	_cleanup_strbuf_ struct strbuf text = STRBUF_INIT, err = STRBUF_INIT;
	strbuf_init(&text, 1 << 20);
	int r = strbuf_read_file(&text, path);
	if (r < 0) {
		log_error("cannot read %s: %s", path, r == -E2BIG ? "larger than 1 MiB" : strerror(-r));
		return r;
	}
	if (driveconf_parse(text.buf, path, c, &err) < 0 ||
	    jobconf_parse(text.buf, path, settings, &err) < 0) {
		log_error("%s", err.buf);
		return -EINVAL;
	}
	return 0;
}

static const struct drive *find_drive(const struct driveconf *c, const char *name,
				      const char *config)
{
	const struct drive *d = driveconf_find(c, name);
	if (!d) {
		_cleanup_strbuf_ struct strbuf names = STRBUF_INIT;
		for (size_t i = 0; i < c->n; i++)
			strbuf_addf(&names, "%s%s", i ? ", " : "", c->drives[i].name);
		log_error("no drive '%s' in %s (configured: %s)", name, config,
			  names.len ? names.buf : "none; add a [drive NAME] section");
	}
	return d;
}

static void print_json(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);
	if (s) {
		puts(s);
		fflush(stdout);
	}
	free(s);
	json_decref(o);
}

static const char *const drive_names[] = {
	[DRIVE_EV_STEP] = "step",   [DRIVE_EV_INFO] = "info",   [DRIVE_EV_WARNING] = "warning",
	[DRIVE_EV_ERROR] = "error", [DRIVE_EV_REPL] = "replicate",
};

static void json_event(const struct drive_event *ev)
{
	json_t *o = json_object();
	json_object_set_new(o, "event", json_string(drive_names[ev->kind]));
	json_object_set_new(o, "step", json_string(ev->step ? ev->step : ""));
	json_object_set_new(o, "message", json_string(ev->message));
	print_json(o);
}

static void on_event(const struct drive_event *ev, void *data)
{
	struct dopts *o = data;
	if (ev->kind == DRIVE_EV_REPL) {
		/* the same printer as zkeep replicate's (cmd/replicate.c) */
		o->repl.step = ev->step;
		repl_printer_event(&o->repl, ev->repl);
		return;
	}
	repl_printer_done(&o->repl);
	if (o->json) {
		json_event(ev);
		return;
	}
	switch (ev->kind) {
	case DRIVE_EV_STEP:
		log_notice("[%s] %s", ev->step, ev->message);
		return;
	case DRIVE_EV_INFO:
		log_notice("  %s", ev->message);
		return;
	case DRIVE_EV_WARNING:
		log_warning("%s", ev->message);
		return;
	case DRIVE_EV_ERROR:
		log_error("%s", ev->message);
		return;
	case DRIVE_EV_REPL:
		break;
	}
}

/*
 * SIGINT, SIGTERM and SIGHUP during a backup: a thread waits for them (they
 * are blocked in every other thread, so the pump's threads never take them;
 * children get a clean mask from spawn), records the first one for the
 * engine, which then goes straight to the export, and stops the transfer by
 * terminating its zfs send and receive (drive_runner.h). A later signal
 * changes nothing: the export must not be cut short. The receive leaves its
 * partial state on the drive, and the next backup resumes from it.
 *
 * The same thread watches the pool every few seconds: a drive that goes
 * away in the middle of a backup (unplugged, cable, power) makes ZFS
 * suspend the pool, and every write to it - the receive - waits until the
 * device is back and `zpool clear` resumes the pool. Nothing fails, so
 * nothing would be said; the user is told what happened and what to do.
 */
#define WATCH_SECONDS 5

struct stopper {
	struct runner *run;
	const struct drive *d;
	int stop_pipe[2]; /* written on the first signal: the confined worker is killed */
	/* held whenever this thread may hold a lock (malloc, stdio) that the confined
	 * worker, a raw clone of the main thread, could need (sandbox_worker_start()) */
	pthread_mutex_t quiet;
	atomic_int sig;
	sigset_t set;
	bool suspended;
};

static void watch_pool(struct stopper *s, struct zfs *z)
{
	struct zpool_infos pools = { 0 };
	if (zpool_list(z, NULL, &pools) < 0)
		return;
	for (size_t i = 0; i < pools.n; i++) {
		const struct zpool_info *p = &pools.p[i];
		if (p->guid != s->d->guid)
			continue;
		bool susp = streq(p->health, "SUSPENDED");
		if (susp && !s->suspended)
			log_warning("pool %s is SUSPENDED: its drive went away or failed during the "
				    "backup, and ZFS holds every write until it is back. Plug the drive "
				    "in again and run `zpool clear %s`: the backup goes on where it "
				    "stopped. Do not unplug other drives of this pool.", p->name, p->name);
		else if (!susp && s->suspended)
			log_notice("pool %s is %s again: the backup goes on", p->name, p->health);
		s->suspended = susp;
	}
	zpool_infos_release(&pools);
}

static void *stopper_main(void *arg)
{
	struct stopper *s = arg;
	pthread_mutex_lock(&s->quiet);
	struct runner *watch_run = runner_local_new();
	struct zfs z;
	zfs_init(&z, watch_run);
	pthread_mutex_unlock(&s->quiet);
	for (;;) {
		const struct timespec every = { .tv_sec = WATCH_SECONDS };
		int sig = sigtimedwait(&s->set, NULL, &every);
		if (sig < 0) {
			if (errno == EAGAIN && !atomic_load(&s->sig)) {
				pthread_mutex_lock(&s->quiet);
				watch_pool(s, &z);
				pthread_mutex_unlock(&s->quiet);
			}
			continue;
		}
		pthread_mutex_lock(&s->quiet);
		const char *name = sigabbrev_np(sig) ? sigabbrev_np(sig) : "?";
		int expected = 0;
		if (atomic_compare_exchange_strong(&s->sig, &expected, sig)) {
			unsigned n = drive_runner_stop(s->run);
			if (write(s->stop_pipe[1], "", 1) < 0) {
				/* full or closed: the worker is being stopped already */
			}
			log_warning("SIG%s received: stopping the backup (%u process(es) terminated); "
				    "the pool will be exported - do not unplug the drive before zkeep exits",
				    name, n);
		} else {
			log_warning("SIG%s received: still exporting the pool; wait for zkeep to exit",
				    name);
		}
		pthread_mutex_unlock(&s->quiet);
	}
	return NULL;
}

/* Block the stop signals here (and so in every thread created later) and wait for them in one. */
static int start_stopper(struct stopper *s, struct runner *run, const struct drive *d)
{
	s->run = run;
	s->d = d;
	if (pipe2(s->stop_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		log_error("cannot set up the signal handling: %s", strerror(errno));
		return -errno;
	}
	/* never descriptor 0 (stdin closed): for confine_job, 0 means none */
	for (size_t i = 0; i < 2; i++)
		if (s->stop_pipe[i] <= STDERR_FILENO) {
			int fd = fcntl(s->stop_pipe[i], F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
			if (fd < 0) {
				log_error("cannot set up the signal handling: %s", strerror(errno));
				return -errno;
			}
			close(s->stop_pipe[i]);
			s->stop_pipe[i] = fd;
		}
	pthread_mutex_init(&s->quiet, NULL);
	atomic_init(&s->sig, 0);
	sigemptyset(&s->set);
	sigaddset(&s->set, SIGINT);
	sigaddset(&s->set, SIGTERM);
	sigaddset(&s->set, SIGHUP);
	int e = pthread_sigmask(SIG_BLOCK, &s->set, NULL);
	pthread_t t;
	if (e == 0)
		e = pthread_create(&t, NULL, stopper_main, s);
	if (e == 0)
		e = pthread_detach(t);
	if (e != 0) {
		log_error("cannot set up the signal handling: %s", strerror(e));
		return -e;
	}
	return 0;
}

static int do_backup(struct dopts *o, const struct drive *d)
{
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	char host[256];
	time_t now;
	if (zkeep_now(&now) < 0) {
		log_error("ZKEEP_NOW is not a number of seconds");
		return EXIT_FATAL;
	}
	if (gethostname(host, sizeof(host)) < 0) {
		log_error("cannot read the host name: %s", strerror(errno));
		return EXIT_FATAL;
	}
	host[sizeof(host) - 1] = '\0';
	struct runner *run = drive_runner_new();
	/* static: the detached thread may use it until the process exits */
	static struct stopper stop;
	if (start_stopper(&stop, run, d) < 0) {
		runner_free(run);
		return EXIT_FATAL;
	}
	struct zfs z;
	zfs_init(&z, run);
	struct drive_confined dc = { .stop_fd = stop.stop_pipe[0], .clone_lock = &stop.quiet,
				     .state_dir = state_dir(o), .uid_min = o->settings->uid_min,
				     .uid_max = o->settings->uid_max };
	struct drive_opts dopt = {
		.d = d, .dry_run = o->dry_run, .now = now, .hostname = host,
		.event = on_event, .event_data = o, .interrupted = &stop.sig,
		.replicate = drive_replicate_confined, .replicate_data = &dc,
	};
	struct drive_result res;
	repl_printer_init(&o->repl, o->json, LOG_LVL_NOTICE);
	o->repl.indent = "    ";
	o->repl.line_interval = 5;
	signal(SIGPIPE, SIG_IGN);
	int r = drive_backup(&z, &dopt, &res, &err);
	repl_printer_done(&o->repl);
	int ret;
	int sig = atomic_load(&stop.sig);
	const char *sname = sig ? (sigabbrev_np(sig) ? sigabbrev_np(sig) : "a signal") : NULL;
	if (r < 0) {
		log_error("%s", err.buf);
		ret = EXIT_FATAL;
		if (sig)
			log_error("drive %s: interrupted by SIG%s before the pool was imported; "
				  "nothing was written to the drive", d->name, sname);
	} else {
		ret = (sig || res.failed || res.step_failures) ? EXIT_PARTIAL : EXIT_OK;
		if (o->json) {
			print_json(json_pack("{s:s, s:s, s:s?, s:s?, s:i, s:i, s:i, s:I, s:b, s:b, s:b, s:i, s:b}",
					     "event", "done", "drive", d->name, "pool", res.pool,
					     "interrupted", sname,
					     "synced", (int)res.synced, "uptodate", (int)res.uptodate,
					     "failed", (int)res.failed, "bytes", (json_int_t)res.bytes,
					     "exported", res.exported, "powered_off", res.powered_off,
					     "scrub_errors", res.scrub_errors, "step_failures",
					     (int)res.step_failures, "dry_run", o->dry_run));
		} else {
			_cleanup_strbuf_ struct strbuf a = STRBUF_INIT;
			strbuf_add_bytes(&a, (double)res.bytes, 1);
			log_notice("drive %s: %u dataset(s) synced, %u up to date, %u failed, %s sent%s%s",
				   d->name, res.synced, res.uptodate, res.failed, a.buf,
				   res.exported ? "; pool exported" : "",
				   ret == EXIT_OK ? "" : " - see the errors above");
		}
		if (sig && res.exported)
			log_error("drive %s: interrupted by SIG%s; pool %s was exported: the drive can "
				  "be unplugged, and the next backup resumes where this one stopped",
				  d->name, sname, res.pool);
		else if (sig)
			log_error("drive %s: interrupted by SIG%s; pool %s could NOT be exported: run "
				  "`zpool export %s` before unplugging the drive",
				  d->name, sname, res.pool, res.pool);
	}
	drive_result_release(&res);
	zfs_release(&z);
	runner_free(run);
	return ret;
}

static void fmt_time(struct strbuf *sb, int64_t t)
{
	if (t <= 0)
		strbuf_addstr(sb, "never");
	else
		time_format_iso(sb, (time_t)t);
}

static const char *const presence_names[] = {
	[DRIVE_ABSENT] = "absent", [DRIVE_IMPORTABLE] = "present", [DRIVE_IMPORTED] = "imported",
};

static int do_status(struct dopts *o, const struct drive *d, struct zfs *z, json_t *arr)
{
	struct drive_status st;
	_cleanup_strbuf_ struct strbuf err = STRBUF_INIT;
	int r = drive_get_status(z, d, o->no_import, &st, &err);
	if (r < 0) {
		log_error("drive %s: %s", d->name, err.buf);
		drive_status_release(&st);
		return EXIT_PARTIAL;
	}
	if (o->json) {
		json_t *j = json_pack("{s:s, s:s, s:s?, s:s?}", "drive", d->name, "presence",
				      presence_names[st.presence], "pool", st.pool, "health", st.health);
		if (st.guid) {
			_cleanup_free_ char *g = xasprintf("%" PRIu64, st.guid);
			json_object_set_new(j, "guid", json_string(g));
		}
		json_t *ds = json_array();
		for (size_t i = 0; i < st.nds; i++) {
			const struct drive_ds_status *s = &st.ds[i];
			json_array_append_new(
				ds, json_pack("{s:s, s:s, s:b, s:s?, s:I, s:i, s:I}", "source", s->source,
					      "target", s->target, "target_exists", s->target_exists,
					      "newest_common", s->newest_common, "last_backup",
					      (json_int_t)s->common_creation, "behind", (int)s->behind,
					      "newest_source", (json_int_t)s->newest_source));
		}
		json_object_set_new(j, "datasets", ds);
		json_array_append_new(arr, j);
	} else {
		printf("drive %s: %s", d->name, presence_names[st.presence]);
		if (st.pool)
			printf(" (pool %s, guid %" PRIu64 ", %s)", st.pool, st.guid,
			       st.health ? st.health : "-");
		else
			printf(" (pool %s with guid %" PRIu64 " not found: plug the drive in)",
			       d->pool ? d->pool : "-", d->guid);
		printf("\n");
		for (size_t i = 0; i < st.nds; i++) {
			const struct drive_ds_status *s = &st.ds[i];
			_cleanup_strbuf_ struct strbuf t = STRBUF_INIT;
			fmt_time(&t, s->common_creation);
			printf("  %s -> %s: ", s->source, s->target);
			if (!s->target_exists)
				printf("never backed up\n");
			else if (!s->newest_common)
				printf("no snapshot in common with the source\n");
			else
				printf("last backup %s (@%s), %u snapshot(s) behind\n", t.buf,
				       s->newest_common, s->behind);
		}
	}
	drive_status_release(&st);
	return EXIT_OK;
}

static int write_file(const char *dir, const char *name, const char *text)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
	int r = write_file_atomic(path, text, strlen(text), 0644);
	if (r < 0) {
		log_error("cannot write %s: %s", path, strerror(-r));
		return -1;
	}
	printf("%s\n", path);
	return 0;
}

static int do_units(struct dopts *o, const struct drive *d)
{
	_cleanup_strbuf_ struct strbuf rule = STRBUF_INIT, unit = STRBUF_INIT, err = STRBUF_INIT;
	_cleanup_free_ char *cfg = realpath(o->config, NULL);
	if (drive_units_render(d, o->zkeep_path, cfg ? cfg : o->config, state_dir(o), &rule,
			       &unit, &err) < 0) {
		log_error("%s", err.buf);
		return EXIT_FATAL;
	}
	_cleanup_free_ char *rn = drive_rule_name(d), *un = drive_unit_name(d);
	if (write_file(o->output, rn, rule.buf) < 0 || write_file(o->output, un, unit.buf) < 0)
		return EXIT_FATAL;
	return EXIT_OK;
}

enum { OPT_CONFIG = 256, OPT_JSON, OPT_NO_IMPORT, OPT_OUTPUT, OPT_ZKEEP, OPT_HELP };

int cmd_drive(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "no-import", no_argument, NULL, OPT_NO_IMPORT },
		{ "output", required_argument, NULL, OPT_OUTPUT },
		{ "zkeep", required_argument, NULL, OPT_ZKEEP },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_release_(jobconf) struct jobconf settings = JOBCONF_INIT;
	struct dopts o = { .config = DEFAULT_CONFIG, .zkeep_path = "/usr/bin/zkeep",
			   .settings = &settings };
	if (argc < 2 || streq(argv[1], "--help") || streq(argv[1], "-h")) {
		fputs(cmd_drive_help, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_FATAL : EXIT_OK;
	}
	const char *sub = argv[1];
	if (!streq(sub, "backup") && !streq(sub, "status") && !streq(sub, "units")) {
		log_error("unknown drive command '%s' (backup, status, units); see 'zkeep drive --help'",
			  sub);
		return EXIT_FATAL;
	}
	optind = 1;
	int ch;
	while ((ch = getopt_long(argc - 1, argv + 1, "+nvq", opts, NULL)) != -1) {
		switch (ch) {
		case OPT_CONFIG: o.config = optarg; break;
		case 'n': o.dry_run = true; break;
		case OPT_JSON: o.json = true; break;
		case OPT_NO_IMPORT: o.no_import = true; break;
		case OPT_OUTPUT: o.output = optarg; break;
		case OPT_ZKEEP: o.zkeep_path = optarg; break;
		case 'v': log_set_level(LOG_LVL_INFO); break;
		case 'q': log_set_level(LOG_LVL_ERROR); break;
		case OPT_HELP: fputs(cmd_drive_help, stdout); return EXIT_OK;
		default: fprintf(stderr, "see 'zkeep drive --help'\n"); return EXIT_FATAL;
		}
	}
	int nargs = argc - 1 - optind;
	char **args = argv + 1 + optind;
	if (streq(sub, "backup") ? nargs != 1 : nargs > 1) {
		log_error("zkeep drive %s: %s; see 'zkeep drive --help'", sub,
			  streq(sub, "backup") ? "needs exactly one drive NAME" : "takes at most one NAME");
		return EXIT_FATAL;
	}
	if (streq(sub, "units") && !o.output) {
		log_error("zkeep drive units: --output DIR is required");
		return EXIT_FATAL;
	}
	struct driveconf c = DRIVECONF_INIT;
	if (load_config(o.config, &c, &settings) < 0)
		return EXIT_FATAL;
	int ret = EXIT_OK;
	const struct drive *d = nargs ? find_drive(&c, args[0], o.config) : NULL;
	if (nargs && !d) {
		ret = EXIT_FATAL;
	} else if (!nargs && !c.n) {
		log_error("no [drive NAME] section in %s", o.config);
		ret = EXIT_FATAL;
	} else if (streq(sub, "backup")) {
		ret = do_backup(&o, d);
	} else if (streq(sub, "units")) {
		for (size_t i = 0; i < c.n && ret == EXIT_OK; i++)
			if (!d || d == &c.drives[i])
				ret = do_units(&o, &c.drives[i]);
	} else {
		struct runner *run = drive_runner_new();
		struct zfs z;
		zfs_init(&z, run);
		json_t *arr = json_array();
		for (size_t i = 0; i < c.n; i++)
			if (!d || d == &c.drives[i]) {
				int r = do_status(&o, &c.drives[i], &z, arr);
				if (r > ret)
					ret = r;
			}
		if (o.json)
			print_json(json_pack("{s:o}", "drives", arr));
		else
			json_decref(arr);
		zfs_release(&z);
		runner_free(run);
	}
	driveconf_release(&c);
	return ret;
}
