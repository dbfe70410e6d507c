/*
 * status.c - `zkeep status` and `zkeep metrics`: per configured dataset, the
 * newest snapshot of each type, counts against the policy, what is due and
 * what would be pruned; as text, JSON (jansson) or Prometheus text format.
 */
#include "base/zkeep.h"
#include "cli/commands.h"
#include "cli/policy_cli.h"
#include "base/atomic_file.h"
#include "base/json_out.h"
#include "base/log.h"
#include "snapshots/schedule.h"
#include "base/timeutil.h"

#include <fcntl.h>

const char cmd_status_help[] =
	"usage: zkeep status [options] [--json] [--prometheus FILE]\n"
	"\n"
	"Show, for every dataset of sanoid.conf: its snapshots of each type (count\n"
	"and policy), the newest of each type and its age, the types due now, and\n"
	"how many snapshots a prune would destroy. Changes nothing. A section whose\n"
	"dataset does not exist is shown CRITICAL (\"missing\": true in JSON), and\n"
	"so is one with a value sanoid would misread (\"refused\": true); either\n"
	"makes the exit status 1.\n"
	"\n"
	POLICY_CLI_OPTIONS_HELP
	"  --json             print one JSON document instead of text\n"
	"  --prometheus FILE  also write the metrics (see `zkeep help metrics`) to\n"
	"                     FILE atomically, for node_exporter's textfile collector\n";

const char cmd_metrics_help[] =
	"usage: zkeep metrics [options]\n"
	"\n"
	"Print Prometheus text-format metrics of the snapshot policy:\n"
	"  zkeep_snapshots{dataset,type}                 managed snapshots now\n"
	"  zkeep_snapshots_wanted{dataset,type}          the policy's count\n"
	"  zkeep_snapshot_newest_timestamp_seconds{dataset,type}\n"
	"  zkeep_snapshot_due{dataset,type}              1 when a run now would take one\n"
	"  zkeep_snapshots_prunable{dataset}             what a prune now would destroy\n"
	"  zkeep_snapshots_held{dataset}                 expired but held (kept)\n"
	"  zkeep_dataset_missing{dataset}                1 when it does not exist\n"
	"  zkeep_dataset_refused{dataset}                1 when its section is refused\n"
	"  zkeep_metrics_timestamp_seconds               when these were computed\n"
	"\n"
	POLICY_CLI_OPTIONS_HELP;

enum { ST_JSON = 500, ST_PROM };
static const struct option status_opts[] = {
	{ "json", no_argument, NULL, ST_JSON },
	{ "prometheus", required_argument, NULL, ST_PROM },
	{ NULL, 0, NULL, 0 },
};

static int status_opt(struct policy_cli *c, int opt, const char *arg)
{
	if (opt == ST_JSON)
		c->json = true;
	else if (opt == ST_PROM)
		c->prometheus = arg;
	else
		return -EINVAL;
	return 0;
}

/* Prometheus label values: escape backslash, quote and newline. */
static void label(struct strbuf *sb, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			strbuf_addch(sb, '\\');
		if (*v == '\n')
			strbuf_addstr(sb, "\\n");
		else
			strbuf_addch(sb, *v);
	}
}

/* One 0/1 gauge per dataset: its policy's missing or refused flag. */
static void dataset_flag_metric(struct strbuf *sb, const struct engine *e, const char *name,
				const char *help, bool refused)
{
	strbuf_addf(sb, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
	for (size_t i = 0; i < e->pol.n; i++) {
		const struct sanoid_policy *p = &e->pol.p[i];
		strbuf_addf(sb, "%s{dataset=\"", name);
		label(sb, p->path);
		strbuf_addf(sb, "\"} %d\n", refused ? p->refused : p->missing);
	}
}

/* What status and metrics show of one configured dataset, computed once. */
struct row {
	struct engine_summary s;
	struct strvec prune; /* short names a prune now would destroy */
	unsigned due;        /* bit per snap_type */
	size_t held;         /* expired but held */
};

/* One row per e->pol.p[i]; free with rows_free(rows, e->pol.n). */
static struct row *rows_compute(const struct engine *e)
{
	struct row *rows = xcalloc(e->pol.n ? e->pol.n : 1, sizeof(*rows));
	for (size_t i = 0; i < e->pol.n; i++) {
		strvec_init(&rows[i].prune);
		engine_summarize(e, &e->pol.p[i], &rows[i].s);
		engine_plan(e, &e->pol.p[i], &rows[i].due, &rows[i].prune, &rows[i].held);
	}
	return rows;
}

static void rows_free(struct row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		strvec_release(&rows[i].prune);
	free(rows);
}

static void metrics(const struct engine *e, const struct row *rows, struct strbuf *sb)
{
	static const struct { const char *name, *help; } m[] = {
		{ "zkeep_snapshots", "Managed (autosnap) snapshots of the dataset and type." },
		{ "zkeep_snapshots_wanted", "The policy's count for the type." },
		{ "zkeep_snapshot_newest_timestamp_seconds", "Creation time of the newest snapshot of the type." },
		{ "zkeep_snapshot_due", "1 when a run now would take a snapshot of the type." },
	};
	for (size_t k = 0; k < ARRAY_SIZE(m); k++) {
		strbuf_addf(sb, "# HELP %s %s\n# TYPE %s gauge\n", m[k].name, m[k].help, m[k].name);
		for (size_t i = 0; i < e->pol.n; i++) {
			const struct sanoid_policy *p = &e->pol.p[i];
			const struct engine_summary *s = &rows[i].s;
			for (int t = 0; t < SNAP_NTYPES; t++) {
				long long v;
				if (k == 2 && s->newest[t] == SCHEDULE_NONE)
					continue;
				if (k != 2 && !p->count[t] && !s->count[t])
					continue;
				v = k == 0 ? (long long)s->count[t] : k == 1 ? (long long)p->count[t]
					: k == 2 ? (long long)s->newest[t] : (long long)!!(rows[i].due & (1u << t));
				strbuf_addf(sb, "%s{dataset=\"", m[k].name);
				label(sb, p->path);
				strbuf_addf(sb, "\",type=\"%s\"} %lld\n", snap_type_names[t], v);
			}
		}
	}
	/* Each metric's samples together, after its HELP and TYPE (the exposition format). */
	strbuf_addstr(sb, "# HELP zkeep_snapshots_prunable Snapshots a prune now would destroy.\n"
			  "# TYPE zkeep_snapshots_prunable gauge\n");
	for (size_t i = 0; i < e->pol.n; i++) {
		strbuf_addstr(sb, "zkeep_snapshots_prunable{dataset=\"");
		label(sb, e->pol.p[i].path);
		strbuf_addf(sb, "\"} %zu\n", rows[i].prune.n);
	}
	strbuf_addstr(sb, "# HELP zkeep_snapshots_held Expired snapshots kept because they are held.\n"
			  "# TYPE zkeep_snapshots_held gauge\n");
	for (size_t i = 0; i < e->pol.n; i++) {
		strbuf_addstr(sb, "zkeep_snapshots_held{dataset=\"");
		label(sb, e->pol.p[i].path);
		strbuf_addf(sb, "\"} %zu\n", rows[i].held);
	}
	dataset_flag_metric(sb, e, "zkeep_dataset_missing", "1 when the dataset of a sanoid.conf "
			    "section does not exist (nothing is done for it).", false);
	dataset_flag_metric(sb, e, "zkeep_dataset_refused", "1 when its sanoid.conf section has a "
			    "value sanoid would misread (nothing is done for it).", true);
	strbuf_addf(sb, "# HELP zkeep_metrics_timestamp_seconds When these metrics were computed.\n"
			"# TYPE zkeep_metrics_timestamp_seconds gauge\nzkeep_metrics_timestamp_seconds %lld\n",
		    (long long)e->o.now);
}

static void print_text(const struct engine *e, const struct row *rows)
{
	for (size_t i = 0; i < e->pol.n; i++) {
		const struct sanoid_policy *p = &e->pol.p[i];
		const struct engine_summary *s = &rows[i].s;
		printf("%s%s\n", p->path, p->process_children_only ? " (children only)" : "");
		if (p->missing) {
			printf("  CRITICAL: the dataset does not exist (section [%s]): no snapshots "
			       "are taken or pruned for it\n", p->section);
			continue;
		}
		if (p->refused) {
			printf("  CRITICAL: section [%s] has a value sanoid would misread (zkeep config "
			       "check says which): no snapshots are taken or pruned for it\n", p->section);
			continue;
		}
		for (int t = SNAP_NTYPES - 1; t >= 0; t--) {
			_cleanup_strbuf_ struct strbuf when = STRBUF_INIT;
			if (!p->count[t] && !s->count[t])
				continue;
			if (s->newest[t] != SCHEDULE_NONE) {
				strbuf_addf(&when, "newest %s (", s->newest_name[t]);
				sanoid_displaytime(&when, (int64_t)e->o.now - s->newest[t]);
				strbuf_addstr(&when, " ago)");
			} else {
				strbuf_addstr(&when, "none yet");
			}
			printf("  %-10s %4zu of %-4u %s%s\n", snap_type_names[t], s->count[t], p->count[t],
			       when.buf, rows[i].due & (1u << t) ? ", due now" : "");
		}
		printf("  would prune %zu\n", rows[i].prune.n);
		if (rows[i].held)
			printf("  expired but held: %zu\n", rows[i].held);
	}
}

static void print_json(const struct engine *e, const struct row *rows)
{
	json_t *root = json_object(), *arr = json_array();
	_cleanup_strbuf_ struct strbuf iso = STRBUF_INIT;
	time_format_iso(&iso, e->o.now);
	json_object_set_new(root, "now", json_integer((json_int_t)e->o.now));
	json_object_set_new(root, "now_iso", json_str(iso.buf));
	for (size_t i = 0; i < e->pol.n; i++) {
		const struct sanoid_policy *p = &e->pol.p[i];
		const struct engine_summary *s = &rows[i].s;
		json_t *d = json_object(), *types = json_object(), *pr = json_array();
		json_object_set_new(d, "dataset", json_str(p->path));
		json_object_set_new(d, "section", json_str(p->section));
		/* its section names a dataset that does not exist: nothing is done for it */
		json_object_set_new(d, "missing", json_boolean(p->missing));
		/* a value sanoid would misread: nothing is done for it */
		json_object_set_new(d, "refused", json_boolean(p->refused));
		json_object_set_new(d, "autosnap", json_boolean(p->autosnap));
		json_object_set_new(d, "autoprune", json_boolean(p->autoprune));
		json_object_set_new(d, "process_children_only", json_boolean(p->process_children_only));
		json_object_set_new(d, "snapshots_total", json_integer((json_int_t)s->total));
		for (int t = 0; t < SNAP_NTYPES; t++) {
			json_t *ty = json_object();
			json_object_set_new(ty, "count", json_integer((json_int_t)s->count[t]));
			json_object_set_new(ty, "wanted", json_integer(p->count[t]));
			json_object_set_new(ty, "due", json_boolean(rows[i].due & (1u << t)));
			if (s->newest[t] != SCHEDULE_NONE) {
				json_object_set_new(ty, "newest", json_str(s->newest_name[t]));
				json_object_set_new(ty, "newest_time", json_integer((json_int_t)s->newest[t]));
				json_object_set_new(ty, "newest_age_seconds",
						    json_integer((json_int_t)((int64_t)e->o.now - s->newest[t])));
			} else {
				json_object_set_new(ty, "newest", json_null());
			}
			json_object_set_new(types, snap_type_names[t], ty);
		}
		json_object_set_new(d, "types", types);
		for (size_t j = 0; j < rows[i].prune.n; j++)
			json_array_append_new(pr, json_str(rows[i].prune.v[j]));
		json_object_set_new(d, "would_prune", pr);
		json_object_set_new(d, "held_expired", json_integer((json_int_t)rows[i].held));
		json_array_append_new(arr, d);
	}
	json_object_set_new(root, "datasets", arr);
	json_emit_doc(stdout, root);
}

int cmd_status(int argc, char **argv)
{
	struct policy_cli c;
	struct engine e;
	int rc = EXIT_OK;
	if (policy_cli_parse(&c, argc, argv, false, status_opts, status_opt) < 0)
		return EXIT_FATAL;
	c.dry_run = true; /* status changes nothing (the cache is only read) */
	c.results_only = true;
	if (policy_cli_open(&c, &e, false, false) != EXIT_OK)
		return EXIT_FATAL;
	struct row *rows = rows_compute(&e);
	if (c.json)
		print_json(&e, rows);
	else
		print_text(&e, rows);
	if (c.prometheus) {
		_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
		int r;
		metrics(&e, rows, &sb);
		r = write_file_atomic(c.prometheus, sb.buf, sb.len, 0644);
		if (r < 0) {
			log_error("cannot write %s: %s", c.prometheus, strerror(-r));
			rc = EXIT_PARTIAL;
		}
	}
	rows_free(rows, e.pol.n);
	rc = policy_cli_status(&e, rc);
	engine_release(&e);
	return rc;
}

int cmd_metrics(int argc, char **argv)
{
	struct policy_cli c;
	struct engine e;
	_cleanup_strbuf_ struct strbuf sb = STRBUF_INIT;
	if (policy_cli_parse(&c, argc, argv, false, NULL, NULL) < 0)
		return EXIT_FATAL;
	c.dry_run = true;
	c.results_only = true;
	if (policy_cli_open(&c, &e, false, false) != EXIT_OK)
		return EXIT_FATAL;
	struct row *rows = rows_compute(&e);
	metrics(&e, rows, &sb);
	fputs(sb.buf, stdout);
	rows_free(rows, e.pol.n);
	engine_release(&e);
	return EXIT_OK;
}
