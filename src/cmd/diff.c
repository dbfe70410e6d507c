/* cmd/diff.c - `zkeep diff SNAP1 SNAP2`: what changed between two snapshots. */
#include "base/zkeep.h"
#include "cli/commands.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "drive/zdiff.h"
#include "zfs/zfs.h"

#include <getopt.h>
#include <jansson.h>

const char cmd_diff_help[] =
	"usage: zkeep diff [--json] SNAPSHOT1 SNAPSHOT2|DATASET\n"
	"\n"
	"What changed between two snapshots of a filesystem (or between a snapshot and\n"
	"the live dataset): one line per path, \"created\", \"removed\", \"modified\" or\n"
	"\"renamed\", with its type and change time. SNAPSHOT2 may be a short name\n"
	"(@snap or snap) of the same dataset. Wraps `zfs diff -FHt` (needs the diff\n"
	"permission or root); --json prints a list of objects.\n"
	"\n"
	"Exit status: 0 listed (also when nothing changed), 2 could not diff.\n";


int cmd_diff(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false;
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (ch) {
		case 'j': json = true; break;
		case 'h': fputs(cmd_diff_help, stdout); return EXIT_OK;
		default: fprintf(stderr, "see 'zkeep diff --help'\n"); return EXIT_FATAL;
		}
	}
	if (argc - optind != 2) {
		log_error("need two snapshots (or a snapshot and its dataset); see 'zkeep diff --help'");
		return EXIT_FATAL;
	}
	const char *a = argv[optind];
	const char *at = strchr(a, '@');
	if (!at || !zfs_name_valid(a, true)) {
		log_error("'%s' is not a snapshot (DATASET@SNAPSHOT)", a);
		return EXIT_FATAL;
	}
	/* a short second name means a snapshot of the same dataset */
	_cleanup_free_ char *b = NULL;
	const char *arg2 = argv[optind + 1];
	if (arg2[0] == '@')
		b = xasprintf("%.*s%s", (int)(at - a), a, arg2);
	else if (!strchr(arg2, '/') && !strchr(arg2, '@') && zfs_name_valid(arg2, false) &&
		 !streq(arg2, a))
		b = xasprintf("%.*s@%s", (int)(at - a), a, arg2);
	else
		b = xstrdup(arg2);
	if (!zfs_name_valid(b, true)) {
		log_error("'%s' is not a snapshot or dataset name", b);
		return EXIT_FATAL;
	}

	_cleanup_(runner_freep) struct runner *run = runner_local_new();
	_cleanup_release_(zfs) struct zfs z;
	_cleanup_strbuf_ struct strbuf out = STRBUF_INIT, perr = STRBUF_INIT;
	zfs_init(&z, run);
	if (zfs_diff(&z, a, b, &out) < 0) {
		log_error("zfs diff %s %s: %s", a, b, zfs_error(&z));
		return EXIT_FATAL;
	}
	_cleanup_release_(zdiff) struct zdiff d = ZDIFF_INIT;
	if (zdiff_parse(out.buf, out.len, &d, &perr) < 0) {
		log_error("%s", perr.buf);
		return EXIT_FATAL;
	}
	if (json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < d.n; i++) {
			const struct zdiff_entry *e = &d.e[i];
			json_t *o = json_pack("{s:s, s:s, s:s, s:I}", "change",
					      zdiff_change_name(e->change), "type",
					      zdiff_type_name(e->type), "path", e->path, "ctime",
					      (json_int_t)e->sec);
			if (e->new_path)
				json_object_set_new(o, "new_path", json_string(e->new_path));
			json_array_append_new(arr, o);
		}
		json_t *o = json_pack("{s:s, s:s, s:o}", "from", a, "to", b, "changes", arr);
		char *s = json_dumps(o, JSON_COMPACT);
		if (s)
			puts(s);
		free(s);
		json_decref(o);
	} else {
		for (size_t i = 0; i < d.n; i++) {
			const struct zdiff_entry *e = &d.e[i];
			_cleanup_strbuf_ struct strbuf t = STRBUF_INIT;
			time_format_iso(&t, (time_t)e->sec);
			printf("%-8s  %-9s  %s  %s", zdiff_change_name(e->change),
			       zdiff_type_name(e->type), t.buf, e->path);
			if (e->new_path)
				printf(" -> %s", e->new_path);
			putchar('\n');
		}
		if (!d.n)
			printf("no changes between %s and %s\n", a, b);
	}
	return EXIT_OK;
}
